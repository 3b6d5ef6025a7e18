//! The authorization_code grant (RFC 6749 4.1.3, RFC 7636 4.6, OIDC Core 3.1.3).
//!
//! The code is checked first and consumed last, with one conditional UPDATE: of two concurrent
//! redemptions exactly one wins. Presenting a code that was already used revokes everything the
//! first redemption issued (RFC 6749 4.1.2, RFC 9700 4.2.4).

use std::collections::HashMap;

use serde_json::json;

use super::TokenResponse;
use crate::audit::{self, AuditEvent};
use crate::crypto::{random_token, sha256_hex};
use crate::error::OAuthError;
use crate::oauth::pkce;
use crate::oidc::auth_context::AuthContext;
use crate::oidc::id_token::{self, IdTokenInput};
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

pub async fn grant(
    state: &AppState,
    tenant: &Tenant,
    client: &entity::client::Model,
    form: &HashMap<String, String>,
) -> Result<TokenResponse, OAuthError> {
    let now = state.now();
    let code = form
        .get("code")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    let code_hash = sha256_hex(code);
    let row = store::authorization_codes::find(&state.db, tenant.id(), &code_hash)
        .await
        .map_err(OAuthError::internal)?
        .ok_or_else(|| OAuthError::invalid_grant("the authorization code is invalid"))?;

    if row.consumed_at.is_some() {
        return Err(replayed(state, tenant, &row, now).await);
    }
    if row.client_id != client.id {
        return Err(OAuthError::invalid_grant("the authorization code was issued to another client"));
    }
    if row.expires_at <= now {
        return Err(OAuthError::invalid_grant("the authorization code has expired"));
    }
    if form.get("redirect_uri") != Some(&row.redirect_uri) {
        return Err(OAuthError::invalid_grant("redirect_uri does not match the authorization request"));
    }
    match (&row.code_challenge, form.get("code_verifier")) {
        (Some(challenge), Some(verifier)) if pkce::verify_s256(verifier, challenge) => {}
        (Some(_), Some(_)) => return Err(OAuthError::invalid_grant("code_verifier does not match")),
        (Some(_), None) => return Err(OAuthError::invalid_grant("code_verifier is required")),
        // RFC 9700 2.1.1: a verifier without a challenge is a downgrade attempt.
        (None, Some(_)) => return Err(OAuthError::invalid_grant("no code_challenge was sent for this code")),
        (None, None) => {}
    }

    if !store::authorization_codes::consume(&state.db, &code_hash, now).await.map_err(OAuthError::internal)? {
        return Err(replayed(state, tenant, &row, now).await);
    }

    let access_token = random_token(32);
    let expires_in = state.settings.tokens.access_token_seconds;
    store::access_tokens::insert(
        &state.db,
        entity::access_token::Model {
            token_hash: sha256_hex(&access_token),
            tenant_id: tenant.id().to_string(),
            client_id: client.id.clone(),
            user_id: Some(row.user_id.clone()),
            scope: row.scope.clone(),
            code_hash: Some(code_hash),
            created_at: now,
            expires_at: now + expires_in,
            revoked_at: None,
        },
    )
    .await
    .map_err(OAuthError::internal)?;

    let user = store::users::find(&state.db, tenant.id(), &row.user_id)
        .await
        .map_err(OAuthError::internal)?
        .ok_or_else(|| OAuthError::invalid_grant("the user no longer exists"))?;
    let id_token = id_token::issue(
        state,
        tenant,
        IdTokenInput {
            user: &user,
            client_id: &client.client_id,
            scope: &row.scope,
            nonce: row.nonce.as_deref(),
            auth_time: row.auth_time,
            context: &AuthContext::from_stored(&row.amr, &row.acr),
            sid: &row.sid,
            access_token: &access_token,
        },
        now,
    )
    .await
    .map_err(OAuthError::internal)?;

    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in,
        id_token: Some(id_token),
        scope: row.scope,
    })
}

/// A used code came back: revoke what it issued, audit, and refuse.
async fn replayed(
    state: &AppState,
    tenant: &Tenant,
    row: &entity::authorization_code::Model,
    now: i64,
) -> OAuthError {
    let revoked = match store::access_tokens::revoke_by_code(&state.db, &row.code_hash, now).await {
        Ok(count) => count,
        Err(err) => return OAuthError::internal(err),
    };
    let event = AuditEvent {
        tenant_id: Some(tenant.id()),
        user_id: Some(&row.user_id),
        event: "token.code_replayed",
        detail: json!({ "client": row.client_id, "revoked_access_tokens": revoked }),
        ip: None,
    };
    if let Err(err) = audit::record(&state.db, event, now).await {
        return OAuthError::internal(err);
    }
    OAuthError::invalid_grant("the authorization code was already used")
}
