//! An administrator's changes to a person (`admin::user_lifecycle`), each in one transaction with
//! everything it ends and its audit event: signing them out everywhere, resetting their second
//! factor, disabling and enabling them, and erasing them.

use entity::{
    access_token, audit_event, authorization_code, backup_code, consent, email_link, email_outbox,
    login_attempt, login_throttle, logout_delivery, refresh_token, security_key, session, session_client,
    sms_code, sms_send, totp_credential, trusted_device, user, webauthn_ceremony,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};

use super::{Db, StoreError, audit_events, logout_deliveries};

/// What ending every sign-in of a person ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ended {
    pub sessions: u64,
    pub refresh_tokens: u64,
    pub access_tokens: u64,
}

/// Ends every session of the user, revokes every refresh token (offline ones too) and access
/// token (opaque and JWT: both are checked by their hash), drops unredeemed authorization codes,
/// and queues the back-channel logout deliveries (`deliveries`, made by the caller from the
/// sessions' clients).
async fn end_sign_ins(
    txn: &DatabaseTransaction,
    user_id: &str,
    deliveries: Vec<logout_delivery::Model>,
    now: i64,
) -> Result<Ended, StoreError> {
    let sessions =
        session::Entity::delete_many().filter(session::Column::UserId.eq(user_id)).exec(txn).await?;
    session_client::Entity::delete_many()
        .filter(session_client::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    let refresh_tokens = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::UserId.eq(user_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(txn)
        .await?;
    let access_tokens = super::token_revocations::revoke_access_tokens_where(
        txn,
        access_token::Column::UserId.eq(user_id),
        now,
    )
    .await?;
    authorization_code::Entity::delete_many()
        .filter(authorization_code::Column::UserId.eq(user_id))
        .filter(authorization_code::Column::ConsumedAt.is_null())
        .exec(txn)
        .await?;
    login_attempt::Entity::delete_many().filter(login_attempt::Column::UserId.eq(user_id)).exec(txn).await?;
    for delivery in deliveries {
        logout_deliveries::insert(txn, delivery).await?;
    }
    Ok(Ended {
        sessions: sessions.rows_affected,
        refresh_tokens: refresh_tokens.rows_affected,
        access_tokens,
    })
}

/// Ends every sign-in of the user (see `end_sign_ins`) and records `audit`.
pub async fn sign_out(
    db: &Db,
    user_id: &str,
    deliveries: Vec<logout_delivery::Model>,
    audit: audit_event::Model,
    now: i64,
) -> Result<Ended, StoreError> {
    let txn = db.begin().await?;
    let ended = end_sign_ins(&txn, user_id, deliveries, now).await?;
    audit_events::insert(&txn, audit).await?;
    txn.commit().await?;
    super::token_revocations::committed();
    Ok(ended)
}

/// Ends one session of the user (by its public `sid`) as their own logout would: the session,
/// the record of the apps it signed in to, its refresh tokens (offline ones survive, as at
/// logout) and the access tokens they issued; queues `deliveries` and records `audit`. `None`,
/// with nothing written, when the user has no such session.
pub async fn end_session(
    db: &Db,
    user_id: &str,
    sid: &str,
    deliveries: Vec<logout_delivery::Model>,
    audit: audit_event::Model,
    now: i64,
) -> Result<Option<Ended>, StoreError> {
    let txn = db.begin().await?;
    let sessions = session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::Sid.eq(sid))
        .exec(&txn)
        .await?;
    if sessions.rows_affected == 0 {
        return Ok(None);
    }
    session_client::Entity::delete_many().filter(session_client::Column::Sid.eq(sid)).exec(&txn).await?;
    let mut ended = Ended { sessions: sessions.rows_affected, ..Ended::default() };
    for family in super::refresh_tokens::session_families(&txn, sid).await? {
        ended.refresh_tokens += super::refresh_tokens::revoke_family(&txn, &family, now).await?;
        ended.access_tokens += super::access_tokens::revoke_family(&txn, &family, now).await?;
    }
    for delivery in deliveries {
        logout_deliveries::insert(&txn, delivery).await?;
    }
    audit_events::insert(&txn, audit).await?;
    txn.commit().await?;
    super::token_revocations::committed();
    Ok(Some(ended))
}

/// Removes every factor of the user (authenticator app, phone number, security keys and
/// passkeys, pending codes and ceremonies), their backup codes and trusted devices, switches
/// two-factor authentication off and ends every sign-in; records `audit`.
pub async fn reset_two_factor(
    db: &Db,
    user_id: &str,
    deliveries: Vec<logout_delivery::Model>,
    audit: audit_event::Model,
    notice: Option<email_outbox::Model>,
    now: i64,
) -> Result<Ended, StoreError> {
    let txn = db.begin().await?;
    remove_factors(&txn, user_id).await?;
    user::Entity::update_many()
        .col_expr(user::Column::TwoFactorMethod, Expr::value(Option::<String>::None))
        .col_expr(user::Column::PhoneNumber, Expr::value(Option::<String>::None))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(user_id))
        .exec(&txn)
        .await?;
    let ended = end_sign_ins(&txn, user_id, deliveries, now).await?;
    audit_events::insert(&txn, audit).await?;
    if let Some(notice) = notice {
        super::email_outbox::insert(&txn, notice).await?;
    }
    txn.commit().await?;
    super::token_revocations::committed();
    Ok(ended)
}

