use entity::audit_event;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::StoreError;

pub async fn insert(db: &impl ConnectionTrait, model: audit_event::Model) -> Result<(), StoreError> {
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
