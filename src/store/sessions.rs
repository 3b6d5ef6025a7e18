use entity::{session, user};
use sea_orm::sea_query::Query;
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
    let enabled_users = Query::select()
        .column(user::Column::Id)
        .from(user::Entity)
        .and_where(user::Column::DisabledAt.is_null())
        .to_owned();
    Ok(session::Entity::find_by_id(id_hash.to_string())
        .filter(session::Column::TenantId.eq(tenant_id))
        .filter(session::Column::ExpiresAt.gt(now))
        .filter(session::Column::UserId.in_subquery(enabled_users))
        .one(db)
        .await?)
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
