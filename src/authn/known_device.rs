//! The known-device cookie: a browser where a person signed in before. Their password tries from
//! it count on a throttle of its own, so an attacker guessing at their account from elsewhere
//! cannot slow or block them there. Signed, not stored: it grants no sign-in, only a counter.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::crypto::{constant_time_eq, random_token};
use crate::state::AppState;

/// How long a browser stays known after its last sign-in (each sign-in sets a fresh cookie).
pub const LIFETIME_SECONDS: i64 = 180 * 86_400;

const PURPOSE: &str = "tessera known device v1";

/// A fresh cookie value for `user_id` at this tenant: `issued_at.nonce.mac`.
pub fn mint(state: &AppState, tenant_id: &str, user_id: &str, now: i64) -> String {
    let nonce = random_token(16);
    let mac = mac(state, tenant_id, user_id, now, &nonce);
    format!("{now}.{nonce}.{mac}")
}

/// The device's own throttle key when `cookie` was minted for this user at this tenant and has
/// not expired; `None` otherwise (the browser is treated as any other).
pub fn recognise(
    state: &AppState,
    tenant_id: &str,
    user_id: &str,
    cookie: Option<&str>,
    now: i64,
) -> Option<String> {
    let mut parts = cookie?.splitn(3, '.');
    let issued_at: i64 = parts.next()?.parse().ok()?;
    let nonce = parts.next()?;
    let presented = parts.next()?;
    if now - issued_at > LIFETIME_SECONDS || issued_at > now {
        return None;
    }
    let expected = mac(state, tenant_id, user_id, issued_at, nonce);
    (!expected.is_empty() && constant_time_eq(&expected, presented))
        .then(|| format!("device:{tenant_id}:{user_id}:{nonce}"))
}

fn mac(state: &AppState, tenant_id: &str, user_id: &str, issued_at: i64, nonce: &str) -> String {
    let key = state.keys.master().derive(PURPOSE);
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key) else {
        // HMAC accepts keys of any length; this arm only satisfies the type.
        return String::new();
    };
    for part in [tenant_id, user_id, &issued_at.to_string(), nonce] {
        mac.update(part.as_bytes());
        mac.update(b"\0");
    }
    hex::encode(mac.finalize().into_bytes())
}
