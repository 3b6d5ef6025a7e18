//! The token endpoint (RFC 6749 3.2): form in, JSON out, never cached.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};

use super::tenant::CurrentTenant;
use crate::error::OAuthError;
use crate::oauth::authorize_request::parse_params;
use crate::oauth::token;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/token", post(exchange))
}

async fn exchange(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    headers: HeaderMap,
    body: String,
) -> Result<Response, OAuthError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(OAuthError::invalid_request("the body must be application/x-www-form-urlencoded"));
    }
    let form = parse_params(&body).map_err(OAuthError::invalid_request)?;
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let tokens = token::exchange(&state, &tenant, authorization, &form).await?;
    let mut response = Json(tokens).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}
