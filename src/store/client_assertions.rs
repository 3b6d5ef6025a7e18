use entity::used_client_assertion;
use sea_orm::{ConnectionTrait, EntityTrait, Set};

use super::{StoreError, duplicate_as};

/// Records an assertion as used. False when it was used before (a replay).
pub async fn record_once(db: &impl ConnectionTrait, id: &str, expires_at: i64) -> Result<bool, StoreError> {
    let row = used_client_assertion::ActiveModel { id: Set(id.to_string()), expires_at: Set(expires_at) };
    match used_client_assertion::Entity::insert(row).exec(db).await.map_err(duplicate_as("assertion")) {
        Ok(_) => Ok(true),
        Err(StoreError::Duplicate(_)) => Ok(false),
        Err(other) => Err(other),
    }
}
