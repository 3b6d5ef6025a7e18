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
    /// A recent password and the second factor, for sensitive changes (`is_fresh`).
    Fresh,
    /// Fresh when two-factor authentication is on: switching it on needs a session, changing
    /// or replacing it needs proof.
    FreshIfTwoFactor,
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
    let needs_fresh = match freshness {
        Freshness::Any => false,
        Freshness::Fresh => true,
        Freshness::FreshIfTwoFactor => user.two_factor_method.is_some(),
    };
    if needs_fresh && !is_fresh(&session, &user, now) {
        return Ok(None);
    }
    Ok(Some((session, user)))
}
