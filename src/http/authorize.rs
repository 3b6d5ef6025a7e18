//! The authorization endpoint (GET and POST, OIDC Core 3.1.2.1): the request is validated, then
//! `flow::begin` decides between the client and the login pages.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::client_ip::ClientIp;
use super::login::flow_error;
use super::tenant::CurrentTenant;
use super::{browser, cookies, page};
use crate::authn::flow::Visitor;
use crate::authn::flow::begin::{self, Begun};
use crate::error::PageError;
use crate::oauth::authorization_response;
use crate::oauth::authorize_request::{self, AuthorizeError};
use crate::state::AppState;
use crate::tenants::Tenant;

pub fn router() -> Router<AppState> {
    Router::new().route("/authorize", get(by_get).post(by_post))
}

async fn by_get(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    ClientIp(ip): ClientIp,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    authorize(&state, &tenant, query.as_deref().unwrap_or(""), &ip, &headers).await
}

async fn by_post(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: String,
) -> Result<Response, PageError> {
    authorize(&state, &tenant, &body, &ip, &headers).await
}

async fn authorize(
    state: &AppState,
    tenant: &Tenant,
    raw: &str,
    ip: &str,
    headers: &HeaderMap,
) -> Result<Response, PageError> {
    let params = authorize_request::parse_params(raw);
    let request = match authorize_request::validate(state, tenant, params).await {
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
    let session_token = cookies::read(headers, &cookies::session_name(state, tenant.slug()));
    let (browser_token, set_cookie) = browser::binding(state, headers);
    let user_agent = browser::user_agent(headers);
    let visitor = Visitor {
        browser_token: &browser_token,
        user_agent: &user_agent,
        trusted_device: None,
        known_device: None,
        session_token: session_token.as_deref(),
        ip,
        lang: page::language(headers, request.ui_locales.as_deref(), Some(tenant)),
    };
    let begun = begin::begin(state, tenant, request, &visitor, state.now()).await.map_err(flow_error)?;
    let attempt_token = match begun {
        // No login page: the browser-binding cookie is not needed.
        Begun::ToClient { redirect_to } => return Ok(Redirect::to(&redirect_to).into_response()),
        Begun::ToLogin { attempt_token } => attempt_token,
    };
    let mut response = Redirect::to(&tenant.path(state, &format!("/login/{attempt_token}"))).into_response();
    browser::attach(&mut response, set_cookie);
    Ok(response)
}
