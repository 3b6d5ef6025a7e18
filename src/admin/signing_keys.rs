//! Signing keys: `tessera key rotate` publishes a new one ahead of its use.

use serde_json::json;

use super::AdminError;
use crate::audit::{self, AuditEvent, Event};
use crate::keys::Alg;
use crate::oidc::backchannel::LOGOUT_TOKEN_SECONDS;
use crate::state::AppState;
use crate::tenants::Tenant;

/// `tessera key rotate`: a new key for `alg`, signing after the configured overlap.
pub async fn rotate_key(
    state: &AppState,
    tenant: &Tenant,
    alg: &str,
) -> Result<entity::signing_key::Model, AdminError> {
    let alg = Alg::parse(alg).ok_or_else(|| {
        AdminError::Invalid(format!("unsupported algorithm {alg:?}: use RS256, ES256 or EdDSA"))
    })?;
    let now = state.now();
    let overlap = state.settings.keys.rotation_overlap_seconds;
    // A key signs ID tokens, RFC 9068 access tokens and logout tokens: it stays published until
    // the longest-lived of them has expired.
    let tokens = &state.settings.tokens;
    let longest = tokens.id_token_seconds.max(tokens.access_token_seconds).max(LOGOUT_TOKEN_SECONDS);
    let row = state.keys.rotate(&state.db, tenant.id(), alg, now, overlap, longest).await?;
    audit::record(
        &state.db,
        AuditEvent {
            tenant_id: Some(tenant.id()),
            user_id: None,
            event: Event::KeyRotated,
            detail: json!({ "kid": row.kid, "alg": row.alg, "activates_at": row.activates_at }),
            ip: None,
        },
        now,
    )
    .await?;
    Ok(row)
}
