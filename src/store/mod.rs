//! Queries over `entity::*`. Every single-use secret is consumed with one conditional UPDATE or
//! DELETE whose affected-row count decides who won, so two instances can never both use it.
//! Writes that must happen together are one function here that runs its own transaction
//! (`tokens::issue`, with `token_writer` committing many grants' together, `two_factor::*`, `passwords::change`, `user_import::insert_all`): nothing above
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
pub mod outage;
pub mod passwords;
pub mod refresh_tokens;
pub mod security_keys;
pub mod session_clients;
pub mod sessions;
pub mod signing_keys;
pub mod sms;
pub mod tenants;
pub mod throttles;
pub mod token_revocations;
pub mod token_writer;
pub mod tokens;
pub mod totp_credentials;
pub mod trusted_devices;
pub mod two_factor;
pub mod user_import;
pub mod user_lifecycle;
pub mod users;
pub mod webauthn_ceremonies;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr, SqlErr};

use crate::config::{DatabaseSettings, SqliteSynchronous as SqliteSync};

/// The database handle the layers above hold (in `AppState`) and pass to store functions.
pub type Db = DatabaseConnection;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(DbErr),
    #[error("{0} already exists")]
    Duplicate(&'static str),
    #[error("stored data is malformed: {0}")]
    Corrupt(String),
}

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        outage::note(&err);
        StoreError::Db(err)
    }
}

/// Maps a unique-constraint violation to `Duplicate(what)`, anything else to `StoreError::Db`.
pub(crate) fn duplicate_as(what: &'static str) -> impl Fn(DbErr) -> StoreError {
    move |err| match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => StoreError::Duplicate(what),
        _ => StoreError::from(err),
    }
}

/// How long a command other than `serve` (and a test) waits for the database at start.
const STARTUP_WAIT: Duration = Duration::from_secs(10);
/// SQLite's wait for a pooled connection: only ever contention (the file is local, it has no
/// outage of the network kind), and opening a connection starts a thread, which on a loaded host
/// can take more than PostgreSQL's second.
const SQLITE_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The pool, reached at least once within `STARTUP_WAIT`.
pub async fn connect(url: &str, settings: &DatabaseSettings) -> Result<Db, StoreError> {
    let db = pool(url, settings).await?;
    let started = std::time::Instant::now();
    loop {
        match db.ping().await {
            Ok(()) => return Ok(db),
            Err(err) if outage::is_outage(&err) && started.elapsed() < STARTUP_WAIT => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(err) => return Err(StoreError::Db(err)),
        }
    }
}

/// The pool, opened lazily. PostgreSQL: waiting for a connection (opening one included) is
/// bounded by `database.acquire_timeout_ms`, so a request meets an unreachable database within
/// that bound.
async fn pool(url: &str, settings: &DatabaseSettings) -> Result<Db, StoreError> {
    let mut options = ConnectOptions::new(url.to_string());
    // SQLite commits one writer at a time, and each pooled connection is a thread of its own with
    // up to 2 MiB of page cache and its own prepared statements (about 2 MiB under token load,
    // one per batch size of the token writer's INSERT): two per core, the token writer's and a
    // reader's on one core (docs/decisions.md, "Lean protocol path and memory").
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let sqlite = url.starts_with("sqlite:");
    let max_connections = if sqlite { (2 * cores) as u32 } else { settings.max_connections };
    let acquire =
        if sqlite { SQLITE_ACQUIRE_TIMEOUT } else { Duration::from_millis(settings.acquire_timeout_ms) };
    let synchronous = match settings.sqlite_synchronous {
        SqliteSync::Full => SqliteSynchronous::Full,
        SqliteSync::Normal => SqliteSynchronous::Normal,
    };
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(acquire)
        .acquire_timeout(acquire)
        // Reached (and retried) by the callers, within bounds of their own.
        .connect_lazy(true)
        .sqlx_logging(false)
        // On every pooled SQLite connection (a PRAGMA run once reaches only one of them): WAL lets
        // readers go on while one writer commits; FULL sync makes every answered commit survive
        // a power loss, NORMAL only fsyncs at checkpoints (docs/operations.md, "SQLite
        // durability"); a writer waits for the lock instead of failing busy.
        .map_sqlx_sqlite_opts(move |sqlite| {
            sqlite
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(synchronous)
                .busy_timeout(Duration::from_secs(5))
        });
    if !sqlite && settings.statement_timeout_ms > 0 {
        options.statement_timeout(Duration::from_millis(settings.statement_timeout_ms));
    }
    Ok(Database::connect(options).await?)
}

/// `connect` for `tessera serve`: while the database cannot be reached, tries again after 1 s,
/// 2 s, 4 s, ... (at most `startup_retry_max_delay_seconds` apart) for as long as it takes,
/// logging each failure with the database's host, never its password. Other errors (a bad URL, a
/// refused password) end the start at once.
pub async fn connect_with_retry(url: &str, settings: &DatabaseSettings) -> Result<Db, StoreError> {
    let target = describe(url);
    let db = pool(url, settings).await?;
    let max_delay = Duration::from_secs(settings.startup_retry_max_delay_seconds);
    let mut delay = Duration::from_secs(1).min(max_delay);
    let mut attempt: u32 = 1;
    loop {
        let err = match db.ping().await {
            Ok(()) => {
                if attempt > 1 {
                    tracing::info!(database = %target, attempt, "database reached");
                }
                return Ok(db);
            }
            Err(err) if outage::is_outage(&err) => err,
            Err(err) => return Err(StoreError::Db(err)),
        };
        tracing::warn!(
            database = %target,
            attempt,
            retry_in_seconds = delay.as_secs(),
            error = %err,
            "database unreachable at start; retrying"
        );
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(max_delay);
        attempt = attempt.saturating_add(1);
    }
}

/// The database a URL names, for the log: scheme, host, port and database name, without the user
/// name or password.
pub fn describe(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) if parsed.scheme() != "sqlite" => format!(
            "{}://{}{}{}",
            parsed.scheme(),
            parsed.host_str().unwrap_or_default(),
            parsed.port().map(|port| format!(":{port}")).unwrap_or_default(),
            parsed.path()
        ),
        _ => url.split('?').next().unwrap_or_default().to_string(),
    }
}

pub async fn migrate(db: &Db) -> Result<(), StoreError> {
    Migrator::up(db, None).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_log_names_the_database_without_its_password() {
        let shown = super::describe("postgres://tessera:s3cret@db.internal:5432/tessera?sslmode=require");
        assert_eq!(shown, "postgres://db.internal:5432/tessera");
    }
}
