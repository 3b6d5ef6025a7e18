//! Cookie names and attributes. Over https every cookie is `__Host-` prefixed and `Secure`; on
//! http://localhost (development) the prefix and `Secure` are dropped, as browsers require.

use axum::http::{HeaderMap, HeaderValue, header};

use crate::state::AppState;

pub fn secure(state: &AppState) -> bool {
    !state.settings.is_loopback_http()
}

fn prefixed(state: &AppState, name: &str) -> String {
    if secure(state) { format!("__Host-{name}") } else { name.to_string() }
}

/// One session cookie per tenant: signing in at one tenant says nothing to another.
pub fn session_name(state: &AppState, tenant_slug: &str) -> String {
    prefixed(state, &format!("tessera-session-{tenant_slug}"))
}

/// Binds login attempts to the browser that started them (login CSRF defence).
pub fn browser_name(state: &AppState) -> String {
    prefixed(state, "tessera-browser")
}

/// "Skip this step for one month on this device": one per tenant per browser.
pub fn trusted_device_name(state: &AppState, tenant_slug: &str) -> String {
    prefixed(state, &format!("tessera-device-{tenant_slug}"))
}

/// A browser where someone signed in at this tenant: their password tries from it have a throttle
/// of their own (`authn::known_device`).
pub fn known_device_name(state: &AppState, tenant_slug: &str) -> String {
    prefixed(state, &format!("tessera-known-{tenant_slug}"))
}

/// A `Set-Cookie` that removes a cookie.
pub fn clear(state: &AppState, name: &str) -> Option<HeaderValue> {
    set(state, name, "", Some(0))
}

pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, and Secure unless on loopback http.
pub fn set(state: &AppState, name: &str, value: &str, max_age_seconds: Option<i64>) -> Option<HeaderValue> {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if secure(state) {
        cookie.push_str("; Secure");
    }
    if let Some(max_age) = max_age_seconds {
        cookie.push_str(&format!("; Max-Age={max_age}"));
    }
    HeaderValue::from_str(&cookie).ok()
}
