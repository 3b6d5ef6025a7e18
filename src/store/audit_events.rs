//! The append-only audit log's rows (what an event holds is `crate::audit`'s business).

use entity::audit_event;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::StoreError;

/// Appends an event, logging it as it is written (inside the writer's transaction when there is
/// one). The log target stays `tessera::audit`, where these lines have always been, for filters.
pub async fn insert(db: &impl ConnectionTrait, model: audit_event::Model) -> Result<(), StoreError> {
    tracing::info!(
        target: "tessera::audit",
        event = model.event.as_str(),
        tenant = model.tenant_id.as_deref(),
        user = model.user_id.as_deref(),
        "audit"
    );
    let active: audit_event::ActiveModel = model.into();
    active.insert(db).await?;
    Ok(())
}

pub async fn list_for_tenant(
    db: &impl ConnectionTrait,
    tenant_id: &str,
) -> Result<Vec<audit_event::Model>, StoreError> {
    Ok(audit_event::Entity::find()
        .filter(audit_event::Column::TenantId.eq(tenant_id))
        .order_by_asc(audit_event::Column::CreatedAt)
        .all(db)
        .await?)
}
