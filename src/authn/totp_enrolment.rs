//! Setting up an authenticator app, from the account pages or during a forced enrolment: a pending
//! seed is shown (QR code, setup key, otpauth URI) and becomes active when a first code matches.
//! Until then an existing app keeps working ("Change app or device").

use base64::Engine;
use qrcode::QrCode;
use qrcode::render::svg;
use serde_json::json;

use crate::audit::{self, AuditEvent};
use crate::authn::backup_codes;
use crate::authn::second_factor::{FactorError, Method, check_totp, open_seed};
use crate::authn::totp;
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
    // The app, the method and the first backup codes switch on together or not at all.
    use sea_orm::TransactionTrait;
    let txn = state.db.begin().await.map_err(store::StoreError::from)?;
    store::totp_credentials::activate(&txn, &user.id, &pending.id, now).await?;
    store::users::set_two_factor_method(&txn, &user.id, Some(Method::Totp.as_str()), now).await?;
    // Security keys stop working when the method changes away from them.
    store::security_keys::delete_for_user(&txn, &user.id).await?;
    let codes =
        if was_on { Vec::new() } else { store_new_backup_codes(state, &txn, tenant, &user.id, now).await? };
    txn.commit().await.map_err(store::StoreError::from)?;
    let event = AuditEvent {
        tenant_id: Some(tenant.id()),
        user_id: Some(&user.id),
        event: if was_on { "two_factor.app_changed" } else { "two_factor.enabled" },
        detail: json!({ "method": Method::Totp.as_str() }),
        ip: Some(ip),
    };
    audit::record(&state.db, event, now).await?;
    Ok(Some(codes))
}

/// Replaces the user's backup codes with a new set and returns it (shown once).
pub async fn new_backup_codes(
    state: &AppState,
    tenant: &Tenant,
    user_id: &str,
    now: i64,
) -> Result<Vec<String>, FactorError> {
    use sea_orm::TransactionTrait;
    let txn = state.db.begin().await.map_err(store::StoreError::from)?;
    let codes = store_new_backup_codes(state, &txn, tenant, user_id, now).await?;
    txn.commit().await.map_err(store::StoreError::from)?;
    Ok(codes)
}

/// Generates a set and replaces the stored one inside the caller's transaction.
pub async fn store_new_backup_codes(
    state: &AppState,
    db: &impl sea_orm::ConnectionTrait,
    tenant: &Tenant,
    user_id: &str,
    now: i64,
) -> Result<Vec<String>, FactorError> {
    let codes = backup_codes::generate_set();
    let pepper = state.keys.backup_code_pepper();
    let hashes: Vec<String> = codes
        .iter()
        .filter_map(|code| backup_codes::normalize(code))
        .map(|normalized| backup_codes::hash(pepper, user_id, &normalized))
        .collect();
    store::backup_codes::replace(db, tenant.id(), user_id, &hashes, now).await?;
    Ok(codes)
}
