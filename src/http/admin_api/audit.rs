//! `GET /audit-events`: the tenant's audit log, newest first, by person, event name and time.

use axum::Extension;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{AUDIT_READ, AdminCaller};
use super::pagination;
use super::problem::{ApiQuery, Problem, ProblemDocument};
use super::time;
use crate::admin::{self, AuditFilter};
use crate::state::AppState;

const LIST: &str = "audit-events";

#[derive(Serialize, ToSchema)]
pub struct AuditEventView {
    pub id: String,
    /// The event's name (docs/audit-events.md lists them).
    pub event: String,
    pub time: String,
    /// The person it concerns, when there is one.
    pub user_id: Option<String>,
    /// The client address of the request, when recorded.
    pub ip: Option<String>,
    /// The event's fields; never secrets.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct AuditEventPage {
    pub items: Vec<AuditEventView>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// The person: their id (sub) or email address.
    pub user: Option<String>,
    /// An event name (`login.succeeded`).
    pub event: Option<String>,
    /// At or after: RFC 3339, a date, or a span back (`24h`, `7d`).
    pub since: Option<String>,
    /// Before: the same forms.
    pub until: Option<String>,
    /// 1-200 (default 50).
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// List audit events, newest first.
#[utoipa::path(
    get, path = "/audit-events", tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of events", body = AuditEventPage),
        (status = 400, description = "A bad query parameter or cursor", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin.audit.read", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No user with that address", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "An unknown event name or a time that does not parse", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin.audit.read"]))
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<AdminCaller>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Response, Problem> {
    caller.require(AUDIT_READ)?;
    let limit = pagination::limit(query.limit)?;
    let after = pagination::decode(LIST, query.cursor.as_deref())?;
    let now = state.now();
    let filter = AuditFilter {
        user: query.user,
        event: query.event,
        since: query.since.as_deref().map(|s| admin::parse_time(s, now)).transpose()?,
        until: query.until.as_deref().map(|s| admin::parse_time(s, now)).transpose()?,
    };
    let page = admin::list_audit_events(&state, &caller.tenant, &filter, after.as_deref(), limit).await?;
    let items = page
        .items
        .into_iter()
        .map(|row| AuditEventView {
            detail: serde_json::from_str(&row.detail).unwrap_or(serde_json::Value::Null),
            id: row.id,
            event: row.event,
            time: time(row.created_at),
            user_id: row.user_id,
            ip: row.ip,
        })
        .collect();
    let next_cursor = page.next.map(|key| pagination::encode(LIST, &key));
    Ok(axum::Json(AuditEventPage { items, next_cursor }).into_response())
}
