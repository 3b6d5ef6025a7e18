//! The browser-binding cookie that ties login attempts to the browser that started them.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

use super::cookies;
use crate::crypto::random_token;
use crate::state::AppState;

/// Long enough for any login attempt; it carries no identity, only a random binding.
const BROWSER_COOKIE_SECONDS: i64 = 30 * 24 * 3600;

/// The browser's binding token, and a `Set-Cookie` to send when it is new.
pub fn binding(state: &AppState, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    let name = cookies::browser_name(state);
    match cookies::read(headers, &name) {
        Some(token) => (token, None),
        None => {
            let token = random_token(32);
            let cookie = cookies::set(state, &name, &token, Some(BROWSER_COOKIE_SECONDS));
            (token, cookie)
        }
    }
}

pub fn attach(response: &mut Response, cookie: Option<HeaderValue>) {
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
}

pub fn user_agent(headers: &HeaderMap) -> String {
    headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
}
