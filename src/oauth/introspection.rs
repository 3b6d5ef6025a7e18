//! Token introspection (RFC 7662) for confidential clients of the tenant: each sees its own tokens,
//! and clients designated as resource servers see every access token.

use serde_json::{Value, json};

use crate::crypto::sha256_hex;
use crate::oauth::{active_token, client_memory};
use crate::state::AppState;
use crate::store::{self, StoreError};
use crate::tenants::Tenant;

/// Access tokens are described to the client they were issued to and to resource servers;
/// refresh tokens only to the client they were issued to. Any other caller learns `active: false`,
/// the same answer as for an unknown token, so it cannot even tell the token exists
/// (RFC 7662 section 4: `sub`, `scope` and `client_id` are for the token's audience only).
pub async fn introspect(
    state: &AppState,
    tenant: &Tenant,
    caller: &entity::client::Model,
    token: &str,
    now: i64,
) -> Result<Value, StoreError> {
    if let Some(row) = active_token::find(state, tenant, token, now).await?
        && (row.client_id == caller.id || caller.resource_server)
        // A token of a deleted client is not active, also one minted by another instance while
        // it still remembered the client (within `client_memory::SECONDS`).
        && let Some(client) = client_memory::find_by_row_id(state, &row.client_id).await?
    {
        let mut answer = json!({
            "active": true,
            "token_type": "Bearer",
            "scope": row.scope,
            "client_id": client.client_id,
            "exp": row.expires_at,
            "iat": row.issued_at,
            "iss": tenant.issuer,
        });
        if let Some(user_id) = row.user_id {
            answer["sub"] = json!(user_id);
        }
        return Ok(answer);
    }
    // Refresh tokens are random and always stored.
    let hash = sha256_hex(token);
    if let Some(row) = store::refresh_tokens::find(&state.db, tenant.id(), &hash).await?
        && row.client_id == caller.id
        && row.revoked_at.is_none()
        && row.used_at.is_none()
        && now < row.expires_at
        && now < row.idle_expires_at
        && user_enabled(state, tenant, Some(&row.user_id)).await?
        && let Some(client) = client_memory::find_by_row_id(state, &row.client_id).await?
    {
        return Ok(json!({
            "active": true,
            "token_type": "refresh_token",
            "scope": row.scope,
            "client_id": client.client_id,
            "sub": row.user_id,
            "exp": row.idle_expires_at.min(row.expires_at),
            "iat": row.created_at,
            "iss": tenant.issuer,
        }));
    }
    Ok(json!({ "active": false }))
}

/// A token of a disabled (or erased) person is not active, whatever its row says; a token without
/// a person (client credentials) is the client's own.
async fn user_enabled(state: &AppState, tenant: &Tenant, user_id: Option<&str>) -> Result<bool, StoreError> {
    let Some(user_id) = user_id else { return Ok(true) };
    Ok(store::users::find(&state.db, tenant.id(), user_id).await?.is_some_and(|u| u.disabled_at.is_none()))
}
