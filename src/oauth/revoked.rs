//! The revocations of self-contained access tokens (`oauth::sealed_token`), in memory on every
//! instance. A sealed token is checked without a database read: it is active unless this memory
//! names it (by its SHA-256) or its person (disabled or erased until a time).
//!
//! How revocations reach the memory (docs/decisions.md, "Self-contained access tokens"):
//! - the store records them in the same transaction that marks the tokens' rows revoked
//!   (`store::token_revocations`), and bumps a counter of this process (when the row is written
//!   and after the commit); the next check here then reads the new rows first, so on the instance
//!   that revoked, the revocation holds from the next request answered after it;
//! - every row carries the database's clock; each `POLL` every instance reads the rows recorded
//!   since the database time its last successful read began, less `OVERLAP` (a revocation made
//!   elsewhere counts here within about a second, and after an outage everything missed is read),
//!   and all of them each `RELOAD` and at the first read (which also forgets expired ones);
//! - a memory not brought up to date for `STALE_AFTER` is not trusted: the next check reads the
//!   rows itself, and fails like any other database read when it cannot (an outage's 503), so a
//!   revoked token is never taken for active because the database could not be read.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use sea_orm::{ConnAcquireErr, DbErr};

use crate::clock::Clock;
use crate::state::AppState;
use crate::store::{Db, StoreError, token_revocations};

const POLL: Duration = Duration::from_secs(1);
const RELOAD: Duration = Duration::from_secs(60);
const STALE_AFTER: Duration = Duration::from_secs(3);
/// Rows are read again this long after their `recorded_at` (database clock): a transaction that
/// stamped its row before a read began but committed after it is still seen.
const OVERLAP: i64 = 30;
/// A person's or client's revocation also covers tokens stamped this long after it: a grant that
/// checked the person (or an instance that still remembered the client, for up to
/// `client_memory::SECONDS`) just before the change may store its token just after it.
const MARGIN: i64 = 30;
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);

#[derive(Default)]
pub struct Revoked(Arc<Shared>);

#[derive(Default)]
struct Shared {
    memory: RwLock<Memory>,
    /// One reader of the database at a time; the others wait for its result.
    syncing: tokio::sync::Mutex<()>,
    poller: OnceLock<()>,
}

#[derive(Default)]
struct Memory {
    /// Token SHA-256 → its expiry.
    tokens: HashMap<String, i64>,
    /// User id → (revoked at, kept until).
    users: HashMap<String, (i64, i64)>,
    /// Client row id (deleted clients) → (revoked at, kept until).
    clients: HashMap<String, (i64, i64)>,
    /// The database's clock when the last successful read began: the next reads from there
    /// (less `OVERLAP`); `None`: nothing read yet, the next read takes every row.
    read_up_to: Option<i64>,
    /// When the memory was last brought up to date, and the store's counter seen then.
    synced: Option<(Instant, u64)>,
    /// When a read last failed: for `RETRY_AFTER_FAILURE` checks fail at once rather than each
    /// wait for the database again (an outage stays a fast 503 under load).
    failed: Option<Instant>,
}

/// The token being checked.
pub struct Checked<'a> {
    pub token_hash: &'a str,
    /// The client's row id.
    pub client_id: &'a str,
    pub user_id: Option<&'a str>,
    pub issued_at: i64,
}

/// When every access token issued until `now` will have expired: how long a person's revocation
/// must be kept.
pub fn tokens_live_until(state: &AppState, now: i64) -> i64 {
    now + state.settings.tokens.access_token_seconds + MARGIN
}

