//! A new password in one transaction with what it ends: the user's trusted devices.

use sea_orm::TransactionTrait;

use super::{Db, StoreError, trusted_devices, users};

/// Stores the new hash and forgets every trusted device of the user.
pub async fn change(db: &Db, user_id: &str, hash: String, now: i64) -> Result<(), StoreError> {
    let txn = db.begin().await?;
    users::set_password_hash(&txn, user_id, hash, now).await?;
    trusted_devices::forget_all(&txn, user_id).await?;
    txn.commit().await?;
    Ok(())
}
