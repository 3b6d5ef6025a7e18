//! tessera: a self-hosted OpenID Connect identity provider.
//!
//! Dependencies point one way: `http` -> `authn`/`oauth`/`oidc` -> `store`.

pub mod account;
pub mod admin;
pub mod audit;
pub mod authn;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod demo;
pub mod domain;
pub mod email;
pub mod error;
pub mod http;
pub mod keys;
pub mod metrics;
pub mod notify;
pub mod oauth;
pub mod oidc;
pub mod server;
pub mod startup;
pub mod state;
pub mod store;
pub mod tenants;
pub mod user_import;
pub mod views;