impl Revoked {
    /// Whether the token is revoked. Reads the new revocations first when this process recorded
    /// some since the last read or the memory is stale; an error means they could not be read.
    pub async fn is_revoked(&self, state: &AppState, token: Checked<'_>) -> Result<bool, StoreError> {
        let shared = &self.0;
        shared.poller.get_or_init(|| start_poller(self.0.clone(), state.db.clone(), state.clock.clone()));
        let now = state.now();
        if shared.needs_sync() {
            shared.sync(&state.db, now, Read::IfNeeded).await?;
        }
        let memory = shared.memory.read().map_err(|_| poisoned())?;
        if memory.tokens.get(token.token_hash).is_some_and(|expires| now < *expires) {
            return Ok(true);
        }
        // A person or client revoked as a whole: every token issued until then (and a margin).
        let covers = |entry: Option<&(i64, i64)>| {
            entry.is_some_and(|(revoked_at, until)| now < *until && token.issued_at <= revoked_at + MARGIN)
        };
        Ok(covers(token.user_id.and_then(|user| memory.users.get(user)))
            || covers(memory.clients.get(token.client_id)))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Read {
    /// The rows of the last `OVERLAP` seconds, unless another caller just read them.
    IfNeeded,
    /// The rows of the last `OVERLAP` seconds.
    Recent,
    /// Every row, replacing the memory (which forgets the expired ones).
    All,
}

fn poisoned() -> StoreError {
    StoreError::Corrupt("revocation memory poisoned".into())
}

impl Shared {
    fn needs_sync(&self) -> bool {
        let recorded = token_revocations::recorded();
        match self.memory.read().ok().and_then(|m| m.synced) {
            Some((at, seen)) => seen != recorded || at.elapsed() > STALE_AFTER,
            None => true,
        }
    }

    async fn sync(&self, db: &Db, now: i64, read: Read) -> Result<(), StoreError> {
        let _one = self.syncing.lock().await;
        if read == Read::IfNeeded {
            // Another request may have done it while this one waited, or just failed to.
            if !self.needs_sync() {
                return Ok(());
            }
            let failed = self.memory.read().ok().and_then(|m| m.failed);
            if failed.is_some_and(|at| at.elapsed() < RETRY_AFTER_FAILURE) {
                return Err(StoreError::from(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)));
            }
        }
        let full = read == Read::All;
        // Read before the rows: a revocation recorded meanwhile makes the next check read again.
        let recorded = token_revocations::recorded();
        let started = Instant::now();
        let read_up_to = self.memory.read().map_err(|_| poisoned())?.read_up_to;
        let rows = async {
            let database_now = token_revocations::database_now(db).await?;
            let rows = match read_up_to {
                Some(up_to) if !full => token_revocations::since(db, up_to - OVERLAP, now).await?,
                _ => token_revocations::unexpired(db, now).await?,
            };
            Ok::<_, StoreError>((database_now, rows))
        }
        .await;
        let mut memory = self.memory.write().map_err(|_| poisoned())?;
        let (database_now, rows) = match rows {
            Ok(read) => read,
            Err(err) => {
                memory.failed = Some(Instant::now());
                return Err(err);
            }
        };
        if full || read_up_to.is_none() {
            memory.tokens.clear();
            memory.users.clear();
            memory.clients.clear();
        }
        for row in rows {
            match row.kind.as_str() {
                token_revocations::TOKEN => {
                    memory.tokens.insert(row.subject, row.expires_at);
                }
                token_revocations::USER => {
                    memory.users.insert(row.subject, (row.revoked_at, row.expires_at));
                }
                token_revocations::CLIENT => {
                    memory.clients.insert(row.subject, (row.revoked_at, row.expires_at));
                }
                _ => {}
            }
        }
        memory.synced = Some((started, recorded));
        memory.read_up_to = Some(database_now);
        memory.failed = None;
        Ok(())
    }
}

/// Reads the recent rows each `POLL` and all of them each `RELOAD`, for as long as the runtime
/// that served the first check runs. A failed read is logged; the memory then turns stale and
/// checks read for themselves.
fn start_poller(shared: Arc<Shared>, db: Db, clock: Arc<dyn Clock>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
    runtime.spawn(async move {
        // The first read takes every row.
        let mut last_reload: Option<Instant> = None;
        let mut ticks = tokio::time::interval(POLL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let due = last_reload.is_none_or(|at| at.elapsed() >= RELOAD);
            let read = if due { Read::All } else { Read::Recent };
            match shared.sync(&db, clock.now(), read).await {
                Ok(()) if read == Read::All => last_reload = Some(Instant::now()),
                Ok(()) => {}
                Err(err) => tracing::warn!(error = %err, "cannot read the token revocations"),
            }
        }
    });
}
