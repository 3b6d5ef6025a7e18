use entity::security_key;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};

use super::{StoreError, duplicate_as};

/// Registers a key; a credential id already registered in the tenant is refused.
pub async fn insert(db: &impl ConnectionTrait, model: security_key::Model) -> Result<(), StoreError> {
    let active: security_key::ActiveModel = model.into();
    active.insert(db).await.map_err(duplicate_as("security key"))?;
    Ok(())
}

pub async fn list_for_user(
    db: &impl ConnectionTrait,
    user_id: &str,
) -> Result<Vec<security_key::Model>, StoreError> {
    Ok(security_key::Entity::find()
        .filter(security_key::Column::UserId.eq(user_id))
        .order_by_asc(security_key::Column::CreatedAt)
        .all(db)
        .await?)
}

pub async fn count_for_user(db: &impl ConnectionTrait, user_id: &str) -> Result<u64, StoreError> {
    Ok(security_key::Entity::find().filter(security_key::Column::UserId.eq(user_id)).count(db).await?)
}

pub async fn find_by_credential(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    credential_id: &str,
) -> Result<Option<security_key::Model>, StoreError> {
    Ok(security_key::Entity::find()
        .filter(security_key::Column::TenantId.eq(tenant_id))
        .filter(security_key::Column::CredentialId.eq(credential_id))
        .one(db)
        .await?)
}

/// Records a use: the new credential state and counter, only if the counter is still the one the
/// check saw (a concurrent use of a cloned key loses). True when this call recorded it.
pub async fn record_use(
    db: &impl ConnectionTrait,
    id: &str,
    seen_counter: i64,
    counter: i64,
    credential: String,
    now: i64,
) -> Result<bool, StoreError> {
    let result = security_key::Entity::update_many()
        .col_expr(security_key::Column::Counter, Expr::value(counter))
        .col_expr(security_key::Column::Credential, Expr::value(credential))
        .col_expr(security_key::Column::LastUsedAt, Expr::value(now))
        .filter(security_key::Column::Id.eq(id))
        .filter(security_key::Column::Counter.eq(seen_counter))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Removes one of the user's keys; false when it was not theirs or already gone.
pub async fn delete(db: &impl ConnectionTrait, user_id: &str, id: &str) -> Result<bool, StoreError> {
    let result = security_key::Entity::delete_many()
        .filter(security_key::Column::UserId.eq(user_id))
        .filter(security_key::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn delete_for_user(db: &impl ConnectionTrait, user_id: &str) -> Result<(), StoreError> {
    security_key::Entity::delete_many().filter(security_key::Column::UserId.eq(user_id)).exec(db).await?;
    Ok(())
}
