//! A sign-in for the account pages that exists only as a signed link until its first form is sent.
//!
//! Anyone can open `{issuer}/account` without a session, as often as they like; a stored attempt
//! per visit would let one script fill the table (issue 13, item 9). So the redirect names a
//! *pending* attempt: `{issued_at}.{nonce}.{return_to, base64url}.{mac}`, an HMAC under a key
//! derived from the master key over the tenant, the browser binding and those fields. Showing the
//! password page reads nothing from the database; the first POST (the password, or the passkey
//! button) stores the attempt under the hash of the same token, with the same CSRF token the page
//! already carries, and from then on it is an attempt like any other.
//!
//! A pending link proves nothing about a person, so a replayed one only starts another sign-in at
//! the password, as a new visit to `/account` would; it expires like a stored attempt.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::Stage;
use crate::crypto::{constant_time_eq, random_token, sha256_hex};
use crate::state::AppState;
use crate::tenants::Tenant;

const PURPOSE: &str = "tessera pending sign-in v1";

/// The link token of a pending account sign-in that returns to `return_to`.
pub fn mint(state: &AppState, tenant: &Tenant, return_to: &str, browser_token: &str, now: i64) -> String {
    let nonce = random_token(16);
    let encoded = URL_SAFE_NO_PAD.encode(return_to);
    let mac = mac(state, tenant.id(), &sha256_hex(browser_token), now, &nonce, &encoded);
    format!("{now}.{nonce}.{encoded}.{mac}")
}

/// The attempt a pending token stands for, if it is genuine, this tenant's and this browser's,
/// and not expired: unsaved (`store::attempts::insert_if_absent` saves it).
pub fn open(
    state: &AppState,
    tenant: &Tenant,
    token: &str,
    browser_token: &str,
    now: i64,
) -> Option<entity::login_attempt::Model> {
    let mut parts = token.splitn(4, '.');
    let written = parts.next()?;
    let issued_at: i64 = written.parse().ok()?;
    // One spelling per link (`+T` and `0T` parse to the same time): each spelling would name
    // an attempt of its own.
    if issued_at.to_string() != written {
        return None;
    }
    let nonce = parts.next()?;
    let encoded = parts.next()?;
    let presented = parts.next()?;
    let lifetime = state.settings.sessions.login_attempt_seconds;
    if issued_at > now || now.checked_sub(issued_at).is_none_or(|age| age >= lifetime) {
        return None;
    }
    let browser_hash = sha256_hex(browser_token);
    let expected = mac(state, tenant.id(), &browser_hash, issued_at, nonce, encoded);
    if expected.is_empty() || !constant_time_eq(&expected, presented) {
        return None;
    }
    let return_to = String::from_utf8(URL_SAFE_NO_PAD.decode(encoded).ok()?).ok()?;
    let purpose = super::Purpose::Account { return_to };
    Some(entity::login_attempt::Model {
        id: sha256_hex(token),
        tenant_id: tenant.id().to_string(),
        browser_hash,
        // The page shown before the attempt is stored carries this token; the stored attempt keeps it.
        csrf_token: mac(state, tenant.id(), "csrf", issued_at, nonce, presented),
        request: serde_json::to_string(&purpose).ok()?,
        created_at: issued_at,
        expires_at: issued_at + lifetime,
        stage: Stage::Password.as_str().to_string(),
        user_id: None,
        factor_failures: 0,
        notice: None,
        password_ok: false,
    })
}

fn mac(state: &AppState, tenant_id: &str, binding: &str, issued_at: i64, nonce: &str, data: &str) -> String {
    let key = state.keys.master().derive(PURPOSE);
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key) else {
        // HMAC accepts keys of any length; this arm only satisfies the type.
        return String::new();
    };
    for part in [tenant_id, binding, &issued_at.to_string(), nonce, data] {
        mac.update(part.as_bytes());
        mac.update(b"\0");
    }
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}