async fn remove_factors(txn: &DatabaseTransaction, user_id: &str) -> Result<(), StoreError> {
    totp_credential::Entity::delete_many()
        .filter(totp_credential::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    security_key::Entity::delete_many().filter(security_key::Column::UserId.eq(user_id)).exec(txn).await?;
    backup_code::Entity::delete_many().filter(backup_code::Column::UserId.eq(user_id)).exec(txn).await?;
    trusted_device::Entity::delete_many()
        .filter(trusted_device::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    sms_code::Entity::delete_many().filter(sms_code::Column::UserId.eq(user_id)).exec(txn).await?;
    webauthn_ceremony::Entity::delete_many()
        .filter(webauthn_ceremony::Column::Owner.eq(user_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Disables the user (only when active: true if this call did it) and ends every sign-in;
/// records `audit` when it changed something.
///
/// `tokens_live_until`: when every access token issued until now will have expired; the person's
/// self-contained tokens are revoked as a whole until then (`token_revocations::record_user`).
pub async fn disable(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    deliveries: Vec<logout_delivery::Model>,
    audit: audit_event::Model,
    now: i64,
    tokens_live_until: i64,
) -> Result<Option<Ended>, StoreError> {
    let txn = db.begin().await?;
    let changed = user::Entity::update_many()
        .col_expr(user::Column::DisabledAt, Expr::value(now))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::DisabledAt.is_null())
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 {
        // Already disabled: nothing was written (the dropped transaction rolls back).
        return Ok(None);
    }
    let ended = end_sign_ins(&txn, user_id, deliveries, now).await?;
    super::token_revocations::record_user(&txn, tenant_id, user_id, now, tokens_live_until).await?;
    // A reset or invitation link must not set a disabled person's password either.
    email_link::Entity::delete_many().filter(email_link::Column::UserId.eq(user_id)).exec(&txn).await?;
    audit_events::insert(&txn, audit).await?;
    txn.commit().await?;
    super::token_revocations::committed();
    Ok(Some(ended))
}

/// Enables a disabled user; true if this call did it (and recorded `audit`).
pub async fn enable(db: &Db, user_id: &str, audit: audit_event::Model, now: i64) -> Result<bool, StoreError> {
    let txn = db.begin().await?;
    let changed = user::Entity::update_many()
        .col_expr(user::Column::DisabledAt, Expr::value(Option::<i64>::None))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::DisabledAt.is_not_null())
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 {
        return Ok(false);
    }
    // Nothing legitimate exists for a disabled person; a session or token made in the moment
    // between a sign-in's check and the disable's transaction would otherwise come back to life.
    end_sign_ins(&txn, user_id, Vec::new(), now).await?;
    audit_events::insert(&txn, audit).await?;
    txn.commit().await?;
    super::token_revocations::committed();
    Ok(true)
}

/// The person to erase: their row's keys and the throttle counters named after them.
pub struct Erasure<'a> {
    pub tenant_id: &'a str,
    pub user_id: &'a str,
    /// Their address: email still waiting in the outbox for it goes too.
    pub email: &'a str,
    /// Prefix of the password counters of their address (`account:<tenant>:<sha256(email)>`).
    pub account_throttle: &'a str,
    /// Counters keyed by their user id (`factor:...`, `device:...`, `session-user:...`).
    pub user_throttles: Vec<String>,
    /// Detail fields of their audit events that may hold personal data (a key's name, a browser).
    pub personal_detail_fields: &'a [&'a str],
}

/// Erases a person (GDPR art. 17): the user row and everything keyed to it, their throttle
/// counters; their earlier audit events keep only the pseudonymous user id (client address and
/// personal detail fields removed). Back-channel logouts are queued; `audit` is recorded. False
/// when there was no such user.
/// `tokens_live_until` as for `disable`.
pub async fn erase(
    db: &Db,
    erasure: Erasure<'_>,
    deliveries: Vec<logout_delivery::Model>,
    audit: audit_event::Model,
    now: i64,
    tokens_live_until: i64,
) -> Result<bool, StoreError> {
    let user_id = erasure.user_id;
    let txn = db.begin().await?;
    let gone = user::Entity::delete_many()
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::TenantId.eq(erasure.tenant_id))
        .exec(&txn)
        .await?;
    if gone.rows_affected != 1 {
        return Ok(false);
    }
    remove_factors(&txn, user_id).await?;
    end_sign_ins(&txn, user_id, deliveries, now).await?;
    super::token_revocations::record_user(&txn, erasure.tenant_id, user_id, now, tokens_live_until).await?;
    // Revoked above; the rows go too (they name the person).
    refresh_token::Entity::delete_many().filter(refresh_token::Column::UserId.eq(user_id)).exec(&txn).await?;
    access_token::Entity::delete_many().filter(access_token::Column::UserId.eq(user_id)).exec(&txn).await?;
    authorization_code::Entity::delete_many()
        .filter(authorization_code::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    consent::Entity::delete_many().filter(consent::Column::UserId.eq(user_id)).exec(&txn).await?;
    email_link::Entity::delete_many().filter(email_link::Column::UserId.eq(user_id)).exec(&txn).await?;
    email_outbox::Entity::delete_many()
        .filter(email_outbox::Column::TenantId.eq(erasure.tenant_id))
        .filter(email_outbox::Column::ToAddress.eq(erasure.email))
        .exec(&txn)
        .await?;
    // The tenant's daily count of text messages (a cost ceiling) keeps the sends, not the number.
    sms_send::Entity::update_many()
        .col_expr(sms_send::Column::PhoneNumber, Expr::value(""))
        .filter(sms_send::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    login_throttle::Entity::delete_many()
        .filter(
            login_throttle::Column::Key
                .eq(erasure.account_throttle)
                .or(login_throttle::Column::Key.starts_with(format!("{}:", erasure.account_throttle)))
                .or(login_throttle::Column::Key.is_in(erasure.user_throttles.iter().map(String::as_str)))
                .or(login_throttle::Column::Key
                    .starts_with(format!("device:{}:{}:", erasure.tenant_id, user_id))),
        )
        .exec(&txn)
        .await?;
    scrub_audit_events(&txn, user_id, erasure.personal_detail_fields).await?;
    audit_events::insert(&txn, audit).await?;
    txn.commit().await?;
    super::token_revocations::committed();
    Ok(true)
}

async fn scrub_audit_events(
    txn: &DatabaseTransaction,
    user_id: &str,
    fields: &[&str],
) -> Result<(), StoreError> {
    let rows = audit_event::Entity::find().filter(audit_event::Column::UserId.eq(user_id)).all(txn).await?;
    for row in rows {
        let mut detail: serde_json::Value = serde_json::from_str(&row.detail)
            .map_err(|e| StoreError::Corrupt(format!("audit event {} detail: {e}", row.id)))?;
        if let Some(object) = detail.as_object_mut() {
            for field in fields {
                object.remove(*field);
            }
        }
        let mut active: audit_event::ActiveModel = row.into();
        active.detail = sea_orm::Set(detail.to_string());
        active.ip = sea_orm::Set(None);
        active.update(txn).await?;
    }
    Ok(())
}

/// When the user last signed in (their newest `login.succeeded` event).
pub async fn last_sign_in(
    db: &impl ConnectionTrait,
    user_id: &str,
    event_name: &str,
) -> Result<Option<i64>, StoreError> {
    Ok(audit_event::Entity::find()
        .filter(audit_event::Column::UserId.eq(user_id))
        .filter(audit_event::Column::Event.eq(event_name))
        .order_by_desc(audit_event::Column::CreatedAt)
        .one(db)
        .await?
        .map(|row| row.created_at))
}
