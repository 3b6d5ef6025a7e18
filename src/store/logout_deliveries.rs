use entity::logout_delivery;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::StoreError;

pub async fn insert(db: &impl ConnectionTrait, model: logout_delivery::Model) -> Result<(), StoreError> {
    let active: logout_delivery::ActiveModel = model.into();
    active.insert(db).await?;
    Ok(())
}

pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<(), StoreError> {
    logout_delivery::Entity::delete_by_id(id.to_string()).exec(db).await?;
    Ok(())
}

/// Records a failed attempt and when the next is due, only while the row is still held until
/// `held_until` by the caller (an instance that took it over meanwhile decides from there).
pub async fn reschedule(
    db: &impl ConnectionTrait,
    id: &str,
    held_until: i64,
    attempts: i32,
    next: i64,
) -> Result<bool, StoreError> {
    let result = logout_delivery::Entity::update_many()
        .col_expr(logout_delivery::Column::Attempts, Expr::value(attempts))
        .col_expr(logout_delivery::Column::NextAttemptAt, Expr::value(next))
        .filter(logout_delivery::Column::Id.eq(id))
        .filter(logout_delivery::Column::NextAttemptAt.eq(held_until))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Deliveries whose next attempt is due (or whose holder's time ran out), oldest first, at most
/// `limit`.
pub async fn due(
    db: &impl ConnectionTrait,
    now: i64,
    limit: u64,
) -> Result<Vec<logout_delivery::Model>, StoreError> {
    Ok(logout_delivery::Entity::find()
        .filter(logout_delivery::Column::NextAttemptAt.lte(now))
        .order_by_asc(logout_delivery::Column::NextAttemptAt)
        .limit(limit)
        .all(db)
        .await?)
}

/// Moves a due delivery's next attempt to `until`, only if nobody else did since it was read.
pub async fn claim(
    db: &impl ConnectionTrait,
    id: &str,
    seen_next: i64,
    until: i64,
) -> Result<bool, StoreError> {
    let result = logout_delivery::Entity::update_many()
        .col_expr(logout_delivery::Column::NextAttemptAt, Expr::value(until))
        .filter(logout_delivery::Column::Id.eq(id))
        .filter(logout_delivery::Column::NextAttemptAt.eq(seen_next))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
