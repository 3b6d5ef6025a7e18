//! Append-only audit events: who did what, when, from where. Details never hold secrets.

use serde_json::Value;

use crate::store::{self, Db, StoreError};

pub struct AuditEvent<'a> {
    pub tenant_id: Option<&'a str>,
    pub user_id: Option<&'a str>,
    pub event: &'static str,
    pub detail: Value,
    pub ip: Option<&'a str>,
}

pub async fn record(db: &Db, event: AuditEvent<'_>, now: i64) -> Result<(), StoreError> {
    store::audit_events::insert(db, row(event, now)).await
}

/// The stored form of an event, for a store function that writes it inside its transaction.
pub fn row(event: AuditEvent<'_>, now: i64) -> entity::audit_event::Model {
    entity::audit_event::Model {
        id: uuid::Uuid::new_v4().to_string(),
        tenant_id: event.tenant_id.map(str::to_string),
        user_id: event.user_id.map(str::to_string),
        event: event.event.to_string(),
        detail: event.detail.to_string(),
        ip: event.ip.map(str::to_string),
        created_at: now,
    }
}
