//! A new password in one transaction with what it ends: the user's trusted devices and offline
//! refresh tokens.

use sea_orm::TransactionTrait;

use super::{Db, StoreError, email_links, email_outbox, refresh_tokens, trusted_devices, users};

/// Stores the new hash, forgets every trusted device of the user, ends their offline refresh
/// tokens and queues the notice.
pub async fn change(
    db: &Db,
    user_id: &str,
    hash: String,
    notice: Option<entity::email_outbox::Model>,
    now: i64,
) -> Result<(), StoreError> {
    let txn = db.begin().await?;
    users::set_password_hash(&txn, user_id, hash, now).await?;
    trusted_devices::forget_all(&txn, user_id).await?;
    refresh_tokens::end_offline_for_user(&txn, user_id, now).await?;
    if let Some(notice) = notice {
        email_outbox::insert(&txn, notice).await?;
    }
    txn.commit().await?;
    super::token_revocations::committed();
    Ok(())
}

/// A new password set with a reset link: uses the link (one conditional UPDATE: false when it was
/// used, replaced or expired meanwhile, and nothing changes), stores the hash, forgets every
/// trusted device, ends the offline refresh tokens and queues the notice, together.
pub async fn reset(
    db: &Db,
    link_id: &str,
    user_id: &str,
    hash: String,
    notice: entity::email_outbox::Model,
    now: i64,
) -> Result<bool, StoreError> {
    let txn = db.begin().await?;
    if !email_links::consume(&txn, link_id, now).await? {
        txn.rollback().await?;
        return Ok(false);
    }
    users::set_password_hash(&txn, user_id, hash, now).await?;
    trusted_devices::forget_all(&txn, user_id).await?;
    refresh_tokens::end_offline_for_user(&txn, user_id, now).await?;
    email_outbox::insert(&txn, notice).await?;
    txn.commit().await?;
    super::token_revocations::committed();
    Ok(true)
}
