use entity::{refresh_token, session, user};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, FromQueryResult, IdenStatic,
    Iterable, JoinType, QueryFilter, QuerySelect, QueryTrait, RelationDef,
};

use super::{StoreError, access_tokens};

pub async fn insert(db: &impl ConnectionTrait, model: refresh_token::Model) -> Result<(), StoreError> {
    let active: refresh_token::ActiveModel = model.into();
    active.insert(db).await?;
    Ok(())
}

pub async fn find(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    token_hash: &str,
) -> Result<Option<refresh_token::Model>, StoreError> {
    Ok(refresh_token::Entity::find_by_id(token_hash.to_string())
        .filter(refresh_token::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?)
}

/// What a refresh reads, in one query: the token, whether its sign-in session still lives (what
/// a refresh token without offline access needs) and its person (`None`: erased).
pub struct ForRefresh {
    pub token: refresh_token::Model,
    pub session_live: bool,
    pub user: Option<user::Model>,
}

/// `find`, with the token's session and person in the same query (the token endpoint's busiest
/// path: one round trip instead of two).
pub async fn find_for_refresh(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    token_hash: &str,
    now: i64,
) -> Result<Option<ForRefresh>, StoreError> {
    // As `sessions::is_live`, correlated: one probe of the session's index.
    let live = Query::select()
        .expr(Expr::val(1))
        .from(session::Entity)
        .and_where(
            Expr::col((session::Entity, session::Column::Sid))
                .equals((refresh_token::Entity, refresh_token::Column::Sid)),
        )
        .and_where(Expr::col((session::Entity, session::Column::ExpiresAt)).gt(now))
        .to_owned();
    let person: RelationDef = refresh_token::Entity::belongs_to(user::Entity)
        .from(refresh_token::Column::UserId)
        .to(user::Column::Id)
        .into();
    let mut select = refresh_token::Entity::find_by_id(token_hash.to_string())
        .filter(refresh_token::Column::TenantId.eq(tenant_id))
        .expr_as(Expr::exists(live), "session_live")
        .join(JoinType::LeftJoin, person);
    // The person's columns under a prefix: both tables have `id`, `tenant_id`, `created_at`.
    for column in user::Column::iter() {
        select = select.expr_as(Expr::col((user::Entity, column)), format!("{PERSON}{}", column.as_str()));
    }
    let Some(result) = db.query_one_raw(select.build(db.get_database_backend())).await? else {
        return Ok(None);
    };
    let token = refresh_token::Model::from_query_result(&result, "")?;
    // SQLite answers EXISTS with an integer, PostgreSQL with a boolean.
    let session_live = match result.try_get::<bool>("", "session_live") {
        Ok(live) => live,
        Err(_) => result.try_get::<i64>("", "session_live")? != 0,
    };
    let user = match result.try_get::<Option<String>>("", &format!("{PERSON}id"))? {
        Some(_) => Some(user::Model::from_query_result(&result, PERSON)?),
        None => None,
    }
    // As `users::find`: the person of this tenant only.
    .filter(|user| user.tenant_id == tenant_id);
    Ok(Some(ForRefresh { token, session_live, user }))
}

/// The prefix of the person's columns in `find_for_refresh`.
const PERSON: &str = "person_";

/// Marks the token used. True only for the one caller whose UPDATE found it unused and live.
pub async fn consume(db: &impl ConnectionTrait, token_hash: &str, now: i64) -> Result<bool, StoreError> {
    let result = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::TokenHash.eq(token_hash))
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// True when the token is still unused and unrevoked. A no-op UPDATE rather than a read, so that
/// on PostgreSQL it holds the row until the transaction ends: a concurrent use or revocation
/// waits for it, and one that came first makes this false.
pub async fn hold_unused(db: &impl ConnectionTrait, token_hash: &str) -> Result<bool, StoreError> {
    let result = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::TokenHash, Expr::col(refresh_token::Column::TokenHash))
        .filter(refresh_token::Column::TokenHash.eq(token_hash))
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Revokes every member of a family.
pub async fn revoke_family(db: &impl ConnectionTrait, family_id: &str, now: i64) -> Result<u64, StoreError> {
    let result = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::FamilyId.eq(family_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Ends every offline refresh token family of a user, with the access tokens they issued: they
/// outlive sessions, so a password change or switching the second factor off must end them (the
/// same credentials that were replaced could have obtained them). Returns the families ended.
pub async fn end_offline_for_user(
    db: &impl ConnectionTrait,
    user_id: &str,
    now: i64,
) -> Result<u64, StoreError> {
    let offline = refresh_token::Column::UserId.eq(user_id).and(refresh_token::Column::Offline.eq(true));
    let families = live_families(db, offline).await?;
    for family in &families {
        revoke_family(db, family, now).await?;
        access_tokens::revoke_family(db, family, now).await?;
    }
    Ok(families.len() as u64)
}

/// The families of a session's non-offline refresh tokens (they end with the session).
pub async fn session_families(db: &impl ConnectionTrait, sid: &str) -> Result<Vec<String>, StoreError> {
    let of_session = refresh_token::Column::Sid.eq(sid).and(refresh_token::Column::Offline.eq(false));
    live_families(db, of_session).await
}

/// The distinct families of the unrevoked refresh tokens that `condition` selects.
async fn live_families(
    db: &impl ConnectionTrait,
    condition: sea_orm::sea_query::Expr,
) -> Result<Vec<String>, StoreError> {
    let rows = refresh_token::Entity::find()
        .filter(condition)
        .filter(refresh_token::Column::RevokedAt.is_null())
        .all(db)
        .await?;
    let mut families: Vec<String> = rows.into_iter().map(|r| r.family_id).collect();
    families.sort();
    families.dedup();
    Ok(families)
}

/// The live families of one user at one client.
pub async fn families_of(
    db: &impl ConnectionTrait,
    user_id: &str,
    client_row_id: &str,
) -> Result<Vec<String>, StoreError> {
    let rows = refresh_token::Entity::find()
        .filter(refresh_token::Column::UserId.eq(user_id))
        .filter(refresh_token::Column::ClientId.eq(client_row_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .all(db)
        .await?;
    let mut families: Vec<String> = rows.into_iter().map(|r| r.family_id).collect();
    families.sort();
    families.dedup();
    Ok(families)
}
