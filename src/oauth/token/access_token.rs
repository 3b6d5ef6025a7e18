//! Minting access tokens: self-contained by default (`oauth::sealed_token`: checked without a
//! database read, revoked through `oauth::revoked`), or an RFC 9068 JWT for clients that ask for
//! one (resource servers can then verify locally; stored by hash and checked by its row).

use serde_json::json;

use crate::crypto::random_token;
use crate::domain::AuthContext;
use crate::error::OAuthError;
use crate::keys::Alg;
use crate::oauth::sealed_token::Claims;
use crate::state::AppState;
use crate::tenants::Tenant;

/// The person behind a token, for the JWT's claims.
pub struct Subject<'a> {
    pub user_id: &'a str,
    pub auth_time: i64,
    pub context: &'a AuthContext,
}

pub async fn mint(
    state: &AppState,
    tenant: &Tenant,
    client: &entity::client::Model,
    scope: &str,
    subject: Option<Subject<'_>>,
    now: i64,
    expires_in: i64,
) -> Result<String, OAuthError> {
    if !client.jwt_access_tokens {
        let claims = Claims {
            client_id: client.id.clone(),
            user_id: subject.map(|s| s.user_id.to_string()),
            scope: scope.to_string(),
            issued_at: now,
            expires_at: now + expires_in,
        };
        return state.sealed_tokens.seal(tenant.id(), &claims).map_err(OAuthError::internal);
    }
    let alg = Alg::parse(&client.id_token_signed_response_alg).unwrap_or(Alg::Rs256);
    let key = state.keys.signer(&state.db, tenant.id(), alg, now).await.map_err(OAuthError::internal)?;
    let header = json!({ "alg": alg.as_str(), "kid": key.kid, "typ": "at+jwt" });
    let mut claims = json!({
        "iss": tenant.issuer,
        "exp": now + expires_in,
        "aud": client.client_id,
        "sub": subject.as_ref().map_or(client.client_id.as_str(), |s| s.user_id),
        "client_id": client.client_id,
        "iat": now,
        "jti": random_token(16),
        "scope": scope,
    });
    if let Some(subject) = subject {
        claims["auth_time"] = json!(subject.auth_time);
        claims["acr"] = json!(subject.context.acr);
        claims["amr"] = json!(subject.context.amr);
    }
    key.sign_jws(&header, &claims).map_err(OAuthError::internal)
}
