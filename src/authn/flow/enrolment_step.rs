//! Forced enrolment during a login: the tenant requires two-factor authentication (or the client
//! asked for it) and the user has none yet, so they set up an authenticator app, or text
//! messages, before going on. Entering the stage made the app's pending seed (`next_stage`).

use super::tries::{passed, take_try, wrong_code};
use super::{CodeFrom, Factor, FlowError, LoginAttempt, Notice, Refusal, Stage, StepOutcome, Visitor};
use crate::account;
use crate::authn::sms::{self, SendOutcome};
use crate::authn::totp_enrolment::{self, Setup};
use crate::domain::PhoneNumber;
use crate::domain::auth_context::AuthContext;
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

pub enum EnrolOutcome {
    /// Confirmed: show these backup codes once, then Continue finishes the attempt.
    Confirmed {
        backup_codes: Vec<String>,
    },
    Step(StepOutcome),
}

/// The app's pending seed to show. `AttemptGone` when there is none any more (the person
/// finished a setup elsewhere meanwhile).
pub async fn setup(state: &AppState, tenant: &Tenant, attempt: &LoginAttempt) -> Result<Setup, FlowError> {
    attempt.expect_stage(Stage::Enrol)?;
    let user = super::second_factor_step::load_user(state, tenant, attempt).await?;
    totp_enrolment::pending_setup(state, tenant, &user).await?.ok_or(FlowError::AttemptGone)
}

pub async fn confirm(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    code: &str,
    csrf_token: &str,
    visitor: &Visitor<'_>,
    now: i64,
) -> Result<EnrolOutcome, FlowError> {
    let (user, tries) = match begin_confirmation(state, tenant, attempt, csrf_token, visitor, now).await? {
        Ok(ready) => ready,
        Err(outcome) => return Ok(EnrolOutcome::Step(outcome)),
    };
    let confirmed = totp_enrolment::confirm(
        state,
        tenant,
        &user,
        code,
        visitor.ip,
        crate::email::Seen { user_agent: Some(visitor.user_agent), lang: Some(visitor.lang) },
        now,
    )
    .await?;
    let Some(backup_codes) = confirmed else {
        let factor = Factor::EnrolmentCode(CodeFrom::App);
        let outcome = wrong_code(state, tenant, attempt, &user.id, factor, tries, visitor, now).await?;
        return Ok(EnrolOutcome::Step(outcome));
    };
    passed(state, tenant, &user.id).await?;
    to_notice(state, attempt, &user.id, AuthContext::password_and_otp()).await?;
    Ok(EnrolOutcome::Confirmed { backup_codes })
}

/// What sending the first code of a text-message enrolment did.
pub enum SmsEnrolment {
    Sent(SendOutcome),
    /// Not a mobile number of the tenant's region (or in international form).
    InvalidNumber,
    /// The form's CSRF token is not the attempt's.
    FormExpired,
}

/// "Use text messages instead": sends a code to the number the person typed, within the limits.
pub async fn send_sms_code(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    typed_phone: &str,
    csrf_token: &str,
    visitor: &Visitor<'_>,
    now: i64,
) -> Result<SmsEnrolment, FlowError> {
    attempt.expect_stage(Stage::Enrol)?;
    if !attempt.csrf_matches(csrf_token) {
        return Ok(SmsEnrolment::FormExpired);
    }
    let Ok(phone) = PhoneNumber::parse(typed_phone, &tenant.row.sms_region) else {
        return Ok(SmsEnrolment::InvalidNumber);
    };
    let user = super::second_factor_step::load_user(state, tenant, attempt).await?;
    let outcome = sms::send_code(
        state,
        tenant,
        &user.id,
        &phone,
        sms::PURPOSE_ENROL,
        visitor.lang,
        Some(visitor.ip),
        now,
    )
    .await?;
    Ok(SmsEnrolment::Sent(outcome))
}

/// Forced enrolment by text message: the code sent to `phone` was confirmed; text messages become
/// the method and the first backup codes are returned to show once.
pub async fn confirm_sms(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    code: &str,
    csrf_token: &str,
    visitor: &Visitor<'_>,
    now: i64,
) -> Result<EnrolOutcome, FlowError> {
    let (user, tries) = match begin_confirmation(state, tenant, attempt, csrf_token, visitor, now).await? {
        Ok(ready) => ready,
        Err(outcome) => return Ok(EnrolOutcome::Step(outcome)),
    };
    let Some(phone) = sms::verify_code(state, &user.id, sms::PURPOSE_ENROL, code, None, now).await? else {
        let factor = Factor::EnrolmentCode(CodeFrom::TextMessage);
        let outcome = wrong_code(state, tenant, attempt, &user.id, factor, tries, visitor, now).await?;
        return Ok(EnrolOutcome::Step(outcome));
    };
    passed(state, tenant, &user.id).await?;
    let codes = account::enable_sms(
        state,
        tenant,
        &user,
        &phone,
        visitor.ip,
        crate::email::Seen { user_agent: Some(visitor.user_agent), lang: Some(visitor.lang) },
        now,
    )
    .await?
    .unwrap_or_default();
    to_notice(state, attempt, &user.id, AuthContext::password_and_sms()).await?;
    Ok(EnrolOutcome::Confirmed { backup_codes: codes })
}

/// The masked number the pending enrolment code went to ("******78"), for the confirm page.
pub async fn pending_phone(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
) -> Result<String, FlowError> {
    let pending = store::sms::newest_code(&state.db, attempt.user_id()?, sms::PURPOSE_ENROL).await?;
    Ok(pending
        .and_then(|code| PhoneNumber::parse(&code.phone_number, &tenant.row.sms_region).ok())
        .map(|phone| phone.masked())
        .unwrap_or_default())
}

/// Set up: the notice stage shows the backup codes, and its Continue finishes with `context`.
async fn to_notice(
    state: &AppState,
    attempt: &LoginAttempt,
    user_id: &str,
    context: AuthContext,
) -> Result<(), FlowError> {
    let notice = serde_json::to_string(&Notice { context, backup_codes_left: None })?;
    store::attempts::set_stage(&state.db, &attempt.id_hash, Stage::Notice.as_str(), user_id, Some(notice))
        .await?;
    Ok(())
}

/// What both confirmations check first: the stage, the form's token, that the user still has no
/// factor (setup during a login never replaces one switched on meanwhile), and one code try.
async fn begin_confirmation(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    csrf_token: &str,
    visitor: &Visitor<'_>,
    now: i64,
) -> Result<Result<(entity::user::Model, i32), StepOutcome>, FlowError> {
    attempt.expect_stage(Stage::Enrol)?;
    if !attempt.csrf_matches(csrf_token) {
        return Ok(Err(StepOutcome::Refused(Refusal::FormExpired)));
    }
    let user = super::second_factor_step::load_user(state, tenant, attempt).await?;
    if user.two_factor_method.is_some() {
        return Err(FlowError::AttemptGone);
    }
    match take_try(state, tenant, attempt, &user.id, visitor, now).await? {
        Ok(tries) => Ok(Ok((user, tries))),
        Err(outcome) => Ok(Err(outcome)),
    }
}
