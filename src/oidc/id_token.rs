//! ID tokens (OIDC Core 2): signed RS256 with the tenant's cached key.

use serde::Serialize;

use crate::keys::KeyError;
use crate::oidc::auth_context::AuthContext;
use crate::state::AppState;
use crate::tenants::Tenant;

pub struct IdTokenInput<'a> {
    pub user: &'a entity::user::Model,
    pub client_id: &'a str,
    pub scope: &'a str,
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
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
}

pub async fn issue(
    state: &AppState,
    tenant: &Tenant,
    input: IdTokenInput<'_>,
    now: i64,
) -> Result<String, KeyError> {
    let key = state.keys.signer(&state.db, tenant.id(), now).await?;
    let with_email = input.scope.split(' ').any(|s| s == "email");
    let claims = Claims {
        iss: &tenant.issuer,
        sub: &input.user.id,
        aud: input.client_id,
        azp: input.client_id,
        exp: now + state.settings.tokens.id_token_seconds,
        iat: now,
        auth_time: input.auth_time,
        nonce: input.nonce,
        amr: &input.context.amr,
        acr: &input.context.acr,
        sid: input.sid,
        at_hash: at_hash(input.access_token),
        email: with_email.then_some(input.user.email.as_str()),
        email_verified: with_email.then_some(input.user.email_verified),
    };
    key.sign_jwt(&claims)
}

/// OIDC Core 3.1.3.6: base64url of the left half of SHA-256 of the access token (for RS256).
pub fn at_hash(access_token: &str) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(access_token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_vector_from_oidc_examples() {
        // OIDC Core A.3: access token "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y" -> at_hash "77QmUPtjPfzWtF2AnpK9RQ".
        assert_eq!(at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"), "77QmUPtjPfzWtF2AnpK9RQ");
    }
}
