//! A grant's writes in one transaction: the code or refresh token it uses up, and its new tokens.
//! `issue_many` stores the writes of many grants in one transaction (the group commit of
//! `token_writer`), deciding each grant's use exactly as `issue` would.

use std::collections::HashSet;

use entity::{access_token, authorization_code, refresh_token};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, EntityTrait, TransactionTrait};

use super::{Db, StoreError, access_tokens, authorization_codes, refresh_tokens};

/// What a grant uses up. It is consumed in the same transaction that stores the new tokens:
/// either the code or refresh token is used and its successors exist, or neither happened.
#[derive(Clone, Copy)]
pub enum Consume<'a> {
    /// Nothing (client_credentials).
    Nothing,
    /// The hash of an authorization code.
    Code(&'a str),
    /// The hash of a refresh token.
    RefreshToken(&'a str),
    /// Nothing: a retry within the refresh grace, given again the successor with this hash, which
    /// must still be unused and unrevoked when the new access token is stored.
    Unused(&'a str),
}

/// One grant's writes, owned, for `issue_many`.
pub struct GrantWrite {
    pub consume: OwnedConsume,
    pub access: access_token::Model,
    pub refresh: Option<refresh_token::Model>,
    pub now: i64,
}

/// `Consume` with owned hashes, to cross to the writer task.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum OwnedConsume {
    Nothing,
    Code(String),
    RefreshToken(String),
    Unused(String),
}

impl From<Consume<'_>> for OwnedConsume {
    fn from(consume: Consume<'_>) -> Self {
        match consume {
            Consume::Nothing => Self::Nothing,
            Consume::Code(hash) => Self::Code(hash.to_string()),
            Consume::RefreshToken(hash) => Self::RefreshToken(hash.to_string()),
            Consume::Unused(hash) => Self::Unused(hash.to_string()),
        }
    }
}

impl OwnedConsume {
    fn borrowed(&self) -> Consume<'_> {
        match self {
            Self::Nothing => Consume::Nothing,
            Self::Code(hash) => Consume::Code(hash),
            Self::RefreshToken(hash) => Consume::RefreshToken(hash),
            Self::Unused(hash) => Consume::Unused(hash),
        }
    }
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
        Consume::Nothing => Ok(true),
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

/// `issue` for one grant at a time, for `token_writer`'s fallback.
pub async fn issue_one(db: &Db, write: GrantWrite) -> Result<bool, StoreError> {
    issue(db, write.consume.borrowed(), write.access, write.refresh, write.now).await
}

/// The writes of many grants in one transaction, in a handful of statements whatever their
/// number: one conditional UPDATE ... RETURNING per kind of use, then one INSERT per table.
/// The answer says, grant by grant, whether its use won (and its tokens were stored).
///
/// Equivalent to running the grants one by one in this order: every retry's hold, then every
/// use, each use going to the first grant that names it. Holds first is a valid serial order
/// (a hold only reads), so single use and the retry rule keep their meaning.
pub async fn issue_many(db: &Db, writes: &[GrantWrite]) -> Result<Vec<bool>, StoreError> {
    let txn = db.begin().await?;
    let held = hold_unused_many(&txn, writes).await?;
    let codes = consume_many(&txn, writes, Kind::Code).await?;
    let refreshed = consume_many(&txn, writes, Kind::RefreshToken).await?;
    let mut taken: HashSet<&OwnedConsume> = HashSet::new();
    let won: Vec<bool> = writes
        .iter()
        .map(|write| match &write.consume {
            OwnedConsume::Nothing => true,
            // Any number of retries may be given the same unused successor.
            OwnedConsume::Unused(hash) => held.contains(hash),
            OwnedConsume::Code(hash) => codes.contains(hash) && taken.insert(&write.consume),
            OwnedConsume::RefreshToken(hash) => refreshed.contains(hash) && taken.insert(&write.consume),
        })
        .collect();
    let stored = || writes.iter().zip(&won).filter(|(_, won)| **won).map(|(write, _)| write);
    let access: Vec<access_token::ActiveModel> = stored().map(|w| w.access.clone().into()).collect();
    for run in fixed_size_runs(&access) {
        access_token::Entity::insert_many(run.to_vec()).exec_without_returning(&txn).await?;
    }
    let refresh: Vec<refresh_token::ActiveModel> =
        stored().filter_map(|w| w.refresh.clone()).map(Into::into).collect();
    for run in fixed_size_runs(&refresh) {
        refresh_token::Entity::insert_many(run.to_vec()).exec_without_returning(&txn).await?;
    }
    txn.commit().await?;
    Ok(won)
}

#[derive(Clone, Copy)]
enum Kind {
    Code,
    RefreshToken,
}

