//! Accepting an invitation (`tessera user invite`): the link's page sets the password (the same
//! rules as everywhere) and verifies the address; the person then signs in, and sets up a second
//! factor there when the tenant requires one.

use secrecy::SecretString;

use super::AccountError;
use crate::admin::invitations::PURPOSE;
use crate::authn::password::PasswordError;
use crate::crypto::sha256_hex;
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

/// The invitation's row and person while it can be used (this tenant's, unused, unexpired).
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

#[derive(Debug)]
pub enum AcceptOutcome {
    Accepted,
    LinkUnusable,
    Refused(PasswordError),
}

pub async fn accept(
    state: &AppState,
    tenant: &Tenant,
    token: &str,
    password: SecretString,
    now: i64,
) -> Result<AcceptOutcome, AccountError> {
    let Some((link, user)) = usable_link(state, tenant, token, now).await? else {
        return Ok(AcceptOutcome::LinkUnusable);
    };
    let hash = match state.passwords.hash(password).await {
        Ok(hash) => hash,
        Err(err @ (PasswordError::TooShort | PasswordError::TooLong)) => {
            return Ok(AcceptOutcome::Refused(err));
        }
        Err(err) => return Err(err.into()),
    };
    if store::users::accept_invitation(&state.db, &link.id, &user.id, hash, now).await? {
        Ok(AcceptOutcome::Accepted)
    } else {
        Ok(AcceptOutcome::LinkUnusable)
    }
}
