//! Forced enrolment during a login: the tenant requires two-factor authentication (or the client
//! asked for it) and the user has none yet, so they set up an authenticator app before going on.

use super::second_factor_step::{passed, take_try, wrong_code};
use super::{Browser, FlowError, LoginAttempt, Notice, Stage};
use crate::account;
use crate::authn::sms;
use crate::authn::totp_enrolment::{self, Setup};
use crate::domain::AuthContext;
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

pub enum EnrolOutcome {
    /// Confirmed: show these backup codes once, then Continue finishes the attempt.
    Confirmed {
        backup_codes: Vec<String>,
    },
    Step(super::StepOutcome),
}

pub async fn setup(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    now: i64,
) -> Result<Setup, FlowError> {
    attempt.expect_stage(Stage::Enrol)?;
    let user = super::second_factor_step::load_user(state, tenant, attempt).await?;
    totp_enrolment::begin(state, tenant, &user, now).await.map_err(|e| FlowError::Corrupt(e.to_string()))
}

#[allow(clippy::too_many_arguments)]
pub async fn confirm(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    code: &str,
    csrf_token: &str,
    browser: &Browser<'_>,
    ip: &str,
    now: i64,
) -> Result<EnrolOutcome, FlowError> {
    let (user, tries) = match begin_confirmation(state, tenant, attempt, csrf_token, browser, now).await? {
        Ok(ready) => ready,
        Err(outcome) => return Ok(EnrolOutcome::Step(outcome)),
    };
    let confirmed = totp_enrolment::confirm(state, tenant, &user, code, ip, now)
        .await
        .map_err(|e| FlowError::Corrupt(e.to_string()))?;
    let Some(backup_codes) = confirmed else {
        let outcome =
            wrong_code(state, tenant, attempt, &user.id, browser, "enrolment_code", tries, ip, now).await?;
        return Ok(EnrolOutcome::Step(outcome));
    };
    passed(state, tenant, &user.id).await?;
    let notice = Notice { context: AuthContext::password_and_otp(), backup_codes_left: None };
    let notice = serde_json::to_string(&notice).map_err(|e| FlowError::Corrupt(e.to_string()))?;
    store::attempts::set_stage(&state.db, &attempt.id_hash, Stage::Notice.as_str(), &user.id, Some(notice))
        .await?;
    Ok(EnrolOutcome::Confirmed { backup_codes })
}

#[allow(clippy::too_many_arguments)]
/// Forced enrolment by text message: the code sent to `phone` was confirmed; text messages become
/// the method and the first backup codes are returned to show once.
pub async fn confirm_sms(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    code: &str,
    csrf_token: &str,
    browser: &Browser<'_>,
    ip: &str,
    now: i64,
) -> Result<EnrolOutcome, FlowError> {
    let (user, tries) = match begin_confirmation(state, tenant, attempt, csrf_token, browser, now).await? {
        Ok(ready) => ready,
        Err(outcome) => return Ok(EnrolOutcome::Step(outcome)),
    };
    let Some(phone) = sms::verify_code(state, &user.id, sms::PURPOSE_ENROL, code, None, now).await? else {
        let outcome =
            wrong_code(state, tenant, attempt, &user.id, browser, "enrolment_code", tries, ip, now).await?;
        return Ok(EnrolOutcome::Step(outcome));
    };
    passed(state, tenant, &user.id).await?;
    let codes = account::enable_sms(state, tenant, &user, &phone, ip, now)
        .await
        .map_err(|e| FlowError::Corrupt(e.to_string()))?
        .unwrap_or_default();
    let notice = Notice { context: AuthContext::password_and_sms(), backup_codes_left: None };
    let notice = serde_json::to_string(&notice).map_err(|e| FlowError::Corrupt(e.to_string()))?;
    store::attempts::set_stage(&state.db, &attempt.id_hash, Stage::Notice.as_str(), &user.id, Some(notice))
        .await?;
    Ok(EnrolOutcome::Confirmed { backup_codes: codes })
}

/// What both confirmations check first: the stage, the form's token, that the user still has no
/// factor (setup during a login never replaces one switched on meanwhile), and one code try.
async fn begin_confirmation(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    csrf_token: &str,
    browser: &Browser<'_>,
    now: i64,
) -> Result<Result<(entity::user::Model, i32), super::StepOutcome>, FlowError> {
    attempt.expect_stage(Stage::Enrol)?;
    if !attempt.csrf_matches(csrf_token) {
        return Ok(Err(super::StepOutcome::Retry { message_key: "login-form-expired", seconds: None }));
    }
    let user = super::second_factor_step::load_user(state, tenant, attempt).await?;
    if user.two_factor_method.is_some() {
        return Err(FlowError::AttemptGone);
    }
    match take_try(state, tenant, attempt, &user.id, browser, now).await? {
        Ok(tries) => Ok(Ok((user, tries))),
        Err(outcome) => Ok(Err(outcome)),
    }
}
