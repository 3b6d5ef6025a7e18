//! tessera's own static files (not a theme's): the WebAuthn script, under a content-hashed name
//! so it can be cached for a year and a new release is fetched at once.

use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::PageError;
use crate::state::AppState;

const WEBAUTHN_JS: &str = include_str!("../../assets/webauthn.js");

static WEBAUTHN_NAME: LazyLock<String> =
    LazyLock::new(|| format!("webauthn-{}.js", &crate::crypto::sha256_hex(WEBAUTHN_JS)[..12]));

/// The address pages use for the WebAuthn script.
pub fn webauthn_script_url() -> String {
    format!("/assets/{}", *WEBAUTHN_NAME)
}

pub fn router() -> Router<AppState> {
    Router::new().route("/assets/{file}", get(serve))
}

async fn serve(Path(file): Path<String>) -> Result<Response, PageError> {
    if file != *WEBAUTHN_NAME {
        return Err(PageError::not_found("error-not-found"));
    }
    let mut response = WEBAUTHN_JS.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    Ok(response)
}
