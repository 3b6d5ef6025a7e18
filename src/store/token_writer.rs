//! Group commit of the token endpoint's writes (issue 17). Every grant stores its tokens, and
//! most use up a code or refresh token; one transaction each made every request wait for its own
//! commit (an fsync with SQLite's FULL sync) and, on SQLite, for the single write lock, whose
//! busy handler sleeps for milliseconds. Here one task per process takes every grant that is
//! waiting and stores them together with `store::tokens::issue_many`: a few statements and one
//! commit for the lot, while the next grants gather behind it.
//!
//! Guarantees kept: a request is answered only after the commit that stored its tokens (nothing
//! is lost on a crash once the client has its answer); the uses are the same conditional UPDATEs
//! as before, so single use holds across instances; a batch that fails for another reason than an
//! outage is tried again grant by grant, all at once, so one bad grant fails alone; an outage is
//! told to every grant of the batch at once and noted for each request (a fast 503).
//!
//! Unlike one transaction per request, a grant once queued is committed even if its request is
//! cancelled meanwhile (the client hung up): its tokens then stay unused, and a code used that way
//! counts as used (docs/decisions.md, "Token endpoint throughput").

use std::sync::{Arc, OnceLock};

use sea_orm::{ConnAcquireErr, DbBackend, DbErr};
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::tokens::{self, Consume, GrantWrite};
use super::{Db, StoreError, outage};

/// At most this many grants in one transaction (bounds the statements' parameters: 128 access
/// rows of 10 columns stay far below SQLite's and PostgreSQL's limits).
const MAX_BATCH: usize = 128;

pub struct TokenWriter {
    db: Db,
    /// Started at the first grant, on the runtime that serves it.
    queue: OnceLock<mpsc::UnboundedSender<Job>>,
}

struct Job {
    write: GrantWrite,
    answer: oneshot::Sender<Result<bool, StoreError>>,
}

impl TokenWriter {
    pub fn new(db: Db) -> Self {
        Self { db, queue: OnceLock::new() }
    }

    /// `tokens::issue`, committed together with the grants of concurrent requests.
    pub async fn issue(
        &self,
        consume: Consume<'_>,
        access: entity::access_token::Model,
        refresh: Option<entity::refresh_token::Model>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let write = GrantWrite { consume: consume.into(), access, refresh, now };
        let (answer, answered) = oneshot::channel();
        let queue = self.queue.get_or_init(|| start(self.db.clone()));
        if let Err(mpsc::error::SendError(job)) = queue.send(Job { write, answer }) {
            // The writer's runtime has ended (a test's): write directly.
            return tokens::issue_one(&self.db, job.write).await;
        }
        let result = answered
            .await
            .map_err(|_| StoreError::Db(DbErr::Custom("the token writer stopped before answering".into())))?;
        // The writer noted an outage in its own task; the request's watch (`outage::watch`, a
        // task-local) must see it too, so the answer is a fast 503 rather than a 500.
        if let Err(StoreError::Db(err)) = &result {
            super::outage::note(err);
        }
        result
    }
}

/// Batches in flight at once. SQLite commits one writer at a time, and a second batch would
/// only sleep in its busy handler; PostgreSQL overlaps one batch's commit with the next one's
/// statements, and a batch stuck on a lock or a dead connection does not hold up every grant.
fn in_flight(db: &Db) -> usize {
    match db.get_database_backend() {
        DbBackend::Sqlite => 1,
        _ => 4,
    }
}

fn start(db: Db) -> mpsc::UnboundedSender<Job> {
    let (queue, mut jobs) = mpsc::unbounded_channel::<Job>();
    let permits = Arc::new(Semaphore::new(in_flight(&db)));
    tokio::spawn(async move {
        loop {
            // A permit first: while every batch is busy, grants gather into the next one.
            let Ok(permit) = permits.clone().acquire_owned().await else { return };
            let mut batch = Vec::with_capacity(MAX_BATCH);
            if jobs.recv_many(&mut batch, MAX_BATCH).await == 0 {
                return; // every sender is gone
            }
            let db = db.clone();
            tokio::spawn(async move {
                write(&db, batch).await;
                drop(permit);
            });
        }
    });
    queue
}

async fn write(db: &Db, batch: Vec<Job>) {
    let (writes, answers): (Vec<GrantWrite>, Vec<_>) = batch.into_iter().map(|j| (j.write, j.answer)).unzip();
    match tokens::issue_many(db, &writes).await {
        Ok(won) => {
            for (answer, won) in answers.into_iter().zip(won) {
                // The request may have gone (its client hung up): its tokens simply stay unused.
                let _ = answer.send(Ok(won));
            }
        }
        // The database cannot be reached: every grant is told at once (each request answers a fast
        // 503), rather than each waiting out the outage again on its own.
        Err(StoreError::Db(err)) if outage::is_outage(&err) => {
            let mut answers = answers.into_iter();
            if let Some(first) = answers.next() {
                let _ = first.send(Err(StoreError::Db(err)));
            }
            for answer in answers {
                let _ = answer.send(Err(StoreError::Db(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))));
            }
        }
        Err(err) => {
            tracing::warn!(error = %err, grants = writes.len(), "token batch failed; storing its grants one by one");
            for (write, answer) in writes.into_iter().zip(answers) {
                let db = db.clone();
                tokio::spawn(async move {
                    let _ = answer.send(tokens::issue_one(&db, write).await);
                });
            }
        }
    }
}
