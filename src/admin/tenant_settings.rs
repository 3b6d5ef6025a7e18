//! A tenant's policy changed in one write (the admin API's `PATCH /tenant`): the second factor,
//! trusted devices, text messages, theme and host, each with the checks of `tessera tenant update`
//! (the same functions), all checked before anything is written.

use serde_json::json;

use super::tenant_sms::CheckedSmsPolicy;
use super::tenants::{check_theme, check_trusted_device_days, parse_host};
use super::{Actor, AdminError, SmsPolicy, check_revision, revision_of};
use crate::audit::{self, AuditEvent, Event};
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

/// What may change; `None` keeps a setting.
#[derive(Default)]
pub struct TenantChange {
    pub require_2fa: Option<bool>,
    pub trusted_device_days: Option<i32>,
    pub sms: SmsPolicy,
    pub theme: Option<String>,
    /// `Some(None)` removes the tenant's own host.
    pub host: Option<Option<String>>,
}

/// The revision of what the tenant's representation shows (never its sealed SMS sender).
pub fn tenant_revision(row: &entity::tenant::Model) -> String {
    revision_of(&(
        &row.slug,
        &row.display_name,
        row.require_2fa,
        row.trusted_device_days,
        &row.sms_region,
        &row.sms_countries,
        row.sms_daily_cap,
        row.sms_code_seconds,
        &row.theme,
        &row.host,
        row.sms_sender_sealed.is_some(),
    ))
}

pub async fn update_tenant_settings(
    state: &AppState,
    tenant: &Tenant,
    change: TenantChange,
    expected: Option<&str>,
    actor: Actor<'_>,
) -> Result<Tenant, AdminError> {
    // Read from the database, not the few seconds' memory: the revision must be the current one.
    let old = store::tenants::find_by_slug(&state.db, tenant.slug())
        .await?
        .ok_or_else(|| AdminError::UnknownTenant(tenant.slug().to_string()))?;
    check_revision(expected, &tenant_revision(&old))?;
    if let Some(days) = change.trusted_device_days {
        check_trusted_device_days(days)?;
    }
    let CheckedSmsPolicy { region, countries, daily_cap, code_seconds } = change.sms.check()?;
    if let Some(theme) = &change.theme {
        check_theme(state, theme)?;
    }
    let host = match change.host {
        None => old.host.clone(),
        Some(None) => None,
        Some(Some(host)) => Some(parse_host(state, &host)?),
    };
    let mut new = old.clone();
    new.require_2fa = change.require_2fa.unwrap_or(old.require_2fa);
    new.trusted_device_days = change.trusted_device_days.unwrap_or(old.trusted_device_days);
    new.sms_region = region.unwrap_or(old.sms_region.clone());
    new.sms_countries = countries.unwrap_or(old.sms_countries.clone());
    new.sms_daily_cap = daily_cap.unwrap_or(old.sms_daily_cap);
    new.sms_code_seconds = code_seconds.unwrap_or(old.sms_code_seconds);
    new.theme = change.theme.unwrap_or(old.theme.clone());
    new.host = host;
    let changed: Vec<&str> = [
        ("require_2fa", old.require_2fa != new.require_2fa),
        ("trusted_device_days", old.trusted_device_days != new.trusted_device_days),
        ("sms_region", old.sms_region != new.sms_region),
        ("sms_countries", old.sms_countries != new.sms_countries),
        ("sms_daily_cap", old.sms_daily_cap != new.sms_daily_cap),
        ("sms_code_seconds", old.sms_code_seconds != new.sms_code_seconds),
        ("theme", old.theme != new.theme),
        ("host", old.host != new.host),
    ]
    .into_iter()
    .filter_map(|(name, changed)| changed.then_some(name))
    .collect();
    let now = state.now();
    let event = audit::row(
        AuditEvent {
            tenant_id: Some(tenant.id()),
            user_id: None,
            event: Event::TenantSettingsChanged,
            detail: json!({ "changed": changed, "by": actor.label() }),
            ip: None,
        },
        now,
    );
    if !store::tenants::update_settings(&state.db, &old, &new, event).await? {
        return Err(AdminError::Stale);
    }
    state.tenant_memory.forget_all();
    super::tenant(state, tenant.slug()).await
}
