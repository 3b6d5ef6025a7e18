use entity::session_client;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::{StoreError, duplicate_as};
use crate::crypto::sha256_hex;

/// Remembers that a session signed in to a client (once per pair), for back-channel logout.
pub async fn record(
    db: &impl ConnectionTrait,
    sid: &str,
    client_row_id: &str,
    user_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    let row = session_client::ActiveModel {
        id: Set(sha256_hex(&format!("{sid}\0{client_row_id}"))),
        sid: Set(sid.to_string()),
        client_id: Set(client_row_id.to_string()),
        user_id: Set(user_id.to_string()),
        created_at: Set(now),
    };
    match session_client::Entity::insert(row).exec(db).await.map_err(duplicate_as("session client")) {
        Ok(_) | Err(StoreError::Duplicate(_)) => Ok(()),
        Err(other) => Err(other),
    }
}

pub async fn for_session(
    db: &impl ConnectionTrait,
    sid: &str,
) -> Result<Vec<session_client::Model>, StoreError> {
    Ok(session_client::Entity::find().filter(session_client::Column::Sid.eq(sid)).all(db).await?)
}

pub async fn delete_for_session(db: &impl ConnectionTrait, sid: &str) -> Result<(), StoreError> {
    session_client::Entity::delete_many().filter(session_client::Column::Sid.eq(sid)).exec(db).await?;
    Ok(())
}
