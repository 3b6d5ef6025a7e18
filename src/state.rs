//! Everything a request handler may use, built once at start and shared.

use std::ops::Deref;
use std::sync::Arc;

use crate::authn::password::PasswordHasher;
use crate::clock::Clock;
use crate::config::Settings;
use crate::keys::KeyStore;
use crate::store::Db;
use crate::views::Views;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub db: Db,
    /// Stores the token endpoint's grants, many in one commit (see `store::token_writer`).
    pub token_writer: crate::store::token_writer::TokenWriter,
    pub settings: Settings,
    pub clock: Arc<dyn Clock>,
    pub keys: KeyStore,
    pub views: Views,
    pub passwords: PasswordHasher,
    pub metrics: crate::metrics::Metrics,
    /// Sends text-message codes.
    pub sms: crate::notify::ConfiguredSender,
    /// Sends email (the outbox worker, `email::outbox`).
    pub mailer: crate::email::Mailer,
    /// Outbound HTTP (client JWK Sets, back-channel logout): short timeouts, no redirects.
    pub http: reqwest::Client,
    /// The JWK Sets of clients registered with a `jwks_uri`, fetched once and remembered.
    pub client_jwks: crate::oauth::client_jwks::ClientJwks,
    /// Tenant rows by slug for a few seconds (see `tenants::memory`).
    pub tenant_memory: crate::tenants::memory::Memory,
    /// Client rows for a few seconds (see `oauth::client_memory`).
    pub client_memory: crate::oauth::client_memory::Memory,
    /// Seals and opens self-contained access tokens (`oauth::sealed_token`).
    pub sealed_tokens: crate::oauth::sealed_token::SealedTokens,
    /// The revocations of self-contained access tokens (`oauth::revoked`).
    pub revoked: crate::oauth::revoked::Revoked,
    /// Serialised discovery documents of path-mounted tenants.
    pub discovery: crate::oidc::discovery::Documents,
}

impl AppState {
    pub fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
