//! Single-use links sent by email, stored hashed. A new link replaces the person's earlier one of
//! the same purpose in the transaction that queues its email; using one is one conditional UPDATE.

use entity::{email_link, email_outbox};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};

use super::{Db, StoreError, email_outbox as outbox};

/// Stores `link` in place of the user's earlier links of its purpose, with the email that
/// carries it: both or neither.
pub async fn replace_and_send(
    db: &Db,
    link: email_link::Model,
    message: email_outbox::Model,
) -> Result<(), StoreError> {
    let txn = db.begin().await?;
    email_link::Entity::delete_many()
        .filter(email_link::Column::UserId.eq(&link.user_id))
        .filter(email_link::Column::Purpose.eq(&link.purpose))
        .exec(&txn)
        .await?;
    let active: email_link::ActiveModel = link.into();
    active.insert(&txn).await?;
    outbox::insert(&txn, message).await?;
    txn.commit().await?;
    Ok(())
}

/// Ends the user's unused links of `purpose` and queues `message` instead, together: a request
/// that sends no link (an address change to a taken address) still replaces the earlier one.
pub async fn cancel_and_send(
    db: &Db,
    user_id: &str,
    purpose: &str,
    message: email_outbox::Model,
) -> Result<(), StoreError> {
    let txn = db.begin().await?;
    email_link::Entity::delete_many()
        .filter(email_link::Column::UserId.eq(user_id))
        .filter(email_link::Column::Purpose.eq(purpose))
        .filter(email_link::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    outbox::insert(&txn, message).await?;
    txn.commit().await?;
    Ok(())
}

/// A link by its token's hash, used or not (the page tells a used link from an unknown one).
pub async fn find(
    db: &impl ConnectionTrait,
    purpose: &str,
    token_hash: &str,
) -> Result<Option<email_link::Model>, StoreError> {
    Ok(email_link::Entity::find()
        .filter(email_link::Column::TokenHash.eq(token_hash))
        .filter(email_link::Column::Purpose.eq(purpose))
        .one(db)
        .await?)
}

/// Uses a link: true for the one caller whose conditional UPDATE found it unused and unexpired.
pub async fn consume(db: &impl ConnectionTrait, id: &str, now: i64) -> Result<bool, StoreError> {
    let result = email_link::Entity::update_many()
        .col_expr(email_link::Column::UsedAt, Expr::value(now))
        .filter(email_link::Column::Id.eq(id))
        .filter(email_link::Column::UsedAt.is_null())
        .filter(email_link::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Links that expired before `cutoff` (housekeeping).
pub async fn purge_expired(db: &impl ConnectionTrait, cutoff: i64) -> Result<u64, StoreError> {
    let result =
        email_link::Entity::delete_many().filter(email_link::Column::ExpiresAt.lt(cutoff)).exec(db).await?;
    Ok(result.rows_affected)
}

/// Whether the user ever used a link of `purpose` (an invitation accepted).
pub async fn has_used(db: &impl ConnectionTrait, user_id: &str, purpose: &str) -> Result<bool, StoreError> {
    Ok(email_link::Entity::find()
        .filter(email_link::Column::UserId.eq(user_id))
        .filter(email_link::Column::Purpose.eq(purpose))
        .filter(email_link::Column::UsedAt.is_not_null())
        .one(db)
        .await?
        .is_some())
}

/// Ends the person's other unused links (all but `keep_id`): after an address change they point at an
/// address that is no longer theirs.
pub async fn revoke_others(
    db: &impl ConnectionTrait,
    user_id: &str,
    keep_id: &str,
) -> Result<u64, StoreError> {
    let result = email_link::Entity::delete_many()
        .filter(email_link::Column::UserId.eq(user_id))
        .filter(email_link::Column::Id.ne(keep_id))
        // A used link stays: it records an accepted invitation (`has_used`).
        .filter(email_link::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}
