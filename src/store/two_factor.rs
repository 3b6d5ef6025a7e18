//! Changes of a person's second factor, each with everything it switches on or off, in one
//! transaction: a half-made change could leave someone with a method that has no credential.

use entity::security_key;
use entity::two_factor_method::TwoFactorMethod;
use sea_orm::TransactionTrait;

use entity::email_outbox;

use super::{
    Db, StoreError, backup_codes, email_outbox as outbox, refresh_tokens, security_keys, totp_credentials,
    trusted_devices, users,
};

/// The first backup codes of someone switching two-factor authentication on, as hashes.
pub struct FirstBackupCodes<'a> {
    pub tenant_id: &'a str,
    pub hashes: &'a [String],
}

/// Switches two-factor authentication off: the app, security keys, backup codes, trusted devices
/// and offline refresh tokens (obtained with the second factor) go, and the user has no method.
pub async fn switch_off(db: &Db, user_id: &str, now: i64) -> Result<(), StoreError> {
    switch_off_notifying(db, user_id, None, now).await
}

/// `switch_off`, with the email that tells the person, in the same transaction.
pub async fn switch_off_notifying(
    db: &Db,
    user_id: &str,
    notice: Option<email_outbox::Model>,
    now: i64,
) -> Result<(), StoreError> {
    let txn = db.begin().await?;
    queue(&txn, notice).await?;
    refresh_tokens::end_offline_for_user(&txn, user_id, now).await?;
    totp_credentials::delete_for_user(&txn, user_id).await?;
    security_keys::delete_for_user(&txn, user_id).await?;
    backup_codes::delete_for_user(&txn, user_id).await?;
    trusted_devices::forget_all(&txn, user_id).await?;
    users::set_two_factor_method(&txn, user_id, None, now).await?;
    txn.commit().await?;
    super::token_revocations::committed();
    Ok(())
}

/// Activates the pending app credential `credential_id` and makes `method` (the app's) the user's
/// method; security keys stop working.
pub async fn switch_to_app(
    db: &Db,
    user_id: &str,
    credential_id: &str,
    method: TwoFactorMethod,
    first_backup_codes: Option<FirstBackupCodes<'_>>,
    notice: Option<email_outbox::Model>,
    now: i64,
) -> Result<(), StoreError> {
    // The app, the method and the first backup codes switch on together or not at all.
    let txn = db.begin().await?;
    queue(&txn, notice).await?;
    totp_credentials::activate(&txn, user_id, credential_id, now).await?;
    users::set_two_factor_method(&txn, user_id, Some(method), now).await?;
    // Security keys stop working when the method changes away from them.
    security_keys::delete_for_user(&txn, user_id).await?;
    if let Some(codes) = first_backup_codes {
        backup_codes::replace_within(&txn, codes.tenant_id, user_id, codes.hashes, now).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Makes the confirmed phone number the user's and `method` (text messages) their method; the
/// app and security keys stop working.
pub async fn switch_to_sms(
    db: &Db,
    user_id: &str,
    phone_e164: &str,
    method: TwoFactorMethod,
    first_backup_codes: Option<FirstBackupCodes<'_>>,
    notice: Option<email_outbox::Model>,
    now: i64,
) -> Result<(), StoreError> {
    let txn = db.begin().await?;
    queue(&txn, notice).await?;
    users::set_phone_number(&txn, user_id, Some(phone_e164), now).await?;
    users::set_two_factor_method(&txn, user_id, Some(method), now).await?;
    // The app or keys stop working when the method changes away from them.
    totp_credentials::delete_for_user(&txn, user_id).await?;
    security_keys::delete_for_user(&txn, user_id).await?;
    if let Some(codes) = first_backup_codes {
        backup_codes::replace_within(&txn, codes.tenant_id, user_id, codes.hashes, now).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Registers a verified key. With `new_method` (security keys, when they were not the method yet)
/// the method changes and the app stops working.
pub async fn add_security_key(
    db: &Db,
    key: security_key::Model,
    new_method: Option<TwoFactorMethod>,
    first_backup_codes: Option<FirstBackupCodes<'_>>,
    notice: Option<email_outbox::Model>,
    now: i64,
) -> Result<(), StoreError> {
    let user_id = key.user_id.clone();
    let txn = db.begin().await?;
    queue(&txn, notice).await?;
    security_keys::insert(&txn, key).await?;
    if let Some(method) = new_method {
        users::set_two_factor_method(&txn, &user_id, Some(method), now).await?;
        totp_credentials::delete_for_user(&txn, &user_id).await?;
    }
    if let Some(codes) = first_backup_codes {
        backup_codes::replace_within(&txn, codes.tenant_id, &user_id, codes.hashes, now).await?;
    }
    txn.commit().await?;
    Ok(())
}

pub enum KeyRemoval {
    /// The key that was removed.
    Removed(security_key::Model),
    /// It is the user's last key and `last_key_stays` was asked for.
    LastKey,
    /// Not one of the user's keys, or already gone.
    NotFound,
}

/// Removes one of the user's keys. `last_key_stays`: their method is security keys, so their last
/// key must not go.
pub async fn remove_security_key(
    db: &Db,
    user_id: &str,
    key_id: &str,
    last_key_stays: bool,
    notice: Option<email_outbox::Model>,
    now: i64,
) -> Result<KeyRemoval, StoreError> {
    let txn = db.begin().await?;
    // Writing the user row first serialises removals of one person's keys (a row lock on
    // PostgreSQL, the write lock on SQLite): two at once cannot both see "one more left".
    // An early return drops the transaction, which rolls the touch back.
    users::touch(&txn, user_id, now).await?;
    let keys = security_keys::list_for_user(&txn, user_id).await?;
    let count = keys.len();
    let Some(key) = keys.into_iter().find(|k| k.id == key_id) else { return Ok(KeyRemoval::NotFound) };
    if count == 1 && last_key_stays {
        return Ok(KeyRemoval::LastKey);
    }
    if !security_keys::delete(&txn, user_id, key_id).await? {
        return Ok(KeyRemoval::NotFound);
    }
    queue(&txn, notice).await?;
    txn.commit().await?;
    Ok(KeyRemoval::Removed(key))
}

/// The notice email of a change, written in its transaction.
async fn queue(
    txn: &impl sea_orm::ConnectionTrait,
    notice: Option<email_outbox::Model>,
) -> Result<(), StoreError> {
    if let Some(notice) = notice {
        outbox::insert(txn, notice).await?;
    }
    Ok(())
}
