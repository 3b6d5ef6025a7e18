//! The end of an attempt: a session, an audit event, and the way back (a code for the client,
//! or the account page that asked).

use serde_json::json;

use super::{FlowError, LoginAttempt, Purpose, Stage, StepOutcome};
use crate::audit::{self, AuditEvent};
use crate::authn::session;
use crate::oauth::authorization_response;
use crate::oidc::auth_context::AuthContext;
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

pub struct Finished {
    pub session_token: String,
    pub redirect_to: String,
    pub trusted_device: Option<(String, i64)>,
}

pub async fn finish(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    user_id: &str,
    context: &AuthContext,
    ip: &str,
    now: i64,
) -> Result<Finished, FlowError> {
    // Only one submission may finish an attempt.
    if !store::attempts::finish(&state.db, &attempt.id_hash).await? {
        return Err(FlowError::AttemptGone);
    }
    let (session_token, session) = session::start(state, tenant, user_id, context, now).await?;
    let client = match &attempt.purpose {
        Purpose::Authorize(request) => Some(request.client_id.as_str()),
        Purpose::Account { .. } => None,
    };
    let event = AuditEvent {
        tenant_id: Some(tenant.id()),
        user_id: Some(user_id),
        event: "login.succeeded",
        detail: json!({ "client": client, "amr": context.amr, "acr": context.acr }),
        ip: Some(ip),
    };
    audit::record(&state.db, event, now).await?;
    let redirect_to = match &attempt.purpose {
        Purpose::Authorize(request) => {
            authorization_response::issue_code(state, tenant, request, &session, now).await?
        }
        Purpose::Account { return_to } => return_to.clone(),
    };
    Ok(Finished { session_token, redirect_to, trusted_device: None })
}

/// The `notice` stage's Continue button.
pub async fn continue_after_notice(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    csrf_token: &str,
    ip: &str,
    now: i64,
) -> Result<StepOutcome, FlowError> {
    attempt.expect_stage(Stage::Notice)?;
    if !attempt.csrf_matches(csrf_token) {
        return Ok(StepOutcome::Retry { message_key: "login-form-expired", seconds: None });
    }
    let notice = attempt.notice.as_ref().ok_or(FlowError::WrongStage)?;
    let finished = finish(state, tenant, attempt, attempt.user_id()?, &notice.context, ip, now).await?;
    Ok(StepOutcome::Finished(finished))
}