/// Marks the named codes or refresh tokens used, grouped by the grants' times (one group almost
/// always); the hashes whose UPDATE found them unused (and, for refresh tokens, unrevoked).
async fn consume_many(
    db: &impl ConnectionTrait,
    writes: &[GrantWrite],
    kind: Kind,
) -> Result<HashSet<String>, StoreError> {
    let mut times: Vec<i64> = writes.iter().map(|w| w.now).collect();
    times.sort_unstable();
    times.dedup();
    let mut won = HashSet::new();
    for now in times {
        let hashes: Vec<&str> = writes
            .iter()
            .filter(|w| w.now == now)
            .filter_map(|w| match (&w.consume, kind) {
                (OwnedConsume::Code(hash), Kind::Code) => Some(hash.as_str()),
                (OwnedConsume::RefreshToken(hash), Kind::RefreshToken) => Some(hash.as_str()),
                _ => None,
            })
            .collect();
        for run in fixed_size_runs(&hashes) {
            won.extend(consume_run(db, run.to_vec(), kind, now).await?);
        }
    }
    Ok(won)
}

/// One conditional UPDATE ... RETURNING of `consume_many`.
async fn consume_run(
    db: &impl ConnectionTrait,
    hashes: Vec<&str>,
    kind: Kind,
    now: i64,
) -> Result<Vec<String>, StoreError> {
    let mut won = Vec::new();
    let statement = match kind {
        Kind::Code => Query::update()
            .table(authorization_code::Entity)
            .value(authorization_code::Column::ConsumedAt, now)
            .and_where(Expr::col(authorization_code::Column::CodeHash).is_in(hashes))
            .and_where(Expr::col(authorization_code::Column::ConsumedAt).is_null())
            .returning_col(authorization_code::Column::CodeHash)
            .to_owned(),
        Kind::RefreshToken => Query::update()
            .table(refresh_token::Entity)
            .value(refresh_token::Column::UsedAt, now)
            .and_where(Expr::col(refresh_token::Column::TokenHash).is_in(hashes))
            .and_where(Expr::col(refresh_token::Column::UsedAt).is_null())
            .and_where(Expr::col(refresh_token::Column::RevokedAt).is_null())
            .returning_col(refresh_token::Column::TokenHash)
            .to_owned(),
    };
    let column = match kind {
        Kind::Code => "code_hash",
        Kind::RefreshToken => "token_hash",
    };
    for row in db.query_all(&statement).await? {
        won.push(row.try_get::<String>("", column)?);
    }
    Ok(won)
}

/// Longest run of `fixed_size_runs`.
const MAX_RUN: usize = 64;

/// `items` cut into runs of 64, 32, ..., 2 or 1 rows: each connection keeps a prepared statement
/// per distinct number of rows or parameters, so a batch of any size uses at most seven shapes of
/// each statement instead of one per size (each shape held in every pooled connection's SQLite
/// memory; docs/decisions.md, "Lean protocol path and memory").
fn fixed_size_runs<T>(mut items: &[T]) -> Vec<&[T]> {
    let mut runs = Vec::new();
    while !items.is_empty() {
        let largest = items.len().min(MAX_RUN);
        let size = 1usize << (usize::BITS - 1 - largest.leading_zeros());
        let (run, rest) = items.split_at(size);
        runs.push(run);
        items = rest;
    }
    runs
}

/// The retries' successors that are still unused and unrevoked, held like
/// `refresh_tokens::hold_unused` (a no-op UPDATE: on PostgreSQL a concurrent use waits for it).
async fn hold_unused_many(
    db: &impl ConnectionTrait,
    writes: &[GrantWrite],
) -> Result<HashSet<String>, StoreError> {
    let hashes: Vec<&str> = writes
        .iter()
        .filter_map(|w| match &w.consume {
            OwnedConsume::Unused(hash) => Some(hash.as_str()),
            _ => None,
        })
        .collect();
    let mut held = HashSet::new();
    for run in fixed_size_runs(&hashes) {
        let statement = Query::update()
            .table(refresh_token::Entity)
            .value(refresh_token::Column::TokenHash, Expr::col(refresh_token::Column::TokenHash))
            .and_where(Expr::col(refresh_token::Column::TokenHash).is_in(run.to_vec()))
            .and_where(Expr::col(refresh_token::Column::UsedAt).is_null())
            .and_where(Expr::col(refresh_token::Column::RevokedAt).is_null())
            .returning_col(refresh_token::Column::TokenHash)
            .to_owned();
        for row in db.query_all(&statement).await? {
            held.insert(row.try_get::<String>("", "token_hash")?);
        }
    }
    Ok(held)
}

#[cfg(test)]
mod tests {
    use super::fixed_size_runs;

    #[test]
    fn batches_are_cut_into_a_few_fixed_sizes() {
        let sizes = |n: usize| fixed_size_runs(&vec![0u8; n]).iter().map(|r| r.len()).collect::<Vec<_>>();
        assert_eq!(sizes(0), Vec::<usize>::new());
        assert_eq!(sizes(1), vec![1]);
        assert_eq!(sizes(37), vec![32, 4, 1]);
        assert_eq!(sizes(64), vec![64]);
        assert_eq!(sizes(128), vec![64, 64]);
        assert_eq!(sizes(127), vec![64, 32, 16, 8, 4, 2, 1]);
    }
}
