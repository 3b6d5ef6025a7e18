use entity::backup_code;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set, TransactionTrait,
};

use super::{Db, StoreError};

/// Replaces the user's codes with a new set, in one transaction.
pub async fn replace(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    hashes: &[String],
    notice: Option<entity::email_outbox::Model>,
    now: i64,
) -> Result<(), StoreError> {
    let txn = db.begin().await?;
    replace_within(&txn, tenant_id, user_id, hashes, now).await?;
    if let Some(notice) = notice {
        super::email_outbox::insert(&txn, notice).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// `replace` inside the caller's transaction (a change of method that brings the first set).
pub(super) async fn replace_within(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    user_id: &str,
    hashes: &[String],
    now: i64,
) -> Result<(), StoreError> {
    delete_for_user(db, user_id).await?;
    let rows = hashes.iter().map(|hash| backup_code::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        tenant_id: Set(tenant_id.to_string()),
        user_id: Set(user_id.to_string()),
        code_hash: Set(hash.clone()),
        used_at: Set(None),
        created_at: Set(now),
    });
    backup_code::Entity::insert_many(rows).exec(db).await?;
    Ok(())
}

/// Uses the code with this hash. True only for the one caller whose UPDATE found it unused.
pub async fn consume(
    db: &impl ConnectionTrait,
    user_id: &str,
    code_hash: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let result = backup_code::Entity::update_many()
        .col_expr(backup_code::Column::UsedAt, Expr::value(now))
        .filter(backup_code::Column::UserId.eq(user_id))
        .filter(backup_code::Column::CodeHash.eq(code_hash))
        .filter(backup_code::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn remaining(db: &impl ConnectionTrait, user_id: &str) -> Result<u64, StoreError> {
    Ok(backup_code::Entity::find()
        .filter(backup_code::Column::UserId.eq(user_id))
        .filter(backup_code::Column::UsedAt.is_null())
        .count(db)
        .await?)
}

pub async fn delete_for_user(db: &impl ConnectionTrait, user_id: &str) -> Result<(), StoreError> {
    backup_code::Entity::delete_many().filter(backup_code::Column::UserId.eq(user_id)).exec(db).await?;
    Ok(())
}
