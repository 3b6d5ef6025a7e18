//! Administration services behind the CLI (and the demo seeding): tenants, clients, users.
//! Input arrives as strings and is parsed here, so every caller gets the same checks.

mod clients;
pub mod invitations;
mod signing_keys;
mod tenant_sms;
mod tenants;
mod user_lifecycle;
mod users;

use crate::authn::password::PasswordError;
use crate::keys::SigningKeyError;
use crate::store::StoreError;

pub use clients::{NewClientRequest, create_client};
pub use invitations::invite_user;
pub use signing_keys::rotate_key;
pub use tenant_sms::{SmsPolicy, set_tenant_sms_sender, update_sms_policy};
pub use tenants::{
    create_tenant, set_tenant_email_from, tenant, update_tenant_branding, update_tenant_policy,
};
pub use user_lifecycle::{
    Actor, Disabled, Done, Enabled, Factor, FactorKind, LifecycleError, SessionSummary, SignedOut, Status,
    TwoFactorReset, UserOverview, delete_user, disable_user, enable_user, reset_two_factor, show_user,
    sign_out,
};
pub use users::{create_user, create_user_with_verified};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error("unknown tenant {0:?}")]
    UnknownTenant(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Keys(#[from] SigningKeyError),
    #[error(transparent)]
    Password(#[from] PasswordError),
}

impl From<crate::domain::ParseError> for AdminError {
    fn from(err: crate::domain::ParseError) -> Self {
        Self::Invalid(err.0)
    }
}
