//! The client_credentials grant (RFC 6749 4.4): a confidential client acting for itself, with
//! scopes from its registered list. No user, so no ID token and no refresh token.

use std::collections::HashMap;

use super::TokenResponse;
use crate::crypto::sha256_hex;
use crate::domain::Scope;
use crate::error::OAuthError;
use crate::oauth::sealed_token::SealedTokens;
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

pub async fn grant(
    state: &AppState,
    tenant: &Tenant,
    client: &entity::client::Model,
    form: &HashMap<String, String>,
) -> Result<TokenResponse, OAuthError> {
    if client.is_public {
        return Err(OAuthError::new("unauthorized_client", "public clients cannot use client_credentials"));
    }
    let allowed = store::clients::allowed_scopes(client).map_err(OAuthError::internal)?;
    let scope = match form.get("scope").filter(|s| !s.is_empty()) {
        Some(requested) => {
            let requested = Scope::parse(requested);
            // A scope of only spaces names nothing: refused rather than granting an empty scope.
            if requested.is_empty() || !requested.iter().all(|s| allowed.iter().any(|a| a == s)) {
                return Err(OAuthError::new("invalid_scope", "the client may not obtain this scope"));
            }
            requested.as_string()
        }
        // The registered list exactly as stored (a Scope would fold a repeated entry).
        None => allowed.join(" "),
    };
    let now = state.now();
    let expires_in = state.settings.tokens.access_token_seconds;
    let access_token =
        super::access_token::mint(state, tenant, client, &scope, None, now, expires_in).await?;
    // A self-contained token is checked by what it says: nothing to store, nothing to wait for.
    if !SealedTokens::is_sealed(&access_token) {
        store_jwt(state, tenant, client, &access_token, &scope, now, expires_in).await?;
    }
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in,
        id_token: None,
        refresh_token: None,
        scope,
    })
}

/// An RFC 9068 JWT access token is checked by its row (introspection, revocation).
async fn store_jwt(
    state: &AppState,
    tenant: &Tenant,
    client: &entity::client::Model,
    access_token: &str,
    scope: &str,
    now: i64,
    expires_in: i64,
) -> Result<(), OAuthError> {
    let access = entity::access_token::Model {
        token_hash: sha256_hex(access_token),
        tenant_id: tenant.id().to_string(),
        client_id: client.id.clone(),
        user_id: None,
        scope: scope.to_string(),
        code_hash: None,
        created_at: now,
        expires_at: now + expires_in,
        revoked_at: None,
        family_id: None,
    };
    state
        .token_writer
        .issue(store::tokens::Consume::Nothing, access, None, now)
        .await
        .map_err(OAuthError::internal)?;
    Ok(())
}
