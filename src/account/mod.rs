//! Self-service for a signed-in person: two-factor settings, backup codes, trusted devices and the
//! password and the email address. Sensitive changes need a fresh sign-in (`is_fresh`), checked by the caller first.

pub mod email_change;
pub mod email_verification;
pub mod invitation;
pub mod password_reset;
mod signed_in;

pub use signed_in::{Freshness, signed_in};

use secrecy::SecretString;
use serde_json::json;

use crate::audit::{self, AuditEvent, Event};
use crate::authn::password::PasswordError;
use crate::authn::second_factor::FactorError;
use crate::authn::second_factor::Method;
use crate::authn::session::Session;
use crate::authn::throttle;
use crate::authn::totp_enrolment::{self, BackupCodeSet};
use crate::authn::webauthn::NewKey;
use crate::domain::auth_context::{ACR_2FA, rank};
use crate::email::Seen;
use crate::email::messages::{self, SecurityEvent};
use crate::state::AppState;
use crate::store::{self, StoreError};
use crate::tenants::Tenant;

/// How recent a sign-in must be for a sensitive change (NIST SP 800-63B re-authentication).
pub const FRESH_SECONDS: i64 = 600;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Factor(#[from] FactorError),
    #[error("the current password is not correct")]
    WrongPassword,
    #[error("too many wrong passwords: wait {0} seconds")]
    Throttled(i64),
    #[error(transparent)]
    Password(#[from] PasswordError),
}

/// A sign-in recent enough, and with the user's second factor when they have one.
pub fn is_fresh(session: &Session, user: &entity::user::Model, now: i64) -> bool {
    // The password itself must be recent: a step-up proves only the second factor.
    let recent = now - session.row.password_at <= FRESH_SECONDS;
    let strong_enough = user.two_factor_method.is_none() || session.auth_context().rank() >= rank(ACR_2FA);
    recent && strong_enough
}

async fn record(
    state: &AppState,
    tenant: &Tenant,
    user_id: &str,
    event: Event,
    detail: serde_json::Value,
    ip: &str,
    now: i64,
) -> Result<(), StoreError> {
    audit::record(
        &state.db,
        AuditEvent { tenant_id: Some(tenant.id()), user_id: Some(user_id), event, detail, ip: Some(ip) },
        now,
    )
    .await
}

/// The first backup codes to store with a change of method, when a set was made.
fn first_backup_codes<'a>(
    tenant: &'a Tenant,
    codes: Option<&'a BackupCodeSet>,
) -> Option<store::two_factor::FirstBackupCodes<'a>> {
    codes.map(|set| store::two_factor::FirstBackupCodes { tenant_id: tenant.id(), hashes: &set.hashes })
}

/// Switches two-factor authentication off: the app, security keys, backup codes, trusted
/// devices and offline refresh tokens go.
pub async fn switch_off_two_factor(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
    ip: &str,
    seen: Seen<'_>,
    now: i64,
) -> Result<(), AccountError> {
    let notice =
        messages::notice_row(state, tenant, user, seen.notice(SecurityEvent::TwoFactorDisabled, now)).await;
    store::two_factor::switch_off_notifying(&state.db, &user.id, notice.clone(), now).await?;
    messages::sent_with_change(state, notice);
    record(
        state,
        tenant,
        &user.id,
        Event::TwoFactorDisabled,
        json!({ "method": user.two_factor_method }),
        ip,
        now,
    )
    .await?;
    Ok(())
}

pub async fn regenerate_backup_codes(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
    ip: &str,
    seen: Seen<'_>,
    now: i64,
) -> Result<Vec<String>, AccountError> {
    let notice =
        messages::notice_row(state, tenant, user, seen.notice(SecurityEvent::BackupCodesRegenerated, now))
            .await;
    let codes = totp_enrolment::new_backup_codes(state, tenant, &user.id, notice, now).await?;
    record(state, tenant, &user.id, Event::BackupCodesRegenerated, json!({ "count": codes.len() }), ip, now)
        .await?;
    Ok(codes)
}

