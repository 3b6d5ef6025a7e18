//! Who is signed in on the account pages, and whether recently enough for what they ask.

use super::is_fresh;
use crate::authn::session::{self, Session};
use crate::state::AppState;
use crate::store::{self, StoreError};
use crate::tenants::Tenant;

/// How recent a sign-in a page needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// Any live session.
    Any,
    /// A recent password and the second factor when there is one, for sensitive changes
    /// (`is_fresh`). Switching two-factor on is one: a stolen session alone must not bind the
    /// thief's authenticator and take the backup codes (NIST SP 800-63B 6.1.2.1).
    Fresh,
}

/// The session a cookie token names and its person, when the sign-in is fresh enough.
pub async fn signed_in(
    state: &AppState,
    tenant: &Tenant,
    session_token: Option<&str>,
    freshness: Freshness,
    now: i64,
) -> Result<Option<(Session, entity::user::Model)>, StoreError> {
    let Some(token) = session_token else { return Ok(None) };
    let Some(session) = session::resume(state, tenant, token, now).await? else { return Ok(None) };
    let Some(user) = store::users::find(&state.db, tenant.id(), &session.row.user_id).await? else {
        return Ok(None);
    };
    if freshness == Freshness::Fresh && !is_fresh(&session, &user, now) {
        return Ok(None);
    }
    Ok(Some((session, user)))
}
