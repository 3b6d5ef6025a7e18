//! Telling a database that cannot be reached from a query that went wrong, so requests during an
//! outage are answered 503 with `Retry-After` instead of 500 (docs/operations.md, "Outages").
//!
//! Store errors travel up through the flows as values of many types; rather than teach each of
//! them about outages, the store notes one here when it sees it (`StoreError: From<DbErr>`), in a
//! flag that lives as long as the request (`watch`), and the HTTP layer reads it at the end.

use std::cell::Cell;
use std::future::Future;

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
        DbErr::Conn(runtime) | DbErr::Exec(runtime) | DbErr::Query(runtime) => match runtime {
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

/// Notes `err` for the request being served, when it is an outage.
pub fn note(err: &DbErr) {
    if is_outage(err) {
        let _ = SEEN.try_with(|seen| seen.set(true));
    }
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
        // Outside a request nothing is noted, and nothing fails.
        note(&DbErr::ConnectionAcquire(ConnAcquireErr::Timeout));
    }
}
