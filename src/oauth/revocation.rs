//! Token revocation (RFC 7009). Unknown tokens and tokens of other clients answer 200 as well, so
//! the endpoint tells nothing about tokens the caller does not own.

use crate::crypto::sha256_hex;
use crate::oauth::sealed_token::SealedTokens;
use crate::oauth::token::refresh_token::revoke_family;
use crate::state::AppState;
use crate::store::{self, StoreError};
use crate::tenants::Tenant;

pub async fn revoke(
    state: &AppState,
    tenant: &Tenant,
    client: &entity::client::Model,
    token: &str,
    now: i64,
) -> Result<(), StoreError> {
    let hash = sha256_hex(token);
    // Refresh first: revoking it also revokes the access tokens of its grant (RFC 7009 2.1).
    if let Some(row) = store::refresh_tokens::find(&state.db, tenant.id(), &hash).await? {
        if row.client_id == client.id {
            revoke_family(state, &row.family_id, now).await?;
        }
        return Ok(());
    }
    if SealedTokens::is_sealed(token) {
        // Self-contained: its own words say whose it is; a client's own token has no row.
        if let Some(claims) = state.sealed_tokens.open(tenant.id(), token)
            && claims.client_id == client.id
            && now < claims.expires_at
        {
            store::token_revocations::record_token(&state.db, tenant.id(), &hash, now, claims.expires_at)
                .await?;
            store::access_tokens::revoke(&state.db, &hash, now).await?;
        }
        return Ok(());
    }
    if let Some(row) = store::access_tokens::find(&state.db, tenant.id(), &hash).await?
        && row.client_id == client.id
    {
        store::access_tokens::revoke(&state.db, &hash, now).await?;
    }
    Ok(())
}
