use entity::login_attempt;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::StoreError;

pub async fn insert(db: &impl ConnectionTrait, model: login_attempt::Model) -> Result<(), StoreError> {
    let active: login_attempt::ActiveModel = model.into();
    active.insert(db).await?;
    Ok(())
}

/// Stores an attempt unless one with its id exists (two first forms of a pending sign-in sent
/// at once store it once).
pub async fn insert_if_absent(
    db: &impl ConnectionTrait,
    model: login_attempt::Model,
) -> Result<(), StoreError> {
    let active: login_attempt::ActiveModel = model.into();
    login_attempt::Entity::insert(active).on_conflict_do_nothing().exec_without_returning(db).await?;
    Ok(())
}

pub async fn find_active(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    id_hash: &str,
    now: i64,
) -> Result<Option<login_attempt::Model>, StoreError> {
    Ok(login_attempt::Entity::find_by_id(id_hash.to_string())
        .filter(login_attempt::Column::TenantId.eq(tenant_id))
        .filter(login_attempt::Column::ExpiresAt.gt(now))
        .one(db)
        .await?)
}

/// Ends an attempt. True for the one caller that actually removed it, so a double-submitted
/// form finishes the login once.
pub async fn finish(db: &impl ConnectionTrait, id_hash: &str) -> Result<bool, StoreError> {
    let result = login_attempt::Entity::delete_by_id(id_hash.to_string()).exec(db).await?;
    Ok(result.rows_affected == 1)
}

/// Moves an attempt to `stage` for `user_id`, with an optional notice for the `notice` stage.
pub async fn set_stage(
    db: &impl ConnectionTrait,
    id_hash: &str,
    stage: &str,
    user_id: &str,
    notice: Option<String>,
) -> Result<(), StoreError> {
    login_attempt::Entity::update_many()
        .col_expr(login_attempt::Column::Stage, Expr::value(stage))
        .col_expr(login_attempt::Column::UserId, Expr::value(user_id))
        .col_expr(login_attempt::Column::Notice, Expr::value(notice))
        .filter(login_attempt::Column::Id.eq(id_hash))
        .exec(db)
        .await?;
    Ok(())
}

/// Moves an attempt from stage `from` to `to` for `user_id`; false when another request moved it
/// first (a double-submitted form), so only one of them does what entering `to` needs.
pub async fn advance(
    db: &impl ConnectionTrait,
    id_hash: &str,
    from: &str,
    to: &str,
    user_id: &str,
) -> Result<bool, StoreError> {
    let result = login_attempt::Entity::update_many()
        .col_expr(login_attempt::Column::Stage, Expr::value(to))
        .col_expr(login_attempt::Column::UserId, Expr::value(user_id))
        .col_expr(login_attempt::Column::Notice, Expr::value(Option::<String>::None))
        .filter(login_attempt::Column::Id.eq(id_hash))
        .filter(login_attempt::Column::Stage.eq(from))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Records that this attempt checked the password.
pub async fn mark_password_ok(db: &impl ConnectionTrait, id_hash: &str) -> Result<(), StoreError> {
    login_attempt::Entity::update_many()
        .col_expr(login_attempt::Column::PasswordOk, Expr::value(true))
        .filter(login_attempt::Column::Id.eq(id_hash))
        .exec(db)
        .await?;
    Ok(())
}

/// Takes one of the attempt's five code tries before the code is checked, in one statement, so
/// parallel requests cannot all slip in. The new count, or `None` when the tries are used up.
pub async fn take_factor_try(
    db: &impl ConnectionTrait,
    id_hash: &str,
    max: i32,
) -> Result<Option<i32>, StoreError> {
    let result = login_attempt::Entity::update_many()
        .col_expr(
            login_attempt::Column::FactorFailures,
            Expr::col((login_attempt::Entity, login_attempt::Column::FactorFailures)).add(1),
        )
        .filter(login_attempt::Column::Id.eq(id_hash))
        .filter(login_attempt::Column::FactorFailures.lt(max))
        .exec(db)
        .await?;
    if result.rows_affected != 1 {
        return Ok(None);
    }
    let row = login_attempt::Entity::find_by_id(id_hash.to_string()).one(db).await?;
    Ok(row.map(|r| r.factor_failures))
}
