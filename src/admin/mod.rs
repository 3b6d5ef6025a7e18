//! Administration services behind the CLI, the admin API (`http/admin_api`) and the demo seeding:
//! tenants, clients, users, the audit log. Input arrives as strings and is parsed here, so every
//! caller gets the same checks.

mod audit_log;
mod clients;
pub mod invitations;
mod signing_keys;
mod tenant_settings;
mod tenant_sms;
mod tenants;
mod user_directory;
mod user_lifecycle;
mod users;

use sha2::{Digest, Sha256};

use crate::authn::password::PasswordError;
use crate::keys::SigningKeyError;
use crate::store::StoreError;

pub use audit_log::{AuditFilter, AuditPage, list_audit_events, parse_time};
pub use clients::{
    ClientChange, NewClientRequest, SECRET_GRACE_SECONDS, client, client_revision, create_client,
    delete_client, list_clients, rotate_client_secret, update_client,
};
pub use invitations::{invite_again, invite_new_user, invite_user};
pub use signing_keys::rotate_key;
pub use tenant_settings::{TenantChange, tenant_revision, update_tenant_settings};
pub use tenant_sms::{SmsPolicy, set_tenant_sms_sender, update_sms_policy};
pub use tenants::{
    create_tenant, set_tenant_email_from, tenant, update_tenant_branding, update_tenant_policy,
};
pub use user_directory::{
    UserChange, UserFilter, list_users, statuses, update_user, user, user_at_revision, user_revision,
};
pub use user_lifecycle::{
    Disabled, Done, Enabled, Factor, FactorKind, LifecycleError, Person, SessionSummary, SignedOut, Status,
    TwoFactorReset, UserOverview, delete_user, disable_user, enable_user, end_session, reset_two_factor,
    show_user, sign_out, status_of,
};
pub use users::{create_user, create_user_with_verified};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error("unknown tenant {0:?}")]
    UnknownTenant(String),
    /// The named thing (a client, a user) is not in this tenant.
    #[error("no such {0}")]
    NotFound(&'static str),
    /// The request conflicts with where the thing stands (an invitation to someone who has a
    /// password already).
    #[error("{0}")]
    Conflict(String),
    /// The caller's revision (an `If-Match` ETag) is not the current one: someone changed it first.
    #[error("it was changed meanwhile; read it again and retry")]
    Stale,
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

/// Who asked for an administrative change, for the audit event's `by`.
#[derive(Clone, Copy, Debug)]
pub enum Actor<'a> {
    /// The `tessera` command on the server.
    Cli,
    /// An admin API call with a token of this client (its `client_id`).
    ApiClient(&'a str),
}

impl Actor<'static> {
    /// The command line on the server.
    pub const CLI: Actor<'static> = Actor::Cli;
}

impl Actor<'_> {
    pub fn label(self) -> String {
        match self {
            Self::Cli => "cli".to_string(),
            Self::ApiClient(client_id) => format!("client:{client_id}"),
        }
    }
}

/// One page of a list: the items and, when more follow, the key to continue after.
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// At most this many items per page.
pub const MAX_PAGE: u64 = 200;

/// A revision tag over the fields a representation shows (an HTTP `ETag`): it changes when they do.
fn revision_of(fields: &impl std::fmt::Debug) -> String {
    let digest = Sha256::digest(format!("{fields:?}").as_bytes());
    hex::encode(&digest[..16])
}

/// `Stale` unless `expected` (when given) is `current`.
fn check_revision(expected: Option<&str>, current: &str) -> Result<(), AdminError> {
    match expected {
        Some(expected) if expected != current => Err(AdminError::Stale),
        _ => Ok(()),
    }
}
