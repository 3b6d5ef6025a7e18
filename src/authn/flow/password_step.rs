//! The password step, and where it leads: straight on, to the second factor, or to enrolment.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::completion;
use super::next_stage::{self, AfterFirstFactor};
use super::{FlowError, LoginAttempt, Refusal, Stage, StepOutcome, Visitor};
use crate::audit::{self, AuditEvent, Event};
use crate::authn::throttle::{self, ThrottleKeys};
use crate::authn::{known_device, trusted_device};
use crate::domain::AuthContext;
use crate::domain::Email;
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

pub struct PasswordForm {
    pub email: String,
    pub password: SecretString,
    pub csrf_token: String,
}

pub async fn submit(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    form: PasswordForm,
    visitor: &Visitor<'_>,
    now: i64,
) -> Result<StepOutcome, FlowError> {
    let refuse = |refusal| Ok(StepOutcome::Refused(refusal));
    if attempt.stage != Stage::Password {
        // The form sent again (a reload after a slow answer, or Back): the password was proven in
        // this attempt, so go on to where it stands now.
        if attempt.password_ok && attempt.csrf_matches(&form.csrf_token) {
            return Ok(StepOutcome::NextStage);
        }
        return Err(FlowError::WrongStage);
    }
    if !attempt.csrf_matches(&form.csrf_token) {
        return refuse(Refusal::FormExpired);
    }
    super::keep(state, attempt).await?;
    let Ok(email) = Email::parse(&form.email) else {
        return refuse(Refusal::WrongPassword);
    };
    if form.password.expose_secret().is_empty() {
        return refuse(Refusal::MissingFields);
    }

    let user = store::users::find_by_email(&state.db, tenant.id(), &email).await?;
    let device = user
        .as_ref()
        .and_then(|user| known_device::recognise(state, tenant.id(), &user.id, visitor.known_device, now));
    let keys = ThrottleKeys::new(tenant.id(), &email, visitor.ip, device);
    if let Some(seconds) =
        throttle::take_password_try(&state.db, &state.settings.throttle, &keys, now).await?
    {
        state.metrics.login("throttled");
        return refuse(Refusal::PasswordThrottled { seconds });
    }
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    let typed = form.password.clone();
    let verified = state.passwords.verify(form.password, stored_hash).await;
    let user = match (verified, user) {
        (true, Some(user)) if user.disabled_at.is_none() => user,
        // The account's counters counted the try when it was taken; the address counts it now.
        // A disabled person gets the same answer, counted the same way, whatever they typed.
        (_, user) => {
            throttle::record_wrong_password(&state.db, &state.settings.throttle, &keys, now).await?;
            let mut detail = json!({ "known_account": user.is_some() });
            if user.as_ref().is_some_and(|u| u.disabled_at.is_some()) {
                detail["disabled"] = json!(true);
            }
            let event = AuditEvent {
                tenant_id: Some(tenant.id()),
                user_id: user.as_ref().map(|u| u.id.as_str()),
                event: Event::LoginPasswordFailed,
                detail,
                ip: Some(visitor.ip),
            };
            audit::record(&state.db, event, now).await?;
            state.metrics.login("password_failed");
            return refuse(Refusal::WrongPassword);
        }
    };
    throttle::record_success(&state.db, &keys).await?;
    upgrade_hash(state, &user, typed).await?;
    store::attempts::mark_password_ok(&state.db, &attempt.id_hash).await?;
    let attempt = LoginAttempt { password_ok: true, ..attempt.clone() };
    after_first_factor(state, tenant, &attempt, &user, visitor, now).await
}

/// An imported hash with other (often heavier) parameters is replaced by one of ours at the first
/// sign-in, so it is not recomputed at its cost every time. A failed rehash keeps the old hash.
async fn upgrade_hash(
    state: &AppState,
    user: &entity::user::Model,
    typed: SecretString,
) -> Result<(), FlowError> {
    match state.passwords.upgrade(typed, &user.password_hash).await {
        None => {}
        Some(Ok(new)) => {
            store::users::upgrade_password_hash(&state.db, &user.id, &user.password_hash, new).await?
        }
        Some(Err(e)) => {
            tracing::warn!(error = %e, "rehashing an imported password failed; the old hash stays")
        }
    }
    Ok(())
}

/// The password is proven: decide what comes next.
pub async fn after_first_factor(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    user: &entity::user::Model,
    visitor: &Visitor<'_>,
    now: i64,
) -> Result<StepOutcome, FlowError> {
    let stage = match next_stage::choose(tenant, &attempt.purpose, user, false) {
        AfterFirstFactor::Done => {
            let context = AuthContext::password();
            let finished =
                completion::finish(state, tenant, attempt, &user.id, &context, visitor, now).await?;
            return Ok(StepOutcome::Finished(finished));
        }
        AfterFirstFactor::SecondFactor => Stage::SecondFactor,
        AfterFirstFactor::Enrol => Stage::Enrol,
    };
    // A remembered browser stands in for the second factor, unless only a key will do or the
    // client wants a real one.
    if stage == Stage::SecondFactor
        && !attempt.purpose.demands_security_key()
        && attempt.purpose.allows_trusted_device()
        && trusted_device::recognise(state, tenant, &user.id, visitor.trusted_device, now).await?
    {
        let context = AuthContext::password_on_trusted_device();
        let finished = completion::finish(state, tenant, attempt, &user.id, &context, visitor, now).await?;
        return Ok(StepOutcome::Finished(finished));
    }
    next_stage::enter(state, tenant, attempt, stage, user, visitor, now).await?;
    Ok(StepOutcome::NextStage)
}
