//! Writes a user import: every batch of users and app credentials, then its audit event, in one
//! transaction, so a failed import leaves nothing behind.

use entity::{audit_event, totp_credential, user};
use sea_orm::TransactionTrait;

use super::{Db, StoreError, audit_events, totp_credentials, users};

/// One INSERT's worth of an import.
pub struct ImportBatch {
    pub users: Vec<user::Model>,
    pub totp_credentials: Vec<totp_credential::Model>,
}

/// Why nothing was imported.
#[derive(Debug)]
pub enum ImportFailure<E> {
    /// Making a batch failed (the caller's error).
    Batch(E),
    /// The unique index refused an email address. The transaction is rolled back before this
    /// returns, so the caller can look up which address it was.
    EmailTaken,
    Store(StoreError),
}

impl<E> From<StoreError> for ImportFailure<E> {
    fn from(err: StoreError) -> Self {
        Self::Store(err)
    }
}

impl<E> From<sea_orm::DbErr> for ImportFailure<E> {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Store(err.into())
    }
}

/// Inserts the batches in order, then `audit`, and commits. Each batch is made only when its turn
/// comes, so a large file is never held in memory twice.
pub async fn insert_all<E>(
    db: &Db,
    batches: impl IntoIterator<Item = Result<ImportBatch, E>>,
    audit: audit_event::Model,
) -> Result<(), ImportFailure<E>> {
    let txn = db.begin().await?;
    for batch in batches {
        let batch = batch.map_err(ImportFailure::Batch)?;
        if let Err(err) = users::insert_batch(&txn, batch.users).await {
            txn.rollback().await?;
            return Err(match err {
                StoreError::Duplicate(_) => ImportFailure::EmailTaken,
                other => other.into(),
            });
        }
        totp_credentials::insert_batch(&txn, batch.totp_credentials).await?;
    }
    audit_events::insert(&txn, audit).await?;
    txn.commit().await?;
    Ok(())
}
