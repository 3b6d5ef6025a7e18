//! Tenants: look one up, create one with its first signing keys, change its second-factor policy
//! and its branding (theme, own host name).

use serde_json::json;

use super::AdminError;
use crate::audit::{self, AuditEvent, Event};
use crate::domain::TenantSlug;
use crate::keys::Alg;
use crate::state::AppState;
use crate::store;
use crate::tenants::{self, Tenant};

pub async fn tenant(state: &AppState, slug: &str) -> Result<Tenant, AdminError> {
    tenants::find(state, slug).await?.ok_or_else(|| AdminError::UnknownTenant(slug.to_string()))
}

/// Creates a tenant and its first signing key.
pub async fn create_tenant(state: &AppState, slug: &str, display_name: &str) -> Result<Tenant, AdminError> {
    let slug = TenantSlug::parse(slug)?;
    let display_name = display_name.trim();
    if display_name.is_empty() || display_name.chars().count() > 100 {
        return Err(AdminError::Invalid("the tenant name must be 1-100 characters".into()));
    }
    let now = state.now();
    let row = store::tenants::insert(&state.db, slug.as_str(), display_name, now).await?;
    // One key per algorithm from the start, so the first JWKS a client caches has them all.
    for alg in Alg::ALL {
        state.keys.create(&state.db, &row.id, alg, now, now).await?;
    }
    audit::record(
        &state.db,
        AuditEvent {
            tenant_id: Some(&row.id),
            user_id: None,
            event: Event::TenantCreated,
            detail: json!({ "slug": row.slug }),
            ip: None,
        },
        now,
    )
    .await?;
    self::tenant(state, &row.slug).await
}

/// Sets `require_2fa` and/or `trusted_device_days` (0-365; 0 turns trusted devices off).
pub async fn update_tenant_policy(
    state: &AppState,
    tenant: &Tenant,
    require_2fa: Option<bool>,
    trusted_device_days: Option<i32>,
) -> Result<Tenant, AdminError> {
    if require_2fa.is_none() && trusted_device_days.is_none() {
        return Err(AdminError::Invalid(
            "nothing to update: give --require-2fa and/or --trusted-device-days".into(),
        ));
    }
    if let Some(days) = trusted_device_days {
        check_trusted_device_days(days)?;
    }
    store::tenants::update_policy(&state.db, tenant.id(), require_2fa, trusted_device_days).await?;
    state.tenant_memory.forget_all();
    let now = state.now();
    audit::record(
        &state.db,
        AuditEvent {
            tenant_id: Some(tenant.id()),
            user_id: None,
            event: Event::TenantPolicyChanged,
            detail: json!({ "require_2fa": require_2fa, "trusted_device_days": trusted_device_days }),
            ip: None,
        },
        now,
    )
    .await?;
    self::tenant(state, tenant.slug()).await
}

/// Sets the tenant's theme and/or its own host name ("none" removes the host).
pub async fn update_tenant_branding(
    state: &AppState,
    tenant: &Tenant,
    theme: Option<&str>,
    host: Option<&str>,
) -> Result<Tenant, AdminError> {
    if let Some(theme) = theme {
        check_theme(state, theme)?;
    }
    let host = match host {
        None => None,
        Some("none") => Some(None),
        Some(host) => Some(Some(parse_host(state, host)?)),
    };
    store::tenants::update_branding(&state.db, tenant.id(), theme, host.as_ref().map(|h| h.as_deref()))
        .await?;
    state.tenant_memory.forget_all();
    self::tenant(state, tenant.slug()).await
}

/// Sets the sender address of the tenant's email (`"Kliniek West <no-reply@kliniek-west.example>"`);
/// "none" goes back to the server's `email.from`.
pub async fn set_tenant_email_from(
    state: &AppState,
    tenant: &Tenant,
    from: &str,
) -> Result<Tenant, AdminError> {
    let from = from.trim();
    let from = if from == "none" {
        None
    } else if crate::email::is_mailbox(from) {
        Some(from)
    } else {
        return Err(AdminError::Invalid(format!(
            "{from:?} is not an email sender (Name <address@host> or address@host)"
        )));
    };
    store::tenants::set_email_from(&state.db, tenant.id(), from).await?;
    state.tenant_memory.forget_all();
    self::tenant(state, tenant.slug()).await
}

/// 0-365 days; 0 turns trusted devices off.
pub(super) fn check_trusted_device_days(days: i32) -> Result<(), AdminError> {
    if (0..=365).contains(&days) {
        Ok(())
    } else {
        Err(AdminError::Invalid(
            "the trusted-device days (--trusted-device-days, trusted_device_days) must be between 0 and 365"
                .into(),
        ))
    }
}

pub(super) fn check_theme(state: &AppState, theme: &str) -> Result<(), AdminError> {
    if state.views.has_theme(theme) {
        Ok(())
    } else {
        Err(AdminError::Invalid(format!(
            "unknown theme {theme:?}; known: {}",
            state.views.theme_names().join(", ")
        )))
    }
}

/// A tenant's own host name, lower-cased; never the public URL's host.
pub(super) fn parse_host(state: &AppState, host: &str) -> Result<String, AdminError> {
    let host = host.trim().to_ascii_lowercase();
    let valid = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
        });
    if !valid || !host.contains('.') && host != "localhost" {
        return Err(AdminError::Invalid(format!("invalid host name {host:?}")));
    }
    // The public URL's host serves every tenant below /t/{slug}; no tenant can own it.
    if state.settings.public_url.host_str() == Some(host.as_str()) {
        return Err(AdminError::Invalid(format!("{host:?} is the public URL's own host")));
    }
    Ok(host)
}
