//! tessera's API tests: the real app on port 0 with a fresh database per test, driven over HTTP
//! by a cookie-keeping client, with the `openidconnect` crate as the relying party.
//! Every test marked with `both_backends!` runs on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;
mod smtp_sink;

mod account;
mod admin_api;
mod admin_api_users;
mod authorize_errors;
mod backchannel_logout;
mod branding;
mod cli;
mod cli_email;
mod client_memory;
mod code_flow;
mod consent;
mod cross_tenant_links;
mod discovery;
mod email;
mod email_change;
mod email_language;
mod factor_binding;
mod hardening_review;
mod keys;
mod login_page;
mod notifications;
mod password_reset;
mod password_throttle;
mod private_key_jwt;
mod refresh_and_tokens;
mod refresh_retry;
mod resilience;
mod revocation_review;
mod sealed_tokens;
mod second_factor;
mod security_keys;
mod sms;
mod sso_and_logout;
mod token_batch;
mod token_errors;
mod trusted_devices;
mod user_import;
mod user_lifecycle;
