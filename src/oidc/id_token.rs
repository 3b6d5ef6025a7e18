//! ID tokens (OIDC Core 2): signed RS256 with the tenant's cached key.

use serde::Serialize;

use crate::domain::{AuthContext, Scope};
use crate::keys::{Alg, SigningKeyError};
use crate::state::AppState;
use crate::tenants::Tenant;

pub struct IdTokenInput<'a> {
    pub user: &'a entity::user::Model,
    pub client: &'a entity::client::Model,
    pub scope: &'a Scope,
    pub nonce: Option<&'a str>,
    pub auth_time: i64,
    pub context: &'a AuthContext,
    pub sid: &'a str,
    pub access_token: &'a str,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    azp: &'a str,
    exp: i64,
    iat: i64,
    auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    amr: &'a [String],
    acr: &'a str,
    sid: &'a str,
    at_hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone_number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone_number_verified: Option<bool>,
}

pub async fn issue(
    state: &AppState,
    tenant: &Tenant,
    input: IdTokenInput<'_>,
    now: i64,
) -> Result<String, SigningKeyError> {
    let alg = Alg::parse(&input.client.id_token_signed_response_alg).unwrap_or(Alg::Rs256);
    let key = state.keys.signer(&state.db, tenant.id(), alg, now).await?;
    let with_email = input.scope.contains("email");
    let with_phone = input.scope.contains("phone");
    let claims = Claims {
        iss: &tenant.issuer,
        sub: &input.user.id,
        aud: &input.client.client_id,
        azp: &input.client.client_id,
        exp: now + state.settings.tokens.id_token_seconds,
        iat: now,
        auth_time: input.auth_time,
        nonce: input.nonce,
        amr: &input.context.amr,
        acr: &input.context.acr,
        sid: input.sid,
        at_hash: at_hash(alg, input.access_token),
        name: input.scope.contains("profile").then_some(input.user.name.as_deref()).flatten(),
        email: with_email.then_some(input.user.email.as_str()),
        email_verified: with_email.then_some(input.user.email_verified),
        // Numbers are stored only once confirmed by a code sent to them.
        phone_number: with_phone.then_some(input.user.phone_number.as_deref()).flatten(),
        phone_number_verified: (with_phone && input.user.phone_number.is_some()).then_some(true),
    };
    key.sign_jwt(&claims)
}

/// OIDC Core 3.1.3.6: base64url of the left half of the hash the signing algorithm uses
/// (SHA-256 for RS256 and ES256, SHA-512 for Ed25519).
pub fn at_hash(alg: Alg, access_token: &str) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256, Sha512};
    let digest = match alg {
        Alg::Rs256 | Alg::Es256 => Sha256::digest(access_token.as_bytes()).to_vec(),
        Alg::EdDsa => Sha512::digest(access_token.as_bytes()).to_vec(),
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_vector_from_oidc_examples() {
        // OIDC Core A.3: access token "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y" -> at_hash "77QmUPtjPfzWtF2AnpK9RQ".
        assert_eq!(
            at_hash(Alg::Rs256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        assert_eq!(at_hash(Alg::EdDsa, "x").len(), 43, "half of SHA-512, base64url");
    }
}
