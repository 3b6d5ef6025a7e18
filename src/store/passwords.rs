//! A new password in one transaction with what it ends: the user's trusted devices and offline
//! refresh tokens.

use sea_orm::TransactionTrait;

use super::{Db, StoreError, refresh_tokens, trusted_devices, users};

/// Stores the new hash, forgets every trusted device of the user and ends their offline refresh
/// tokens.
pub async fn change(db: &Db, user_id: &str, hash: String, now: i64) -> Result<(), StoreError> {
    let txn = db.begin().await?;
    users::set_password_hash(&txn, user_id, hash, now).await?;
    trusted_devices::forget_all(&txn, user_id).await?;
    refresh_tokens::end_offline_for_user(&txn, user_id, now).await?;
    txn.commit().await?;
    Ok(())
}
