//! Static files with content-hashed names, cached for a year.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::PageError;
use crate::state::AppState;
use crate::views::STYLESHEET;

/// `/static/style.<hash>.css`: the name changes whenever the content does.
pub fn stylesheet_url() -> String {
    let hash = crate::crypto::sha256_hex(STYLESHEET);
    format!("/static/style.{}.css", &hash[..12])
}

pub fn router() -> Router<AppState> {
    Router::new().route("/static/{file}", get(serve))
}

async fn serve(State(state): State<AppState>, Path(file): Path<String>) -> Result<Response, PageError> {
    if format!("/static/{file}") != state.stylesheet_url {
        return Err(PageError::not_found("error-not-found"));
    }
    let mut response = STYLESHEET.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    Ok(response)
}
