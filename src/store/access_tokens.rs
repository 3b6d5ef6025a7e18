use entity::{access_token, user};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};

use super::{StoreError, token_revocations};

pub async fn insert(db: &impl ConnectionTrait, model: access_token::Model) -> Result<(), StoreError> {
    let active: access_token::ActiveModel = model.into();
    active.insert(db).await?;
    Ok(())
}

/// What introspection describes, in one query: the token with this hash at this tenant, if it is
/// neither expired nor revoked and its person (if it has one) is not disabled.
pub async fn find_active_of_enabled(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    token_hash: &str,
    now: i64,
) -> Result<Option<access_token::Model>, StoreError> {
    // Correlated, so it is one primary-key probe of the token's user.
    let user_enabled = Query::select()
        .expr(Expr::val(1))
        .from(user::Entity)
        .and_where(
            Expr::col((user::Entity, user::Column::Id))
                .equals((access_token::Entity, access_token::Column::UserId)),
        )
        .and_where(Expr::col((user::Entity, user::Column::DisabledAt)).is_null())
        .to_owned();
    let person_enabled =
        Condition::any().add(access_token::Column::UserId.is_null()).add(Expr::exists(user_enabled));
    Ok(access_token::Entity::find_by_id(token_hash.to_string())
        .filter(access_token::Column::TenantId.eq(tenant_id))
        .filter(access_token::Column::ExpiresAt.gt(now))
        .filter(access_token::Column::RevokedAt.is_null())
        .filter(person_enabled)
        .one(db)
        .await?)
}

/// Revokes everything issued for an authorization code (RFC 6749 4.1.2: a replayed code).
pub async fn revoke_by_code(db: &impl ConnectionTrait, code_hash: &str, now: i64) -> Result<u64, StoreError> {
    token_revocations::revoke_access_tokens_where(db, access_token::Column::CodeHash.eq(code_hash), now).await
}

/// Revokes every access token that came from a refresh-token family.
pub async fn revoke_family(db: &impl ConnectionTrait, family_id: &str, now: i64) -> Result<u64, StoreError> {
    token_revocations::revoke_access_tokens_where(db, access_token::Column::FamilyId.eq(family_id), now).await
}

pub async fn revoke(db: &impl ConnectionTrait, token_hash: &str, now: i64) -> Result<(), StoreError> {
    token_revocations::revoke_access_tokens_where(db, access_token::Column::TokenHash.eq(token_hash), now)
        .await?;
    Ok(())
}

/// The token with this hash at this tenant, whatever its state.
pub async fn find(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    token_hash: &str,
) -> Result<Option<access_token::Model>, StoreError> {
    Ok(access_token::Entity::find_by_id(token_hash.to_string())
        .filter(access_token::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?)
}

/// The refresh-token families that started with an authorization code.
pub async fn families_for_code(
    db: &impl ConnectionTrait,
    code_hash: &str,
) -> Result<Vec<String>, StoreError> {
    let rows =
        access_token::Entity::find().filter(access_token::Column::CodeHash.eq(code_hash)).all(db).await?;
    Ok(rows.into_iter().filter_map(|r| r.family_id).collect())
}
