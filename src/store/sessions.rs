use entity::{session, user};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::StoreError;

pub async fn insert(db: &impl ConnectionTrait, model: session::Model) -> Result<session::Model, StoreError> {
    let active: session::ActiveModel = model.into();
    Ok(active.insert(db).await?)
}

/// The unexpired session with this id hash at this tenant, of a user who is not disabled (their
/// sessions end when they are, so this only closes the gap of a session started meanwhile).
pub async fn find_active(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    id_hash: &str,
    now: i64,
) -> Result<Option<session::Model>, StoreError> {
    // Correlated, so it is one primary-key probe of the session's user, not a list of all users.
    let user_enabled = Query::select()
        .expr(Expr::val(1))
        .from(user::Entity)
        .and_where(
            Expr::col((user::Entity, user::Column::Id)).equals((session::Entity, session::Column::UserId)),
        )
        .and_where(Expr::col((user::Entity, user::Column::DisabledAt)).is_null())
        .to_owned();
    Ok(session::Entity::find_by_id(id_hash.to_string())
        .filter(session::Column::TenantId.eq(tenant_id))
        .filter(session::Column::ExpiresAt.gt(now))
        .filter(Expr::exists(user_enabled))
        .one(db)
        .await?)
}

/// Records a step-up on a live session (its methods and level) and moves it to the hash of a
/// new cookie token, in one statement; `None` when it has ended (or another step-up moved it).
pub async fn raise(
    db: &impl ConnectionTrait,
    id_hash: &str,
    new_id_hash: &str,
    amr: &str,
    acr: &str,
    now: i64,
) -> Result<Option<session::Model>, StoreError> {
    let raised = session::Entity::update_many()
        .col_expr(session::Column::Id, Expr::value(new_id_hash))
        .col_expr(session::Column::Amr, Expr::value(amr))
        .col_expr(session::Column::Acr, Expr::value(acr))
        .col_expr(session::Column::LastSeenAt, Expr::value(now))
        .filter(session::Column::Id.eq(id_hash))
        .filter(session::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    if raised.rows_affected == 0 {
        return Ok(None);
    }
    Ok(session::Entity::find_by_id(new_id_hash.to_string()).one(db).await?)
}

pub async fn delete(db: &impl ConnectionTrait, id_hash: &str) -> Result<(), StoreError> {
    session::Entity::delete_by_id(id_hash.to_string()).exec(db).await?;
    Ok(())
}

/// Ends every session of a user except `keep` (after a password change).
pub async fn delete_for_user_except(
    db: &impl ConnectionTrait,
    user_id: &str,
    keep: Option<&str>,
) -> Result<(), StoreError> {
    let mut delete = session::Entity::delete_many().filter(session::Column::UserId.eq(user_id));
    if let Some(keep) = keep {
        delete = delete.filter(session::Column::Id.ne(keep));
    }
    delete.exec(db).await?;
    Ok(())
}

/// Whether the session with this public `sid` still lives.
pub async fn is_live(db: &impl ConnectionTrait, sid: &str, now: i64) -> Result<bool, StoreError> {
    Ok(session::Entity::find()
        .filter(session::Column::Sid.eq(sid))
        .filter(session::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
        .is_some())
}

pub async fn list_for_user(
    db: &impl ConnectionTrait,
    user_id: &str,
) -> Result<Vec<session::Model>, StoreError> {
    Ok(session::Entity::find().filter(session::Column::UserId.eq(user_id)).all(db).await?)
}
