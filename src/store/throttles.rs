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