pub async fn forget_device(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
    device_id: &str,
    ip: &str,
    now: i64,
) -> Result<bool, AccountError> {
    let forgotten = store::trusted_devices::forget(&state.db, &user.id, device_id).await?;
    if forgotten {
        record(state, tenant, &user.id, Event::DeviceForgotten, json!({ "device": device_id }), ip, now)
            .await?;
    }
    Ok(forgotten)
}

pub async fn forget_all_devices(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
    ip: &str,
    now: i64,
) -> Result<u64, AccountError> {
    let count = store::trusted_devices::forget_all(&state.db, &user.id).await?;
    record(state, tenant, &user.id, Event::DeviceForgottenAll, json!({ "count": count }), ip, now).await?;
    Ok(count)
}

pub struct PasswordChange {
    pub current: SecretString,
    pub new: SecretString,
}

/// Changes the password after checking the current one; other sessions end, trusted devices are
/// forgotten and offline refresh tokens end (someone who knew the old password must not stay in).
#[allow(clippy::too_many_arguments)]
pub async fn change_password(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
    session: &Session,
    change: PasswordChange,
    ip: &str,
    seen: Seen<'_>,
    now: i64,
) -> Result<(), AccountError> {
    let PasswordChange { current, new } = change;
    // The same delays as the sign-in page: a stolen session must not brute-force the password.
    let email = crate::domain::Email::parse(&user.email)
        .map_err(|e| AccountError::Store(StoreError::Corrupt(e.0)))?;
    // The session proves who this is: its tries are delayed on a counter of their own, and the
    // account's cap (which guesses from elsewhere fill) does not keep the owner from the change.
    let own = format!("session-user:{}:{}", tenant.id(), user.id);
    let keys = throttle::ThrottleKeys::new(tenant.id(), &email, ip, Some(own));
    if let Some(seconds) =
        throttle::take_password_try(&state.db, &state.settings.throttle, &keys, now).await?
    {
        return Err(AccountError::Throttled(seconds));
    }
    if !state.passwords.verify(current, Some(user.password_hash.clone())).await {
        throttle::record_wrong_password(&state.db, &state.settings.throttle, &keys, now).await?;
        record(
            state,
            tenant,
            &user.id,
            Event::PasswordChangeFailed,
            json!({ "reason": "wrong_current_password" }),
            ip,
            now,
        )
        .await?;
        return Err(AccountError::WrongPassword);
    }
    throttle::record_success(&state.db, &keys).await?;
    let hash = state.passwords.hash(new).await?;
    let notice =
        messages::notice_row(state, tenant, user, seen.notice(SecurityEvent::PasswordChanged, now)).await;
    store::passwords::change(&state.db, &user.id, hash, notice.clone(), now).await?;
    messages::sent_with_change(state, notice);
    // The other sessions end as at logout: their refresh tokens go, their apps are told.
    for other in store::sessions::list_for_user(&state.db, &user.id).await? {
        if other.id != session.row.id {
            crate::oidc::logout::end_session(state, tenant, &Session { row: other }, ip, now).await?;
        }
    }
    record(state, tenant, &user.id, Event::PasswordChanged, json!({}), ip, now).await?;
    Ok(())
}

/// Makes a confirmed phone number the user's second factor. When two-factor authentication was
/// off, returns the first set of backup codes (shown once).
pub async fn enable_sms(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
    phone_e164: &str,
    ip: &str,
    seen: Seen<'_>,
    now: i64,
) -> Result<Option<Vec<String>>, AccountError> {
    let was_on = user.two_factor_method.is_some();
    let codes = if was_on { None } else { Some(totp_enrolment::new_backup_code_set(state, &user.id)) };
    let told = if user.two_factor_method == Some(Method::Sms) {
        SecurityEvent::TwoFactorDeviceChanged
    } else {
        SecurityEvent::TwoFactorMethodChanged
    };
    let notice = messages::notice_row(state, tenant, user, seen.notice(told, now)).await;
    store::two_factor::switch_to_sms(
        &state.db,
        &user.id,
        phone_e164,
        Method::Sms,
        first_backup_codes(tenant, codes.as_ref()),
        notice.clone(),
        now,
    )
    .await?;
    messages::sent_with_change(state, notice);
    let event = match user.two_factor_method {
        None => Event::TwoFactorEnabled,
        Some(Method::Sms) => Event::TwoFactorPhoneChanged,
        Some(_) => Event::TwoFactorMethodChanged,
    };
    record(state, tenant, &user.id, event, json!({ "method": Method::Sms.as_str() }), ip, now).await?;
    Ok(codes.map(|set| set.codes))
}

