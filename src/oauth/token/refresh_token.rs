//! The refresh_token grant (RFC 6749 6) with rotation and reuse detection (RFC 9700 4.14.2):
//! every use returns a new refresh token; presenting a used one revokes the whole family.

use std::collections::HashMap;

use serde_json::json;

use super::TokenResponse;
use super::issue::{self, Consume, Issued, Refresh, UserGrant};
use crate::audit::{self, AuditEvent, Event};
use crate::crypto::sha256_hex;
use crate::domain::{AuthContext, Scope};
use crate::error::OAuthError;
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
    let token = form
        .get("refresh_token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    let hash = sha256_hex(token);
    let row = store::refresh_tokens::find(&state.db, tenant.id(), &hash)
        .await
        .map_err(OAuthError::internal)?
        .ok_or_else(|| OAuthError::invalid_grant("the refresh token is invalid"))?;
    if row.client_id != client.id {
        return Err(OAuthError::invalid_grant("the refresh token was issued to another client"));
    }
    if row.revoked_at.is_some() {
        return Err(OAuthError::invalid_grant("the refresh token was revoked"));
    }
    if row.used_at.is_some() {
        return Err(reused(state, tenant, &row, now).await);
    }
    if now >= row.expires_at || now >= row.idle_expires_at {
        return Err(OAuthError::invalid_grant("the refresh token has expired"));
    }
    // Without offline_access a refresh token lives only as long as its sign-in session.
    if !row.offline
        && !store::sessions::is_live(&state.db, &row.sid, now).await.map_err(OAuthError::internal)?
    {
        revoke_family(state, &row.family_id, now).await.map_err(OAuthError::internal)?;
        return Err(OAuthError::invalid_grant("the session of this refresh token has ended"));
    }
    let granted = Scope::parse(&row.scope);
    let scope = match form.get("scope").filter(|s| !s.is_empty()) {
        Some(requested) => {
            let requested = Scope::parse(requested);
            // A scope of only spaces names nothing: refused rather than granting an empty scope.
            if requested.is_empty() || !requested.is_subset_of(&granted) {
                return Err(OAuthError::new("invalid_scope", "the scope exceeds what was granted"));
            }
            requested
        }
        None => granted.clone(),
    };
    let user = store::users::find(&state.db, tenant.id(), &row.user_id)
        .await
        .map_err(OAuthError::internal)?
        .ok_or_else(|| OAuthError::invalid_grant("the user no longer exists"))?;
    // A disabled person's grants ended with the change; this closes the gap of one made meanwhile.
    if user.disabled_at.is_some() {
        return Err(OAuthError::invalid_grant("the refresh token was revoked"));
    }
    let context = AuthContext::from_stored(&row.amr, &row.acr);
    let grant = UserGrant {
        client,
        user: &user,
        scope: &scope,
        nonce: None,
        auth_time: row.auth_time,
        context: &context,
        sid: &row.sid,
        code_hash: None,
        refresh_scope: Some(&granted),
        refresh: Refresh::Rotate {
            family_id: row.family_id.clone(),
            expires_at: row.expires_at,
            offline: row.offline,
        },
    };
    match issue::user_tokens(state, tenant, grant, Consume::RefreshToken(&hash), now).await? {
        Issued::Tokens(tokens) => Ok(tokens),
        Issued::AlreadyUsed => Err(reused(state, tenant, &row, now).await),
    }
}

/// A used refresh token came back: someone holds a copy. The family dies.
async fn reused(
    state: &AppState,
    tenant: &Tenant,
    row: &entity::refresh_token::Model,
    now: i64,
) -> OAuthError {
    if let Err(err) = revoke_family(state, &row.family_id, now).await {
        return OAuthError::internal(err);
    }
    let event = AuditEvent {
        tenant_id: Some(tenant.id()),
        user_id: Some(&row.user_id),
        event: Event::TokenRefreshReused,
        detail: json!({ "client": row.client_id, "family": row.family_id }),
        ip: None,
    };
    if let Err(err) = audit::record(&state.db, event, now).await {
        return OAuthError::internal(err);
    }
    OAuthError::invalid_grant("the refresh token was already used")
}

/// Revokes a family's refresh tokens and the access tokens they produced.
pub async fn revoke_family(state: &AppState, family_id: &str, now: i64) -> Result<(), store::StoreError> {
    store::refresh_tokens::revoke_family(&state.db, family_id, now).await?;
    store::access_tokens::revoke_family(&state.db, family_id, now).await?;
    Ok(())
}
