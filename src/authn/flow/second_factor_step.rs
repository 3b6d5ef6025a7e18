//! The second-factor step of a login: a verification code from the user's method, or a backup
//! code. Five wrong codes end the attempt; the count lives in the database.

use serde_json::json;

use super::completion;
use super::next_stage;
use super::tries::{passed, take_try, wrong_code};
use super::{CodeFrom, Factor, FlowError, LoginAttempt, Notice, Refusal, Stage, StepOutcome, Visitor};
use crate::audit::{self, AuditEvent, Event};
use crate::authn::backup_codes;
use crate::authn::second_factor::{self, Method};
use crate::authn::sms::{self, SendOutcome};
use crate::authn::trusted_device;
use crate::authn::webauthn::{self, KeyUse, Refused};
use crate::domain::auth_context::AuthContext;
use crate::email::Seen;
use crate::email::messages::{self, SecurityEvent};
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

pub struct CodeForm {
    pub code: String,
    pub csrf_token: String,
    /// "Skip this step for one month on this device".
    pub remember_device: bool,
}

/// The browser's answer to a security-key challenge.
pub struct SecurityKeyForm<'a> {
    pub ceremony: &'a str,
    pub credential: &'a str,
    pub csrf_token: &'a str,
    pub remember_device: bool,
}

pub struct BackupCodeForm<'a> {
    pub code: &'a str,
    pub csrf_token: &'a str,
}

pub async fn load_user(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
) -> Result<entity::user::Model, FlowError> {
    store::users::find(&state.db, tenant.id(), attempt.user_id()?).await?.ok_or(FlowError::AttemptGone)
}

pub async fn submit_code(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    form: CodeForm,
    visitor: &Visitor<'_>,
    now: i64,
) -> Result<StepOutcome, FlowError> {
    attempt.expect_stage(Stage::SecondFactor)?;
    if !attempt.csrf_matches(&form.csrf_token) {
        return Ok(StepOutcome::Refused(Refusal::FormExpired));
    }
    if attempt.purpose.demands_security_key() {
        return Ok(StepOutcome::Refused(Refusal::SecurityKeyRequired));
    }
    let user = load_user(state, tenant, attempt).await?;
    let tries = match take_try(state, tenant, attempt, &user.id, visitor, now).await? {
        Ok(tries) => tries,
        Err(outcome) => return Ok(outcome),
    };
    let verified = second_factor::verify_code(state, &user, &form.code, now).await?;
    if !verified {
        let from = match user.two_factor_method {
            Some(Method::Sms) => CodeFrom::TextMessage,
            _ => CodeFrom::App,
        };
        return wrong_code(state, tenant, attempt, &user.id, Factor::Code(from), tries, visitor, now).await;
    }
    passed(state, tenant, &user.id).await?;
    let context = match user.two_factor_method {
        Some(Method::Sms) => AuthContext::password_and_sms(),
        _ => AuthContext::password_and_otp(),
    };
    finish_with_factor(state, tenant, attempt, &user.id, &context, form.remember_device, visitor, now).await
}

/// The security-key answer at the second-factor step (also the only way on when the client asked
/// for `phr`). A refused answer counts as a wrong code; a counter that went backwards is
/// audited as a possibly cloned key.
pub async fn submit_security_key(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    form: SecurityKeyForm<'_>,
    visitor: &Visitor<'_>,
    now: i64,
) -> Result<StepOutcome, FlowError> {
    attempt.expect_stage(Stage::SecondFactor)?;
    if !attempt.csrf_matches(form.csrf_token) {
        return Ok(StepOutcome::Refused(Refusal::FormExpired));
    }
    let user_id = attempt.user_id()?.to_string();
    let tries = match take_try(state, tenant, attempt, &user_id, visitor, now).await? {
        Ok(tries) => tries,
        Err(outcome) => return Ok(outcome),
    };
    let checked = webauthn::finish_second_factor(
        state,
        tenant,
        &attempt.id_hash,
        &user_id,
        form.ceremony,
        form.credential,
        now,
    )
    .await?;
    let key = match checked {
        Ok(key) => key,
        Err(refused) => {
            audit_key_refusal(state, tenant, &refused, visitor.ip, now).await?;
            return wrong_code(state, tenant, attempt, &user_id, Factor::SecurityKey, tries, visitor, now)
                .await;
        }
    };
    passed(state, tenant, &user_id).await?;
    audit_key_use(state, tenant, &key, visitor.ip, now).await?;
    let context = AuthContext::password_and_security_key(key.user_verified, key.hardware_bound);
    finish_with_factor(state, tenant, attempt, &user_id, &context, form.remember_device, visitor, now).await
}

/// A key whose signature counter did not move forward may have been copied: the security
/// officer must hear of it. Other refusals of a registered key are recorded against it too.
pub(super) async fn audit_key_refusal(
    state: &AppState,
    tenant: &Tenant,
    refused: &Refused,
    ip: &str,
    now: i64,
) -> Result<(), FlowError> {
    let Some((user_id, key_id)) = &refused.key else { return Ok(()) };
    let event = if refused.reason == webauthn::Refusal::CounterRegression {
        tracing::warn!(user = %user_id, key = %key_id, "security key counter went backwards: possibly cloned");
        Event::SecurityKeyCounterRegression
    } else {
        Event::SecurityKeyRefused
    };
    let audit = AuditEvent {
        tenant_id: Some(tenant.id()),
        user_id: Some(user_id),
        event,
        detail: json!({ "key": key_id, "reason": refused.reason.as_str() }),
        ip: Some(ip),
    };
    audit::record(&state.db, audit, now).await?;
    Ok(())
}

