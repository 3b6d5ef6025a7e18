//! Headers on every response: a strict CSP without inline script, no framing, no sniffing, no
//! referrer, HSTS over https, and no caching unless a handler says otherwise.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

// No `form-action`: Chromium applies it to the redirect that follows a form post, which would
// block the redirect back to the client's own origin. Scripts: only tessera's own file (the
// WebAuthn script), never inline; it fetches its challenges from the same origin.
const CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; \
                   img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'";

pub async fn add_security_headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    apply(response.headers_mut(), state.settings.public_url.scheme() == "https");
    response
}

/// The headers above, added to a response's own (also for the answers given from memory before
/// the router, `documents_from_memory`).
pub fn apply(headers: &mut HeaderMap, https: bool) {
    let fixed: [(HeaderName, &'static str); 5] = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
}
