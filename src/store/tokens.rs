//! A grant's writes in one transaction: the code or refresh token it uses up, and its new tokens.

use entity::{access_token, refresh_token};
use sea_orm::TransactionTrait;

use super::{Db, StoreError, access_tokens, authorization_codes, refresh_tokens};

/// What a grant uses up. It is consumed in the same transaction that stores the new tokens:
/// either the code or refresh token is used and its successors exist, or neither happened.
pub enum Consume<'a> {
    /// The hash of an authorization code.
    Code(&'a str),
    /// The hash of a refresh token.
    RefreshToken(&'a str),
    /// Nothing: a retry within the refresh grace, given again the successor with this hash, which
    /// must still be unused and unrevoked when the new access token is stored.
    Unused(&'a str),
}

/// Uses up `consume` and stores the new tokens. False, with nothing written, when another request
/// used the code or refresh token first. The caller mints and signs beforehand, so the locks are
/// held only for these statements.
pub async fn issue(
    db: &Db,
    consume: Consume<'_>,
    access: access_token::Model,
    refresh: Option<refresh_token::Model>,
    now: i64,
) -> Result<bool, StoreError> {
    let txn = db.begin().await?;
    let used = match consume {
        Consume::Code(hash) => authorization_codes::consume(&txn, hash, now).await,
        Consume::RefreshToken(hash) => refresh_tokens::consume(&txn, hash, now).await,
        Consume::Unused(hash) => refresh_tokens::hold_unused(&txn, hash).await,
    }?;
    if !used {
        txn.rollback().await?;
        return Ok(false);
    }
    access_tokens::insert(&txn, access).await?;
    if let Some(row) = refresh {
        refresh_tokens::insert(&txn, row).await?;
    }
    txn.commit().await?;
    Ok(true)
}
