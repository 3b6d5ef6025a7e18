//! Whether an access token is active now, whatever its form: a self-contained token
//! (`oauth::sealed_token`) is opened and checked against the memory of revocations
//! (`oauth::revoked`) without a database read; a random or JWT access token (issued before
//! self-contained tokens, or for a client that asked for RFC 9068 JWTs) by its row. The client is
//! checked by each caller (it decides who may see the token).

use crate::crypto::sha256_hex;
use crate::oauth::revoked::Checked;
use crate::oauth::sealed_token::SealedTokens;
use crate::state::AppState;
use crate::store::{self, StoreError};
use crate::tenants::Tenant;

/// What an active access token says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActiveToken {
    /// SHA-256 (hex) of the token: how it is revoked.
    pub hash: String,
    /// The client's row id.
    pub client_id: String,
    /// `None`: the client's own token (client_credentials).
    pub user_id: Option<String>,
    pub scope: String,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// The token if it is this tenant's, unexpired and unrevoked, and its person (if any) is neither
/// disabled nor erased.
pub async fn find(
    state: &AppState,
    tenant: &Tenant,
    token: &str,
    now: i64,
) -> Result<Option<ActiveToken>, StoreError> {
    let hash = sha256_hex(token);
    if SealedTokens::is_sealed(token) {
        let Some(claims) = state.sealed_tokens.open(tenant.id(), token) else { return Ok(None) };
        if now >= claims.expires_at {
            return Ok(None);
        }
        let checked = Checked {
            token_hash: &hash,
            client_id: &claims.client_id,
            user_id: claims.user_id.as_deref(),
            issued_at: claims.issued_at,
        };
        if state.revoked.is_revoked(state, checked).await? {
            return Ok(None);
        }
        return Ok(Some(ActiveToken {
            hash,
            client_id: claims.client_id,
            user_id: claims.user_id,
            scope: claims.scope,
            issued_at: claims.issued_at,
            expires_at: claims.expires_at,
        }));
    }
    let row = store::access_tokens::find_active_of_enabled(&state.db, tenant.id(), &hash, now).await?;
    Ok(row.map(|row| ActiveToken {
        hash,
        client_id: row.client_id,
        user_id: row.user_id,
        scope: row.scope,
        issued_at: row.created_at,
        expires_at: row.expires_at,
    }))
}
