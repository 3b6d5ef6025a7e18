//! Reading the audit log (`tessera audit list`, the admin API's `GET /audit-events`): a tenant's
//! events newest first, filtered by person, event name and time, a page at a time.

use super::{AdminError, MAX_PAGE, Page};
use crate::audit::Event;
use crate::domain::Email;
use crate::state::AppState;
use crate::store::{self, audit_events::AuditQuery};
use crate::tenants::Tenant;

#[derive(Default)]
pub struct AuditFilter {
    /// The person, by id (the `sub`) or by email address.
    pub user: Option<String>,
    /// An event name from the catalogue (`login.succeeded`).
    pub event: Option<String>,
    /// Events at or after this time (Unix seconds).
    pub since: Option<i64>,
    /// Events before this time (Unix seconds).
    pub until: Option<i64>,
}

pub type AuditPage = Page<entity::audit_event::Model>;

/// A time given by an administrator: RFC 3339 (`2026-11-27T10:00:00Z`), a date (`2026-11-27`,
/// midnight UTC), Unix seconds, or a span back from now (`30m`, `24h`, `7d`).
pub fn parse_time(value: &str, now: i64) -> Result<i64, AdminError> {
    let value = value.trim();
    let invalid = || {
        AdminError::Invalid(format!(
            "{value:?} is not a time: use RFC 3339 (2026-11-27T10:00:00Z), a date (2026-11-27), Unix seconds, or 30m / 24h / 7d"
        ))
    };
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(value) {
        return Ok(time.timestamp());
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return date.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp()).ok_or_else(invalid);
    }
    if !value.is_empty() && value.chars().all(|c| c.is_ascii_digit()) {
        return value.parse().map_err(|_| invalid());
    }
    let unit = value.chars().last().ok_or_else(invalid)?;
    let seconds = match unit {
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(invalid()),
    };
    let count: i64 = value[..value.len() - 1].parse().map_err(|_| invalid())?;
    if !(0..=36_500).contains(&count) {
        return Err(invalid());
    }
    Ok(now - count * seconds)
}

/// One page of the tenant's events, newest first, continuing after the cursor `after` (from the
/// previous page's `next`).
pub async fn list_audit_events(
    state: &AppState,
    tenant: &Tenant,
    filter: &AuditFilter,
    after: Option<&str>,
    limit: u64,
) -> Result<AuditPage, AdminError> {
    let limit = limit.clamp(1, MAX_PAGE);
    if let Some(event) = &filter.event
        && !Event::ALL.iter().any(|e| e.name() == event)
    {
        return Err(AdminError::Invalid(format!("unknown event name {event:?}")));
    }
    let user_id = match filter.user.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(user) if user.contains('@') => {
            let email = Email::parse(user)?;
            match store::users::find_by_email(&state.db, tenant.id(), &email).await? {
                Some(row) => Some(row.id),
                None => return Err(AdminError::NotFound("user")),
            }
        }
        Some(user) => Some(user.to_string()),
    };
    let before = match after {
        None => None,
        Some(key) => {
            let (time, id) =
                key.split_once('/').ok_or_else(|| AdminError::Invalid("malformed cursor".into()))?;
            let time: i64 = time.parse().map_err(|_| AdminError::Invalid("malformed cursor".into()))?;
            Some((time, id.to_string()))
        }
    };
    let query = AuditQuery {
        tenant_id: tenant.id(),
        user_id: user_id.as_deref(),
        event: filter.event.as_deref(),
        since: filter.since,
        until: filter.until,
        before: before.as_ref().map(|(t, id)| (*t, id.as_str())),
    };
    let mut items = store::audit_events::list_page(&state.db, &query, limit + 1).await?;
    let next = if items.len() as u64 > limit {
        items.truncate(limit as usize);
        items.last().map(|e| format!("{}/{}", e.created_at, e.id))
    } else {
        None
    };
    Ok(Page { items, next })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_every_accepted_form() {
        let now = 1_800_000_000;
        assert_eq!(parse_time("2026-11-27T10:00:00Z", now).unwrap(), 1_795_773_600);
        assert_eq!(parse_time("2026-11-27", now).unwrap(), 1_795_737_600);
        assert_eq!(parse_time("1700000000", now).unwrap(), 1_700_000_000);
        assert_eq!(parse_time("24h", now).unwrap(), now - 86_400);
        assert_eq!(parse_time("30m", now).unwrap(), now - 1800);
        assert_eq!(parse_time("7d", now).unwrap(), now - 7 * 86_400);
        for bad in ["", "yesterday", "5w", "h", "-3d", "2026-13-01"] {
            assert!(parse_time(bad, now).is_err(), "{bad}");
        }
    }
}
