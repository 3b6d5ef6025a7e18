//! Text-message codes and the log of sends the throttles count.

use entity::{sms_code, sms_send};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};

use super::StoreError;

pub async fn insert_code(db: &impl ConnectionTrait, model: sms_code::Model) -> Result<(), StoreError> {
    let active: sms_code::ActiveModel = model.into();
    active.insert(db).await?;
    Ok(())
}

/// The newest code for this user and purpose: the only one that counts.
pub async fn newest_code(
    db: &impl ConnectionTrait,
    user_id: &str,
    purpose: &str,
) -> Result<Option<sms_code::Model>, StoreError> {
    Ok(sms_code::Entity::find()
        .filter(sms_code::Column::UserId.eq(user_id))
        .filter(sms_code::Column::Purpose.eq(purpose))
        .order_by_desc(sms_code::Column::CreatedAt)
        .order_by_desc(sms_code::Column::Id)
        .one(db)
        .await?)
}

/// Counts a wrong try in one statement; returns the new count.
pub async fn add_failure(db: &impl ConnectionTrait, id: &str) -> Result<i32, StoreError> {
    sms_code::Entity::update_many()
        .col_expr(
            sms_code::Column::Failures,
            Expr::col((sms_code::Entity, sms_code::Column::Failures)).add(1),
        )
        .filter(sms_code::Column::Id.eq(id))
        .exec(db)
        .await?;
    let row = sms_code::Entity::find_by_id(id.to_string()).one(db).await?;
    Ok(row.map(|r| r.failures).unwrap_or(i32::MAX))
}

/// Uses the code. True only for the one caller whose UPDATE found it unused.
pub async fn consume(
    db: &impl ConnectionTrait,
    id: &str,
    max_failures: i32,
    now: i64,
) -> Result<bool, StoreError> {
    let result = sms_code::Entity::update_many()
        .col_expr(sms_code::Column::ConsumedAt, Expr::value(now))
        .filter(sms_code::Column::Id.eq(id))
        .filter(sms_code::Column::ConsumedAt.is_null())
        .filter(sms_code::Column::Failures.lt(max_failures))
        .filter(sms_code::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn insert_send(db: &impl ConnectionTrait, model: sms_send::Model) -> Result<(), StoreError> {
    let active: sms_send::ActiveModel = model.into();
    active.insert(db).await?;
    Ok(())
}

pub async fn sends_to_user_since(
    db: &impl ConnectionTrait,
    user_id: &str,
    since: i64,
) -> Result<u64, StoreError> {
    Ok(sms_send::Entity::find()
        .filter(sms_send::Column::UserId.eq(user_id))
        .filter(sms_send::Column::CreatedAt.gt(since))
        .count(db)
        .await?)
}

pub async fn sends_to_number_since(
    db: &impl ConnectionTrait,
    phone: &str,
    since: i64,
) -> Result<u64, StoreError> {
    Ok(sms_send::Entity::find()
        .filter(sms_send::Column::PhoneNumber.eq(phone))
        .filter(sms_send::Column::CreatedAt.gt(since))
        .count(db)
        .await?)
}

pub async fn sends_of_tenant_since(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    since: i64,
) -> Result<u64, StoreError> {
    Ok(sms_send::Entity::find()
        .filter(sms_send::Column::TenantId.eq(tenant_id))
        .filter(sms_send::Column::CreatedAt.gt(since))
        .count(db)
        .await?)
}

/// The tenant's sends for one purpose: enrolment sends have a share of the cap of their own.
pub async fn sends_of_tenant_for_since(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    purpose: &str,
    since: i64,
) -> Result<u64, StoreError> {
    Ok(sms_send::Entity::find()
        .filter(sms_send::Column::TenantId.eq(tenant_id))
        .filter(sms_send::Column::Purpose.eq(purpose))
        .filter(sms_send::Column::CreatedAt.gt(since))
        .count(db)
        .await?)
}

pub async fn delete_send(db: &impl ConnectionTrait, id: &str) -> Result<(), StoreError> {
    sms_send::Entity::delete_by_id(id.to_string()).exec(db).await?;
    Ok(())
}

pub async fn set_delivered(db: &impl ConnectionTrait, id: &str, delivered: bool) -> Result<(), StoreError> {
    sms_send::Entity::update_many()
        .col_expr(sms_send::Column::Delivered, Expr::value(delivered))
        .filter(sms_send::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The newest send to this user for this purpose, other than `own`.
pub async fn last_send_other_than(
    db: &impl ConnectionTrait,
    user_id: &str,
    purpose: &str,
    own: &str,
) -> Result<Option<i64>, StoreError> {
    Ok(sms_send::Entity::find()
        .filter(sms_send::Column::UserId.eq(user_id))
        .filter(sms_send::Column::Purpose.eq(purpose))
        .filter(sms_send::Column::Id.ne(own))
        .order_by_desc(sms_send::Column::CreatedAt)
        .one(db)
        .await?
        .map(|row| row.created_at))
}

/// The newest send to this user for this purpose at or after `since`.
pub async fn newest_send_since(
    db: &impl ConnectionTrait,
    user_id: &str,
    purpose: &str,
    since: i64,
) -> Result<Option<sms_send::Model>, StoreError> {
    Ok(sms_send::Entity::find()
        .filter(sms_send::Column::UserId.eq(user_id))
        .filter(sms_send::Column::Purpose.eq(purpose))
        .filter(sms_send::Column::CreatedAt.gte(since))
        .order_by_desc(sms_send::Column::CreatedAt)
        .order_by_desc(sms_send::Column::Id)
        .one(db)
        .await?)
}
