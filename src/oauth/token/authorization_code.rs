//! The authorization_code grant (RFC 6749 4.1.3, RFC 7636 4.6, OIDC Core 3.1.3).
//!
//! The code is checked first and consumed last, with one conditional UPDATE in the transaction
//! that stores the new tokens (all or nothing): of two concurrent redemptions exactly one wins.
//! Presenting a code that was already used revokes everything the first redemption issued
//! (RFC 6749 4.1.2, RFC 9700 4.2.4).

use std::collections::HashMap;

use serde_json::json;

use super::TokenResponse;
use super::issue::{self, Consume, Issued, Refresh, UserGrant};
use crate::audit::{self, AuditEvent, Event};
use crate::crypto::sha256_hex;
use crate::domain::{AuthContext, Scope};
use crate::error::OAuthError;
use crate::oauth::pkce;
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

    // Another client's presentation revokes nothing: only the client the code belongs to can
    // trigger the replay response.
    if row.client_id != client.id {
        return Err(OAuthError::invalid_grant("the authorization code was issued to another client"));
    }
    if row.consumed_at.is_some() {
        return Err(replayed(state, tenant, &row, now).await);
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

    let user = store::users::find(&state.db, tenant.id(), &row.user_id)
        .await
        .map_err(OAuthError::internal)?
        .ok_or_else(|| OAuthError::invalid_grant("the user no longer exists"))?;
    // A disabled person's grants ended with the change; this closes the gap of one made meanwhile.
    if user.disabled_at.is_some() {
        return Err(OAuthError::invalid_grant("the authorization code is invalid"));
    }
    let scope = Scope::parse(&row.scope);
    let refresh = if scope.contains("offline_access") {
        Refresh::NewFamily { offline: true }
    } else if client.refresh_without_offline_access {
        Refresh::NewFamily { offline: false }
    } else {
        Refresh::None
    };
    let context = AuthContext::from_stored(&row.amr, &row.acr);
    let grant = UserGrant {
        client,
        user: &user,
        scope: &scope,
        nonce: row.nonce.as_deref(),
        auth_time: row.auth_time,
        context: &context,
        sid: &row.sid,
        code_hash: Some(code_hash.clone()),
        refresh_scope: None,
        refresh,
    };
    match issue::user_tokens(state, tenant, grant, Consume::Code(&code_hash), now).await? {
        Issued::Tokens(tokens) => Ok(tokens),
        Issued::AlreadyUsed => Err(replayed(state, tenant, &row, now).await),
    }
}

/// A used code came back: revoke what it issued, audit, and refuse.
async fn replayed(
    state: &AppState,
    tenant: &Tenant,
    row: &entity::authorization_code::Model,
    now: i64,
) -> OAuthError {
    // The refresh tokens of the first redemption go too, with every rotation of them.
    let families = match store::access_tokens::families_for_code(&state.db, &row.code_hash).await {
        Ok(families) => families,
        Err(err) => return OAuthError::internal(err),
    };
    for family in &families {
        if let Err(err) = super::refresh_token::revoke_family(state, family, now).await {
            return OAuthError::internal(err);
        }
    }
    let revoked = match store::access_tokens::revoke_by_code(&state.db, &row.code_hash, now).await {
        Ok(count) => count,
        Err(err) => return OAuthError::internal(err),
    };
    let event = AuditEvent {
        tenant_id: Some(tenant.id()),
        user_id: Some(&row.user_id),
        event: Event::TokenCodeReplayed,
        detail: json!({ "client": row.client_id, "revoked_access_tokens": revoked, "revoked_families": families.len() }),
        ip: None,
    };
    if let Err(err) = audit::record(&state.db, event, now).await {
        return OAuthError::internal(err);
    }
    OAuthError::invalid_grant("the authorization code was already used")
}
