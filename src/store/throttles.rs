use entity::login_throttle;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TryInsertResult};

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
    compare_and_set(db, key, failures, last_failure_at, failures, now).await
}

/// Moves a counter read as `(failures, last_failure_at)` to `(new_failures, now)`, only if it is
/// still as read: one statement, so of parallel callers exactly one wins.
async fn compare_and_set(
    db: &impl ConnectionTrait,
    key: &str,
    failures: i32,
    last_failure_at: i64,
    new_failures: i32,
    now: i64,
) -> Result<bool, StoreError> {
    let result = login_throttle::Entity::update_many()
        .col_expr(login_throttle::Column::Failures, Expr::value(new_failures))
        .col_expr(login_throttle::Column::LastFailureAt, Expr::value(now))
        .filter(login_throttle::Column::Key.eq(key))
        .filter(login_throttle::Column::Failures.eq(failures))
        .filter(login_throttle::Column::LastFailureAt.eq(last_failure_at))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Takes a try on a counter that is under `limit` (a free try, or one under the account's cap):
/// one conditional statement, so a burst of parallel guesses cannot all take the last one. True
/// when this caller's try was counted.
pub async fn take_under(
    db: &impl ConnectionTrait,
    key: &str,
    limit: i32,
    now: i64,
) -> Result<bool, StoreError> {
    if count_under(db, key, limit, now).await? {
        return Ok(true);
    }
    if limit < 1 {
        return Ok(false);
    }
    // No row yet, or at the limit. The first try creates the row; when a parallel first try
    // created it meanwhile, the row exists now and the conditional count decides.
    let row = login_throttle::ActiveModel {
        key: Set(key.to_string()),
        failures: Set(1),
        last_failure_at: Set(now),
    };
    let inserted =
        login_throttle::Entity::insert(row).on_conflict_do_nothing().exec_without_returning(db).await?;
    if matches!(inserted, TryInsertResult::Inserted(1)) {
        return Ok(true);
    }
    count_under(db, key, limit, now).await
}

async fn count_under(db: &impl ConnectionTrait, key: &str, limit: i32, now: i64) -> Result<bool, StoreError> {
    let result = login_throttle::Entity::update_many()
        .col_expr(
            login_throttle::Column::Failures,
            Expr::col((login_throttle::Entity, login_throttle::Column::Failures)).add(1),
        )
        .col_expr(login_throttle::Column::LastFailureAt, Expr::value(now))
        .filter(login_throttle::Column::Key.eq(key))
        .filter(login_throttle::Column::Failures.lt(limit))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Takes the next try of a counter that is over its free tries: counts it and moves
/// `last_failure_at` to `now`, only if nobody else did since it was read. True for the one caller
/// that won.
pub async fn take_slot(
    db: &impl ConnectionTrait,
    key: &str,
    failures: i32,
    last_failure_at: i64,
    now: i64,
) -> Result<bool, StoreError> {
    compare_and_set(db, key, failures, last_failure_at, failures + 1, now).await
}

/// Uncounts a try that was taken but not spent on a wrong guess (a correct password, or a try
/// another counter refused).
pub async fn give_back(db: &impl ConnectionTrait, key: &str) -> Result<(), StoreError> {
    login_throttle::Entity::update_many()
        .col_expr(
            login_throttle::Column::Failures,
            Expr::col((login_throttle::Entity, login_throttle::Column::Failures)).sub(1),
        )
        .filter(login_throttle::Column::Key.eq(key))
        .filter(login_throttle::Column::Failures.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets a counter whose last failure is older than `cutoff`, in one statement (a try taken
/// meanwhile moved it to now, so it stays).
pub async fn forget_if_older(db: &impl ConnectionTrait, key: &str, cutoff: i64) -> Result<(), StoreError> {
    login_throttle::Entity::delete_many()
        .filter(login_throttle::Column::Key.eq(key))
        .filter(login_throttle::Column::LastFailureAt.lt(cutoff))
        .exec(db)
        .await?;
    Ok(())
}
