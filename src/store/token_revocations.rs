//! Revocations of self-contained access tokens (`oauth::revoked` keeps them in memory). Access
//! tokens are revoked only here (`revoke_access_tokens_where`): one `UPDATE ... RETURNING` marks
//! their rows and the very rows it returns are recorded, in the caller's transaction, so a
//! self-contained token is revoked exactly when its row is. A person disabled or erased, and a
//! deleted client, are recorded as a whole (`user`, `client`), which also covers a token stored in
//! the moment after the change by a grant that checked just before it.
//!
//! Every row carries the database's own clock (`recorded_at`), and instances read the new rows by
//! it: their own clocks never decide what they see.

use std::sync::atomic::{AtomicU64, Ordering};

use entity::{access_token, token_revocation};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter};

use super::StoreError;

pub const TOKEN: &str = "token";
pub const USER: &str = "user";
pub const CLIENT: &str = "client";

/// Rows per INSERT when a revocation records many tokens (a person's sign-out everywhere).
const CHUNK: usize = 200;

/// Counts the revocations this process recorded, so its own memory of them (`oauth::revoked`)
/// knows to read the new rows before the next check.
static RECORDED: AtomicU64 = AtomicU64::new(0);

pub fn recorded() -> u64 {
    RECORDED.load(Ordering::Acquire)
}

/// To be called after committing a transaction that may have recorded revocations: the count is
/// also bumped when a row is written, but a check of this process that read between the write and
/// the commit did not see the row, and this makes the next check read again.
pub fn committed() {
    RECORDED.fetch_add(1, Ordering::AcqRel);
}

/// The database's clock in Unix seconds, as SQL.
fn database_clock(backend: DbBackend) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => Expr::cust("CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS BIGINT)"),
        _ => Expr::cust("CAST(strftime('%s', 'now') AS INTEGER)"),
    }
}

/// The database's clock now (Unix seconds).
pub async fn database_now(db: &impl ConnectionTrait) -> Result<i64, StoreError> {
    let statement = Query::select().expr_as(database_clock(db.get_database_backend()), "now").to_owned();
    let row = db
        .query_one(&statement)
        .await?
        .ok_or_else(|| StoreError::Corrupt("the database did not tell its time".into()))?;
    Ok(row.try_get::<i64>("", "now")?)
}

/// Marks revoked at `now` the unrevoked access tokens that `condition` selects and records the
/// unexpired ones among them; how many rows it marked.
pub async fn revoke_access_tokens_where(
    db: &impl ConnectionTrait,
    condition: SimpleExpr,
    now: i64,
) -> Result<u64, StoreError> {
    let statement = Query::update()
        .table(access_token::Entity)
        .value(access_token::Column::RevokedAt, now)
        .and_where(condition)
        .and_where(Expr::col(access_token::Column::RevokedAt).is_null())
        .returning(Query::returning().columns([
            access_token::Column::TokenHash,
            access_token::Column::TenantId,
            access_token::Column::ExpiresAt,
        ]))
        .to_owned();
    let rows = db.query_all(&statement).await?;
    let marked = rows.len() as u64;
    let mut tokens = Vec::new();
    for row in rows {
        let expires_at = row.try_get::<i64>("", "expires_at")?;
        if expires_at > now {
            tokens.push((
                row.try_get::<String>("", "token_hash")?,
                row.try_get::<String>("", "tenant_id")?,
                expires_at,
            ));
        }
    }
    let clock = database_clock(db.get_database_backend());
    for chunk in tokens.chunks(CHUNK) {
        let mut insert = Query::insert();
        insert.into_table(token_revocation::Entity).columns(columns());
        for (hash, tenant_id, expires_at) in chunk {
            insert
                .values([
                    TOKEN.into(),
                    hash.as_str().into(),
                    tenant_id.as_str().into(),
                    now.into(),
                    (*expires_at).into(),
                    clock.clone(),
                ])
                .map_err(|e| StoreError::Corrupt(format!("token revocations: {e}")))?;
        }
        insert.on_conflict(
            OnConflict::columns([token_revocation::Column::Kind, token_revocation::Column::Subject])
                .do_nothing()
                .to_owned(),
        );
        db.execute(&insert).await?;
    }
    if !tokens.is_empty() {
        RECORDED.fetch_add(1, Ordering::AcqRel);
    }
    Ok(marked)
}

/// Records one token (by its SHA-256 hex) as revoked until it expires (a self-contained token
/// without a row: a client's own).
pub async fn record_token(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    token_hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    upsert(db, TOKEN, token_hash, tenant_id, now, expires_at).await
}

/// Records that every token of the person issued until `now` is revoked; kept until
/// `tokens_live_until`, when the last of them has expired.
pub async fn record_user(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    user_id: &str,
    now: i64,
    tokens_live_until: i64,
) -> Result<(), StoreError> {
    upsert(db, USER, user_id, tenant_id, now, tokens_live_until).await
}

/// Records that every token of the (deleted) client is revoked, as `record_user`.
pub async fn record_client(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    client_row_id: &str,
    now: i64,
    tokens_live_until: i64,
) -> Result<(), StoreError> {
    upsert(db, CLIENT, client_row_id, tenant_id, now, tokens_live_until).await
}

async fn upsert(
    db: &impl ConnectionTrait,
    kind: &str,
    subject: &str,
    tenant_id: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    let insert = Query::insert()
        .into_table(token_revocation::Entity)
        .columns(columns())
        .values([
            kind.into(),
            subject.into(),
            tenant_id.into(),
            now.into(),
            expires_at.into(),
            database_clock(db.get_database_backend()),
        ])
        .map_err(|e| StoreError::Corrupt(format!("token revocations: {e}")))?
        .on_conflict(
            OnConflict::columns([token_revocation::Column::Kind, token_revocation::Column::Subject])
                .update_columns([
                    token_revocation::Column::RevokedAt,
                    token_revocation::Column::ExpiresAt,
                    token_revocation::Column::RecordedAt,
                ])
                .to_owned(),
        )
        .to_owned();
    db.execute(&insert).await?;
    RECORDED.fetch_add(1, Ordering::AcqRel);
    Ok(())
}

fn columns() -> [token_revocation::Column; 6] {
    [
        token_revocation::Column::Kind,
        token_revocation::Column::Subject,
        token_revocation::Column::TenantId,
        token_revocation::Column::RevokedAt,
        token_revocation::Column::ExpiresAt,
        token_revocation::Column::RecordedAt,
    ]
}

/// The revocations the database recorded at or after `recorded_since` (its clock) that still
/// matter at `now`.
pub async fn since(
    db: &impl ConnectionTrait,
    recorded_since: i64,
    now: i64,
) -> Result<Vec<token_revocation::Model>, StoreError> {
    Ok(token_revocation::Entity::find()
        .filter(token_revocation::Column::RecordedAt.gte(recorded_since))
        .filter(token_revocation::Column::ExpiresAt.gt(now))
        .all(db)
        .await?)
}

/// Every revocation that still matters at `now`.
pub async fn unexpired(
    db: &impl ConnectionTrait,
    now: i64,
) -> Result<Vec<token_revocation::Model>, StoreError> {
    Ok(token_revocation::Entity::find().filter(token_revocation::Column::ExpiresAt.gt(now)).all(db).await?)
}

/// Housekeeping: the revocations no unexpired token depends on.
pub async fn purge(db: &impl ConnectionTrait, now: i64) -> Result<u64, StoreError> {
    Ok(token_revocation::Entity::delete_many()
        .filter(token_revocation::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?
        .rows_affected)
}
