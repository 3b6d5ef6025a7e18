//! Self-contained access tokens (issue 17): what introspection needs (client, person, scope,
//! issue and expiry time) sealed into the token itself with AES-256-GCM-SIV under a key derived
//! from the master key, the tenant's id as associated data. Issuing one writes nothing (a
//! client_credentials grant is then pure computation), and checking one reads nothing but the
//! memory of revocations (`oauth::revoked`). The token stays opaque to clients: nothing in it is
//! readable without the key, and a token of one tenant does not open at another.
//!
//! GCM-SIV rather than GCM: the nonces are random and every instance shares the key, so a repeated
//! nonce cannot be ruled out over billions of tokens; with SIV it only shows that two identical
//! plaintexts are identical, where GCM would give away the authentication key.

use aws_lc_rs::aead::{AES_256_GCM_SIV, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::crypto::MasterKey;

/// Marks the format (and its version); opaque random tokens and JWTs never contain a `.` at
/// this place, so the prefix alone decides which check applies.
const PREFIX: &str = "at1.";

/// What a sealed token says about itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The client's row id.
    #[serde(rename = "c")]
    pub client_id: String,
    /// The person's id; `None` for a client's own token (client_credentials).
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(rename = "s")]
    pub scope: String,
    #[serde(rename = "i")]
    pub issued_at: i64,
    #[serde(rename = "e")]
    pub expires_at: i64,
}

pub struct SealedTokens {
    key: LessSafeKey,
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("a self-contained token could not be sealed")]
    Seal,
}

impl SealedTokens {
    pub fn new(master: &MasterKey) -> Result<Self, SealError> {
        let derived = master.derive("tessera access tokens v1");
        let unbound = UnboundKey::new(&AES_256_GCM_SIV, &derived).map_err(|_| SealError::Seal)?;
        Ok(Self { key: LessSafeKey::new(unbound) })
    }

    /// Whether `token` is in this format (it may still fail to open).
    pub fn is_sealed(token: &str) -> bool {
        token.starts_with(PREFIX)
    }

    pub fn seal(&self, tenant_id: &str, claims: &Claims) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::Rng::fill(&mut rand::thread_rng(), &mut nonce);
        let mut in_out = serde_json::to_vec(claims).map_err(|_| SealError::Seal)?;
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(tenant_id.as_bytes()),
                &mut in_out,
            )
            .map_err(|_| SealError::Seal)?;
        let mut raw = Vec::with_capacity(NONCE_LEN + in_out.len());
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&in_out);
        let mut token = String::with_capacity(PREFIX.len() + raw.len() * 4 / 3 + 4);
        token.push_str(PREFIX);
        URL_SAFE_NO_PAD.encode_string(&raw, &mut token);
        Ok(token)
    }

    /// The claims of a token sealed by this key for this tenant; `None` for anything else (another
    /// tenant's token, a changed byte, another format), without saying which.
    pub fn open(&self, tenant_id: &str, token: &str) -> Option<Claims> {
        let encoded = token.strip_prefix(PREFIX)?;
        // Far above any real token; bounds the work an arbitrary header can cause.
        if encoded.len() > 4096 {
            return None;
        }
        let raw = URL_SAFE_NO_PAD.decode(encoded).ok()?;
        if raw.len() < NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut in_out = sealed.to_vec();
        let plain = self.key.open_in_place(nonce, Aad::from(tenant_id.as_bytes()), &mut in_out).ok()?;
        serde_json::from_slice(plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> SealedTokens {
        let master = MasterKey::parse(&MasterKey::generate_encoded().unwrap()).unwrap();
        SealedTokens::new(&master).unwrap()
    }

    fn claims() -> Claims {
        Claims {
            client_id: "c-1".into(),
            user_id: Some("u-1".into()),
            scope: "openid email".into(),
            issued_at: 1_700_000_000,
            expires_at: 1_700_000_300,
        }
    }

    #[test]
    fn a_sealed_token_opens_for_its_tenant_only() {
        let tokens = tokens();
        let token = tokens.seal("tenant-a", &claims()).unwrap();
        assert!(SealedTokens::is_sealed(&token));
        assert_eq!(tokens.open("tenant-a", &token), Some(claims()));
        assert_eq!(tokens.open("tenant-b", &token), None);
    }

    #[test]
    fn every_token_is_different_and_says_nothing_readable() {
        let tokens = tokens();
        let a = tokens.seal("t", &claims()).unwrap();
        let b = tokens.seal("t", &claims()).unwrap();
        assert_ne!(a, b);
        assert!(!a.contains("c-1") && !a.contains("openid"));
        let raw = URL_SAFE_NO_PAD.decode(a.strip_prefix(PREFIX).unwrap()).unwrap();
        assert!(!raw.windows(3).any(|w| w == b"u-1"));
    }

    #[test]
    fn a_changed_byte_or_another_key_does_not_open() {
        let tokens = tokens();
        let token = tokens.seal("t", &claims()).unwrap();
        for position in [PREFIX.len(), PREFIX.len() + 20, token.len() - 1] {
            let mut bytes = token.clone().into_bytes();
            bytes[position] = if bytes[position] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(bytes).unwrap();
            assert_eq!(tokens.open("t", &changed), None, "byte {position} changed");
        }
        assert_eq!(super::tests::tokens().open("t", &token), None);
        assert_eq!(tokens.open("t", "at1."), None);
        assert_eq!(tokens.open("t", "at1.!!!"), None);
        assert_eq!(tokens.open("t", "not-sealed"), None);
    }
}
