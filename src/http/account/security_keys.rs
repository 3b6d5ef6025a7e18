//! Security keys on the account pages: list, add (named by the person; a WebAuthn registration),
//! and remove. Adding the first key makes keys the second factor.

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::two_factor::{html, me, show_codes};
use super::{SignedIn, account_error, back_to_overview, check_csrf, date, parse_form};
use crate::account::{self, AccountError, KeyRemoval};
use crate::authn::second_factor::Method;
use crate::authn::webauthn::{self, NAME_MAX_CHARS};
use crate::crypto::constant_time_eq;
use crate::error::PageError;
use crate::http::client_ip::ClientIp;
use crate::http::page;
use crate::http::path_param::IdParam;
use crate::http::tenant::CurrentTenant;
use crate::state::AppState;
use crate::store::{self, StoreError};
use crate::tenants::Tenant;
use crate::views::pages::{KeyRow, SecurityKeysPage, WebauthnForm};

const PATH: &str = "/account/security-keys";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PATH, get(list).post(add))
        .route("/account/security-keys/begin", post(begin))
        .route("/account/security-keys/{id}/remove", post(remove))
}

macro_rules! signed_in_or_redirect {
    ($call:expr) => {
        match $call.await? {
            Ok(me) => me,
            Err(redirect) => return Ok(redirect),
        }
    };
}

#[derive(Deserialize)]
struct ListQuery {
    done: Option<String>,
}

async fn render(
    state: &AppState,
    tenant: &Tenant,
    me: &SignedIn,
    error: Option<String>,
    message: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let keys =
        store::security_keys::list_for_user(&state.db, &me.user.id).await.map_err(PageError::internal)?;
    let context = SecurityKeysPage {
        frame: page::frame(state, Some(tenant), me.lang),
        base: tenant.path(state, ""),
        csrf_token: me.session.row.csrf_token.clone(),
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
            script: crate::http::assets::webauthn_script_url(),
        },
        name_max: NAME_MAX_CHARS,
        error,
        message,
        is_method: me.user.two_factor_method.as_deref() == Some(Method::SecurityKey.as_str()),
    };
    html(state, "security_keys.html", context, status)
}

async fn list(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    Query(query): Query<ListQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    // Fresh, as for adding one: the page exists to add and remove keys.
    let me = signed_in_or_redirect!(me(&state, &tenant, &headers, PATH, true));
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
    render(&state, &tenant, &me, error, message, StatusCode::OK).await
}

/// The registration challenge for the page's script (JSON). The same sign-in rules as the page:
/// someone whose two-factor authentication is on must have signed in recently.
async fn begin(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    headers: HeaderMap,
    body: String,
) -> Result<Response, PageError> {
    let refuse =
        |status: StatusCode, error: &str| Ok((status, Json(json!({ "error": error }))).into_response());
    // A key can become a passkey that signs in without the password: adding one always needs a
    // recent password, so a stolen session cannot plant one.
    let Ok(me) = me(&state, &tenant, &headers, PATH, true).await? else {
        return refuse(StatusCode::UNAUTHORIZED, "login_required");
    };
    let csrf = parse_form::<super::CsrfBody>(&body).unwrap_or_default().csrf_token;
    if !constant_time_eq(&csrf, &me.session.row.csrf_token) {
        return refuse(StatusCode::FORBIDDEN, "csrf");
    }
    match webauthn::begin_registration(&state, &tenant, &me.user, state.now()).await {
        Ok(begun) => Ok(Json(begun).into_response()),
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
    CurrentTenant(tenant): CurrentTenant,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: String,
) -> Result<Response, PageError> {
    let me = signed_in_or_redirect!(me(&state, &tenant, &headers, PATH, true));
    let body: AddBody = parse_form(&body)?;
    check_csrf(&me, &body.csrf_token)?;
    let name = body.name.trim();
    let name = if name.is_empty() {
        state.views.message(me.lang, "method-security-key")
    } else {
        name.chars().filter(|c| !c.is_control()).take(NAME_MAX_CHARS).collect()
    };
    let now = state.now();
    let verified =
        webauthn::finish_registration(&state, &tenant, &me.user, &body.ceremony, &body.credential, now)
            .await
            .map_err(PageError::internal)?;
    let key = match verified {
        Ok(key) => key,
        Err(refusal) => {
            account::record_key_registration_refused(&state, &tenant, &me.user, refusal.as_str(), &ip, now)
                .await
                .map_err(account_error)?;
            let message = state.views.message(me.lang, "security-key-register-failed");
            return render(&state, &tenant, &me, Some(message), None, StatusCode::BAD_REQUEST).await;
        }
    };
    let was_method = me.user.two_factor_method.clone();
    match account::add_security_key(&state, &tenant, &me.user, key, &name, &ip, now).await {
        Ok(Some(codes)) => show_codes(&state, &tenant, &me, codes, "two-factor-on"),
        Ok(None) if was_method.as_deref() == Some(Method::SecurityKey.as_str()) => {
            Ok(Redirect::to(&format!("{}?done=added", tenant.path(&state, PATH))).into_response())
        }
        Ok(None) => Ok(back_to_overview(&state, &tenant, "security-key-on")),
        Err(AccountError::Store(StoreError::Duplicate(_))) => {
            let message = state.views.message(me.lang, "security-key-already-registered");
            render(&state, &tenant, &me, Some(message), None, StatusCode::CONFLICT).await
        }
        Err(err) => Err(account_error(err)),
    }
}

async fn remove(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    ClientIp(ip): ClientIp,
    IdParam(id): IdParam,
    headers: HeaderMap,
    body: String,
) -> Result<Response, PageError> {
    let me = signed_in_or_redirect!(me(&state, &tenant, &headers, PATH, true));
    check_csrf(&me, &parse_form::<super::CsrfBody>(&body)?.csrf_token)?;
    let removed = account::remove_security_key(&state, &tenant, &me.user, &id, &ip, state.now())
        .await
        .map_err(account_error)?;
    let done = match removed {
        KeyRemoval::Removed => "removed",
        KeyRemoval::LastKey => "last",
        KeyRemoval::NotFound => return Err(PageError::not_found("error-not-found")),
    };
    Ok(Redirect::to(&format!("{}?done={done}", tenant.path(&state, PATH))).into_response())
}
