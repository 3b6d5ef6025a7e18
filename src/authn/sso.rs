//! Single sign-on: whether an existing session can answer an authorization request as it is,
//! needs a step-up (a stronger factor now), or must be ignored (sign in again).

use crate::authn::session::Session;
use crate::oauth::authorize_request::AuthorizationRequest;

#[derive(Debug, PartialEq, Eq)]
pub enum SessionUse {
    /// The session satisfies the request: issue a code without asking anything.
    Reuse,
    /// The person is known but the request asks for more than the session proved.
    StepUp,
    /// Ask for the password again (`prompt=login`, `max_age` exceeded).
    SignInAgain,
}

pub fn assess(session: &Session, request: &AuthorizationRequest, now: i64) -> SessionUse {
    if request.prompt.iter().any(|p| p == "login") {
        return SessionUse::SignInAgain;
    }
    // The client means someone else than the person signed in here.
    if request.hinted_subject.as_ref().is_some_and(|sub| sub != &session.row.user_id) {
        return SessionUse::SignInAgain;
    }
    // OIDC Core 3.1.2.1: `max_age=0` means a fresh sign-in, as `prompt=login`; with times in
    // whole seconds, "more than 0 seconds ago" would let a sign-in of this same second through.
    if let Some(max_age) = request.max_age
        && (max_age == 0 || now - session.row.auth_time > max_age)
    {
        return SessionUse::SignInAgain;
    }
    match request.min_acr_rank {
        Some(minimum) if session.auth_context().rank() < minimum => SessionUse::StepUp,
        _ => SessionUse::Reuse,
    }
}
