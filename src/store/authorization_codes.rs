use entity::authorization_code;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::StoreError;

pub async fn insert(db: &impl ConnectionTrait, model: authorization_code::Model) -> Result<(), StoreError> {
    let active: authorization_code::ActiveModel = model.into();
    active.insert(db).await?;
    Ok(())
}

pub async fn find(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    code_hash: &str,
) -> Result<Option<authorization_code::Model>, StoreError> {
    Ok(authorization_code::Entity::find_by_id(code_hash.to_string())
        .filter(authorization_code::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?)
}

/// Marks the code used. True only for the single caller whose UPDATE found it unused.
pub async fn consume(db: &impl ConnectionTrait, code_hash: &str, now: i64) -> Result<bool, StoreError> {
    let result = authorization_code::Entity::update_many()
        .col_expr(authorization_code::Column::ConsumedAt, Expr::value(now))
        .filter(authorization_code::Column::CodeHash.eq(code_hash))
        .filter(authorization_code::Column::ConsumedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
