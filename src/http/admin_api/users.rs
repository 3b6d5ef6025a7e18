//! `/users`: list (by email prefix and status), create with a password or by invitation, read,
//! change name or email address. The lifecycle of a person (disable, erase, reset the second
//! factor, invite again) is in `user_lifecycle`, their sessions and factors in `user_sessions`.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{AdminCaller, USERS_READ, USERS_WRITE};
use super::pagination;
use super::problem::{ApiJson, ApiQuery, Problem, ProblemDocument, nullable};
use super::{if_match, time, with_etag};
use crate::admin::{self, Actor, Status, UserChange, UserFilter};
use crate::state::AppState;

const LIST: &str = "users";

/// Where a person stands.
#[derive(Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    /// May sign in.
    Active,
    /// Cannot sign in; every session and token ended when they were disabled.
    Disabled,
    /// Created by an invitation not accepted yet: no password of their own.
    Invited,
}

impl From<Status> for UserStatus {
    fn from(status: Status) -> Self {
        match status {
            Status::Active => Self::Active,
            Status::Disabled => Self::Disabled,
            Status::Invited => Self::Invited,
        }
    }
}

impl From<UserStatus> for Status {
    fn from(status: UserStatus) -> Self {
        match status {
            UserStatus::Active => Self::Active,
            UserStatus::Disabled => Self::Disabled,
            UserStatus::Invited => Self::Invited,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UserView {
    /// The stable `sub` of the person.
    pub id: String,
    pub email: String,
    pub email_verified: bool,
    pub name: Option<String>,
    pub status: UserStatus,
    /// When they were disabled; null unless `status` is `disabled`.
    pub disabled_at: Option<String>,
    /// `totp`, `sms` or `security_key`; null: no second factor.
    pub two_factor_method: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl UserView {
    fn of(row: &entity::user::Model, status: Status) -> Self {
        Self {
            id: row.id.clone(),
            email: row.email.clone(),
            email_verified: row.email_verified,
            name: row.name.clone(),
            status: status.into(),
            disabled_at: row.disabled_at.map(time),
            two_factor_method: row.two_factor_method.map(|m| m.as_str().to_string()),
            created_at: time(row.created_at),
            updated_at: time(row.updated_at),
        }
    }
}

/// The user as they are now, with their ETag (the answer of a read and of every change to them).
pub(super) async fn current(
    state: &AppState,
    caller: &AdminCaller,
    user_id: &str,
) -> Result<Response, Problem> {
    let row = admin::user(state, &caller.tenant, user_id).await?;
    answer(state, StatusCode::OK, &row).await
}

async fn answer(
    state: &AppState,
    status: StatusCode,
    row: &entity::user::Model,
) -> Result<Response, Problem> {
    let standing = admin::status_of(state, row).await.map_err(Problem::internal)?;
    Ok(with_etag(status, &admin::user_revision(row), UserView::of(row, standing)))
}

#[derive(Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<UserView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    /// Only addresses starting with this.
    pub email_prefix: Option<String>,
    /// Only people who stand so.
    pub status: Option<UserStatus>,
    /// 1-200 (default 50).
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A new person: give either a `password`, or `"invite": true` to send them a link (valid 7
/// days, once) to set their own.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserCreate {
    pub email: String,
    pub name: Option<String>,
    /// The first password (the tenant's password rules apply); never shown again.
    #[schema(format = Password)]
    pub password: Option<String>,
    /// Send an invitation by email instead of setting a password.
    #[serde(default)]
    pub invite: bool,
}

/// The fields to change; a field left out keeps its value.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// A new address is not verified.
    pub email: Option<String>,
    /// A name, or `null` to remove it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
}

#[derive(Deserialize)]
pub struct UserPath {
    pub(super) user_id: String,
}

/// List the tenant's users in email order.
#[utoipa::path(
    get, path = "/users", tag = "users",
    params(UserListQuery),
    responses(
        (status = 200, description = "A page of users", body = UserPage),
        (status = 400, description = "A bad query parameter or cursor", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin.users.read", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin.users.read"]))
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<AdminCaller>,
    ApiQuery(query): ApiQuery<UserListQuery>,
) -> Result<Response, Problem> {
    caller.require(USERS_READ)?;
    let limit = pagination::limit(query.limit)?;
    let after = pagination::decode(LIST, query.cursor.as_deref())?;
    let filter = UserFilter { email_prefix: query.email_prefix, status: query.status.map(Status::from) };
    let page = admin::list_users(&state, &caller.tenant, &filter, after.as_deref(), limit).await?;
    let standing = admin::statuses(&state, &page.items).await?;
    let items = page.items.iter().zip(standing).map(|(row, status)| UserView::of(row, status)).collect();
    let next_cursor = page.next.map(|key| pagination::encode(LIST, &key));
    Ok(axum::Json(UserPage { items, next_cursor }).into_response())
}

/// Create a user with a password, or by invitation (an email with a link to set their own).
#[utoipa::path(
    post, path = "/users", tag = "users",
    request_body = UserCreate,
    responses(
        (status = 201, description = "Created; Location names it", body = UserView),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin.users.write", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "The address is taken", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "A value is not acceptable, or an unknown field", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin.users.write"]))
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<AdminCaller>,
    ApiJson(body): ApiJson<UserCreate>,
) -> Result<Response, Problem> {
    caller.require(USERS_WRITE)?;
    let (tenant, name) = (&caller.tenant, body.name.as_deref());
    let row = match (body.password, body.invite) {
        (Some(password), false) => {
            admin::create_user(&state, tenant, &body.email, name, SecretString::from(password)).await?
        }
        (None, true) => {
            let actor = Actor::ApiClient(caller.client_id());
            admin::invite_new_user(&state, tenant, &body.email, name, actor).await?
        }
        _ => {
            return Err(
                admin::AdminError::Invalid("give either a password or \"invite\": true".into()).into()
            );
        }
    };
    let mut response = answer(&state, StatusCode::CREATED, &row).await?;
    if let Ok(value) = HeaderValue::from_str(&caller.tenant.url(&format!("/admin/v1/users/{}", row.id))) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// Read one user.
#[utoipa::path(
    get, path = "/users/{user_id}", tag = "users",
    params(("user_id" = String, Path, description = "The user's id (sub)")),
    responses(
        (status = 200, description = "The user; ETag names its revision", body = UserView),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin.users.read", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this tenant", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin.users.read"]))
)]
pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<AdminCaller>,
    Path(path): Path<UserPath>,
) -> Result<Response, Problem> {
    caller.require(USERS_READ)?;
    current(&state, &caller, &path.user_id).await
}

/// Change a user's name or email address.
#[utoipa::path(
    patch, path = "/users/{user_id}", tag = "users",
    request_body = UserPatch,
    params(
        ("user_id" = String, Path, description = "The user's id (sub)"),
        ("If-Match" = String, Header, description = "The ETag of the last read, or *"),
    ),
    responses(
        (status = 200, description = "The changed user", body = UserView),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin.users.write", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this tenant", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "The address is taken", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 412, description = "The user changed since that ETag", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "A value is not acceptable, or an unknown field", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is missing", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin.users.write"]))
)]
pub async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<AdminCaller>,
    Path(path): Path<UserPath>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<UserPatch>,
) -> Result<Response, Problem> {
    caller.require(USERS_WRITE)?;
    let expected = if_match(&headers, true)?;
    let change = UserChange { email: patch.email, name: patch.name };
    let row = admin::update_user(
        &state,
        &caller.tenant,
        &path.user_id,
        change,
        expected.as_deref(),
        Actor::ApiClient(caller.client_id()),
    )
    .await?;
    answer(&state, StatusCode::OK, &row).await
}
