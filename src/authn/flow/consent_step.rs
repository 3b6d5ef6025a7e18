//! The consent stage: a third-party client waits for the signed-in person's Allow or Deny.

use super::{FlowError, LoginAttempt, Purpose, Refusal, Stage, StepOutcome, Visitor};
use crate::authn::consent;
use crate::authn::session;
use crate::oauth::authorization_response;
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

/// The consent stage's answer. Allow issues the code from the session the sign-in started (the
/// browser's session cookie must name it); Deny sends `access_denied` back to the client.
pub async fn decide(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    allow: bool,
    csrf_token: &str,
    visitor: &Visitor<'_>,
    now: i64,
) -> Result<StepOutcome, FlowError> {
    attempt.expect_stage(Stage::Consent)?;
    if !attempt.csrf_matches(csrf_token) {
        return Ok(StepOutcome::Refused(Refusal::FormExpired));
    }
    let Purpose::Authorize(request) = &attempt.purpose else { return Err(FlowError::WrongStage) };
    let user_id = attempt.user_id()?;
    let session = match visitor.session_token {
        Some(token) => session::resume(state, tenant, token, now).await?,
        None => None,
    };
    let session = session.filter(|s| s.row.user_id == user_id).ok_or(FlowError::AttemptGone)?;
    if !store::attempts::finish(&state.db, &attempt.id_hash).await? {
        return Err(FlowError::AttemptGone);
    }
    let redirect_to = if allow {
        consent::allow(state, tenant, request, user_id, visitor.ip, now).await?;
        authorization_response::issue_code(state, tenant, request, &session, now).await?
    } else {
        authorization_response::refuse(
            request,
            &tenant.issuer,
            "access_denied",
            "the user denied the request",
        )
    };
    Ok(StepOutcome::Redirect { redirect_to })
}