/// Adds a verified security key. It becomes the person's method: when two-factor authentication
/// was off, the first backup codes come back (shown once); when another method was on, that
/// method stops working.
#[allow(clippy::too_many_arguments)]
pub async fn add_security_key(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
    key: NewKey,
    name: &str,
    ip: &str,
    seen: Seen<'_>,
    now: i64,
) -> Result<Option<Vec<String>>, AccountError> {
    let was = user.two_factor_method;
    let row = entity::security_key::Model {
        id: uuid::Uuid::new_v4().to_string(),
        tenant_id: tenant.id().to_string(),
        user_id: user.id.clone(),
        credential_id: key.credential_id,
        name: name.to_string(),
        credential: key.credential,
        counter: 0,
        created_at: now,
        last_used_at: None,
    };
    let key_id = row.id.clone();
    let new_method = (was != Some(Method::SecurityKey)).then_some(Method::SecurityKey);
    let codes = match was {
        None => Some(totp_enrolment::new_backup_code_set(state, &user.id)),
        Some(_) => None,
    };
    let notice =
        messages::notice_row(state, tenant, user, seen.notice(SecurityEvent::SecurityKeyAdded, now)).await;
    store::two_factor::add_security_key(
        &state.db,
        row,
        new_method,
        first_backup_codes(tenant, codes.as_ref()),
        notice.clone(),
        now,
    )
    .await?;
    messages::sent_with_change(state, notice);
    record(state, tenant, &user.id, Event::SecurityKeyAdded, json!({ "key": key_id, "name": name }), ip, now)
        .await?;
    let event = match was {
        None => Some(Event::TwoFactorEnabled),
        Some(Method::SecurityKey) => None,
        Some(_) => Some(Event::TwoFactorMethodChanged),
    };
    if let Some(event) = event {
        record(state, tenant, &user.id, event, json!({ "method": Method::SecurityKey.as_str() }), ip, now)
            .await?;
    }
    Ok(codes.map(|set| set.codes))
}

#[derive(Debug, PartialEq, Eq)]
pub enum KeyRemoval {
    Removed,
    /// The last key of someone whose method is security keys: switch off or change method instead.
    LastKey,
    NotFound,
}

pub async fn remove_security_key(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
    key_id: &str,
    ip: &str,
    seen: Seen<'_>,
    now: i64,
) -> Result<KeyRemoval, AccountError> {
    // Someone whose method is security keys keeps their last one (the store serialises removals).
    let last_key_stays = user.two_factor_method == Some(Method::SecurityKey);
    let notice =
        messages::notice_row(state, tenant, user, seen.notice(SecurityEvent::SecurityKeyRemoved, now)).await;
    let removal = store::two_factor::remove_security_key(
        &state.db,
        &user.id,
        key_id,
        last_key_stays,
        notice.clone(),
        now,
    )
    .await?;
    let key = match removal {
        store::two_factor::KeyRemoval::Removed(key) => {
            messages::sent_with_change(state, notice);
            key
        }
        store::two_factor::KeyRemoval::LastKey => return Ok(KeyRemoval::LastKey),
        store::two_factor::KeyRemoval::NotFound => return Ok(KeyRemoval::NotFound),
    };
    record(
        state,
        tenant,
        &user.id,
        Event::SecurityKeyRemoved,
        json!({ "key": key_id, "name": key.name }),
        ip,
        now,
    )
    .await?;
    Ok(KeyRemoval::Removed)
}

/// A registration the browser answered but that did not verify (wrong origin, bad signature,
/// expired ceremony): worth a line in the audit log.
pub async fn record_key_registration_refused(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
    reason: &str,
    ip: &str,
    now: i64,
) -> Result<(), AccountError> {
    record(state, tenant, &user.id, Event::SecurityKeyRegisterFailed, json!({ "reason": reason }), ip, now)
        .await?;
    Ok(())
}
