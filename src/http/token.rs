//! The token endpoint (RFC 6749 3.2): form in, JSON out, never cached.

use axum::extract::State;
use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};

use super::tenant::CurrentTenant;
use crate::error::OAuthError;
use crate::oauth::authorize_request::parse_params;
use crate::oauth::{client_auth, introspection, revocation, token};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/token", post(exchange))
        .route("/revoke", post(revoke))
        .route("/introspect", post(introspect))
}

/// The form body of a protocol POST, refusing other content types and repeated parameters.
fn form_of(headers: &HeaderMap, body: &str) -> Result<HashMap<String, String>, OAuthError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(OAuthError::invalid_request("the body must be application/x-www-form-urlencoded"));
    }
    parse_params(body).map_err(OAuthError::invalid_request)
}

async fn authenticated_client(
    state: &AppState,
    tenant: &crate::tenants::Tenant,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<std::sync::Arc<entity::client::Model>, OAuthError> {
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let presented = client_auth::presented(authorization, form)?;
    client_auth::authenticate(state, tenant, &presented).await
}

fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// RFC 7009: 200 whether or not the token was known.
async fn revoke(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    headers: HeaderMap,
    body: String,
) -> Result<Response, OAuthError> {
    let form = form_of(&headers, &body)?;
    let client = authenticated_client(&state, &tenant, &headers, &form).await?;
    let token = form
        .get("token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    revocation::revoke(&state, &tenant, &client, token, state.now()).await.map_err(OAuthError::internal)?;
    Ok(no_store(StatusCode::OK.into_response()))
}

/// RFC 7662, for confidential clients (what each may see: `introspection::introspect`).
async fn introspect(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    headers: HeaderMap,
    body: String,
) -> Result<Response, OAuthError> {
    let form = form_of(&headers, &body)?;
    let client = authenticated_client(&state, &tenant, &headers, &form).await?;
    if client.is_public {
        return Err(OAuthError::invalid_client("introspection needs a confidential client", false));
    }
    let token = form
        .get("token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let answer = introspection::introspect(&state, &tenant, &client, token, state.now())
        .await
        .map_err(OAuthError::internal)?;
    Ok(no_store(Json(answer).into_response()))
}

async fn exchange(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    headers: HeaderMap,
    body: String,
) -> Result<Response, OAuthError> {
    let form = form_of(&headers, &body)?;
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let tokens = token::exchange(&state, &tenant, authorization, &form).await?;
    Ok(no_store(Json(tokens).into_response()))
}
