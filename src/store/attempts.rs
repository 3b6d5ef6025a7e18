use entity::login_attempt;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::StoreError;

pub async fn insert(db: &impl ConnectionTrait, model: login_attempt::Model) -> Result<(), StoreError> {
    let active: login_attempt::ActiveModel = model.into();
    active.insert(db).await?;
    Ok(())
}

pub async fn find_active(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    id_hash: &str,
    now: i64,
) -> Result<Option<login_attempt::Model>, StoreError> {
    Ok(login_attempt::Entity::find_by_id(id_hash.to_string())
        .filter(login_attempt::Column::TenantId.eq(tenant_id))
        .filter(login_attempt::Column::ExpiresAt.gt(now))
        .one(db)
        .await?)
}

/// Ends an attempt. True for the one caller that actually removed it, so a double-submitted
/// form finishes the login once.
pub async fn finish(db: &impl ConnectionTrait, id_hash: &str) -> Result<bool, StoreError> {
    let result = login_attempt::Entity::delete_by_id(id_hash.to_string()).exec(db).await?;
    Ok(result.rows_affected == 1)
}

/// Removes attempts that ran out; called from the housekeeping task.
pub async fn delete_expired(db: &impl ConnectionTrait, now: i64) -> Result<u64, StoreError> {
    let result = login_attempt::Entity::delete_many()
        .filter(login_attempt::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}
