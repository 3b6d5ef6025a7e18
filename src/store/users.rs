use entity::email_link;
use entity::user::{self, TwoFactorMethod};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::sea_query::{ExprTrait, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};

use super::{Db, StoreError, duplicate_as};
use crate::domain::Email;

pub async fn insert(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    email: &Email,
    name: Option<&str>,
    password_hash: String,
    now: i64,
) -> Result<user::Model, StoreError> {
    insert_with_verified(db, tenant_id, email, name, password_hash, false, now).await
}

/// `insert` with `email_verified` set: the provider checked the address already.
pub async fn insert_with_verified(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    email: &Email,
    name: Option<&str>,
    password_hash: String,
    email_verified: bool,
    now: i64,
) -> Result<user::Model, StoreError> {
    let model = user::ActiveModel {
        // A random UUID: the stable, opaque `sub` of the user.
        id: Set(uuid::Uuid::new_v4().to_string()),
        tenant_id: Set(tenant_id.to_string()),
        email: Set(email.as_str().to_string()),
        email_verified: Set(email_verified),
        password_hash: Set(password_hash),
        created_at: Set(now),
        updated_at: Set(now),
        two_factor_method: Set(None),
        name: Set(name.map(str::to_string)),
        phone_number: Set(None),
        disabled_at: Set(None),
        locale: Set(None),
    };
    model.insert(db).await.map_err(duplicate_as("a user with this email address"))
}

/// Inserts many users in one statement (an import); a taken email address fails the whole batch.
pub async fn insert_batch(db: &impl ConnectionTrait, rows: Vec<user::Model>) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let models = rows.into_iter().map(user::ActiveModel::from);
    user::Entity::insert_many(models)
        .exec_without_returning(db)
        .await
        .map_err(duplicate_as("a user with this email address"))?;
    Ok(())
}

