//! The userinfo endpoint (OIDC Core 5.3), GET or POST with a bearer token in the
//! `Authorization` header (RFC 6750 2.1) or, on POST, in a form body (RFC 6750 2.2).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, header};
use axum::routing::get;
use axum::{Json, Router};

use super::tenant::CurrentTenant;
use crate::error::OAuthError;
use crate::oauth::authorize_request::parse_params;
use crate::oidc::userinfo;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/userinfo", get(claims).post(claims))
}

async fn claims(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<serde_json::Value>, OAuthError> {
    let token = bearer_token(&method, &headers, &body)?;
    Ok(Json(userinfo::claims(&state, &tenant, &token).await?))
}

/// The one bearer token of the request. Another `Authorization` scheme is no bearer token;
/// two ways at once is a malformed request (RFC 6750 2).
fn bearer_token(method: &Method, headers: &HeaderMap, body: &[u8]) -> Result<String, OAuthError> {
    let in_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_string());
    // RFC 6750 2.2: only a POST form body carries a token, never a GET.
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
    let in_body = if *method == Method::POST && is_form {
        let form = std::str::from_utf8(body)
            .ok()
            .and_then(|raw| parse_params(raw).ok())
            .ok_or_else(|| OAuthError::invalid_request("the form body is malformed"))?;
        form.get("access_token").filter(|t| !t.is_empty()).cloned()
    } else {
        None
    };
    match (in_header, in_body) {
        (Some(token), None) | (None, Some(token)) => Ok(token),
        (Some(_), Some(_)) => Err(OAuthError::invalid_request("send the access token one way only")),
        (None, None) => Err(OAuthError::bearer_token_required()),
    }
}
