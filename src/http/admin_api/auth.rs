//! Who may call the admin API: a bearer access token (RFC 6750) that this tenant's token
//! endpoint issued with client_credentials to a confidential client, carrying the admin scopes
//! the endpoint needs. The middleware authenticates and audits every call; each handler names
//! its scope with `AdminCaller::require`.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::problem::Problem;
use crate::audit::{self, AuditEvent, Event};
use crate::domain::Scope;
use crate::error::PageError;
use crate::http::client_ip::ClientIp;
use crate::http::tenant::CurrentTenant;
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

pub const USERS_READ: &str = "admin.users.read";
pub const USERS_WRITE: &str = "admin.users.write";
pub const CLIENTS_READ: &str = "admin.clients.read";
pub const CLIENTS_WRITE: &str = "admin.clients.write";
pub const AUDIT_READ: &str = "admin.audit.read";
pub const TENANT_READ: &str = "admin.tenant.read";
pub const TENANT_WRITE: &str = "admin.tenant.write";

pub const ALL_SCOPES: [&str; 7] =
    [USERS_READ, USERS_WRITE, CLIENTS_READ, CLIENTS_WRITE, AUDIT_READ, TENANT_READ, TENANT_WRITE];

/// The authenticated caller of one admin API request.
#[derive(Clone)]
pub struct AdminCaller {
    pub tenant: Tenant,
    pub client: entity::client::Model,
    /// The token's scopes that the client is still allowed now.
    pub scopes: Scope,
}

impl AdminCaller {
    /// 403 `insufficient_scope` unless the token carries `scope`.
    pub fn require(&self, scope: &'static str) -> Result<(), Problem> {
        if self.scopes.contains(scope) {
            return Ok(());
        }
        Err(Problem::new(
            StatusCode::FORBIDDEN,
            "insufficient-scope",
            "The token lacks a scope",
            format!("this call needs the scope {scope}"),
        )
        .with_challenge(format!("Bearer realm=\"tessera\", error=\"insufficient_scope\", scope=\"{scope}\"")))
    }

    pub fn client_id(&self) -> &str {
        &self.client.client_id
    }
}

fn invalid_token(detail: &str) -> Problem {
    Problem::new(StatusCode::UNAUTHORIZED, "invalid-token", "The access token is not valid here", detail)
        .with_challenge(format!(
            "Bearer realm=\"tessera\", error=\"invalid_token\", error_description=\"{detail}\""
        ))
}

/// Authenticates the call, hands the caller to the handler, and records `admin_api.call` with
/// the calling client and the answer's status.
pub async fn authenticate(
    State(state): State<AppState>,
    tenant: Result<CurrentTenant, PageError>,
    ClientIp(ip): ClientIp,
    mut request: Request,
    next: Next,
) -> Response {
    let tenant = match tenant {
        Ok(CurrentTenant(tenant)) => tenant,
        Err(err) if err.status == StatusCode::NOT_FOUND => {
            return Problem::not_found("no such tenant").into_response();
        }
        Err(_) => return Problem::internal("tenant lookup failed").into_response(),
    };
    let caller = match caller(&state, tenant, request.headers().get(header::AUTHORIZATION)).await {
        Ok(caller) => caller,
        Err(problem) => return no_store(problem.into_response()),
    };
    let method = request.method().to_string();
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_default();
    request.extensions_mut().insert(caller.clone());
    let response = next.run(request).await;
    let now = state.now();
    let event = AuditEvent {
        tenant_id: Some(caller.tenant.id()),
        user_id: None,
        event: Event::AdminApiCall,
        detail: json!({
            "client": caller.client_id(),
            "method": method,
            "route": route,
            "status": response.status().as_u16(),
        }),
        ip: Some(&ip),
    };
    if let Err(err) = audit::record(&state.db, event, now).await {
        // The call has happened; its answer goes out, and the failed record is loud in the log.
        tracing::error!(error = %err, client = caller.client_id(), "could not record admin_api.call");
    }
    no_store(response)
}

fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn caller(
    state: &AppState,
    tenant: Tenant,
    authorization: Option<&HeaderValue>,
) -> Result<AdminCaller, Problem> {
    let Some(value) = authorization else {
        // RFC 6750 3.1: a request without credentials gets the challenge and no error code.
        return Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "missing-token",
            "An access token is required",
            "send Authorization: Bearer <access token from client_credentials>",
        )
        .with_challenge("Bearer realm=\"tessera\"".to_string()));
    };
    let value = value.to_str().map_err(|_| invalid_token("malformed Authorization header"))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(invalid_token("use the Bearer scheme"));
    }
    let now = state.now();
    // Tokens are found by their hash within this tenant: another tenant's token is unknown here.
    let row = crate::oauth::active_token::find(state, &tenant, token, now)
        .await
        .map_err(Problem::internal)?
        .ok_or_else(|| invalid_token("the token is unknown, expired or revoked"))?;
    if row.user_id.is_some() {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "not-a-client-token",
            "A person's token cannot administer",
            "use a token from the client_credentials grant",
        )
        .with_challenge("Bearer realm=\"tessera\", error=\"insufficient_scope\"".to_string()));
    }
    let client = store::clients::find_by_row_id(&state.db, &row.client_id)
        .await
        .map_err(Problem::internal)?
        .filter(|c| c.tenant_id == tenant.id() && !c.is_public)
        .ok_or_else(|| invalid_token("the token's client no longer exists"))?;
    // A scope taken from the client since the token was issued no longer counts.
    let allowed = store::clients::allowed_scopes(&client).map_err(Problem::internal)?;
    let allowed = Scope::parse(&allowed.join(" "));
    let scopes = Scope::parse(&row.scope).retain_known(&ALL_SCOPES);
    let scopes = Scope::parse(&scopes.iter().filter(|s| allowed.contains(s)).collect::<Vec<_>>().join(" "));
    Ok(AdminCaller { tenant, client, scopes })
}
