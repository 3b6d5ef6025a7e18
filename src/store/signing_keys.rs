use entity::signing_key;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};

use super::StoreError;

pub const ACTIVE: &str = "active";

pub async fn insert(db: &impl ConnectionTrait, model: signing_key::Model) -> Result<(), StoreError> {
    let active: signing_key::ActiveModel = model.into();
    active.insert(db).await?;
    Ok(())
}

fn not_retired(now: i64) -> Condition {
    Condition::any().add(signing_key::Column::RetiresAt.is_null()).add(signing_key::Column::RetiresAt.gt(now))
}

/// The key that signs for this tenant and algorithm now: the newest one already activated.
pub async fn signing(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    alg: &str,
    now: i64,
) -> Result<Option<signing_key::Model>, StoreError> {
    Ok(signing_key::Entity::find()
        .filter(signing_key::Column::TenantId.eq(tenant_id))
        .filter(signing_key::Column::Alg.eq(alg))
        .filter(signing_key::Column::Status.eq(ACTIVE))
        .filter(signing_key::Column::ActivatesAt.lte(now))
        .filter(not_retired(now))
        .order_by_desc(signing_key::Column::ActivatesAt)
        .order_by_desc(signing_key::Column::CreatedAt)
        .one(db)
        .await?)
}

/// Every key a verifier may meet now or soon: published in the JWKS.
pub async fn published(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    now: i64,
) -> Result<Vec<signing_key::Model>, StoreError> {
    Ok(signing_key::Entity::find()
        .filter(signing_key::Column::TenantId.eq(tenant_id))
        .filter(signing_key::Column::Status.eq(ACTIVE))
        .filter(not_retired(now))
        .order_by_desc(signing_key::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Schedules the retirement of every key of this algorithm except `keep`.
pub async fn retire_others(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    alg: &str,
    keep: &str,
    retires_at: i64,
) -> Result<u64, StoreError> {
    let result = signing_key::Entity::update_many()
        .col_expr(signing_key::Column::RetiresAt, Expr::value(retires_at))
        .filter(signing_key::Column::TenantId.eq(tenant_id))
        .filter(signing_key::Column::Alg.eq(alg))
        .filter(signing_key::Column::Kid.ne(keep))
        .filter(signing_key::Column::RetiresAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}
