//! Revocations of self-contained access tokens (`oauth::revoked` keeps them in memory). Every
//! statement that revokes access-token rows records the unexpired ones here first, in the same
//! transaction, so a self-contained token is revoked exactly when its row is; a person disabled or
//! erased is recorded as a whole (`user`), which also covers a token stored in the moment between
//! a grant's check of the person and the change.

use std::sync::atomic::{AtomicU64, Ordering};

use entity::{access_token, token_revocation};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::StoreError;

/// Counts the revocations this process recorded, so its own memory of them (`oauth::revoked`)
/// knows to read the new rows before the next check.
static RECORDED: AtomicU64 = AtomicU64::new(0);

pub fn recorded() -> u64 {
    RECORDED.load(Ordering::Acquire)
}

pub const TOKEN: &str = "token";
pub const USER: &str = "user";

/// Records the unexpired, unrevoked access tokens that `condition` selects as revoked at `now`.
/// Call it before the statement that marks their rows revoked.
pub async fn record_tokens_where(
    db: &impl ConnectionTrait,
    condition: SimpleExpr,
    now: i64,
) -> Result<(), StoreError> {
    let select = Query::select()
        .expr(Expr::val(TOKEN))
        .column(access_token::Column::TokenHash)
        .column(access_token::Column::TenantId)
        .expr(Expr::val(now))
        .column(access_token::Column::ExpiresAt)
        .from(access_token::Entity)
        .and_where(condition)
        .and_where(Expr::col(access_token::Column::RevokedAt).is_null())
        .and_where(Expr::col(access_token::Column::ExpiresAt).gt(now))
        .to_owned();
    let insert = Query::insert()
        .into_table(token_revocation::Entity)
        .columns(columns())
        .select_from(select)
        .map_err(|e| StoreError::Corrupt(format!("token revocations: {e}")))?
        .on_conflict(
            OnConflict::columns([token_revocation::Column::Kind, token_revocation::Column::Subject])
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    db.execute(&insert).await?;
    RECORDED.fetch_add(1, Ordering::AcqRel);
    Ok(())
}

/// Records one token (by its SHA-256 hex) as revoked until it expires.
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
        .values([kind.into(), subject.into(), tenant_id.into(), now.into(), expires_at.into()])
        .map_err(|e| StoreError::Corrupt(format!("token revocations: {e}")))?
        .on_conflict(
            OnConflict::columns([token_revocation::Column::Kind, token_revocation::Column::Subject])
                .update_columns([token_revocation::Column::RevokedAt, token_revocation::Column::ExpiresAt])
                .to_owned(),
        )
        .to_owned();
    db.execute(&insert).await?;
    RECORDED.fetch_add(1, Ordering::AcqRel);
    Ok(())
}

fn columns() -> [token_revocation::Column; 5] {
    [
        token_revocation::Column::Kind,
        token_revocation::Column::Subject,
        token_revocation::Column::TenantId,
        token_revocation::Column::RevokedAt,
        token_revocation::Column::ExpiresAt,
    ]
}

/// The revocations recorded at or after `since` that still matter at `now`.
pub async fn since(
    db: &impl ConnectionTrait,
    since: i64,
    now: i64,
) -> Result<Vec<token_revocation::Model>, StoreError> {
    Ok(token_revocation::Entity::find()
        .filter(token_revocation::Column::RevokedAt.gte(since))
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
