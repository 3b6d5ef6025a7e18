//! "Change email address" on the account page (after a fresh sign-in): a link valid for 24 hours
//! and once (stored hashed; a new request replaces the old link) goes to the new address, and
//! nothing changes until it is followed. Following it moves the account to the new address,
//! verified, and tells the old address, in one transaction. An address another account of the
//! tenant already uses gets an email saying so instead of a link; the person who asked sees the
//! same page either way (no account enumeration, docs/decisions.md).

use serde_json::json;

use super::{AccountError, record};
use crate::audit::Event;
use crate::crypto::{random_token, sha256_hex};
use crate::domain::Email;
use crate::email::messages::{self, SecurityEvent};
use crate::email::{Seen, outbox};
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

pub const PURPOSE: &str = "change_email";
pub const LINK_SECONDS: i64 = messages::VERIFY_LINK_MINUTES * 60;

/// Change requests per person (refused ones count too), and emails per new address, in an hour:
/// a signed-in person cannot flood an inbox, nor several accounts one address.
const PER_PERSON: i32 = 5;
const PER_ADDRESS: i32 = 3;
const WINDOW_SECONDS: i64 = 3600;

/// The person's counter of change requests (erased with them).
pub fn throttle_key(tenant_id: &str, user_id: &str) -> String {
    format!("email-change-user:{tenant_id}:{user_id}")
}

#[derive(Debug, PartialEq, Eq)]
pub enum Requested {
    /// An email went to the new address: the link, or word that the address is taken.
    Sent,
    /// The new address is the person's own already.
    Unchanged,
    /// Too many requests in the hour, by this person or for this address (whether taken or not).
    Throttled,
}

/// Sends a change link to `new`; the person's earlier change link stops working.
pub async fn request(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
    new: &Email,
    lang: &'static str,
    ip: &str,
    now: i64,
) -> Result<Requested, AccountError> {
    if new.as_str() == user.email {
        return Ok(Requested::Unchanged);
    }
    let per_person = throttle_key(tenant.id(), &user.id);
    let per_address = format!("email-change-address:{}:{}", tenant.id(), sha256_hex(new.as_str()));
    for (key, limit) in [(&per_person, PER_PERSON), (&per_address, PER_ADDRESS)] {
        store::throttles::forget_if_older(&state.db, key, now - WINDOW_SECONDS).await?;
        if !store::throttles::take_under(&state.db, key, limit, now).await? {
            return Ok(Requested::Throttled);
        }
    }
    let corrupt =
        |e: crate::email::EmailError| AccountError::Store(store::StoreError::Corrupt(e.to_string()));
    let owner = store::users::find_by_email(&state.db, tenant.id(), new).await?;
    let taken = owner.is_some();
    if let Some(owner) = owner {
        // The owner of the address learns that it is in use (in their language); the person who
        // asked does not.
        let lang = messages::language(owner.locale.as_deref(), tenant);
        let message = messages::email_change_taken(state, tenant, user, new.as_str(), lang, now)
            .await
            .map_err(corrupt)?;
        // Like any second request, it ends the earlier link (to another address).
        store::email_links::cancel_and_send(&state.db, &user.id, PURPOSE, message.clone()).await?;
        outbox::start(state, message);
    } else {
        let token = random_token(32);
        let link_url = tenant.url(&format!("/email/change/{token}"));
        let message = messages::email_change(state, tenant, user, new.as_str(), lang, &link_url, now)
            .await
            .map_err(corrupt)?;
        let link = entity::email_link::Model {
            id: uuid::Uuid::new_v4().to_string(),
            tenant_id: tenant.id().to_string(),
            user_id: user.id.clone(),
            purpose: PURPOSE.to_string(),
            token_hash: sha256_hex(&token),
            attempt_id: None,
            created_at: now,
            expires_at: now + LINK_SECONDS,
            used_at: None,
            new_email: Some(new.as_str().to_string()),
        };
        store::email_links::replace_and_send(&state.db, link, message.clone()).await?;
        outbox::start(state, message);
    }
    record(state, tenant, &user.id, Event::EmailChangeRequested, json!({ "address_taken": taken }), ip, now)
        .await?;
    Ok(Requested::Sent)
}

/// A change link that can still be used: this tenant's, unused, unexpired, its person still
/// there and enabled. A `GET` uses nothing.
pub async fn usable_link(
    state: &AppState,
    tenant: &Tenant,
    token: &str,
    now: i64,
) -> Result<Option<(entity::email_link::Model, entity::user::Model, Email)>, AccountError> {
    let Some(link) = store::email_links::find(&state.db, PURPOSE, &sha256_hex(token)).await? else {
        return Ok(None);
    };
    if link.tenant_id != tenant.id() || link.used_at.is_some() || link.expires_at <= now {
        return Ok(None);
    }
    let Some(new) = link.new_email.as_deref().and_then(|e| Email::parse(e).ok()) else { return Ok(None) };
    let user = store::users::find(&state.db, tenant.id(), &link.user_id).await?;
    Ok(user.filter(|u| u.disabled_at.is_none()).map(|user| (link, user, new)))
}

#[derive(Debug, PartialEq, Eq)]
pub enum Confirmed {
    Changed,
    /// Used, expired, replaced, another tenant's, or its person disabled or erased.
    LinkUnusable,
    /// Another account took the address since the link was sent.
    AddressTaken,
}

/// Uses the link: the address changes (verified), the old address is told, the person's other
/// links (sent to the old address) stop working.
pub async fn confirm(
    state: &AppState,
    tenant: &Tenant,
    token: &str,
    ip: &str,
    seen: Seen<'_>,
    now: i64,
) -> Result<Confirmed, AccountError> {
    let Some((link, user, new)) = usable_link(state, tenant, token, now).await? else {
        return Ok(Confirmed::LinkUnusable);
    };
    if store::users::find_by_email(&state.db, tenant.id(), &new).await?.is_some() {
        return Ok(Confirmed::AddressTaken);
    }
    // Addressed to `user.email`: the old address.
    let notice =
        messages::notice_row(state, tenant, &user, seen.notice(SecurityEvent::EmailChanged, now)).await;
    let outcome =
        store::users::change_email_with_link(&state.db, &link.id, &user.id, &new, notice.clone(), now)
            .await?;
    match outcome {
        store::users::EmailChange::Changed => {}
        store::users::EmailChange::LinkUnusable => return Ok(Confirmed::LinkUnusable),
        store::users::EmailChange::AddressTaken => return Ok(Confirmed::AddressTaken),
    }
    messages::sent_with_change(state, notice);
    record(state, tenant, &user.id, Event::EmailChanged, json!({ "by": "link" }), ip, now).await?;
    Ok(Confirmed::Changed)
}
