//! "Sign in with a passkey" on the password page: a discoverable credential with user
//! verification proves possession and the person (PIN or biometrics), so it replaces both the
//! password and the second factor.

use serde_json::json;

use super::completion;
use super::second_factor_step::{audit_key_refusal, audit_key_use};
use super::{FlowError, LoginAttempt, Refusal, Stage, StepOutcome, Visitor};
use crate::audit::{self, AuditEvent, Event};
use crate::authn::webauthn;
use crate::domain::AuthContext;
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

pub struct PasskeyForm<'a> {
    pub ceremony: &'a str,
    pub credential: &'a str,
    pub csrf_token: &'a str,
}

pub async fn submit(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    form: PasskeyForm<'_>,
    visitor: &Visitor<'_>,
    now: i64,
) -> Result<StepOutcome, FlowError> {
    attempt.expect_stage(Stage::Password)?;
    if !attempt.csrf_matches(form.csrf_token) {
        return Ok(StepOutcome::Refused(Refusal::FormExpired));
    }
    super::keep(state, attempt).await?;
    let checked =
        webauthn::finish_passkey(state, tenant, &attempt.id_hash, form.ceremony, form.credential, now)
            .await?;
    let key = match checked {
        Ok(key) => key,
        Err(refused) => {
            audit_key_refusal(state, tenant, &refused, visitor.ip, now).await?;
            let event = AuditEvent {
                tenant_id: Some(tenant.id()),
                user_id: refused.key.as_ref().map(|(user_id, _)| user_id.as_str()),
                event: Event::LoginPasskeyFailed,
                detail: json!({ "reason": refused.reason.as_str() }),
                ip: Some(visitor.ip),
            };
            audit::record(&state.db, event, now).await?;
            state.metrics.login("passkey_failed");
            return Ok(StepOutcome::Refused(Refusal::PasskeyFailed));
        }
    };
    let user = match store::users::find(&state.db, tenant.id(), &key.user_id).await? {
        Some(user) if user.disabled_at.is_none() => user,
        // A disabled person's passkey gets the answer of one that did not verify.
        found => {
            let event = AuditEvent {
                tenant_id: Some(tenant.id()),
                user_id: found.as_ref().map(|u| u.id.as_str()),
                event: Event::LoginPasskeyFailed,
                detail: json!({ "reason": "disabled" }),
                ip: Some(visitor.ip),
            };
            audit::record(&state.db, event, now).await?;
            state.metrics.login("passkey_failed");
            return Ok(StepOutcome::Refused(Refusal::PasskeyFailed));
        }
    };
    // A passkey proves more than a password does, so the session counts as freshly signed in
    // for sensitive account changes.
    store::attempts::mark_password_ok(&state.db, &attempt.id_hash).await?;
    let attempt = LoginAttempt { password_ok: true, user_id: Some(user.id.clone()), ..attempt.clone() };
    audit_key_use(state, tenant, &key, visitor.ip, now).await?;
    let context = AuthContext::passkey(key.hardware_bound);
    let finished = completion::finish(state, tenant, &attempt, &user.id, &context, visitor, now).await?;
    Ok(StepOutcome::Finished(finished))
}
