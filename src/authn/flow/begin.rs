//! The first step of every sign-in a client asks for: a validated authorization request meets the
//! browser's session, if any. Single sign-on answers at once; `prompt=none` answers with an error
//! rather than a page; everything else goes to the login pages, at the password, at a step-up
//! of the second factor, or at consent.

use super::next_stage::{self, AfterFirstFactor};
use super::{FlowError, Purpose, Stage, Visitor};
use crate::account;
use crate::authn::sso::{self, SessionUse};
use crate::authn::{consent, session};
use crate::oauth::authorization_response;
use crate::oauth::authorize_request::AuthorizationRequest;
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

pub enum Begun {
    /// Straight back to the client: a code from the existing session, or an error.
    ToClient { redirect_to: String },
    /// To the attempt's page.
    ToLogin { attempt_token: String },
}

pub async fn begin(
    state: &AppState,
    tenant: &Tenant,
    request: AuthorizationRequest,
    visitor: &Visitor<'_>,
    now: i64,
) -> Result<Begun, FlowError> {
    let prompt_none = request.prompt.iter().any(|p| p == "none");
    let existing = match visitor.session_token {
        Some(token) => session::resume(state, tenant, token, now).await?,
        None => None,
    };
    let mut step_up_user = None;
    if let Some(existing) = existing {
        match sso::assess(&existing, &request, now) {
            SessionUse::Reuse => {
                let user_id = existing.row.user_id.clone();
                if !consent::needed(state, &request, &user_id).await? {
                    let redirect_to =
                        authorization_response::issue_code(state, tenant, &request, &existing, now).await?;
                    return Ok(Begun::ToClient { redirect_to });
                }
                if prompt_none {
                    return Ok(refuse(tenant, &request, "consent_required", "the user has not consented"));
                }
                let purpose = Purpose::Authorize(Box::new(request));
                let attempt_token = super::start_at(
                    state,
                    tenant,
                    &purpose,
                    visitor.browser_token,
                    Stage::Consent,
                    Some(&user_id),
                    now,
                )
                .await?;
                return Ok(Begun::ToLogin { attempt_token });
            }
            SessionUse::StepUp => {
                step_up_user = Some((existing.row.user_id.clone(), existing.row.password_at));
            }
            SessionUse::SignInAgain => {}
        }
    }
    if prompt_none {
        return Ok(match step_up_user {
            Some(_) => refuse(tenant, &request, "interaction_required", "a stronger sign-in is needed"),
            None => refuse(tenant, &request, "login_required", "the user is not signed in"),
        });
    }

    let purpose = Purpose::Authorize(Box::new(request));
    let (user, password_at) = match step_up_user {
        Some((user_id, password_at)) => {
            (store::users::find(&state.db, tenant.id(), &user_id).await?, password_at)
        }
        None => (None, 0),
    };
    let Some(user) = user else {
        let attempt_token = super::start(state, tenant, &purpose, visitor.browser_token, now).await?;
        return Ok(Begun::ToLogin { attempt_token });
    };
    // The session proved the person; the request wants more than it proved.
    let stage = match next_stage::choose(tenant, &purpose, &user, true) {
        AfterFirstFactor::SecondFactor => Stage::SecondFactor,
        AfterFirstFactor::Enrol | AfterFirstFactor::Done => Stage::Enrol,
    };
    // Binding a new factor needs the password typed within the last minutes (NIST SP 800-63B
    // 6.1.2.1), not just a session someone may have stolen: otherwise the sign-in starts over.
    if stage == Stage::Enrol && now - password_at > account::FRESH_SECONDS {
        let attempt_token = super::start(state, tenant, &purpose, visitor.browser_token, now).await?;
        return Ok(Begun::ToLogin { attempt_token });
    }
    let attempt_token =
        super::start_at(state, tenant, &purpose, visitor.browser_token, stage, Some(&user.id), now).await?;
    next_stage::prepare(state, tenant, &purpose, stage, &user, visitor, now).await?;
    Ok(Begun::ToLogin { attempt_token })
}

/// An error for the client, at its verified redirect URI.
fn refuse(tenant: &Tenant, request: &AuthorizationRequest, error: &str, description: &str) -> Begun {
    let redirect_to = authorization_response::refuse(request, &tenant.issuer, error, description);
    Begun::ToClient { redirect_to }
}
