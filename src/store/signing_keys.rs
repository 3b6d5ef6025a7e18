use entity::signing_key;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::StoreError;

pub const ACTIVE: &str = "active";

pub async fn insert(db: &impl ConnectionTrait, model: signing_key::Model) -> Result<(), StoreError> {
    let active: signing_key::ActiveModel = model.into();
    active.insert(db).await?;
    Ok(())
}

/// The newest active key of a tenant: the one that signs.
pub async fn newest_active(
    db: &impl ConnectionTrait,
    tenant_id: &str,
) -> Result<Option<signing_key::Model>, StoreError> {
    Ok(signing_key::Entity::find()
        .filter(signing_key::Column::TenantId.eq(tenant_id))
        .filter(signing_key::Column::Status.eq(ACTIVE))
        .order_by_desc(signing_key::Column::CreatedAt)
        .order_by_desc(signing_key::Column::Kid)
        .one(db)
        .await?)
}

/// Every key a verifier may still meet: published in the JWKS.
pub async fn published(
    db: &impl ConnectionTrait,
    tenant_id: &str,
) -> Result<Vec<signing_key::Model>, StoreError> {
    Ok(signing_key::Entity::find()
        .filter(signing_key::Column::TenantId.eq(tenant_id))
        .filter(signing_key::Column::Status.eq(ACTIVE))
        .order_by_desc(signing_key::Column::CreatedAt)
        .all(db)
        .await?)
}
