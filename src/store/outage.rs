//! Telling a database that cannot be reached from a query that went wrong, so requests during an
//! outage are answered 503 with `Retry-After` instead of 500 (docs/operations.md, "Outages").
//!
//! Store errors travel up through the flows as values of many types; rather than teach each of
//! them about outages, the store notes one here when it sees it (`StoreError: From<DbErr>`), in a
//! flag that lives as long as the request (`watch`), and the HTTP layer reads it at the end.
//! The flag is a task-local: store work done for a request in another task (the token writer)
//! must be noted again in the request's task when its error comes back.

use std::cell::Cell;
use std::future::Future;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sea_orm::sqlx;
use sea_orm::{DbErr, RuntimeErr};

tokio::task_local! {
    static SEEN: Cell<bool>;
}

/// True when `err` says the database could not be reached or did not answer in time, rather
/// than that a statement was wrong: no connection within the acquire timeout, a connection lost,
/// the server shutting down or refusing connections, a statement cancelled by its timeout.
pub fn is_outage(err: &DbErr) -> bool {
    match err {
        DbErr::ConnectionAcquire(_) => true,
        // Opening a connection failed, whatever the reason: refused, reset, or something that is
        // not a healthy PostgreSQL answering (a proxy whose backend is gone says garbage).
        DbErr::Conn(_) => true,
        DbErr::Exec(runtime) | DbErr::Query(runtime) => match runtime {
            RuntimeErr::SqlxError(err) => is_sqlx_outage(err),
            _ => false,
        },
        _ => false,
    }
}

fn is_sqlx_outage(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // SQLSTATE class 08 (connection exception), 57P01-57P03 (administrator shutdown, crash
        // shutdown, cannot connect now), 53300 (too many connections), 57014 (statement timeout).
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "53300" | "57014")
        }),
        _ => false,
    }
}

/// Milliseconds after `EPOCH` (plus one) of the last outage any request saw; 0: none yet.
static LAST_SEEN_MS: AtomicU64 = AtomicU64::new(0);
static EPOCH: OnceLock<Instant> = OnceLock::new();

/// How long after an outage was seen a fallback (a remembered tenant) is taken without asking
/// the database first: one wait for the database per request, not one per lookup.
const RECENT: Duration = Duration::from_secs(2);

fn elapsed_ms() -> u64 {
    let epoch = EPOCH.get_or_init(Instant::now);
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Notes `err` for the request being served, and for the process, when it is an outage.
pub fn note(err: &DbErr) {
    if is_outage(err) {
        let _ = SEEN.try_with(|seen| seen.set(true));
        LAST_SEEN_MS.store(elapsed_ms().saturating_add(1), Ordering::Relaxed);
    }
}

/// True when some request saw the database unreachable within the last two seconds: lookups
/// with a remembered answer use it rather than wait for the database again.
pub fn recently_away() -> bool {
    let last = LAST_SEEN_MS.load(Ordering::Relaxed);
    last != 0 && elapsed_ms().saturating_sub(last - 1) < RECENT.as_millis() as u64
}

/// Runs `future` (a request) and tells whether the database was unreachable while it ran.
pub async fn watch<T>(future: impl Future<Output = T>) -> (T, bool) {
    SEEN.scope(Cell::new(false), async move {
        let output = future.await;
        (output, SEEN.with(Cell::get))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::ConnAcquireErr;

    #[tokio::test]
    async fn only_outages_are_noted() {
        let ((), seen) = watch(async { note(&DbErr::RecordNotFound("x".into())) }).await;
        assert!(!seen);
        let ((), seen) = watch(async { note(&DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)) }).await;
        assert!(seen);
        let garbled = sqlx::Error::Protocol("unexpected response from SSLRequest: 0x00".into());
        assert!(is_outage(&DbErr::Conn(RuntimeErr::SqlxError(garbled.into()))));
        // Outside a request nothing is noted, and nothing fails.
        note(&DbErr::ConnectionAcquire(ConnAcquireErr::Timeout));
    }
}
