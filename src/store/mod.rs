//! Queries over `entity::*`. Every single-use secret is consumed with one conditional UPDATE or
//! DELETE whose affected-row count decides who won, so two instances can never both use it.

pub mod access_tokens;
pub mod attempts;
pub mod audit_events;
pub mod authorization_codes;
pub mod backup_codes;
pub mod client_assertions;
pub mod clients;
pub mod consents;
pub mod housekeeping;
pub mod logout_deliveries;
pub mod refresh_tokens;
pub mod security_keys;
pub mod session_clients;
pub mod sessions;
pub mod signing_keys;
pub mod sms;
pub mod tenants;
pub mod throttles;
pub mod totp_credentials;
pub mod trusted_devices;
pub mod users;
pub mod webauthn_ceremonies;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, SqlErr};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error("{0} already exists")]
    Duplicate(&'static str),
    #[error("stored data is malformed: {0}")]
    Corrupt(String),
}

/// Maps a unique-constraint violation to `Duplicate(what)`, anything else to `Db`.
pub(crate) fn duplicate_as(what: &'static str) -> impl Fn(DbErr) -> StoreError {
    move |err| match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => StoreError::Duplicate(what),
        _ => StoreError::Db(err),
    }
}

pub async fn connect(url: &str) -> Result<DatabaseConnection, StoreError> {
    let mut options = ConnectOptions::new(url.to_string());
    options
        .max_connections(16)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    let db = Database::connect(options).await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // WAL lets readers go on while one writer commits; NORMAL sync is safe with WAL.
        db.execute_unprepared("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;").await?;
    }
    Ok(db)
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), StoreError> {
    Migrator::up(db, None).await?;
    Ok(())
}
