//! `tessera user invite`, and the admin API's `POST /users` with `"invite": true` and
//! `POST /users/{id}/invitation`: a person created without a password of their own gets a link
//! (7 days, once, stored hashed) to set it; inviting again sends a new link and the old one stops
//! working.

use secrecy::SecretString;
use serde_json::json;

use super::{Actor, AdminError};
use crate::audit::{self, AuditEvent, Event};
use crate::crypto::{random_token, sha256_hex};
use crate::domain::Email;
use crate::email::{messages, outbox};
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

pub const PURPOSE: &str = "invitation";
pub const LINK_SECONDS: i64 = messages::INVITE_LINK_MINUTES * 60;

/// Invites `email` (creating the person when new); returns the person.
pub async fn invite_user(
    state: &AppState,
    tenant: &Tenant,
    email: &str,
    name: Option<&str>,
) -> Result<entity::user::Model, AdminError> {
    let email = Email::parse(email)?;
    let user = match store::users::find_by_email(&state.db, tenant.id(), &email).await? {
        Some(user) => user,
        None => create_invited(state, tenant, &email, name, Actor::CLI).await?,
    };
    invite_again(state, tenant, &user).await?;
    Ok(user)
}

/// Sends someone who has not accepted an invitation a new link (the earlier one stops working);
/// refused once they have a password of their own, or while they are disabled.
pub async fn invite_again(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
) -> Result<(), AdminError> {
    if user.email_verified || store::email_links::has_used(&state.db, &user.id, PURPOSE).await? {
        return Err(AdminError::Conflict(format!(
            "{} already has an account with a password; use \"Forgot your password?\"",
            user.email
        )));
    }
    if user.disabled_at.is_some() {
        // Disabling removed their links; a new one must not set a disabled person's password.
        return Err(AdminError::Conflict(format!("{} is disabled; enable them first", user.email)));
    }
    send_invitation(state, tenant, user).await
}

/// Creates a person by invitation only: an address that is taken is `Duplicate` (a conflict),
/// never a second invitation to someone who exists (the admin API's `POST /users`).
pub async fn invite_new_user(
    state: &AppState,
    tenant: &Tenant,
    email: &str,
    name: Option<&str>,
    actor: Actor<'_>,
) -> Result<entity::user::Model, AdminError> {
    let email = Email::parse(email)?;
    let user = create_invited(state, tenant, &email, name, actor).await?;
    send_invitation(state, tenant, &user).await?;
    Ok(user)
}

async fn create_invited(
    state: &AppState,
    tenant: &Tenant,
    email: &Email,
    name: Option<&str>,
    actor: Actor<'_>,
) -> Result<entity::user::Model, AdminError> {
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    if name.is_some_and(|n| n.chars().count() > 200) {
        return Err(AdminError::Invalid("the name must be at most 200 characters".into()));
    }
    let now = state.now();
    // A hash of a secret nobody knows: the account cannot be signed in to until the link is
    // used, and a try costs what any wrong password costs.
    let unusable = state.passwords.hash(SecretString::from(random_token(32))).await?;
    let user = store::users::insert(&state.db, tenant.id(), email, name, unusable, now).await?;
    let event = AuditEvent {
        tenant_id: Some(tenant.id()),
        user_id: Some(&user.id),
        event: Event::UserCreated,
        detail: json!({ "invited": true, "by": actor.label() }),
        ip: None,
    };
    audit::record(&state.db, event, now).await?;
    Ok(user)
}

/// Sends the person a new invitation link; an earlier one stops working.
async fn send_invitation(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
) -> Result<(), AdminError> {
    let now = state.now();
    let token = random_token(32);
    let link_url = tenant.url(&format!("/invitation/{token}"));
    // Invited again after a sign-in: the language they signed in with.
    let lang = messages::language(user.locale.as_deref(), tenant);
    let message = messages::invitation(state, tenant, user, lang, &link_url, now)
        .await
        .map_err(|e| AdminError::Invalid(e.to_string()))?;
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