/// Which key signed someone in (the sign-in event itself names the methods).
pub(super) async fn audit_key_use(
    state: &AppState,
    tenant: &Tenant,
    key: &KeyUse,
    ip: &str,
    now: i64,
) -> Result<(), FlowError> {
    let event = AuditEvent {
        tenant_id: Some(tenant.id()),
        user_id: Some(&key.user_id),
        event: Event::SecurityKeyUsed,
        detail: json!({
            "key": key.key_id,
            "name": key.key_name,
            "user_verified": key.user_verified,
            "hardware_bound": key.hardware_bound,
        }),
        ip: Some(ip),
    };
    audit::record(&state.db, event, now).await?;
    Ok(())
}

/// The second factor is proven: remember the browser when asked, and finish.
#[allow(clippy::too_many_arguments)]
async fn finish_with_factor(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    user_id: &str,
    context: &AuthContext,
    remember_device: bool,
    visitor: &Visitor<'_>,
    now: i64,
) -> Result<StepOutcome, FlowError> {
    let device = if remember_device && attempt.purpose.allows_trusted_device() {
        let device = trusted_device::remember(state, tenant, user_id, visitor.user_agent, now).await?;
        if device.is_some() {
            let event = AuditEvent {
                tenant_id: Some(tenant.id()),
                user_id: Some(user_id),
                event: Event::DeviceRemembered,
                detail: json!({ "browser": trusted_device::browser_label(visitor.user_agent) }),
                ip: Some(visitor.ip),
            };
            audit::record(&state.db, event, now).await?;
            let seen = Seen { user_agent: Some(visitor.user_agent), lang: Some(visitor.lang) };
            messages::tell(state, tenant, user_id, seen.notice(SecurityEvent::DeviceRemembered, now)).await;
        }
        device
    } else {
        None
    };
    let mut finished = completion::finish(state, tenant, attempt, user_id, context, visitor, now).await?;
    finished.trusted_device = device;
    Ok(StepOutcome::Finished(finished))
}

pub async fn submit_backup_code(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    form: BackupCodeForm<'_>,
    visitor: &Visitor<'_>,
    now: i64,
) -> Result<StepOutcome, FlowError> {
    attempt.expect_stage(Stage::SecondFactor)?;
    let BackupCodeForm { code, csrf_token } = form;
    if !attempt.csrf_matches(csrf_token) {
        return Ok(StepOutcome::Refused(Refusal::FormExpired));
    }
    // A backup code is a code: it cannot stand in for the key a client insists on.
    if attempt.purpose.demands_security_key() {
        return Ok(StepOutcome::Refused(Refusal::SecurityKeyRequired));
    }
    let user_id = attempt.user_id()?.to_string();
    let tries = match take_try(state, tenant, attempt, &user_id, visitor, now).await? {
        Ok(tries) => tries,
        Err(outcome) => return Ok(outcome),
    };
    let used = match backup_codes::normalize(code) {
        Some(normalized) => {
            let hash = backup_codes::hash(state.keys.backup_code_pepper(), &user_id, &normalized);
            store::backup_codes::consume(&state.db, &user_id, &hash, now).await?
        }
        None => false,
    };
    if !used {
        return wrong_code(state, tenant, attempt, &user_id, Factor::BackupCode, tries, visitor, now).await;
    }
    passed(state, tenant, &user_id).await?;
    let left = store::backup_codes::remaining(&state.db, &user_id).await?;
    let event = AuditEvent {
        tenant_id: Some(tenant.id()),
        user_id: Some(&user_id),
        event: Event::BackupCodeUsed,
        detail: json!({ "remaining": left }),
        ip: Some(visitor.ip),
    };
    audit::record(&state.db, event, now).await?;
    let seen = Seen { user_agent: Some(visitor.user_agent), lang: Some(visitor.lang) };
    let used = SecurityEvent::BackupCodeUsed { remaining: left };
    messages::tell(state, tenant, &user_id, seen.notice(used, now)).await;
    let notice = Notice { context: AuthContext::password_and_otp(), backup_codes_left: Some(left) };
    store::attempts::set_stage(
        &state.db,
        &attempt.id_hash,
        Stage::Notice.as_str(),
        &user_id,
        Some(serde_json::to_string(&notice)?),
    )
    .await?;
    Ok(StepOutcome::NextStage)
}

/// What "Send a new code" did.
pub enum Resend {
    Sent(SendOutcome),
    /// The form's CSRF token is not the attempt's.
    FormExpired,
    /// This sign-in takes no text-message code (another method, or the client wants a key).
    NotByText,
}

/// "Did you not receive the code?": a new code within the sending limits.
pub async fn resend_code(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    csrf_token: &str,
    visitor: &Visitor<'_>,
    now: i64,
) -> Result<Resend, FlowError> {
    attempt.expect_stage(Stage::SecondFactor)?;
    if !attempt.csrf_matches(csrf_token) {
        return Ok(Resend::FormExpired);
    }
    let user = load_user(state, tenant, attempt).await?;
    if !next_stage::texts_codes(&attempt.purpose, &user) {
        return Ok(Resend::NotByText);
    }
    let Some(phone) = sms::user_phone(tenant, &user) else { return Ok(Resend::NotByText) };
    let outcome = sms::send_code(
        state,
        tenant,
        &user.id,
        &phone,
        sms::PURPOSE_LOGIN,
        visitor.lang,
        Some(visitor.ip),
        now,
    )
    .await?;
    Ok(Resend::Sent(outcome))
}
