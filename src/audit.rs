//! Append-only audit events: who did what, when, from where. Details never hold secrets.

use sea_orm::ConnectionTrait;
use serde_json::Value;

use crate::store::{self, StoreError};

pub struct AuditEvent<'a> {
    pub tenant_id: Option<&'a str>,
    pub user_id: Option<&'a str>,
    pub event: &'static str,
    pub detail: Value,
    pub ip: Option<&'a str>,
}

pub async fn record(db: &impl ConnectionTrait, event: AuditEvent<'_>, now: i64) -> Result<(), StoreError> {
    tracing::info!(event = event.event, tenant = event.tenant_id, user = event.user_id, "audit");
    store::audit_events::insert(
        db,
        entity::audit_event::Model {
            id: uuid::Uuid::new_v4().to_string(),
            tenant_id: event.tenant_id.map(str::to_string),
            user_id: event.user_id.map(str::to_string),
            event: event.event.to_string(),
            detail: event.detail.to_string(),
            ip: event.ip.map(str::to_string),
            created_at: now,
        },
    )
    .await
}
