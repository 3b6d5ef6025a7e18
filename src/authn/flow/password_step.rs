//! The password step, and where it leads: straight on, to the second factor, or to enrolment.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::completion;
use super::{FlowError, LoginAttempt, Stage, StepOutcome};
use crate::audit::{self, AuditEvent, Event};
use crate::authn::throttle::{self, ThrottleKeys};
use crate::authn::trusted_device;
use crate::domain::Email;
use crate::oidc::auth_context::AuthContext;
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
    device_token: Option<&str>,
    ip: &str,
    now: i64,
) -> Result<StepOutcome, FlowError> {
    attempt.expect_stage(Stage::Password)?;
    let retry = |message_key, seconds| Ok(StepOutcome::Retry { message_key, seconds });
    if !attempt.csrf_matches(&form.csrf_token) {
        return retry("login-form-expired", None);
    }
    let Ok(email) = Email::parse(&form.email) else {
        return retry("login-failed", None);
    };
    if form.password.expose_secret().is_empty() {
        return retry("login-missing-fields", None);
    }

    let keys = ThrottleKeys::new(tenant.id(), &email, ip);
    if let Some(seconds) = throttle::claim(&state.db, &state.settings.throttle, &keys.all(), now).await? {
        state.metrics.login("throttled");
        return retry("login-throttled", Some(seconds));
    }

    let user = store::users::find_by_email(&state.db, tenant.id(), &email).await?;
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    let verified = state.passwords.verify(form.password, stored_hash).await;
    let user = match (verified, user) {
        (true, Some(user)) => user,
        (_, user) => {
            throttle::record_failure(&state.db, &state.settings.throttle, &keys, now).await?;
            let event = AuditEvent {
                tenant_id: Some(tenant.id()),
                user_id: user.as_ref().map(|u| u.id.as_str()),
                event: Event::LoginPasswordFailed,
                detail: json!({ "known_account": user.is_some() }),
                ip: Some(ip),
            };
            audit::record(&state.db, event, now).await?;
            state.metrics.login("password_failed");
            return retry("login-failed", None);
        }
    };
    throttle::record_success(&state.db, &keys).await?;
    store::attempts::mark_password_ok(&state.db, &attempt.id_hash).await?;
    let attempt = LoginAttempt { password_ok: true, ..attempt.clone() };
    after_first_factor(state, tenant, &attempt, &user, device_token, ip, now).await
}

/// The password is proven: decide what comes next.
pub async fn after_first_factor(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    user: &entity::user::Model,
    device_token: Option<&str>,
    ip: &str,
    now: i64,
) -> Result<StepOutcome, FlowError> {
    if attempt.purpose.demands_security_key() {
        // Only a key will do (no trusted device, no code); the step's page says what to do when
        // the person has none yet.
        store::attempts::set_stage(&state.db, &attempt.id_hash, Stage::SecondFactor.as_str(), &user.id, None)
            .await?;
        return Ok(StepOutcome::NextStage { trusted_device: None });
    }
    if user.two_factor_method.is_some() {
        if attempt.purpose.allows_trusted_device()
            && trusted_device::recognise(state, tenant, &user.id, device_token, now).await?
        {
            let context = AuthContext::password_on_trusted_device();
            let finished = completion::finish(state, tenant, attempt, &user.id, &context, ip, now).await?;
            return Ok(StepOutcome::Finished(finished));
        }
        store::attempts::set_stage(&state.db, &attempt.id_hash, Stage::SecondFactor.as_str(), &user.id, None)
            .await?;
        return Ok(StepOutcome::NextStage { trusted_device: None });
    }
    if tenant.row.require_2fa || attempt.purpose.demands_second_factor() {
        store::attempts::set_stage(&state.db, &attempt.id_hash, Stage::Enrol.as_str(), &user.id, None)
            .await?;
        return Ok(StepOutcome::NextStage { trusted_device: None });
    }
    let finished =
        completion::finish(state, tenant, attempt, &user.id, &AuthContext::password(), ip, now).await?;
    Ok(StepOutcome::Finished(finished))
}
