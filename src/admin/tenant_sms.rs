//! A tenant's text-message settings: its SMS policy (region, countries, daily cap, code lifetime)
//! and its own SMS sender.

use serde_json::json;

use super::AdminError;
use crate::audit::{self, AuditEvent, Event};
use crate::keys::SigningKeyError;
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

/// The tenant's text-message policy (`tessera tenant update --sms-*`).
#[derive(Default)]
pub struct SmsPolicy {
    pub region: Option<String>,
    pub countries: Option<String>,
    pub daily_cap: Option<i32>,
    pub code_minutes: Option<i64>,
}

/// An `SmsPolicy` after its checks: codes upper-cased, countries joined, minutes in seconds.
pub(super) struct CheckedSmsPolicy {
    pub region: Option<String>,
    pub countries: Option<String>,
    pub daily_cap: Option<i32>,
    pub code_seconds: Option<i64>,
}

impl SmsPolicy {
    pub(super) fn check(self) -> Result<CheckedSmsPolicy, AdminError> {
        let region_ok = |r: &str| r.len() == 2 && r.chars().all(|c| c.is_ascii_alphabetic());
        let region = self.region.map(|r| r.trim().to_ascii_uppercase());
        if region.as_deref().is_some_and(|r| !region_ok(r)) {
            return Err(AdminError::Invalid(
                "the SMS region (--sms-region, sms_region) must be a two-letter region code such as NL"
                    .into(),
            ));
        }
        let countries = self.countries.map(|c| {
            c.split(',')
                .map(|x| x.trim().to_ascii_uppercase())
                .filter(|x| !x.is_empty())
                .collect::<Vec<_>>()
                .join(",")
        });
        if countries.as_deref().is_some_and(|c| c.split(',').filter(|x| !x.is_empty()).any(|x| !region_ok(x)))
        {
            return Err(AdminError::Invalid(
                "the SMS countries (--sms-countries, sms_countries) must be two-letter region codes, comma-separated".into(),
            ));
        }
        if self.daily_cap.is_some_and(|cap| cap < 0) {
            return Err(AdminError::Invalid(
                "the SMS daily cap (--sms-daily-cap, sms_daily_cap) must be 0 or more".into(),
            ));
        }
        if self.code_minutes.is_some_and(|m| !(1..=60).contains(&m)) {
            return Err(AdminError::Invalid(
                "the SMS code minutes (--sms-code-minutes, sms_code_minutes) must be between 1 and 60".into(),
            ));
        }
        Ok(CheckedSmsPolicy {
            region,
            countries,
            daily_cap: self.daily_cap,
            code_seconds: self.code_minutes.map(|m| m * 60),
        })
    }
}

pub async fn update_sms_policy(
    state: &AppState,
    tenant: &Tenant,
    policy: SmsPolicy,
) -> Result<Tenant, AdminError> {
    let CheckedSmsPolicy { region, countries, daily_cap, code_seconds } = policy.check()?;
    store::tenants::update_sms_policy(
        &state.db,
        tenant.id(),
        region.as_deref(),
        countries.as_deref(),
        daily_cap,
        code_seconds,
    )
    .await?;
    state.tenant_memory.forget_all();
    super::tenant(state, tenant.slug()).await
}

/// Gives a tenant its own SMS sender, or (`None`) returns it to the server's sender.
pub async fn set_tenant_sms_sender(
    state: &AppState,
    tenant: &Tenant,
    sender: Option<crate::notify::SenderOverride>,
) -> Result<(), AdminError> {
    let sealed = match sender {
        None => None,
        Some(sender) => {
            let console_allowed = state.settings.allows_development_secrets();
            crate::notify::ConfiguredSender::from_settings(
                &sender.apply_to(&state.settings.sms),
                console_allowed,
            )
            .map_err(AdminError::Invalid)?;
            let json = serde_json::to_vec(&sender).map_err(|e| AdminError::Invalid(e.to_string()))?;
            let sealed = state
                .keys
                .master()
                .seal(&json, &crate::authn::sms::sender_aad(tenant.id()))
                .map_err(|e| AdminError::Keys(SigningKeyError::MasterKey(e)))?;
            Some(sealed)
        }
    };
    let kind = sealed.is_some();
    store::tenants::set_sms_sender(&state.db, tenant.id(), sealed).await?;
    state.tenant_memory.forget_all();
    let now = state.now();
    audit::record(
        &state.db,
        AuditEvent {
            tenant_id: Some(tenant.id()),
            user_id: None,
            event: Event::TenantSmsSenderChanged,
            detail: json!({ "own_sender": kind }),
            ip: None,
        },
        now,
    )
    .await?;
    Ok(())
}
