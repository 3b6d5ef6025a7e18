//! Theme static files with content-hashed names, cached for a year.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::PageError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/static/{theme}/{file}", get(serve))
}

async fn serve(
    State(state): State<AppState>,
    Path((theme, file)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (content_type, bytes) =
        state.views.asset(&theme, &file).ok_or_else(|| PageError::not_found("error-not-found"))?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // The name changes whenever the content does.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    Ok(response)
}
