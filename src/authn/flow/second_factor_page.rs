//! What the second-factor page offers this person in this sign-in: a code form, a security key,
//! text messages, backup codes, "remember this device". Read only: the code was sent when the
//! attempt entered the stage (`next_stage`), and a new one only by "send a new code".

use super::{FlowError, LoginAttempt, Stage, next_stage};
use crate::authn::second_factor::Method;
use crate::authn::sms::{self, SendOutcome};
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

pub struct SecondFactorView {
    /// A field for a code from the app or a text message (not when a key is the factor).
    pub code_form: bool,
    /// The person has keys to answer a challenge with.
    pub security_key: bool,
    /// A key is the factor but the person has none: say where to add one.
    pub key_missing: bool,
    /// Codes come by text message.
    pub sms: Option<SmsState>,
    /// Backup codes count (not when the client insists on a key).
    pub backup_allowed: bool,
    /// Offer "Skip this step ... on this device" (for the tenant's `trusted_device_days`).
    pub offer_remember: bool,
}

pub struct SmsState {
    /// The last two digits of the number, to recognise it by.
    pub last_two: String,
    /// Whether a code of this sign-in is on its way ("We sent ..." only when it is).
    pub sent: bool,
    /// When none is: why (a failed send, or the limit that holds it back now).
    pub not_sent: Option<SendOutcome>,
}

pub async fn view(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    now: i64,
) -> Result<SecondFactorView, FlowError> {
    attempt.expect_stage(Stage::SecondFactor)?;
    let user = super::second_factor_step::load_user(state, tenant, attempt).await?;
    // A client that insists on phishing-resistant sign-in gets a key or nothing.
    let demands_key = attempt.purpose.demands_security_key();
    let uses_key = demands_key || user.two_factor_method == Some(Method::SecurityKey);
    let has_key = uses_key && store::security_keys::count_for_user(&state.db, &user.id).await? > 0;
    let sms = if next_stage::texts_codes(&attempt.purpose, &user) {
        let phone = sms::user_phone(tenant, &user).ok_or(FlowError::NoPhoneNumber)?;
        let code = sms::sign_in_code(state, tenant, &user.id, &phone, attempt.created_at, now).await?;
        let sent = code == Some(SendOutcome::Sent);
        let not_sent = code.filter(|_| !sent);
        Some(SmsState { last_two: phone.last_two().to_string(), sent, not_sent })
    } else {
        None
    };
    Ok(SecondFactorView {
        code_form: !uses_key,
        security_key: has_key,
        key_missing: uses_key && !has_key,
        sms,
        backup_allowed: !demands_key,
        offer_remember: tenant.row.trusted_device_days > 0 && attempt.purpose.allows_trusted_device(),
    })
}
