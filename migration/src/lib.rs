//! Schema migrations, applied in order at start (`tessera serve`) or by `tessera migrate`.

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_create_core_tables;
mod m20261126_000002_second_factor;
mod m20261126_000003_tokens_and_consent;
mod m20261126_000004_signing_algorithms;
mod m20261126_000005_client_keys_and_backchannel;
mod m20261126_000006_user_names;
mod m20261126_000007_sms;
mod m20261126_000008_tenant_sms_sender;
mod m20261126_000009_themes_and_hosts;
mod m20261126_000010_jwt_access_tokens;
mod m20261126_000011_hardening;
mod m20261126_000012_logout_outbox;
mod m20261126_000013_security_keys;
mod m20261127_000001_resource_servers;
mod m20261127_000002_logout_claims;
mod m20261128_000001_email;
mod m20261128_000002_user_lifecycle;
mod m20261128_000004_admin_api;
mod m20261129_000001_email_change;
mod m20261130_000001_token_revocations;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_core_tables::Migration),
            Box::new(m20261126_000002_second_factor::Migration),
            Box::new(m20261126_000003_tokens_and_consent::Migration),
            Box::new(m20261126_000004_signing_algorithms::Migration),
            Box::new(m20261126_000005_client_keys_and_backchannel::Migration),
            Box::new(m20261126_000006_user_names::Migration),
            Box::new(m20261126_000007_sms::Migration),
            Box::new(m20261126_000008_tenant_sms_sender::Migration),
            Box::new(m20261126_000009_themes_and_hosts::Migration),
            Box::new(m20261126_000010_jwt_access_tokens::Migration),
            Box::new(m20261126_000011_hardening::Migration),
            Box::new(m20261126_000012_logout_outbox::Migration),
            Box::new(m20261126_000013_security_keys::Migration),
            Box::new(m20261127_000001_resource_servers::Migration),
            Box::new(m20261127_000002_logout_claims::Migration),
            Box::new(m20261128_000001_email::Migration),
            Box::new(m20261128_000002_user_lifecycle::Migration),
            Box::new(m20261128_000004_admin_api::Migration),
            Box::new(m20261129_000001_email_change::Migration),
            Box::new(m20261130_000001_token_revocations::Migration),
        ]
    }
}
