//! Trusted devices: "Skip this step for one month on this device". The browser gets a cookie with
//! a random 256-bit token; the database keeps its hash, bound to user and tenant, with an expiry.

use crate::crypto::{random_token, sha256_hex};
use crate::state::AppState;
use crate::store::{self, StoreError};
use crate::tenants::Tenant;

/// Remembers this browser for `user_id`; returns the cookie token and its lifetime in seconds.
pub async fn remember(
    state: &AppState,
    tenant: &Tenant,
    user_id: &str,
    user_agent: &str,
    now: i64,
) -> Result<Option<(String, i64)>, StoreError> {
    let days = i64::from(tenant.row.trusted_device_days);
    if days <= 0 {
        return Ok(None);
    }
    let lifetime = days * 86_400;
    let token = random_token(32);
    store::trusted_devices::insert(
        &state.db,
        entity::trusted_device::Model {
            id: uuid::Uuid::new_v4().to_string(),
            tenant_id: tenant.id().to_string(),
            user_id: user_id.to_string(),
            token_hash: sha256_hex(&token),
            browser: browser_label(user_agent),
            created_at: now,
            last_used_at: now,
            expires_at: now + lifetime,
        },
    )
    .await?;
    Ok(Some((token, lifetime)))
}

/// True when the cookie token names an unexpired device of this user at this tenant; marks it used.
pub async fn recognise(
    state: &AppState,
    tenant: &Tenant,
    user_id: &str,
    token: Option<&str>,
    now: i64,
) -> Result<bool, StoreError> {
    let Some(token) = token else { return Ok(false) };
    if tenant.row.trusted_device_days <= 0 {
        return Ok(false);
    }
    let found =
        store::trusted_devices::find_active(&state.db, tenant.id(), user_id, &sha256_hex(token), now).await?;
    match found {
        Some(device) => {
            store::trusted_devices::touch(&state.db, &device.id, now).await?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// "Firefox on Windows", "Safari on iPhone": enough for a person to recognise their device.
pub fn browser_label(user_agent: &str) -> String {
    let browser = if user_agent.contains("Edg/") {
        "Edge"
    } else if user_agent.contains("OPR/") {
        "Opera"
    } else if user_agent.contains("Firefox/") {
        "Firefox"
    } else if user_agent.contains("Chrome/")
        || user_agent.contains("Chromium/")
        || user_agent.contains("CriOS/")
    {
        "Chrome"
    } else if user_agent.contains("Safari/") {
        "Safari"
    } else {
        "Unknown browser"
    };
    let platform = if user_agent.contains("iPhone") {
        "iPhone"
    } else if user_agent.contains("iPad") {
        "iPad"
    } else if user_agent.contains("Android") {
        "Android"
    } else if user_agent.contains("Windows") {
        "Windows"
    } else if user_agent.contains("Mac OS X") || user_agent.contains("Macintosh") {
        "macOS"
    } else if user_agent.contains("CrOS") {
        "ChromeOS"
    } else if user_agent.contains("Linux") {
        "Linux"
    } else {
        "unknown system"
    };
    format!("{browser} on {platform}")
}

#[cfg(test)]
mod tests {
    use super::browser_label;

    #[test]
    fn labels_common_browsers() {
        let firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0";
        let safari_iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        let chrome_linux = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
        let edge = "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0";
        assert_eq!(browser_label(firefox), "Firefox on Windows");
        assert_eq!(browser_label(safari_iphone), "Safari on iPhone");
        assert_eq!(browser_label(chrome_linux), "Chrome on Linux");
        assert_eq!(browser_label(edge), "Edge on Windows");
        assert_eq!(browser_label(""), "Unknown browser on unknown system");
    }
}
