//! Verifying the person's email address: "Send verification email" on the account page sends a
//! link valid for 24 hours and once (stored hashed; a new one replaces the old); confirming it
//! sets `email_verified`, which the `email_verified` claim then says.

use crate::account::AccountError;
use crate::crypto::{random_token, sha256_hex};
use crate::email::{messages, outbox};
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

pub const PURPOSE: &str = "verify_email";
pub const LINK_SECONDS: i64 = messages::VERIFY_LINK_MINUTES * 60;

/// Sends a verification link to the person's address.
pub async fn send(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
    lang: &'static str,
    now: i64,
) -> Result<(), AccountError> {
    let token = random_token(32);
    let link_url = tenant.url(&format!("/email/verify/{token}"));
    let message = messages::verify_email(state, tenant, user, lang, &link_url, now)
        .await
        .map_err(|e| AccountError::Store(store::StoreError::Corrupt(e.to_string())))?;
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
        new_email: None,
    };
    store::email_links::replace_and_send(&state.db, link, message.clone()).await?;
    outbox::start(state, message);
    Ok(())
}

/// The person a usable link (this tenant's, unused, unexpired, still for their current address)
/// belongs to. A `GET` uses nothing.
pub async fn usable_link(
    state: &AppState,
    tenant: &Tenant,
    token: &str,
    now: i64,
) -> Result<Option<(entity::email_link::Model, entity::user::Model)>, AccountError> {
    let Some(link) = store::email_links::find(&state.db, PURPOSE, &sha256_hex(token)).await? else {
        return Ok(None);
    };
    if link.tenant_id != tenant.id() || link.used_at.is_some() || link.expires_at <= now {
        return Ok(None);
    }
    Ok(store::users::find(&state.db, tenant.id(), &link.user_id).await?.map(|user| (link, user)))
}

/// Uses the link: true when this call verified the address.
pub async fn confirm(state: &AppState, tenant: &Tenant, token: &str, now: i64) -> Result<bool, AccountError> {
    let Some((link, user)) = usable_link(state, tenant, token, now).await? else { return Ok(false) };
    Ok(store::users::verify_email_with_link(&state.db, &link.id, &user.id, now).await?)
}
