//! A person's lifecycle: `POST /users/{id}/disable`, `/enable`, `/reset-second-factor`,
//! `/invitation` (send a new link), and `DELETE /users/{id}` (erasure). Each calls the same
//! service as the `tessera user ...` command, with the calling client as the actor. `If-Match`
//! is optional here: when given, the act happens only if the person is still as last read.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::{AdminCaller, USERS_WRITE};
use super::if_match;
use super::problem::{Problem, ProblemDocument};
use super::users::{UserPath, current};
use crate::admin::{self, Actor, Person, SignedOut};
use crate::state::AppState;

/// What ending sign-ins ended.
#[derive(Serialize, ToSchema)]
pub struct SignedOutView {
    pub sessions: u64,
    pub refresh_tokens: u64,
    pub access_tokens: u64,
}

impl From<SignedOut> for SignedOutView {
    fn from(ended: SignedOut) -> Self {
        Self {
            sessions: ended.sessions,
            refresh_tokens: ended.refresh_tokens,
            access_tokens: ended.access_tokens,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SecondFactorReset {
    /// The method they had (`totp`, `sms`, `security_key`); null: it was off already.
    pub previous_method: Option<String>,
    /// Every sign-in of theirs ended with the reset.
    pub signed_out: SignedOutView,
}

/// Checks `If-Match` (when sent) against the person as they are now; 404 when there is no such
/// person here.
async fn still_as_read(
    state: &AppState,
    caller: &AdminCaller,
    user_id: &str,
    headers: &HeaderMap,
) -> Result<(), Problem> {
    let expected = if_match(headers, false)?;
    admin::user_at_revision(state, &caller.tenant, user_id, expected.as_deref()).await?;
    Ok(())
}

/// Disable a user: they cannot sign in, and every session and token of theirs ends. Disabling a
/// disabled user changes nothing.
#[utoipa::path(
    post, path = "/users/{user_id}/disable", tag = "users",
    params(
        ("user_id" = String, Path, description = "The user's id (sub)"),
        ("If-Match" = Option<String>, Header, description = "Act only if the user is still as this ETag names"),
    ),
    responses(
        (status = 200, description = "The user, disabled; ETag names the new revision", body = super::users::UserView),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin.users.write", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this tenant", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 412, description = "The user changed since that ETag", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin.users.write"]))
)]
pub async fn disable(
    State(state): State<AppState>,
    Extension(caller): Extension<AdminCaller>,
    Path(path): Path<UserPath>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    caller.require(USERS_WRITE)?;
    still_as_read(&state, &caller, &path.user_id, &headers).await?;
    let actor = Actor::ApiClient(caller.client_id());
    admin::disable_user(&state, &caller.tenant, Person::Id(&path.user_id), &actor).await?;
    current(&state, &caller, &path.user_id).await
}

/// Let a disabled user sign in again (their factors are as they were). Enabling an active user
/// changes nothing.
#[utoipa::path(
    post, path = "/users/{user_id}/enable", tag = "users",
    params(
        ("user_id" = String, Path, description = "The user's id (sub)"),
        ("If-Match" = Option<String>, Header, description = "Act only if the user is still as this ETag names"),
    ),
    responses(
        (status = 200, description = "The user, enabled; ETag names the new revision", body = super::users::UserView),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin.users.write", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this tenant", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 412, description = "The user changed since that ETag", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin.users.write"]))
)]
pub async fn enable(
    State(state): State<AppState>,
    Extension(caller): Extension<AdminCaller>,
    Path(path): Path<UserPath>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    caller.require(USERS_WRITE)?;
    still_as_read(&state, &caller, &path.user_id, &headers).await?;
    let actor = Actor::ApiClient(caller.client_id());
    admin::enable_user(&state, &caller.tenant, Person::Id(&path.user_id), &actor).await?;
    current(&state, &caller, &path.user_id).await
}

/// Reset a user's second factor: every factor (app, phone, security keys and passkeys), backup
/// code and trusted device goes, and every sign-in ends; the person is told by email. A tenant
/// that requires two-factor authentication has them set it up again at their next sign-in.
#[utoipa::path(
    post, path = "/users/{user_id}/reset-second-factor", tag = "users",
    params(
        ("user_id" = String, Path, description = "The user's id (sub)"),
        ("If-Match" = Option<String>, Header, description = "Act only if the user is still as this ETag names"),
    ),
    responses(
        (status = 200, description = "What was reset and ended", body = SecondFactorReset),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin.users.write", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this tenant", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 412, description = "The user changed since that ETag", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin.users.write"]))
)]
pub async fn reset_second_factor(
    State(state): State<AppState>,
    Extension(caller): Extension<AdminCaller>,
    Path(path): Path<UserPath>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    caller.require(USERS_WRITE)?;
    still_as_read(&state, &caller, &path.user_id, &headers).await?;
    let actor = Actor::ApiClient(caller.client_id());
    let reset = admin::reset_two_factor(&state, &caller.tenant, Person::Id(&path.user_id), &actor).await?;
    let body = SecondFactorReset {
        previous_method: reset.previous_method.map(|m| m.as_str().to_string()),
        signed_out: reset.signed_out.into(),
    };
    Ok(axum::Json(body).into_response())
}

/// Send an invited user a new invitation link (valid 7 days); the earlier link stops working.
#[utoipa::path(
    post, path = "/users/{user_id}/invitation", tag = "users",
    params(("user_id" = String, Path, description = "The user's id (sub)")),
    responses(
        (status = 202, description = "The invitation is on its way"),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin.users.write", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this tenant", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "The user has a password of their own already, or is disabled", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin.users.write"]))
)]
pub async fn invite_again(
    State(state): State<AppState>,
    Extension(caller): Extension<AdminCaller>,
    Path(path): Path<UserPath>,
) -> Result<Response, Problem> {
    caller.require(USERS_WRITE)?;
    let row = admin::user(&state, &caller.tenant, &path.user_id).await?;
    admin::invite_again(&state, &caller.tenant, &row).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// Erase a user (GDPR art. 17): their account, factors, sessions, tokens and consents; their
/// earlier audit events keep only the pseudonymous id. Apps they signed in to are told by
/// back-channel logout.
#[utoipa::path(
    delete, path = "/users/{user_id}", tag = "users",
    params(
        ("user_id" = String, Path, description = "The user's id (sub)"),
        ("If-Match" = Option<String>, Header, description = "Erase only if the user is still as this ETag names"),
    ),
    responses(
        (status = 204, description = "Erased"),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin.users.write", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this tenant", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 412, description = "The user changed since that ETag", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin.users.write"]))
)]
pub async fn remove(
    State(state): State<AppState>,
    Extension(caller): Extension<AdminCaller>,
    Path(path): Path<UserPath>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    caller.require(USERS_WRITE)?;
    still_as_read(&state, &caller, &path.user_id, &headers).await?;
    let actor = Actor::ApiClient(caller.client_id());
    admin::delete_user(&state, &caller.tenant, Person::Id(&path.user_id), &actor).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
