//! Values parsed at the edge: once a string became one of these, nothing re-checks it. Also how a
//! person authenticated, which the login flow, sessions, tokens and account pages all share.

pub mod auth_context;
mod client_id;
mod email;
mod phone_number;
mod redirect_uri;
mod scope;
mod tenant_slug;

pub use auth_context::AuthContext;
pub use client_id::ClientId;
pub use email::Email;
pub use phone_number::PhoneNumber;
pub use redirect_uri::RedirectUri;
pub use scope::Scope;
pub use tenant_slug::TenantSlug;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct ParseError(pub String);
