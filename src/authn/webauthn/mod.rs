//! Security keys and passkeys (WebAuthn, with webauthn-rs). The relying party is the tenant's
//! own origin (its issuer's scheme, host and port; the RP ID is the host). A ceremony's state
//! waits in the database between its two requests, bound to its owner (the user registering, or
//! the login attempt), and is taken out once, so any instance can finish what another began and
//! no challenge answers twice.

mod ceremony;
mod registration;
mod sign_in;

pub use registration::{begin_registration, finish_registration};
pub use sign_in::{begin_passkey, begin_second_factor, finish_passkey, finish_second_factor};

use std::time::Duration;

use data_encoding::BASE64URL_NOPAD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;
use webauthn_rs::prelude::{SecurityKey, Uuid, Webauthn, WebauthnBuilder, WebauthnError};

use crate::crypto::sha256_hex;
use crate::store::StoreError;
use crate::tenants::Tenant;

/// How long a ceremony may take, from the button to the finished form (the browser's prompt
/// times out at the same moment).
pub const CEREMONY_SECONDS: i64 = 300;
pub const KIND_REGISTER: &str = "register";
pub const KIND_SECOND_FACTOR: &str = "second_factor";
pub const KIND_PASSKEY: &str = "passkey";
/// Longest name a person may give a key.
pub const NAME_MAX_CHARS: usize = 60;

#[derive(Debug, thiserror::Error)]
pub enum SecurityKeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the tenant's origin cannot be a WebAuthn relying party: {0}")]
    RelyingParty(String),
    #[error("webauthn: {0}")]
    Webauthn(#[from] WebauthnError),
    #[error("WebAuthn JSON (a stored ceremony or key, or options) is unreadable: {0}")]
    Json(#[from] serde_json::Error),
}

/// A begun ceremony: the token the page sends back, and the options for `navigator.credentials`.
#[derive(Debug, Serialize)]
pub struct Begun {
    pub ceremony: String,
    #[serde(rename = "publicKey")]
    pub public_key: serde_json::Value,
}

/// Why an answer from the browser was refused (for the audit log; the person sees one message).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Unknown, expired, already used or someone else's ceremony.
    Ceremony,
    /// Not a WebAuthn response at all.
    Malformed,
    /// A key that is not registered (to this person).
    UnknownKey,
    /// Signature, origin, RP ID, challenge or flags did not verify.
    Invalid,
    /// The signature counter did not move forward: possibly a cloned authenticator.
    CounterRegression,
    /// Another use of the key was recorded first (or the key was removed meanwhile).
    Concurrent,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ceremony => "ceremony",
            Self::Malformed => "malformed",
            Self::UnknownKey => "unknown_key",
            Self::Invalid => "invalid",
            Self::CounterRegression => "counter_regression",
            Self::Concurrent => "concurrent_use",
        }
    }
}

/// A refused answer, with the registered key it named when there was one (from the verified
/// database row, never from what the client claims).
#[derive(Clone, Debug)]
pub struct Refused {
    pub reason: Refusal,
    /// `(user_id, key_id)` of the key.
    pub key: Option<(String, String)>,
}

impl From<Refusal> for Refused {
    fn from(reason: Refusal) -> Self {
        Self { reason, key: None }
    }
}

/// A verified use of a key.
#[derive(Clone, Debug)]
pub struct KeyUse {
    pub user_id: String,
    pub key_id: String,
    pub key_name: String,
    /// The authenticator verified the person (PIN or biometrics), not only their presence.
    pub user_verified: bool,
    /// The credential cannot leave its device (not a synced passkey: not backup-eligible).
    pub hardware_bound: bool,
}

/// A verified registration, not yet stored.
pub struct NewKey {
    pub credential_id: String,
    pub credential: String,
}

/// The relying party of a tenant: its issuer's origin.
fn relying_party(tenant: &Tenant) -> Result<Webauthn, SecurityKeyError> {
    let issuer = Url::parse(&tenant.issuer).map_err(|e| SecurityKeyError::RelyingParty(e.to_string()))?;
    let rp_id =
        issuer.host_str().ok_or_else(|| SecurityKeyError::RelyingParty("no host".into()))?.to_string();
    let origin = Url::parse(&issuer.origin().ascii_serialization())
        .map_err(|e| SecurityKeyError::RelyingParty(e.to_string()))?;
    let builder = WebauthnBuilder::new(&rp_id, &origin)?
        .rp_name(&tenant.row.display_name)
        .timeout(Duration::from_secs(CEREMONY_SECONDS.unsigned_abs()));
    Ok(builder.build()?)
}

/// The WebAuthn user handle of a user: their random id (no personal data on the authenticator).
pub fn user_handle(user_id: &str) -> Uuid {
    Uuid::parse_str(user_id).unwrap_or_else(|_| {
        let digest = sha256_hex(user_id);
        let mut bytes = [0u8; 16];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(digest.get(2 * i..2 * i + 2).unwrap_or("00"), 16).unwrap_or(0);
        }
        Uuid::from_bytes(bytes)
    })
}

pub fn encode_id(raw: &[u8]) -> String {
    BASE64URL_NOPAD.encode(raw)
}

fn to_json(value: &impl Serialize) -> Result<String, SecurityKeyError> {
    Ok(serde_json::to_string(value)?)
}

fn from_json<T: DeserializeOwned>(json: &str) -> Result<T, SecurityKeyError> {
    Ok(serde_json::from_str(json)?)
}

fn stored_key(row: &entity::security_key::Model) -> Result<SecurityKey, SecurityKeyError> {
    from_json(&row.credential)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_handles_are_stable_and_distinct() {
        let id = "0f8fad5b-d9cb-469f-a165-70867728950e";
        assert_eq!(user_handle(id).to_string(), id);
        assert_eq!(user_handle("not-a-uuid"), user_handle("not-a-uuid"));
        assert_ne!(user_handle("not-a-uuid"), user_handle("another"));
    }
}
