//! A person's sign-ins and factors: `GET /users/{id}/sessions`, `DELETE /users/{id}/sessions`
//! (all), `DELETE /users/{id}/sessions/{sid}` (one), `GET /users/{id}/factors`. What is shown is
//! `admin::show_user`'s overview, the same as `tessera user show`; never a secret.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{AdminCaller, USERS_READ, USERS_WRITE};
use super::problem::{Problem, ProblemDocument};
use super::time;
use super::user_lifecycle::SignedOutView;
use super::users::UserPath;
use crate::admin::{self, Actor, Factor, FactorKind, Person, SessionSummary};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct SessionView {
    /// The public session id (the `sid` claim of ID and logout tokens).
    pub sid: String,
    pub signed_in_at: String,
    pub last_seen_at: String,
    pub expires_at: String,
    /// How they signed in (RFC 8176: `pwd`, `otp`, `hwk`, ...).
    pub amr: Vec<String>,
}

impl From<SessionSummary> for SessionView {
    fn from(session: SessionSummary) -> Self {
        Self {
            sid: session.sid,
            signed_in_at: time(session.signed_in_at),
            last_seen_at: time(session.last_seen_at),
            expires_at: time(session.expires_at),
            amr: session.amr,
        }
    }
}

/// A person's live sessions, newest first. Not paged: one person has a handful.
#[derive(Serialize, ToSchema)]
pub struct SessionList {
    pub items: Vec<SessionView>,
}

#[derive(Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FactorKindView {
    AuthenticatorApp,
    TextMessage,
    SecurityKey,
}

impl From<FactorKind> for FactorKindView {
    fn from(kind: FactorKind) -> Self {
        match kind {
            FactorKind::AuthenticatorApp => Self::AuthenticatorApp,
            FactorKind::TextMessage => Self::TextMessage,
            FactorKind::SecurityKey => Self::SecurityKey,
        }
    }
}

/// One factor, without its secret.
#[derive(Serialize, ToSchema)]
pub struct FactorView {
    pub kind: FactorKindView,
    /// A security key's name, or the phone number masked (`+31 6 ••••••78`).
    pub label: Option<String>,
    /// When it was added, where known.
    pub added_at: Option<String>,
    /// When it was last used, where known.
    pub last_used_at: Option<String>,
}

impl From<Factor> for FactorView {
    fn from(factor: Factor) -> Self {
        Self {
            kind: factor.kind.into(),
            label: factor.label,
            added_at: factor.added_at.map(time),
            last_used_at: factor.last_used_at.map(time),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct FactorList {
    /// The method they sign in with (`totp`, `sms`, `security_key`); null: two-factor
    /// authentication is off.
    pub two_factor_method: Option<String>,
    pub items: Vec<FactorView>,
    /// Unused backup codes.
    pub backup_codes_left: u64,
    /// Devices that skip the second step until they expire.
    pub trusted_devices: u64,
}

#[derive(Deserialize)]
pub struct SessionPath {
    user_id: String,
    sid: String,
}

/// List a user's live sessions, newest first.
#[utoipa::path(
    get, path = "/users/{user_id}/sessions", tag = "users",
    params(("user_id" = String, Path, description = "The user's id (sub)")),
    responses(
        (status = 200, description = "Their live sessions", body = SessionList),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin.users.read", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this tenant", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin.users.read"]))
)]
pub async fn list_sessions(
    State(state): State<AppState>,
    Extension(caller): Extension<AdminCaller>,
    Path(path): Path<UserPath>,
) -> Result<Response, Problem> {
    caller.require(USERS_READ)?;
    let overview = admin::show_user(&state, &caller.tenant, Person::Id(&path.user_id)).await?;
    let items = overview.sessions.into_iter().map(SessionView::from).collect();
    Ok(axum::Json(SessionList { items }).into_response())
}

/// Sign a user out everywhere: every session, refresh token (offline ones too) and access token
/// ends; apps that registered back-channel logout are told.
#[utoipa::path(
    delete, path = "/users/{user_id}/sessions", tag = "users",
    params(("user_id" = String, Path, description = "The user's id (sub)")),
    responses(
        (status = 200, description = "What ended", body = SignedOutView),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin.users.write", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this tenant", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin.users.write"]))
)]
pub async fn end_sessions(
    State(state): State<AppState>,
    Extension(caller): Extension<AdminCaller>,
    Path(path): Path<UserPath>,
) -> Result<Response, Problem> {
    caller.require(USERS_WRITE)?;
    let actor = Actor::ApiClient(caller.client_id());
    let done = admin::sign_out(&state, &caller.tenant, Person::Id(&path.user_id), &actor).await?;
    Ok(axum::Json(SignedOutView::from(done.signed_out)).into_response())
}

/// End one session of a user, as their own logout would: its refresh tokens (not offline ones)
/// and their access tokens end, and its apps are told.
#[utoipa::path(
    delete, path = "/users/{user_id}/sessions/{sid}", tag = "users",
    params(
        ("user_id" = String, Path, description = "The user's id (sub)"),
        ("sid" = String, Path, description = "The session's sid"),
    ),
    responses(
        (status = 204, description = "Ended"),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin.users.write", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this tenant, or no live session of theirs with this sid", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin.users.write"]))
)]
pub async fn end_session(
    State(state): State<AppState>,
    Extension(caller): Extension<AdminCaller>,
    Path(path): Path<SessionPath>,
) -> Result<Response, Problem> {
    caller.require(USERS_WRITE)?;
    let actor = Actor::ApiClient(caller.client_id());
    admin::end_session(&state, &caller.tenant, Person::Id(&path.user_id), &path.sid, &actor).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// List a user's factors: kind, label, when added and last used; never a secret.
#[utoipa::path(
    get, path = "/users/{user_id}/factors", tag = "users",
    params(("user_id" = String, Path, description = "The user's id (sub)")),
    responses(
        (status = 200, description = "Their factors", body = FactorList),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin.users.read", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this tenant", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin.users.read"]))
)]
pub async fn list_factors(
    State(state): State<AppState>,
    Extension(caller): Extension<AdminCaller>,
    Path(path): Path<UserPath>,
) -> Result<Response, Problem> {
    caller.require(USERS_READ)?;
    let overview = admin::show_user(&state, &caller.tenant, Person::Id(&path.user_id)).await?;
    let body = FactorList {
        two_factor_method: overview.two_factor_method.map(|m| m.as_str().to_string()),
        items: overview.factors.into_iter().map(FactorView::from).collect(),
        backup_codes_left: overview.backup_codes_left,
        trusted_devices: overview.trusted_devices as u64,
    };
    Ok(axum::Json(body).into_response())
}