/// Which of `emails` (already normalised) are taken in the tenant.
pub async fn existing_emails(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    emails: &[&str],
) -> Result<std::collections::HashSet<String>, StoreError> {
    let found: Vec<String> = user::Entity::find()
        .select_only()
        .column(user::Column::Email)
        .filter(user::Column::TenantId.eq(tenant_id))
        .filter(user::Column::Email.is_in(emails.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(found.into_iter().collect())
}

pub async fn find_by_email(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    email: &Email,
) -> Result<Option<user::Model>, StoreError> {
    Ok(user::Entity::find()
        .filter(user::Column::TenantId.eq(tenant_id))
        .filter(user::Column::Email.eq(email.as_str()))
        .one(db)
        .await?)
}

pub async fn find(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    id: &str,
) -> Result<Option<user::Model>, StoreError> {
    Ok(user::Entity::find_by_id(id.to_string()).filter(user::Column::TenantId.eq(tenant_id)).one(db).await?)
}

pub async fn list(db: &impl ConnectionTrait, tenant_id: &str) -> Result<Vec<user::Model>, StoreError> {
    Ok(user::Entity::find()
        .filter(user::Column::TenantId.eq(tenant_id))
        .order_by_asc(user::Column::Email)
        .all(db)
        .await?)
}

/// Switches two-factor authentication to `method`, or off with `None`.
pub async fn set_two_factor_method(
    db: &impl ConnectionTrait,
    user_id: &str,
    method: Option<TwoFactorMethod>,
    now: i64,
) -> Result<(), StoreError> {
    user::Entity::update_many()
        .col_expr(user::Column::TwoFactorMethod, Expr::value(method.map(|m| m.as_str().to_string())))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Writes the user's row (only `updated_at`), to lock it for the rest of the transaction.
pub async fn touch(db: &impl ConnectionTrait, user_id: &str, now: i64) -> Result<(), StoreError> {
    user::Entity::update_many()
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn set_password_hash(
    db: &impl ConnectionTrait,
    user_id: &str,
    hash: String,
    now: i64,
) -> Result<(), StoreError> {
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Replaces the hash only while it is still `old`: a password changed meanwhile is kept.
pub async fn upgrade_password_hash(
    db: &impl ConnectionTrait,
    user_id: &str,
    old: &str,
    new: String,
) -> Result<(), StoreError> {
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(new))
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::PasswordHash.eq(old))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn set_phone_number(
    db: &impl ConnectionTrait,
    user_id: &str,
    phone: Option<&str>,
    now: i64,
) -> Result<(), StoreError> {
    user::Entity::update_many()
        .col_expr(user::Column::PhoneNumber, Expr::value(phone.map(str::to_string)))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Uses an email-verification link and marks the address verified, together (one conditional
/// UPDATE decides whether the link was still usable).
pub async fn verify_email_with_link(
    db: &super::Db,
    link_id: &str,
    user_id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    use sea_orm::TransactionTrait;
    let txn = db.begin().await?;
    if !super::email_links::consume(&txn, link_id, now).await? {
        txn.rollback().await?;
        return Ok(false);
    }
    set_email_verified(&txn, user_id, true, now).await?;
    txn.commit().await?;
    Ok(true)
}

/// What following an email-change link did.
#[derive(Debug, PartialEq, Eq)]
pub enum EmailChange {
    Changed,
    /// Used meanwhile, expired, or its person disabled meanwhile.
    LinkUnusable,
    /// Another account of the tenant took the address meanwhile (the unique index said so).
    AddressTaken,
}

/// Moves a person to the address an email-change link was sent to, all or nothing: the link is
/// used (one conditional UPDATE), the address changes and counts as verified (the link reached
/// it), their other links (sent to the old address) stop working, and `notice` (to the old
/// address) is queued.
pub async fn change_email_with_link(
    db: &Db,
    link_id: &str,
    user_id: &str,
    new: &Email,
    notice: Option<entity::email_outbox::Model>,
    now: i64,
) -> Result<EmailChange, StoreError> {
    let txn = db.begin().await?;
    if !super::email_links::consume(&txn, link_id, now).await? {
        txn.rollback().await?;
        return Ok(EmailChange::LinkUnusable);
    }
    let changed = user::Entity::update_many()
        .col_expr(user::Column::Email, Expr::value(new.as_str()))
        .col_expr(user::Column::EmailVerified, Expr::value(true))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::DisabledAt.is_null())
        .exec(&txn)
        .await
        .map_err(duplicate_as("a user with this email address"));
    match changed {
        Ok(result) if result.rows_affected == 1 => {}
        Ok(_) => {
            txn.rollback().await?;
            return Ok(EmailChange::LinkUnusable);
        }
        Err(StoreError::Duplicate(_)) => {
            txn.rollback().await?;
            return Ok(EmailChange::AddressTaken);
        }
        Err(err) => return Err(err),
    }
    super::email_links::revoke_others(&txn, user_id, link_id).await?;
    if let Some(notice) = notice {
        super::email_outbox::insert(&txn, notice).await?;
    }
    txn.commit().await?;
    Ok(EmailChange::Changed)
}

/// Remembers the page language of the person's sign-in, for emails no page asks for (an
/// administrator's change, an invitation sent again).
pub async fn set_locale(db: &impl ConnectionTrait, user_id: &str, lang: &str) -> Result<(), StoreError> {
    user::Entity::update_many()
        .col_expr(user::Column::Locale, Expr::value(lang))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Marks the address verified (or not): a link followed, or `user create --email-verified`.
pub async fn set_email_verified(
    db: &impl ConnectionTrait,
    user_id: &str,
    verified: bool,
    now: i64,
) -> Result<(), StoreError> {
    user::Entity::update_many()
        .col_expr(user::Column::EmailVerified, Expr::value(verified))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Accepts an invitation: uses the link (one conditional UPDATE), stores the password and marks
/// the address verified (the link reached it), together.
pub async fn accept_invitation(
    db: &super::Db,
    link_id: &str,
    user_id: &str,
    hash: String,
    now: i64,
) -> Result<bool, StoreError> {
    use sea_orm::TransactionTrait;
    let txn = db.begin().await?;
    if !super::email_links::consume(&txn, link_id, now).await? {
        txn.rollback().await?;
        return Ok(false);
    }
    set_password_hash(&txn, user_id, hash, now).await?;
    set_email_verified(&txn, user_id, true, now).await?;
    txn.commit().await?;
    Ok(true)
}

/// Which users a list keeps, by where they stand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StandingFilter<'a> {
    /// Not disabled, and not waiting to accept an invitation.
    Active {
        invitation: &'a str,
    },
    Disabled,
    /// Not disabled, address not verified, and an unused link of the purpose `invitation`.
    Invited {
        invitation: &'a str,
    },
}

/// An unused invitation link (of `purpose`) of the user in the outer query, for an unverified
/// address: the person has not accepted it yet.
fn pending_invitation(purpose: &str) -> sea_orm::sea_query::SimpleExpr {
    let link = Query::select()
        .expr(Expr::val(1))
        .from(email_link::Entity)
        .and_where(
            Expr::col((email_link::Entity, email_link::Column::UserId))
                .equals((user::Entity, user::Column::Id)),
        )
        .and_where(Expr::col((email_link::Entity, email_link::Column::Purpose)).eq(purpose))
        .and_where(Expr::col((email_link::Entity, email_link::Column::UsedAt)).is_null())
        .to_owned();
    Expr::exists(link).and(Expr::col((user::Entity, user::Column::EmailVerified)).eq(false))
}

/// Whether the user has not yet accepted an invitation (see `StandingFilter::Invited`).
pub async fn is_invited(db: &impl ConnectionTrait, user_id: &str, purpose: &str) -> Result<bool, StoreError> {
    Ok(user::Entity::find_by_id(user_id.to_string())
        .filter(pending_invitation(purpose))
        .one(db)
        .await?
        .is_some())
}

/// Of `user_ids`, those who have not yet accepted an invitation (one query for a page).
pub async fn invited_among(
    db: &impl ConnectionTrait,
    user_ids: &[&str],
    purpose: &str,
) -> Result<std::collections::HashSet<String>, StoreError> {
    if user_ids.is_empty() {
        return Ok(Default::default());
    }
    let rows = user::Entity::find()
        .filter(user::Column::Id.is_in(user_ids.iter().copied()))
        .filter(pending_invitation(purpose))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|u| u.id).collect())
}

/// One page of a tenant's users in email order, after `after`, whose address starts with
/// `prefix` (taken literally: `%` and `_` are not wildcards) and who stand as `standing` says.
pub async fn list_page(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    prefix: Option<&str>,
    standing: Option<StandingFilter<'_>>,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<user::Model>, StoreError> {
    let mut query = user::Entity::find().filter(user::Column::TenantId.eq(tenant_id));
    query = match standing {
        None => query,
        Some(StandingFilter::Disabled) => query.filter(user::Column::DisabledAt.is_not_null()),
        Some(StandingFilter::Active { invitation }) => {
            query.filter(user::Column::DisabledAt.is_null()).filter(pending_invitation(invitation).not())
        }
        Some(StandingFilter::Invited { invitation }) => {
            query.filter(user::Column::DisabledAt.is_null()).filter(pending_invitation(invitation))
        }
    };
    if let Some(prefix) = prefix {
        let escaped: String = prefix
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        query = query.filter(
            Expr::col((user::Entity, user::Column::Email))
                .like(LikeExpr::new(format!("{escaped}%")).escape('\\')),
        );
    }
    if let Some(after) = after {
        query = query.filter(user::Column::Email.gt(after));
    }
    Ok(query.order_by_asc(user::Column::Email).limit(limit).all(db).await?)
}

pub struct Profile<'a> {
    pub email: &'a str,
    pub name: Option<&'a str>,
    pub email_verified: bool,
}

/// Writes the name and address only while the row is as `old` read it (a compare-and-set on the
/// address, name and `updated_at`), with the audit event in the same transaction. False, with
/// nothing written, when it changed meanwhile; a taken address is `Duplicate`.
pub async fn update_profile(
    db: &Db,
    old: &user::Model,
    new: Profile<'_>,
    now: i64,
    audit: entity::audit_event::Model,
) -> Result<bool, StoreError> {
    let txn = db.begin().await?;
    let mut update = user::Entity::update_many()
        .col_expr(user::Column::Email, Expr::value(new.email))
        .col_expr(user::Column::Name, Expr::value(new.name.map(str::to_string)))
        .col_expr(user::Column::EmailVerified, Expr::value(new.email_verified))
        .col_expr(user::Column::UpdatedAt, Expr::value(Ord::max(now, old.updated_at + 1)))
        .filter(user::Column::Id.eq(old.id.as_str()))
        .filter(user::Column::TenantId.eq(old.tenant_id.as_str()))
        .filter(user::Column::Email.eq(old.email.as_str()))
        .filter(user::Column::UpdatedAt.eq(old.updated_at));
    update = match &old.name {
        Some(name) => update.filter(user::Column::Name.eq(name.as_str())),
        None => update.filter(user::Column::Name.is_null()),
    };
    let result = update.exec(&txn).await.map_err(duplicate_as("a user with this email address"))?;
    if result.rows_affected != 1 {
        txn.rollback().await?;
        return Ok(false);
    }
    super::audit_events::insert(&txn, audit).await?;
    txn.commit().await?;
    Ok(true)
}
