//! The authorization endpoint (GET and POST, OIDC Core 3.1.2.1).

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::browser;
use super::cookies;
use super::tenant::CurrentTenant;
use crate::authn::flow::{self, Purpose, Stage};
use crate::authn::sso::{self, SessionUse};
use crate::authn::{consent, session};
use crate::error::PageError;
use crate::oauth::authorization_response;
use crate::oauth::authorize_request::{self, AuthorizeError};
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

pub fn router() -> Router<AppState> {
    Router::new().route("/authorize", get(by_get).post(by_post))
}

async fn by_get(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    authorize(&state, &tenant, query.as_deref().unwrap_or(""), &headers).await
}

async fn by_post(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    headers: HeaderMap,
    body: String,
) -> Result<Response, PageError> {
    authorize(&state, &tenant, &body, &headers).await
}

fn error_redirect(
    tenant: &Tenant,
    request: &authorize_request::AuthorizationRequest,
    error: &str,
    description: &str,
) -> Response {
    let url = authorization_response::error_redirect(
        &request.redirect_uri,
        error,
        description,
        request.state.as_deref(),
        &tenant.issuer,
    );
    Redirect::to(&url).into_response()
}

async fn authorize(
    state: &AppState,
    tenant: &Tenant,
    raw: &str,
    headers: &HeaderMap,
) -> Result<Response, PageError> {
    let now = state.now();
    let request = match authorize_request::validate(state, tenant, authorize_request::parse_params(raw)).await
    {
        Ok(request) => request,
        Err(AuthorizeError::Page(key)) => return Err(PageError::bad_request(key)),
        Err(AuthorizeError::Store(err)) => return Err(PageError::internal(err)),
        Err(AuthorizeError::Redirect { redirect_uri, state: client_state, error, description }) => {
            let url = authorization_response::error_redirect(
                &redirect_uri,
                error,
                &description,
                client_state.as_deref(),
                &tenant.issuer,
            );
            return Ok(Redirect::to(&url).into_response());
        }
    };
    let prompt_none = request.prompt.iter().any(|p| p == "none");

    let mut step_up_user = None;
    if let Some(token) = cookies::read(headers, &cookies::session_name(state, tenant.slug())) {
        let existing = session::resume(state, tenant, &token, now).await.map_err(PageError::internal)?;
        if let Some(existing) = existing {
            match sso::assess(&existing, &request, now) {
                SessionUse::Reuse => {
                    let user_id = existing.row.user_id.clone();
                    if !consent::needed(state, &request, &user_id).await.map_err(PageError::internal)? {
                        let url = authorization_response::issue_code(state, tenant, &request, &existing, now)
                            .await
                            .map_err(PageError::internal)?;
                        return Ok(Redirect::to(&url).into_response());
                    }
                    if prompt_none {
                        return Ok(error_redirect(
                            tenant,
                            &request,
                            "consent_required",
                            "the user has not consented",
                        ));
                    }
                    let (browser_token, set_cookie) = browser::binding(state, headers);
                    let purpose = Purpose::Authorize(Box::new(request));
                    let attempt = flow::start_at(
                        state,
                        tenant,
                        &purpose,
                        &browser_token,
                        Stage::Consent,
                        Some(&user_id),
                        now,
                    )
                    .await
                    .map_err(PageError::internal)?;
                    let mut response =
                        Redirect::to(&tenant.path(state, &format!("/login/{attempt}"))).into_response();
                    browser::attach(&mut response, set_cookie);
                    return Ok(response);
                }
                SessionUse::StepUp => step_up_user = Some(existing.row.user_id.clone()),
                SessionUse::SignInAgain => {}
            }
        }
    }
    if prompt_none {
        return Ok(match step_up_user {
            Some(_) => {
                error_redirect(tenant, &request, "interaction_required", "a stronger sign-in is needed")
            }
            None => error_redirect(tenant, &request, "login_required", "the user is not signed in"),
        });
    }

    let (browser_token, set_cookie) = browser::binding(state, headers);
    let purpose = Purpose::Authorize(Box::new(request));
    let attempt = match step_up_user {
        Some(user_id) => {
            let user =
                store::users::find(&state.db, tenant.id(), &user_id).await.map_err(PageError::internal)?;
            let stage = match user {
                // `phr` wants a key: that step says what to do when the person has none.
                _ if purpose.demands_security_key() => Stage::SecondFactor,
                Some(user) if user.two_factor_method.is_some() => Stage::SecondFactor,
                _ => Stage::Enrol,
            };
            flow::start_at(state, tenant, &purpose, &browser_token, stage, Some(&user_id), now).await
        }
        None => flow::start(state, tenant, &purpose, &browser_token, now).await,
    }
    .map_err(PageError::internal)?;
    let mut response = Redirect::to(&tenant.path(state, &format!("/login/{attempt}"))).into_response();
    browser::attach(&mut response, set_cookie);
    Ok(response)
}
