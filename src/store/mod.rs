//! Queries over `entity::*`. Every single-use secret is consumed with one conditional UPDATE or
//! DELETE whose affected-row count decides who won, so two instances can never both use it.
//! Writes that must happen together are one function here that runs its own transaction
//! (`tokens::issue`, `two_factor::*`, `passwords::change`, `user_import::insert_all`): nothing above
//! the store opens a transaction or sees sea-orm.

pub mod access_tokens;
pub mod attempts;
pub mod audit_events;
pub mod authorization_codes;
pub mod backup_codes;
pub mod client_assertions;
pub mod clients;
pub mod consents;
pub mod email_links;
pub mod email_outbox;
pub mod housekeeping;
pub mod logout_deliveries;
pub mod passwords;
pub mod refresh_tokens;
pub mod security_keys;
pub mod session_clients;
pub mod sessions;
pub mod signing_keys;
pub mod sms;
pub mod tenants;
pub mod throttles;
pub mod tokens;
pub mod totp_credentials;
pub mod trusted_devices;
pub mod two_factor;
pub mod user_import;
pub mod users;
pub mod webauthn_ceremonies;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr, SqlErr};

/// The database handle the layers above hold (in `AppState`) and pass to store functions.
pub type Db = DatabaseConnection;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error("{0} already exists")]
    Duplicate(&'static str),
    #[error("stored data is malformed: {0}")]
    Corrupt(String),
}

/// Maps a unique-constraint violation to `Duplicate(what)`, anything else to `StoreError::Db`.
pub(crate) fn duplicate_as(what: &'static str) -> impl Fn(DbErr) -> StoreError {
    move |err| match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => StoreError::Duplicate(what),
        _ => StoreError::Db(err),
    }
}

pub async fn connect(url: &str) -> Result<Db, StoreError> {
    let mut options = ConnectOptions::new(url.to_string());
    // SQLite commits one writer at a time, and each pooled connection is a thread of its own
    // with up to 2 MiB of page cache: a few per core are enough.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let max_connections = if url.starts_with("sqlite:") { (2 * cores).max(4) as u32 } else { 16 };
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        // On every pooled SQLite connection (a PRAGMA run once reaches only one of them): WAL lets
        // readers go on while one writer commits; NORMAL sync is safe with WAL (no fsync per
        // commit, only at checkpoints); a writer waits for the lock instead of failing busy.
        .map_sqlx_sqlite_opts(|sqlite| {
            sqlite
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
        });
    Ok(Database::connect(options).await?)
}

pub async fn migrate(db: &Db) -> Result<(), StoreError> {
    Migrator::up(db, None).await?;
    Ok(())
}
