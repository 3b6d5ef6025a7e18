//! The tenant's people as an administrator sees them: list (by email prefix and status), look one up, change
//! the name or email address. Creating one is `users::create_user`; disabling, erasing and
//! resetting belong to the account lifecycle.

use serde_json::json;

use super::{Actor, AdminError, MAX_PAGE, Page, Status, check_revision, revision_of};
use crate::audit::{self, AuditEvent, Event};
use crate::domain::Email;
use crate::state::AppState;
use crate::store;
use crate::store::users::StandingFilter;
use crate::tenants::Tenant;

#[derive(Default)]
pub struct UserFilter {
    /// Addresses starting with this (compared lower-cased, as addresses are stored).
    pub email_prefix: Option<String>,
    /// Only people who stand so.
    pub status: Option<Status>,
}

/// A tenant's users in email order, `limit` at a time, after the address `after`.
pub async fn list_users(
    state: &AppState,
    tenant: &Tenant,
    filter: &UserFilter,
    after: Option<&str>,
    limit: u64,
) -> Result<Page<entity::user::Model>, AdminError> {
    let limit = limit.clamp(1, MAX_PAGE);
    let prefix = filter.email_prefix.as_deref().map(|p| p.trim().to_lowercase()).filter(|p| !p.is_empty());
    let invitation = super::invitations::PURPOSE;
    let standing = filter.status.map(|status| match status {
        Status::Active => StandingFilter::Active { invitation },
        Status::Disabled => StandingFilter::Disabled,
        Status::Invited => StandingFilter::Invited { invitation },
    });
    let mut items =
        store::users::list_page(&state.db, tenant.id(), prefix.as_deref(), standing, after, limit + 1)
            .await?;
    let next = if items.len() as u64 > limit {
        items.truncate(limit as usize);
        items.last().map(|u| u.email.clone())
    } else {
        None
    };
    Ok(Page { items, next })
}

/// A user of this tenant by id (the `sub`).
pub async fn user(
    state: &AppState,
    tenant: &Tenant,
    user_id: &str,
) -> Result<entity::user::Model, AdminError> {
    store::users::find(&state.db, tenant.id(), user_id).await?.ok_or(AdminError::NotFound("user"))
}

/// Where each of `rows` stands (`user_lifecycle::status_of` for a page at once).
pub async fn statuses(state: &AppState, rows: &[entity::user::Model]) -> Result<Vec<Status>, AdminError> {
    let ids: Vec<&str> = rows.iter().map(|u| u.id.as_str()).collect();
    let invited = store::users::invited_among(&state.db, &ids, super::invitations::PURPOSE).await?;
    Ok(rows
        .iter()
        .map(|u| match (u.disabled_at, invited.contains(&u.id)) {
            (Some(_), _) => Status::Disabled,
            (None, true) => Status::Invited,
            (None, false) => Status::Active,
        })
        .collect())
}

/// The revision of what a user's representation shows (never the password hash).
pub fn user_revision(row: &entity::user::Model) -> String {
    revision_of(&(
        &row.id,
        &row.email,
        row.email_verified,
        &row.name,
        row.two_factor_method.map(|m| m.as_str()),
        &row.phone_number,
        row.disabled_at,
        row.updated_at,
    ))
}

/// The user, when `expected` (an `If-Match` ETag, when given) is still their revision: an
/// administrator acting on a person (disable, reset, erase) is told when someone changed them
/// since their read. A check before the act, not a compare-and-set with it (see decisions.md).
pub async fn user_at_revision(
    state: &AppState,
    tenant: &Tenant,
    user_id: &str,
    expected: Option<&str>,
) -> Result<entity::user::Model, AdminError> {
    let row = user(state, tenant, user_id).await?;
    check_revision(expected, &user_revision(&row))?;
    Ok(row)
}

/// What may change; `None` keeps it. `name: Some(None)` removes the name.
#[derive(Default)]
pub struct UserChange {
    pub email: Option<String>,
    pub name: Option<Option<String>>,
}

/// Changes a user's name and/or email address. A new address is not verified (the person has
/// not shown it is theirs).
pub async fn update_user(
    state: &AppState,
    tenant: &Tenant,
    user_id: &str,
    change: UserChange,
    expected: Option<&str>,
    actor: Actor<'_>,
) -> Result<entity::user::Model, AdminError> {
    let old = user(state, tenant, user_id).await?;
    check_revision(expected, &user_revision(&old))?;
    let email = match &change.email {
        Some(email) => Email::parse(email)?.as_str().to_string(),
        None => old.email.clone(),
    };
    let name = match change.name {
        None => old.name.clone(),
        Some(name) => name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()),
    };
    if name.as_ref().is_some_and(|n| n.chars().count() > 200) {
        return Err(AdminError::Invalid("the name must be at most 200 characters".into()));
    }
    let email_changed = email != old.email;
    let email_verified = old.email_verified && !email_changed;
    let now = state.now();
    let event = audit::row(
        AuditEvent {
            tenant_id: Some(tenant.id()),
            user_id: Some(&old.id),
            event: Event::UserUpdated,
            detail: json!({
                "email_changed": email_changed,
                "name_changed": name != old.name,
                "by": actor.label(),
            }),
            ip: None,
        },
        now,
    );
    let updated = store::users::update_profile(
        &state.db,
        &old,
        store::users::Profile { email: &email, name: name.as_deref(), email_verified },
        now,
        event,
    )
    .await?;
    if !updated {
        return Err(AdminError::Stale);
    }
    user(state, tenant, user_id).await
}
