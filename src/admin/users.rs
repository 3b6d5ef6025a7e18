//! Users: creating one with a password (imports from other providers are in `user_import`).

use secrecy::SecretString;
use serde_json::json;

use super::AdminError;
use crate::audit::{self, AuditEvent, Event};
use crate::domain::Email;
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

pub async fn create_user(
    state: &AppState,
    tenant: &Tenant,
    email: &str,
    name: Option<&str>,
    password: SecretString,
) -> Result<entity::user::Model, AdminError> {
    create_user_with_verified(state, tenant, email, name, password, false).await
}

/// `create_user` with `email_verified` set when the provider already checked the address.
pub async fn create_user_with_verified(
    state: &AppState,
    tenant: &Tenant,
    email: &str,
    name: Option<&str>,
    password: SecretString,
    email_verified: bool,
) -> Result<entity::user::Model, AdminError> {
    let email = Email::parse(email)?;
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    if name.is_some_and(|n| n.chars().count() > 200) {
        return Err(AdminError::Invalid("the name must be at most 200 characters".into()));
    }
    let hash = state.passwords.hash(password).await?;
    let now = state.now();
    let row =
        store::users::insert_with_verified(&state.db, tenant.id(), &email, name, hash, email_verified, now)
            .await?;
    audit::record(
        &state.db,
        AuditEvent {
            tenant_id: Some(tenant.id()),
            user_id: Some(&row.id),
            event: Event::UserCreated,
            detail: if email_verified { json!({ "email_verified": true }) } else { json!({}) },
            ip: None,
        },
        now,
    )
    .await?;
    Ok(row)
}
