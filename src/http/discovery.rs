//! `/.well-known/openid-configuration` and the JWKS.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::tenant::CurrentTenant;
use crate::error::{OAuthError, PageError};
use crate::oidc::discovery;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/openid-configuration", get(configuration))
        .route("/jwks.json", get(jwks))
}

/// Relying parties may keep the discovery document an hour, the JWK Set five minutes.
pub const DISCOVERY_CACHE_CONTROL: &str = "public, max-age=3600";
pub const JWKS_CACHE_CONTROL: &str = "public, max-age=300";

fn cache_for(response: &mut Response, cache_control: &'static str) {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache_control));
}

/// Served from memory after the first request for a `/t/{slug}` tenant (see `Documents`).
async fn configuration(State(state): State<AppState>, mut parts: Parts) -> Result<Response, PageError> {
    let slug = Path::<HashMap<String, String>>::from_request_parts(&mut parts, &state)
        .await
        .ok()
        .and_then(|Path(mut params)| params.remove("tenant"));
    // Remembered documents only on the public host: elsewhere `CurrentTenant` decides whether a
    // `/t/{slug}` path is served at all (not on a tenant's own host).
    let host = parts.headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let remembered = slug.as_deref().filter(|_| crate::tenants::is_public_host(&state, host));
    let body = match remembered.and_then(|slug| state.discovery.get(slug)) {
        Some(body) => body,
        None => {
            let CurrentTenant(tenant) = CurrentTenant::from_request_parts(&mut parts, &state).await?;
            let body =
                Bytes::from(serde_json::to_vec(&discovery::document(&tenant)).map_err(PageError::internal)?);
            if let Some(slug) = remembered {
                state.discovery.keep(slug, body.clone());
            }
            body
        }
    };
    let mut response =
        ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response();
    cache_for(&mut response, DISCOVERY_CACHE_CONTROL);
    Ok(response)
}

/// From memory for a few seconds per tenant (see `keys::MEMORY_SECONDS`): relying parties and
/// resource servers fetch it often, and it changes only when keys rotate.
async fn jwks(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
) -> Result<Response, OAuthError> {
    let now = state.now();
    let body = match state.keys.remembered_jwks(tenant.id(), now) {
        Some(body) => body,
        None => match state.keys.jwks(&state.db, tenant.id(), now).await {
            Ok(document) => {
                let body = Bytes::from(serde_json::to_vec(&document).map_err(OAuthError::internal)?);
                state.keys.remember_jwks(tenant.id(), body.clone(), now);
                body
            }
            // The database cannot be reached: the set served last is still the truth.
            Err(err) => match state.keys.last_jwks(tenant.id()) {
                Some(body) => {
                    tracing::warn!(error = %err, "JWK Set from memory: the database did not answer");
                    body
                }
                None => return Err(OAuthError::internal(err)),
            },
        },
    };
    let mut response =
        ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response();
    cache_for(&mut response, JWKS_CACHE_CONTROL);
    Ok(response)
}
