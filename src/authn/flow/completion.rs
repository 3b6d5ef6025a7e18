//! The end of an attempt: a session, an audit event, and the way back (a code for the client,
//! or the account page that asked).

use serde_json::json;

use super::{FlowError, LoginAttempt, Purpose, Refusal, Stage, StepOutcome, Visitor};
use crate::audit::{self, AuditEvent, Event};
use crate::authn::session;
use crate::authn::{consent, known_device};
use crate::domain::auth_context::AuthContext;
use crate::oauth::authorization_response;
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

pub struct Finished {
    /// The session's new cookie token (a new session's, or a raised one's); `None` when the
    /// sign-in could not serve the request.
    pub session_token: Option<String>,
    /// Where to go now; `None`: back to the attempt's page (its consent stage).
    pub redirect_to: Option<String>,
    pub trusted_device: Option<(String, i64)>,
    /// The known-device cookie and its lifetime, set at every sign-in that made a session.
    pub known_device: Option<(String, i64)>,
}

pub async fn finish(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    user_id: &str,
    context: &AuthContext,
    visitor: &Visitor<'_>,
    now: i64,
) -> Result<Finished, FlowError> {
    let ip = visitor.ip;
    if let Purpose::Authorize(request) = &attempt.purpose {
        // Last line of defence, whatever path led here: the client gets the person it named and
        // a sign-in as strong as it asked for, or an error, never a silent substitute.
        let refusal = if request.hinted_subject.as_deref().is_some_and(|sub| sub != user_id) {
            Some(("login_required", "the user who signed in is not the one id_token_hint names"))
        } else if request.min_acr_rank.is_some_and(|min| context.rank() < min) {
            Some(("unmet_authentication_requirements", "the sign-in did not reach the requested acr"))
        } else {
            None
        };
        if let Some((error, description)) = refusal {
            store::attempts::finish(&state.db, &attempt.id_hash).await?;
            let redirect_to = authorization_response::refuse(request, &tenant.issuer, error, description);
            return Ok(Finished {
                session_token: None,
                redirect_to: Some(redirect_to),
                trusted_device: None,
                known_device: None,
            });
        }
    }
    // An attempt that never checked a password is a step-up of the browser's session: it must
    // still be there, and it is raised rather than replaced (below).
    let stepped_up = if attempt.password_ok {
        None
    } else {
        let existing = match visitor.session_token {
            Some(token) => session::resume(state, tenant, token, now).await?,
            None => None,
        };
        Some(existing.filter(|s| s.row.user_id == user_id).ok_or(FlowError::AttemptGone)?)
    };
    // Whatever path led here (a password reset, a second factor typed after an administrator
    // disabled the person meanwhile), a disabled person gets no session: the attempt ends.
    let person = store::users::find(&state.db, tenant.id(), user_id).await?;
    let Some(person) = person.filter(|u| u.disabled_at.is_none()) else {
        store::attempts::finish(&state.db, &attempt.id_hash).await?;
        return Err(FlowError::AttemptGone);
    };
    // The language they signed in with is theirs for emails no page asks for (an administrator's
    // change): `email::messages::security_notice`.
    if person.locale.as_deref() != Some(visitor.lang) {
        store::users::set_locale(&state.db, user_id, visitor.lang).await?;
    }
    let consent_first = match &attempt.purpose {
        Purpose::Authorize(request) => consent::needed(state, request, user_id).await?,
        Purpose::Account { .. } => false,
    };
    // Only one submission may finish an attempt; with consent pending it lives on one more stage.
    if consent_first {
        store::attempts::set_stage(&state.db, &attempt.id_hash, Stage::Consent.as_str(), user_id, None)
            .await?;
    } else if !store::attempts::finish(&state.db, &attempt.id_hash).await? {
        return Err(FlowError::AttemptGone);
    }
    let (session_token, session) = match stepped_up {
        None => {
            let (token, session) =
                session::start(state, tenant, user_id, context, attempt.password_ok, now).await?;
            (Some(token), session)
        }
        Some(existing) => {
            let (token, session) =
                session::step_up(state, &existing, context, now).await?.ok_or(FlowError::AttemptGone)?;
            (Some(token), session)
        }
    };
    let context = &session.auth_context();
    let client = match &attempt.purpose {
        Purpose::Authorize(request) => Some(request.client_id.as_str()),
        Purpose::Account { .. } => None,
    };
    let event = AuditEvent {
        tenant_id: Some(tenant.id()),
        user_id: Some(user_id),
        event: Event::LoginSucceeded,
        detail: json!({ "client": client, "amr": context.amr, "acr": context.acr }),
        ip: Some(ip),
    };
    audit::record(&state.db, event, now).await?;
    state.metrics.login("succeeded");
    let redirect_to = match &attempt.purpose {
        Purpose::Authorize(_) if consent_first => None,
        Purpose::Authorize(request) => {
            Some(authorization_response::issue_code(state, tenant, request, &session, now).await?)
        }
        Purpose::Account { return_to } => Some(return_to.clone()),
    };
    let known_device = Some((
        known_device::mint(state, tenant.id(), user_id, visitor.known_device, now),
        known_device::LIFETIME_SECONDS,
    ));
    Ok(Finished { session_token, redirect_to, trusted_device: None, known_device })
}

/// The `notice` stage's Continue button.
pub async fn continue_after_notice(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    csrf_token: &str,
    visitor: &Visitor<'_>,
    now: i64,
) -> Result<StepOutcome, FlowError> {
    attempt.expect_stage(Stage::Notice)?;
    if !attempt.csrf_matches(csrf_token) {
        return Ok(StepOutcome::Refused(Refusal::FormExpired));
    }
    let notice = attempt.notice.as_ref().ok_or(FlowError::WrongStage)?;
    let finished = finish(state, tenant, attempt, attempt.user_id()?, &notice.context, visitor, now).await?;
    Ok(StepOutcome::Finished(finished))
}
