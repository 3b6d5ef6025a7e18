//! The admin API (`{issuer}/admin/v1/...`): JSON over the same admin services as the CLI, for a
//! tenant's back office. One file per resource (a person's lifecycle and their sessions and
//! factors apart from `users`), `auth` (bearer tokens, scopes, the audit of every
//! call), `problem` (RFC 9457 errors) and `pagination` (cursors). The OpenAPI document is made
//! from these handlers' annotations (utoipa), and only annotated handlers are routed.

mod audit;
mod auth;
mod clients;
mod pagination;
mod problem;
mod tenant;
mod user_lifecycle;
mod user_sessions;
mod users;

use std::sync::LazyLock;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, middleware};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::problem::Problem;
use crate::error::PageError;
use crate::http::tenant::CurrentTenant;
use crate::state::AppState;

/// JSON bodies larger than this are refused (413) before they are parsed.
pub const BODY_LIMIT_BYTES: usize = 16 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "tessera admin API",
        version = "1",
        description = "Administer one tenant: users, clients, the audit log and the tenant's policy. \
            Authenticate with a bearer access token from this tenant's token endpoint \
            (client_credentials) carrying the admin.* scopes each operation names. Errors are \
            RFC 9457 problem documents. Updates need If-Match with the ETag of the last read."
    ),
    modifiers(&BearerToken),
    components(schemas(problem::ProblemDocument))
)]
struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        }
    }
}

fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(tenant::show, tenant::update))
        .routes(routes!(clients::list, clients::create))
        .routes(routes!(clients::show, clients::update, clients::remove))
        .routes(routes!(clients::rotate_secret))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::show, users::update, user_lifecycle::remove))
        .routes(routes!(user_lifecycle::disable))
        .routes(routes!(user_lifecycle::enable))
        .routes(routes!(user_lifecycle::reset_second_factor))
        .routes(routes!(user_lifecycle::invite_again))
        .routes(routes!(user_sessions::list_sessions, user_sessions::end_sessions))
        .routes(routes!(user_sessions::end_session))
        .routes(routes!(user_sessions::list_factors))
        .routes(routes!(audit::list))
}

/// The OpenAPI 3.1 document, without `servers` (each tenant's answer names its own).
pub fn openapi() -> utoipa::openapi::OpenApi {
    static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(|| documented().into_openapi());
    DOCUMENT.clone()
}

/// The routes below `/admin/v1`, for `http::router` to mount with the other tenant routes.
pub fn router(state: AppState) -> Router<AppState> {
    let (api, _) = documented().split_for_parts();
    let api = api
        .route_layer(middleware::from_fn_with_state(state, auth::authenticate))
        .route("/openapi.json", get(openapi_document))
        // A catch-all route rather than a fallback: a nested router's fallback does not survive
        // being nested again below /t/{tenant}.
        .route("/{*rest}", any(problem::not_found))
        .method_not_allowed_fallback(problem::method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES));
    Router::new().nest("/admin/v1", api)
}

/// The document, public like a discovery document, with this tenant's API address as its server.
async fn openapi_document(tenant: Result<CurrentTenant, PageError>) -> Response {
    let Ok(CurrentTenant(tenant)) = tenant else {
        return Problem::not_found("no such tenant").into_response();
    };
    let mut document = openapi();
    document.servers = Some(vec![Server::new(tenant.url("/admin/v1"))]);
    Json(document).into_response()
}

/// A strong ETag for a revision.
fn etag(revision: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{revision}\"")).unwrap_or_else(|_| HeaderValue::from_static("\"\""))
}

/// A JSON answer with its ETag.
fn with_etag<T: serde::Serialize>(status: StatusCode, revision: &str, body: T) -> Response {
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(header::ETAG, etag(revision));
    response
}

/// The revision an update is made against. `If-Match` is required (428 without it, RFC 6585),
/// so two administrators cannot overwrite each other unknowingly; `If-Match: *` updates whatever
/// is there, on purpose.
fn if_match(headers: &HeaderMap, required: bool) -> Result<Option<String>, Problem> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        if required {
            return Err(Problem::new(
                StatusCode::PRECONDITION_REQUIRED,
                "precondition-required",
                "If-Match is required",
                "send If-Match with the ETag of your last read (or * to overwrite)",
            ));
        }
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| Problem::bad_request("malformed If-Match"))?.trim();
    if value == "*" {
        return Ok(None);
    }
    // A weak tag never matches for an update (RFC 9110 13.1.1: strong comparison).
    match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(tag) if !tag.contains('"') => Ok(Some(tag.to_string())),
        _ => Err(Problem::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition-failed",
            "The resource changed",
            "If-Match does not name the current ETag",
        )),
    }
}

/// Unix seconds as RFC 3339 (UTC).
fn time(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}
