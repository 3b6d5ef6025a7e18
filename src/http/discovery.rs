//! `/.well-known/openid-configuration` and the JWKS.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::tenant::CurrentTenant;
use crate::error::OAuthError;
use crate::keys::Alg;
use crate::oidc::discovery;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/openid-configuration", get(configuration))
        .route("/jwks.json", get(jwks))
}

fn cacheable(body: serde_json::Value, seconds: u32) -> Response {
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&format!("public, max-age={seconds}")) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    response
}

async fn configuration(CurrentTenant(tenant): CurrentTenant) -> Response {
    cacheable(discovery::document(&tenant), 3600)
}

async fn jwks(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
) -> Result<Response, OAuthError> {
    // Make sure a key exists before publishing the set, so the first JWKS fetch is never empty.
    let now = state.now();
    for alg in Alg::ALL {
        state.keys.signer(&state.db, tenant.id(), alg, now).await.map_err(OAuthError::internal)?;
    }
    let body = state.keys.jwks(&state.db, tenant.id(), now).await.map_err(OAuthError::internal)?;
    Ok(cacheable(body, 300))
}
