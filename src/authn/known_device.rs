//! The known-device cookie: a browser where a person signed in before. Their password tries from
//! it count on a throttle of its own, so an attacker guessing at their account from elsewhere
//! cannot slow or block them there. Signed, not stored: it grants no sign-in, only a counter.
//!
//! A ward's shared workstation is known to everyone who signs in on it, so the cookie holds up to
//! `MAX_PEOPLE` entries (`~`-separated), the newest first; a sign-in puts its person's fresh entry
//! in front and drops their older one and any that expired.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::crypto::{constant_time_eq, random_token};
use crate::state::AppState;

/// How long a browser stays known after its last sign-in (each sign-in sets a fresh cookie).
pub const LIFETIME_SECONDS: i64 = 180 * 86_400;

const PURPOSE: &str = "tessera known device v1";

/// People one browser is remembered for: a shared workstation of a ward, a family's computer.
pub const MAX_PEOPLE: usize = 8;

/// The cookie value after `user_id` signed in at this tenant: a fresh `issued_at.nonce.mac` entry
/// for them, then the entries of `previous` (the browser's cookie) of other people that are still
/// valid, up to `MAX_PEOPLE` in all. Entries of other people are kept without knowing whose they
/// are; only their age is read.
pub fn mint(state: &AppState, tenant_id: &str, user_id: &str, previous: Option<&str>, now: i64) -> String {
    let nonce = random_token(16);
    let mac = mac(state, tenant_id, user_id, now, &nonce);
    let mut entries = vec![format!("{now}.{nonce}.{mac}")];
    let others = previous
        .into_iter()
        .flat_map(|cookie| cookie.split('~'))
        .filter(|entry| entry_valid_at(entry, now) && check(state, tenant_id, user_id, entry, now).is_none());
    entries.extend(others.take(MAX_PEOPLE - 1).map(str::to_string));
    entries.join("~")
}

/// Whether an entry has the shape of one and its time is within its lifetime.
fn entry_valid_at(entry: &str, now: i64) -> bool {
    let mut parts = entry.splitn(3, '.');
    let issued_at = parts.next().and_then(|t| t.parse::<i64>().ok());
    let shaped = parts.next().is_some_and(|n| !n.is_empty()) && parts.next().is_some_and(|m| !m.is_empty());
    shaped && issued_at.is_some_and(|at| at <= now && now.saturating_sub(at) <= LIFETIME_SECONDS)
}

/// The device's own throttle key when `cookie` holds an entry minted for this user at this tenant
/// that has not expired; `None` otherwise (the browser is treated as any other).
pub fn recognise(
    state: &AppState,
    tenant_id: &str,
    user_id: &str,
    cookie: Option<&str>,
    now: i64,
) -> Option<String> {
    // Every entry is checked, so the time taken says nothing about which one matched.
    let mut found = None;
    for entry in cookie?.split('~').take(MAX_PEOPLE) {
        let key = check(state, tenant_id, user_id, entry, now);
        found = found.or(key);
    }
    found
}

fn check(state: &AppState, tenant_id: &str, user_id: &str, entry: &str, now: i64) -> Option<String> {
    let mut parts = entry.splitn(3, '.');
    let issued_at: i64 = parts.next()?.parse().ok()?;
    let nonce = parts.next()?;
    let presented = parts.next()?;
    if issued_at > now || now.saturating_sub(issued_at) > LIFETIME_SECONDS {
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
