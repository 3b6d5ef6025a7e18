//! Signing keys: `tessera key rotate` publishes a new one ahead of its use.

use serde_json::json;

use super::AdminError;
use crate::audit::{self, AuditEvent, Event};
use crate::keys::Alg;
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
    let longest = state.settings.tokens.id_token_seconds;
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
