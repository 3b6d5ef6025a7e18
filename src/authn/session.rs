//! Server-side sessions: the cookie holds a random token, the database its hash and everything
//! else (who, when, how they authenticated).

use crate::crypto::{random_token, sha256_hex};
use crate::domain::AuthContext;
use crate::state::AppState;
use crate::store::{self, StoreError};
use crate::tenants::Tenant;

pub struct Session {
    pub row: entity::session::Model,
}

impl Session {
    pub fn auth_context(&self) -> AuthContext {
        AuthContext::from_stored(&self.row.amr, &self.row.acr)
    }
}

/// Starts a session; returns the cookie token (shown once) and the session.
pub async fn start(
    state: &AppState,
    tenant: &Tenant,
    user_id: &str,
    context: &AuthContext,
    password_checked: bool,
    now: i64,
) -> Result<(String, Session), StoreError> {
    let token = random_token(32);
    let row = entity::session::Model {
        id: sha256_hex(&token),
        sid: random_token(16),
        tenant_id: tenant.id().to_string(),
        user_id: user_id.to_string(),
        auth_time: now,
        amr: context.amr_json(),
        acr: context.acr.to_string(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + state.settings.sessions.lifetime_seconds,
        csrf_token: random_token(32),
        password_at: if password_checked { now } else { 0 },
    };
    let row = store::sessions::insert(&state.db, row).await?;
    Ok((token, Session { row }))
}

/// A step-up: the session proved more now (`proven`, the factor just checked). It keeps its
/// `sid`, `auth_time`, `password_at` and end: a stronger factor never lengthens a session, and
/// `auth_time` stays the time of the sign-in that typed (or did not type) the password. Its
/// methods become those it had plus the new ones, where `pwd` counts only if the session's
/// own sign-in typed it: a factor's context assumes a password was typed in the same attempt.
/// It gets a new cookie token, so a copy of the old cookie stays at the old level (and, once the
/// row has moved, names nothing). `None` when the session ended meanwhile.
pub async fn step_up(
    state: &AppState,
    session: &Session,
    proven: &AuthContext,
    now: i64,
) -> Result<Option<(String, Session)>, StoreError> {
    let raised = session.auth_context().raised_by(proven);
    let token = random_token(32);
    let row = store::sessions::raise(
        &state.db,
        &session.row.id,
        &sha256_hex(&token),
        &raised.amr_json(),
        &raised.acr,
        now,
    )
    .await?;
    Ok(row.map(|row| (token, Session { row })))
}

/// The live session a cookie token names at this tenant.
pub async fn resume(
    state: &AppState,
    tenant: &Tenant,
    token: &str,
    now: i64,
) -> Result<Option<Session>, StoreError> {
    let row = store::sessions::find_active(&state.db, tenant.id(), &sha256_hex(token), now).await?;
    Ok(row.map(|row| Session { row }))
}
