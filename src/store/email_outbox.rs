//! The email outbox: a row per message, written in the transaction of the change that causes it,
//! removed once sent. Any instance picks up rows that are due (`due` + `claim`).

use entity::email_outbox;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::StoreError;

pub async fn insert(db: &impl ConnectionTrait, model: email_outbox::Model) -> Result<(), StoreError> {
    let active: email_outbox::ActiveModel = model.into();
    active.insert(db).await?;
    Ok(())
}

pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<(), StoreError> {
    email_outbox::Entity::delete_by_id(id.to_string()).exec(db).await?;
    Ok(())
}

pub async fn reschedule(
    db: &impl ConnectionTrait,
    id: &str,
    attempts: i32,
    next: i64,
) -> Result<(), StoreError> {
    email_outbox::Entity::update_many()
        .col_expr(email_outbox::Column::Attempts, Expr::value(attempts))
        .col_expr(email_outbox::Column::NextAttemptAt, Expr::value(next))
        .filter(email_outbox::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Messages whose next attempt is due, oldest first.
pub async fn due(db: &impl ConnectionTrait, now: i64) -> Result<Vec<email_outbox::Model>, StoreError> {
    Ok(email_outbox::Entity::find()
        .filter(email_outbox::Column::NextAttemptAt.lte(now))
        .order_by_asc(email_outbox::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Moves a due message's next attempt to `until`, only if nobody else did since it was read: of
/// several instances exactly one takes it.
pub async fn claim(
    db: &impl ConnectionTrait,
    id: &str,
    seen_next: i64,
    until: i64,
) -> Result<bool, StoreError> {
    let result = email_outbox::Entity::update_many()
        .col_expr(email_outbox::Column::NextAttemptAt, Expr::value(until))
        .filter(email_outbox::Column::Id.eq(id))
        .filter(email_outbox::Column::NextAttemptAt.eq(seen_next))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<email_outbox::Model>, StoreError> {
    Ok(email_outbox::Entity::find().order_by_asc(email_outbox::Column::CreatedAt).all(db).await?)
}
