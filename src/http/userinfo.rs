//! The userinfo endpoint (OIDC Core 5.3), GET or POST with a bearer token.

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::routing::get;
use axum::{Json, Router};

use super::tenant::CurrentTenant;
use crate::error::OAuthError;
use crate::oidc::userinfo;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/userinfo", get(claims).post(claims))
}

async fn claims(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, OAuthError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(|| OAuthError::invalid_token("a bearer access token is required"))?;
    Ok(Json(userinfo::claims(&state, &tenant, token).await?))
}
