use entity::login_throttle;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ConnectionTrait, EntityTrait, Set};

use super::StoreError;

pub async fn find(db: &impl ConnectionTrait, key: &str) -> Result<Option<login_throttle::Model>, StoreError> {
    Ok(login_throttle::Entity::find_by_id(key.to_string()).one(db).await?)
}

/// Adds one failure in a single statement, so concurrent failures all count.
pub async fn add_failure(db: &impl ConnectionTrait, key: &str, now: i64) -> Result<(), StoreError> {
    let row = login_throttle::ActiveModel {
        key: Set(key.to_string()),
        failures: Set(1),
        last_failure_at: Set(now),
    };
    login_throttle::Entity::insert(row)
        .on_conflict(
            OnConflict::column(login_throttle::Column::Key)
                .value(
                    login_throttle::Column::Failures,
                    Expr::col((login_throttle::Entity, login_throttle::Column::Failures)).add(1),
                )
                .update_column(login_throttle::Column::LastFailureAt)
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}

pub async fn clear(db: &impl ConnectionTrait, key: &str) -> Result<(), StoreError> {
    login_throttle::Entity::delete_by_id(key.to_string()).exec(db).await?;
    Ok(())
}

/// Takes the next slot of a counter that is over its free tries: moves `last_failure_at` to `now`
/// only if nobody else did since it was read. True for the one caller that won.
pub async fn claim_slot(
    db: &impl ConnectionTrait,
    key: &str,
    failures: i32,
    last_failure_at: i64,
    now: i64,
) -> Result<bool, StoreError> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let result = login_throttle::Entity::update_many()
        .col_expr(login_throttle::Column::LastFailureAt, Expr::value(now))
        .filter(login_throttle::Column::Key.eq(key))
        .filter(login_throttle::Column::Failures.eq(failures))
        .filter(login_throttle::Column::LastFailureAt.eq(last_failure_at))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
