use entity::totp_credential;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};

use super::StoreError;

pub const PENDING: &str = "pending";
pub const ACTIVE: &str = "active";

pub async fn insert(db: &impl ConnectionTrait, model: totp_credential::Model) -> Result<(), StoreError> {
    let active: totp_credential::ActiveModel = model.into();
    active.insert(db).await?;
    Ok(())
}

/// Inserts many credentials in one statement (an import).
pub async fn insert_batch(
    db: &impl ConnectionTrait,
    rows: Vec<totp_credential::Model>,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let models = rows.into_iter().map(totp_credential::ActiveModel::from);
    totp_credential::Entity::insert_many(models).exec_without_returning(db).await?;
    Ok(())
}

pub async fn find_with_status(
    db: &impl ConnectionTrait,
    user_id: &str,
    status: &str,
) -> Result<Option<totp_credential::Model>, StoreError> {
    Ok(totp_credential::Entity::find()
        .filter(totp_credential::Column::UserId.eq(user_id))
        .filter(totp_credential::Column::Status.eq(status))
        .order_by_desc(totp_credential::Column::CreatedAt)
        .one(db)
        .await?)
}

/// Records `step` as used. True only if no code of this or a later step was accepted before:
/// a replayed code (or a concurrent second use) loses this race.
pub async fn use_step(db: &impl ConnectionTrait, id: &str, step: i64) -> Result<bool, StoreError> {
    let result = totp_credential::Entity::update_many()
        .col_expr(totp_credential::Column::LastUsedStep, Expr::value(step))
        .filter(totp_credential::Column::Id.eq(id))
        .filter(
            Condition::any()
                .add(totp_credential::Column::LastUsedStep.is_null())
                .add(totp_credential::Column::LastUsedStep.lt(step)),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Makes the pending credential the active one; any older credential of the user goes.
pub async fn activate(
    db: &impl ConnectionTrait,
    user_id: &str,
    id: &str,
    now: i64,
) -> Result<(), StoreError> {
    totp_credential::Entity::delete_many()
        .filter(totp_credential::Column::UserId.eq(user_id))
        .filter(totp_credential::Column::Id.ne(id))
        .exec(db)
        .await?;
    totp_credential::Entity::update_many()
        .col_expr(totp_credential::Column::Status, Expr::value(ACTIVE))
        .col_expr(totp_credential::Column::ConfirmedAt, Expr::value(now))
        .filter(totp_credential::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn delete_for_user(db: &impl ConnectionTrait, user_id: &str) -> Result<(), StoreError> {
    totp_credential::Entity::delete_many()
        .filter(totp_credential::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn delete_pending(db: &impl ConnectionTrait, user_id: &str) -> Result<(), StoreError> {
    totp_credential::Entity::delete_many()
        .filter(totp_credential::Column::UserId.eq(user_id))
        .filter(totp_credential::Column::Status.eq(PENDING))
        .exec(db)
        .await?;
    Ok(())
}
