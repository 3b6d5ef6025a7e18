//! Where someone goes once the password (or an existing session) proved who they are, and what
//! entering that stage needs: a sign-in code by text message for someone whose method is text
//! messages, a pending authenticator-app seed for forced enrolment. These writes happen here,
//! in the step, so that showing a stage's page only reads (a reload sends no paid message).

use super::{FlowError, LoginAttempt, Purpose, Stage, Visitor};
use crate::authn::second_factor::Method;
use crate::authn::sms;
use crate::authn::totp_enrolment;
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

/// The stage after the first factor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterFirstFactor {
    /// The person's own second factor (or a key, when the client insists on one).
    SecondFactor,
    /// No second factor yet, but one is required: set one up now.
    Enrol,
    /// Signed in with the password alone.
    Done,
}

/// `stepping_up`: an existing session was too weak for the request, so a second factor is
/// needed whatever the tenant requires.
pub fn choose(
    tenant: &Tenant,
    purpose: &Purpose,
    user: &entity::user::Model,
    stepping_up: bool,
) -> AfterFirstFactor {
    // `phr` wants a key: the step's page says what to do when the person has none.
    if purpose.demands_security_key() || user.two_factor_method.is_some() {
        AfterFirstFactor::SecondFactor
    } else if stepping_up || tenant.row.require_2fa || purpose.demands_second_factor() {
        AfterFirstFactor::Enrol
    } else {
        AfterFirstFactor::Done
    }
}

/// Moves the attempt from its current stage to `stage` for `user`, then prepares the stage. When
/// another request moved it first (the form sent twice), that request prepares it: one text
/// message, one seed.
pub async fn enter(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    stage: Stage,
    user: &entity::user::Model,
    visitor: &Visitor<'_>,
    now: i64,
) -> Result<(), FlowError> {
    let from = attempt.stage.as_str();
    if store::attempts::advance(&state.db, &attempt.id_hash, from, stage.as_str(), &user.id).await? {
        prepare(state, tenant, &attempt.purpose, stage, user, visitor, now).await?;
    }
    Ok(())
}

/// What entering `stage` needs. A text message that cannot go now (a limit, the provider) does not
/// stop the step: the page says why (`sms::sign_in_code`), and "Send a new code" tries again.
pub async fn prepare(
    state: &AppState,
    tenant: &Tenant,
    purpose: &Purpose,
    stage: Stage,
    user: &entity::user::Model,
    visitor: &Visitor<'_>,
    now: i64,
) -> Result<(), FlowError> {
    match stage {
        Stage::SecondFactor if texts_codes(purpose, user) => {
            let phone = sms::user_phone(tenant, user).ok_or(FlowError::NoPhoneNumber)?;
            let ip = Some(visitor.ip);
            sms::send_code(state, tenant, &user.id, &phone, sms::PURPOSE_LOGIN, visitor.lang, ip, now)
                .await?;
            Ok(())
        }
        Stage::Enrol => {
            totp_enrolment::prepare(state, tenant, user, now).await?;
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Whether this sign-in's second factor is a code by text message (a client that insists on a
/// security key gets no code).
pub fn texts_codes(purpose: &Purpose, user: &entity::user::Model) -> bool {
    !purpose.demands_security_key() && user.two_factor_method == Some(Method::Sms)
}
