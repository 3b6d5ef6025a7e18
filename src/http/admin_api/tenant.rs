//! `GET /tenant`, `PATCH /tenant`: the tenant's policy (second factor, trusted devices, text
//! messages, theme, host).

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{AdminCaller, TENANT_READ, TENANT_WRITE};
use super::problem::{ApiJson, Problem, ProblemDocument, nullable};
use super::{if_match, with_etag};
use crate::admin::{self, Actor, SmsPolicy, TenantChange};
use crate::state::AppState;
use crate::tenants::Tenant;

#[derive(Serialize, ToSchema)]
pub struct TenantView {
    pub slug: String,
    pub display_name: String,
    /// The OpenID Connect issuer.
    pub issuer: String,
    /// People without a second factor must set one up at sign-in.
    pub require_2fa: bool,
    /// How long "skip this step on this device" lasts; 0: off.
    pub trusted_device_days: i32,
    /// Region for phone numbers typed without a country code (`NL`).
    pub sms_region: String,
    /// Regions text messages may go to; empty: `sms_region` alone.
    pub sms_countries: Vec<String>,
    /// Text messages per day for the whole tenant.
    pub sms_daily_cap: i32,
    /// Minutes a text-message code is valid.
    pub sms_code_minutes: i64,
    /// Whether the tenant sends text messages with its own provider account.
    pub own_sms_sender: bool,
    pub theme: String,
    /// A host name of its own, serving the tenant at its root.
    pub host: Option<String>,
}

impl TenantView {
    fn of(tenant: &Tenant) -> Self {
        let row = &tenant.row;
        Self {
            slug: row.slug.clone(),
            display_name: row.display_name.clone(),
            issuer: tenant.issuer.clone(),
            require_2fa: row.require_2fa,
            trusted_device_days: row.trusted_device_days,
            sms_region: row.sms_region.clone(),
            sms_countries: row
                .sms_countries
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect(),
            sms_daily_cap: row.sms_daily_cap,
            sms_code_minutes: row.sms_code_seconds / 60,
            own_sms_sender: row.sms_sender_sealed.is_some(),
            theme: row.theme.clone(),
            host: row.host.clone(),
        }
    }
}

/// The settings to change; a field left out keeps its value.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantPatch {
    pub require_2fa: Option<bool>,
    /// 0-365.
    pub trusted_device_days: Option<i32>,
    /// Two letters.
    pub sms_region: Option<String>,
    /// Two-letter region codes; `[]`: the region alone.
    pub sms_countries: Option<Vec<String>>,
    /// 0 or more.
    pub sms_daily_cap: Option<i32>,
    /// 1-60.
    pub sms_code_minutes: Option<i64>,
    /// The name of an installed theme.
    pub theme: Option<String>,
    /// A host name, or `null` to remove it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub host: Option<Option<String>>,
}

/// Read the tenant's policy.
#[utoipa::path(
    get, path = "/tenant", tag = "tenant",
    responses(
        (status = 200, description = "The tenant; ETag names its revision", body = TenantView),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin.tenant.read", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin.tenant.read"]))
)]
pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<AdminCaller>,
) -> Result<Response, Problem> {
    caller.require(TENANT_READ)?;
    // From the database, not the few seconds' memory: the ETag must name the current revision.
    let mut tenant = caller.tenant.clone();
    tenant.row = crate::store::tenants::find_by_slug(&state.db, tenant.slug())
        .await
        .map_err(Problem::internal)?
        .ok_or_else(|| Problem::not_found("no such tenant"))?;
    Ok(with_etag(StatusCode::OK, &admin::tenant_revision(&tenant.row), TenantView::of(&tenant)))
}

/// Change the tenant's policy; every value is checked before anything is written.
#[utoipa::path(
    patch, path = "/tenant", tag = "tenant",
    request_body = TenantPatch,
    params(("If-Match" = String, Header, description = "The ETag of the last read, or *")),
    responses(
        (status = 200, description = "The changed tenant", body = TenantView),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin.tenant.write", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 412, description = "The tenant changed since that ETag", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "A value is not acceptable", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is missing", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin.tenant.write"]))
)]
pub async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<AdminCaller>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<TenantPatch>,
) -> Result<Response, Problem> {
    caller.require(TENANT_WRITE)?;
    let expected = if_match(&headers, true)?;
    let change = TenantChange {
        require_2fa: patch.require_2fa,
        trusted_device_days: patch.trusted_device_days,
        sms: SmsPolicy {
            region: patch.sms_region,
            countries: patch.sms_countries.map(|c| c.join(",")),
            daily_cap: patch.sms_daily_cap,
            code_minutes: patch.sms_code_minutes,
        },
        theme: patch.theme,
        host: patch.host,
    };
    let tenant = admin::update_tenant_settings(
        &state,
        &caller.tenant,
        change,
        expected.as_deref(),
        Actor::ApiClient(caller.client_id()),
    )
    .await?;
    // The issuer as this request reached it (path or own host), with the new row.
    let mut answer = caller.tenant.clone();
    answer.row = tenant.row;
    Ok(with_etag(StatusCode::OK, &admin::tenant_revision(&answer.row), TenantView::of(&answer)))
}
