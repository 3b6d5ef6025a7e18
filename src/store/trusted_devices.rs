use entity::trusted_device;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::StoreError;

pub async fn insert(db: &impl ConnectionTrait, model: trusted_device::Model) -> Result<(), StoreError> {
    let active: trusted_device::ActiveModel = model.into();
    active.insert(db).await?;
    Ok(())
}

pub async fn find_active(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    user_id: &str,
    token_hash: &str,
    now: i64,
) -> Result<Option<trusted_device::Model>, StoreError> {
    Ok(trusted_device::Entity::find()
        .filter(trusted_device::Column::TokenHash.eq(token_hash))
        .filter(trusted_device::Column::TenantId.eq(tenant_id))
        .filter(trusted_device::Column::UserId.eq(user_id))
        .filter(trusted_device::Column::ExpiresAt.gt(now))
        .one(db)
        .await?)
}

pub async fn touch(db: &impl ConnectionTrait, id: &str, now: i64) -> Result<(), StoreError> {
    trusted_device::Entity::update_many()
        .col_expr(trusted_device::Column::LastUsedAt, Expr::value(now))
        .filter(trusted_device::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn list_active(
    db: &impl ConnectionTrait,
    user_id: &str,
    now: i64,
) -> Result<Vec<trusted_device::Model>, StoreError> {
    Ok(trusted_device::Entity::find()
        .filter(trusted_device::Column::UserId.eq(user_id))
        .filter(trusted_device::Column::ExpiresAt.gt(now))
        .order_by_desc(trusted_device::Column::LastUsedAt)
        .all(db)
        .await?)
}

/// Forgets one device of this user; true if there was one.
pub async fn forget(db: &impl ConnectionTrait, user_id: &str, id: &str) -> Result<bool, StoreError> {
    let result = trusted_device::Entity::delete_many()
        .filter(trusted_device::Column::UserId.eq(user_id))
        .filter(trusted_device::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn forget_all(db: &impl ConnectionTrait, user_id: &str) -> Result<u64, StoreError> {
    let result = trusted_device::Entity::delete_many()
        .filter(trusted_device::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}
