//! Security keys on the account pages: list, add (named by the person; a WebAuthn registration),
//! and remove. Adding the first key makes keys the second factor. Every page here needs a fresh
//! sign-in: a key can become a passkey that signs in without the password, so a stolen session
//! must not plant one.

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::signed_in::{FreshlySignedIn, SignedIn};
use super::{CsrfBody, account_error, back_to_overview, date, show_codes};
use crate::account::{self, AccountError, KeyRemoval};
use crate::authn::second_factor::Method;
use crate::authn::webauthn::{self, NAME_MAX_CHARS};
use crate::error::PageError;
use crate::http::client_ip::ClientIp;
use crate::http::form::{self, PageForm};
use crate::http::path_param::IdParam;
use crate::http::{assets, page};
use crate::state::AppState;
use crate::store::{self, StoreError};
use crate::views::pages::{KeyRow, SecurityKeysPage, WebauthnForm};

const PATH: &str = "/account/security-keys";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PATH, get(list).post(add))
        .route("/account/security-keys/begin", post(begin))
        .route("/account/security-keys/{id}/remove", post(remove))
}

#[derive(Deserialize)]
struct ListQuery {
    done: Option<String>,
}

async fn render(
    state: &AppState,
    me: &SignedIn,
    error: Option<String>,
    message: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let tenant = &me.tenant;
    let keys =
        store::security_keys::list_for_user(&state.db, &me.user.id).await.map_err(PageError::internal)?;
    let context = SecurityKeysPage {
        frame: page::frame(state, Some(tenant), me.lang),
        base: tenant.path(state, ""),
        csrf_token: me.csrf_token(),
        keys: keys
            .into_iter()
            .map(|k| KeyRow {
                id: k.id,
                name: k.name,
                added: date(k.created_at),
                last_used: k.last_used_at.map(date),
            })
            .collect(),
        add: WebauthnForm {
            begin_url: tenant.path(state, "/account/security-keys/begin"),
            action: tenant.path(state, PATH),
            script: assets::webauthn_script_url(),
        },
        name_max: NAME_MAX_CHARS,
        error,
        message,
        is_method: me.user.two_factor_method == Some(Method::SecurityKey),
    };
    page::render(state, "security_keys.html", context, status).await
}

async fn list(
    State(state): State<AppState>,
    FreshlySignedIn(me): FreshlySignedIn,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let message = match query.done.as_deref() {
        Some("added") => Some("security-key-added-message"),
        Some("removed") => Some("security-key-removed-message"),
        _ => None,
    }
    .map(|key| state.views.message(me.lang, key));
    let error = match query.done.as_deref() {
        Some("last") => Some(state.views.message(me.lang, "security-key-last")),
        _ => None,
    };
    render(&state, &me, error, message, StatusCode::OK).await
}

/// The registration challenge for the page's script (JSON, so refusals are JSON too).
async fn begin(
    State(state): State<AppState>,
    me: Result<FreshlySignedIn, Response>,
    body: String,
) -> Response {
    let refuse = |status: StatusCode, error: &str| (status, Json(json!({ "error": error }))).into_response();
    let me = match me {
        Ok(FreshlySignedIn(me)) => me,
        // The sign-in the page would redirect to: the script says so instead.
        Err(rejection) if rejection.status().is_redirection() => {
            return refuse(StatusCode::UNAUTHORIZED, "login_required");
        }
        Err(_) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
    };
    let csrf = form::parse::<CsrfBody>(&body).unwrap_or_default().csrf_token;
    if me.check_csrf(&csrf).is_err() {
        return refuse(StatusCode::FORBIDDEN, "csrf");
    }
    match webauthn::begin_registration(&state, &me.tenant, &me.user, state.now()).await {
        Ok(begun) => Json(begun).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "starting a security key registration failed");
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "server_error")
        }
    }
}

#[derive(Deserialize)]
struct AddBody {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    credential: String,
}

async fn add(
    State(state): State<AppState>,
    FreshlySignedIn(me): FreshlySignedIn,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    PageForm(body): PageForm<AddBody>,
) -> Result<Response, PageError> {
    me.check_csrf(&body.csrf_token)?;
    let tenant = &me.tenant;
    let name = body.name.trim();
    let name = if name.is_empty() {
        state.views.message(me.lang, "method-security-key")
    } else {
        name.chars().filter(|c| !c.is_control()).take(NAME_MAX_CHARS).collect()
    };
    let now = state.now();
    let verified =
        webauthn::finish_registration(&state, tenant, &me.user, &body.ceremony, &body.credential, now)
            .await
            .map_err(PageError::internal)?;
    let key = match verified {
        Ok(key) => key,
        Err(refusal) => {
            account::record_key_registration_refused(&state, tenant, &me.user, refusal.as_str(), &ip, now)
                .await
                .map_err(account_error)?;
            let message = state.views.message(me.lang, "security-key-register-failed");
            return render(&state, &me, Some(message), None, StatusCode::BAD_REQUEST).await;
        }
    };
    let was_method = me.user.two_factor_method;
    match account::add_security_key(
        &state,
        tenant,
        &me.user,
        key,
        &name,
        &ip,
        crate::email::Seen {
            user_agent: Some(&crate::http::browser::user_agent(&headers)),
            lang: Some(me.lang),
        },
        now,
    )
    .await
    {
        Ok(Some(codes)) => show_codes(&state, &me, codes, "two-factor-on").await,
        Ok(None) if was_method == Some(Method::SecurityKey) => {
            Ok(Redirect::to(&format!("{}?done=added", tenant.path(&state, PATH))).into_response())
        }
        Ok(None) => Ok(back_to_overview(&me, &state, "security-key-on")),
        Err(AccountError::Store(StoreError::Duplicate(_))) => {
            let message = state.views.message(me.lang, "security-key-already-registered");
            render(&state, &me, Some(message), None, StatusCode::CONFLICT).await
        }
        Err(err) => Err(account_error(err)),
    }
}

async fn remove(
    State(state): State<AppState>,
    FreshlySignedIn(me): FreshlySignedIn,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    IdParam(id): IdParam,
    PageForm(body): PageForm<CsrfBody>,
) -> Result<Response, PageError> {
    me.check_csrf(&body.csrf_token)?;
    let removed = account::remove_security_key(
        &state,
        &me.tenant,
        &me.user,
        &id,
        &ip,
        crate::email::Seen {
            user_agent: Some(&crate::http::browser::user_agent(&headers)),
            lang: Some(me.lang),
        },
        state.now(),
    )
    .await
    .map_err(account_error)?;
    let done = match removed {
        KeyRemoval::Removed => "removed",
        KeyRemoval::LastKey => "last",
        KeyRemoval::NotFound => return Err(PageError::not_found("error-not-found")),
    };
    Ok(Redirect::to(&format!("{}?done={done}", me.tenant.path(&state, PATH))).into_response())
}
