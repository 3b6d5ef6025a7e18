//! Renders `PageError`s as themed HTML pages in the person's language.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use super::page;
use crate::error::PageError;
use crate::state::AppState;
use crate::views::pages::ErrorPage;

pub async fn not_found() -> PageError {
    PageError::not_found("error-not-found")
}

pub async fn render_error_pages(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // The language is worked out only when there is an error page to render (most responses
    // are not); the two headers it reads are kept aside for that.
    let mut kept = HeaderMap::new();
    for name in [header::ACCEPT_LANGUAGE, header::COOKIE] {
        for value in request.headers().get_all(&name) {
            kept.append(name.clone(), value.clone());
        }
    }
    let mut response = next.run(request).await;
    let Some(error) = response.extensions_mut().remove::<PageError>() else {
        return response;
    };
    let lang = page::language(&kept, None, None);
    let context = ErrorPage {
        frame: page::frame(&state, None, lang),
        title: state.views.message(lang, "error-title"),
        message: state.views.message(lang, error.message_key),
    };
    let body = match state.views.render("error.html", context) {
        Ok(html) => html,
        Err(err) => {
            tracing::error!(error = %err, "error page failed to render");
            "<!doctype html><title>Error</title><p>Something went wrong.</p>".to_string()
        }
    };
    let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
    let mut response = (error.status, Html(body)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(retry_after) = retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, retry_after);
    }
    response
}
