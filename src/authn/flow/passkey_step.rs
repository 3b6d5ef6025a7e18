//! "Sign in with a passkey" on the password page: a discoverable credential with user
//! verification proves possession and the person (PIN or biometrics), so it replaces both the
//! password and the second factor.

use serde_json::json;

use super::completion;
use super::second_factor_step::audit_counter_regression;
use super::{FlowError, LoginAttempt, Stage, StepOutcome};
use crate::audit::{self, AuditEvent};
use crate::authn::webauthn::{self, Refusal};
use crate::oidc::auth_context::AuthContext;
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
    ip: &str,
    now: i64,
) -> Result<StepOutcome, FlowError> {
    attempt.expect_stage(Stage::Password)?;
    if !attempt.csrf_matches(form.csrf_token) {
        return Ok(StepOutcome::Retry { message_key: "login-form-expired", seconds: None });
    }
    let checked =
        webauthn::finish_passkey(state, tenant, &attempt.id_hash, form.ceremony, form.credential, now)
            .await
            .map_err(|e| FlowError::Corrupt(e.to_string()))?;
    let key = match checked {
        Ok(key) => key,
        Err(refusal) => {
            if refusal == Refusal::CounterRegression {
                // Only a registered key reaches the counter check, so its owner is known.
                if let Some(user_id) = owner_of(state, tenant, form.credential).await? {
                    audit_counter_regression(state, tenant, &user_id, form.credential, ip, now).await?;
                }
            }
            let event = AuditEvent {
                tenant_id: Some(tenant.id()),
                user_id: None,
                event: "login.passkey_failed",
                detail: json!({ "reason": refusal.as_str() }),
                ip: Some(ip),
            };
            audit::record(&state.db, event, now).await?;
            state.metrics.login("passkey_failed");
            return Ok(StepOutcome::Retry { message_key: "passkey-failed", seconds: None });
        }
    };
    let Some(user) = store::users::find(&state.db, tenant.id(), &key.user_id).await? else {
        return Ok(StepOutcome::Retry { message_key: "passkey-failed", seconds: None });
    };
    // A passkey proves more than a password does, so the session counts as freshly signed in
    // for sensitive account changes.
    store::attempts::mark_password_ok(&state.db, &attempt.id_hash).await?;
    let attempt = LoginAttempt { password_ok: true, user_id: Some(user.id.clone()), ..attempt.clone() };
    let finished =
        completion::finish(state, tenant, &attempt, &user.id, &AuthContext::passkey(), ip, now).await?;
    Ok(StepOutcome::Finished(finished))
}

async fn owner_of(state: &AppState, tenant: &Tenant, credential: &str) -> Result<Option<String>, FlowError> {
    let Some(id) = serde_json::from_str::<serde_json::Value>(credential)
        .ok()
        .and_then(|v| v.get("id").and_then(|id| id.as_str()).map(str::to_string))
    else {
        return Ok(None);
    };
    Ok(store::security_keys::find_by_credential(&state.db, tenant.id(), &id).await?.map(|k| k.user_id))
}
