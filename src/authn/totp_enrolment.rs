//! Setting up an authenticator app, from the account pages or during a forced enrolment: a pending
//! seed is shown (QR code, setup key, otpauth URI) and becomes active when a first code matches.
//! Until then an existing app keeps working ("Change app or device").

use base64::Engine;
use qrcode::QrCode;
use qrcode::render::svg;
use serde_json::json;

use crate::audit::{self, AuditEvent, Event};
use crate::authn::backup_codes;
use crate::authn::second_factor::{FactorError, Method, check_totp, open_seed};
use crate::authn::totp;
use crate::email::messages::{self, SecurityEvent};
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

/// What the setup page shows.
pub struct Setup {
    pub setup_key: String,
    pub otpauth_uri: String,
    /// `data:image/svg+xml;base64,...`, for an `<img alt="QR code">`.
    pub qr_data_uri: String,
}

/// The user's pending seed (made now if there is none), ready to show. The account page's
/// setup calls this when shown; a sign-in prepares the seed when it enters enrolment.
pub async fn begin(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
    now: i64,
) -> Result<Setup, FactorError> {
    let seed = prepare(state, tenant, user, now).await?;
    show(tenant, user, &seed)
}

/// Makes a pending seed unless the user has one already (one pending setup per person, shared by
/// the account page and a sign-in's enrolment), and returns it.
pub async fn prepare(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
    now: i64,
) -> Result<totp::Seed, FactorError> {
    let pending =
        store::totp_credentials::find_with_status(&state.db, &user.id, store::totp_credentials::PENDING)
            .await?;
    if let Some(credential) = pending {
        return open_seed(state, &credential);
    }
    let seed = totp::generate_seed();
    let id = uuid::Uuid::new_v4().to_string();
    use secrecy::ExposeSecret;
    let sealed = state
        .keys
        .master()
        .seal(seed.expose_secret(), &id)
        .map_err(|e| FactorError::Unusable(e.to_string()))?;
    store::totp_credentials::insert(
        &state.db,
        entity::totp_credential::Model {
            id,
            tenant_id: tenant.id().to_string(),
            user_id: user.id.clone(),
            secret_sealed: sealed,
            status: store::totp_credentials::PENDING.to_string(),
            last_used_step: None,
            created_at: now,
            confirmed_at: None,
        },
    )
    .await?;
    Ok(seed)
}

/// The pending seed ready to show, without making one.
pub async fn pending_setup(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
) -> Result<Option<Setup>, FactorError> {
    let pending =
        store::totp_credentials::find_with_status(&state.db, &user.id, store::totp_credentials::PENDING)
            .await?;
    match pending {
        Some(credential) => Ok(Some(show(tenant, user, &open_seed(state, &credential)?)?)),
        None => Ok(None),
    }
}

/// QR code, setup key and otpauth URI of a seed.
fn show(tenant: &Tenant, user: &entity::user::Model, seed: &totp::Seed) -> Result<Setup, FactorError> {
    let otpauth_uri = totp::otpauth_uri(seed, &tenant.row.display_name, &user.email);
    let qr = QrCode::new(otpauth_uri.as_bytes()).map_err(|e| FactorError::Unusable(e.to_string()))?;
    let svg = qr.render::<svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build();
    let qr_data_uri = format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg.as_bytes())
    );
    Ok(Setup { setup_key: totp::setup_key(seed), otpauth_uri, qr_data_uri })
}

/// Confirms the pending seed with a first code. On success the app is the user's method; when
/// two-factor authentication was off, a first set of backup codes is returned to show once.
pub async fn confirm(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
    code: &str,
    ip: &str,
    seen: crate::email::Seen<'_>,
    now: i64,
) -> Result<Option<Vec<String>>, FactorError> {
    let Some(pending) =
        store::totp_credentials::find_with_status(&state.db, &user.id, store::totp_credentials::PENDING)
            .await?
    else {
        return Ok(None);
    };
    if !check_totp(state, &pending, code, now).await? {
        return Ok(None);
    }
    let was_on = user.two_factor_method.is_some();
    let codes = if was_on { None } else { Some(new_backup_code_set(state, &user.id)) };
    let first_backup_codes = codes
        .as_ref()
        .map(|set| store::two_factor::FirstBackupCodes { tenant_id: tenant.id(), hashes: &set.hashes });
    // Someone who had the app gets a new one; anyone else gets (or moves to) a method.
    let told = if user.two_factor_method == Some(Method::Totp) {
        SecurityEvent::TwoFactorDeviceChanged
    } else {
        SecurityEvent::TwoFactorMethodChanged
    };
    let notice = messages::notice_row(state, tenant, user, seen.notice(told, now)).await;
    store::two_factor::switch_to_app(
        &state.db,
        &user.id,
        &pending.id,
        Method::Totp,
        first_backup_codes,
        notice.clone(),
        now,
    )
    .await?;
    messages::sent_with_change(state, notice);
    let event = AuditEvent {
        tenant_id: Some(tenant.id()),
        user_id: Some(&user.id),
        event: if was_on { Event::TwoFactorAppChanged } else { Event::TwoFactorEnabled },
        detail: json!({ "method": Method::Totp.as_str() }),
        ip: Some(ip),
    };
    audit::record(&state.db, event, now).await?;
    Ok(Some(codes.map(|set| set.codes).unwrap_or_default()))
}

/// Replaces the user's backup codes with a new set and returns it (shown once).
pub async fn new_backup_codes(
    state: &AppState,
    tenant: &Tenant,
    user_id: &str,
    notice: Option<entity::email_outbox::Model>,
    now: i64,
) -> Result<Vec<String>, FactorError> {
    let set = new_backup_code_set(state, user_id);
    store::backup_codes::replace(&state.db, tenant.id(), user_id, &set.hashes, notice.clone(), now).await?;
    messages::sent_with_change(state, notice);
    Ok(set.codes)
}

/// A new set of backup codes: `codes` to show once, `hashes` to store.
pub struct BackupCodeSet {
    pub codes: Vec<String>,
    pub hashes: Vec<String>,
}

/// Generates a set; the caller stores its hashes with the change it belongs to.
pub fn new_backup_code_set(state: &AppState, user_id: &str) -> BackupCodeSet {
    let codes = backup_codes::generate_set();
    let pepper = state.keys.backup_code_pepper();
    let hashes: Vec<String> = codes
        .iter()
        .filter_map(|code| backup_codes::normalize(code))
        .map(|normalized| backup_codes::hash(pepper, user_id, &normalized))
        .collect();
    BackupCodeSet { codes, hashes }
}
