//! The authorization endpoint (GET and POST, OIDC Core 3.1.2.1).

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::cookies;
use super::tenant::CurrentTenant;
use crate::authn::{flow, session};
use crate::crypto::random_token;
use crate::error::PageError;
use crate::oauth::authorization_response;
use crate::oauth::authorize_request::{self, AuthorizeError};
use crate::state::AppState;
use crate::tenants::Tenant;

/// The browser-binding cookie lives long enough for any login attempt.
const BROWSER_COOKIE_SECONDS: i64 = 30 * 24 * 3600;

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

    if let Some(token) = cookies::read(headers, &cookies::session_name(state, tenant.slug())) {
        let existing = session::resume(state, tenant, &token, now).await.map_err(PageError::internal)?;
        if let Some(existing) = existing
            && flow::session_satisfies(&existing, &request, now)
        {
            let url = authorization_response::issue_code(state, tenant, &request, &existing, now)
                .await
                .map_err(PageError::internal)?;
            return Ok(Redirect::to(&url).into_response());
        }
    }
    if request.prompt.iter().any(|p| p == "none") {
        let url = authorization_response::error_redirect(
            &request.redirect_uri,
            "login_required",
            "the user is not signed in",
            request.state.as_deref(),
            &tenant.issuer,
        );
        return Ok(Redirect::to(&url).into_response());
    }

    let browser_cookie = cookies::browser_name(state);
    let existing_browser = cookies::read(headers, &browser_cookie);
    let browser_token = existing_browser.clone().unwrap_or_else(|| random_token(32));
    let attempt =
        flow::start(state, tenant, &request, &browser_token, now).await.map_err(PageError::internal)?;
    let mut response = Redirect::to(&tenant.path(state, &format!("/login/{attempt}"))).into_response();
    if existing_browser.is_none()
        && let Some(cookie) =
            cookies::set(state, &browser_cookie, &browser_token, Some(BROWSER_COOKIE_SECONDS))
    {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}
