//! The outbox: a message is a row written in the transaction of the change that causes it (the
//! store function takes the row), then sent in the background with backoff on temporary failures
//! and removed once the SMTP server took it. A message an instance could not finish (it stopped,
//! or the server stayed down) is picked up again by `resume_pending` on any instance. A message
//! is lost only when refused for good (5xx) or still undeliverable after a day; a crash between
//! the send and the removal sends it twice (same Message-ID), which is the lesser harm.

use std::time::Duration;

use entity::email_outbox;

use super::smtp::Outgoing;
use super::{EmailError, SendError};
use crate::state::AppState;
use crate::store::{self, StoreError};
use crate::tenants::Tenant;

/// After this long a message that still cannot be delivered is dropped (with an error in the log).
const GIVE_UP_SECONDS: i64 = 86_400;
/// Longest wait between two tries in a row.
const MAX_WAIT: Duration = Duration::from_secs(300);
/// When the tries in a row are used up, the next one is housekeeping's (every ten minutes).
const LATER_SECONDS: i64 = 600;

/// A message to queue: already rendered in the person's language.
pub struct Draft {
    /// `password_reset`, `security_notice`, ...
    pub message: &'static str,
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// The outbox row for `draft`, its body sealed with the master key; to be inserted by the store
/// function that makes the change, then handed to [`start`] after the commit.
pub fn seal(
    state: &AppState,
    tenant: &Tenant,
    draft: Draft,
    now: i64,
) -> Result<email_outbox::Model, EmailError> {
    let id = uuid::Uuid::new_v4().to_string();
    let body_sealed = state
        .keys
        .master()
        .seal(draft.body.as_bytes(), &aad(&id))
        .map_err(|e| EmailError::Seal(e.to_string()))?;
    Ok(email_outbox::Model {
        id,
        tenant_id: tenant.id().to_string(),
        message: draft.message.to_string(),
        to_address: draft.to,
        from_address: tenant.row.email_from.clone().unwrap_or_else(|| state.settings.email.from.clone()),
        subject: draft.subject,
        body_sealed,
        attempts: 0,
        created_at: now,
        // Held by the sender that `start` runs: due for others only if this instance stops.
        next_attempt_at: now + 60,
    })
}

fn aad(id: &str) -> String {
    format!("email_outbox:{id}")
}

/// Queues a message that belongs to no other write (its own transaction), and starts its send.
pub async fn enqueue(state: &AppState, tenant: &Tenant, draft: Draft, now: i64) -> Result<(), EmailError> {
    let row = seal(state, tenant, draft, now)?;
    store::email_outbox::insert(&state.db, row.clone()).await?;
    start(state, row);
    Ok(())
}

/// Sends a committed outbox row in the background.
pub fn start(state: &AppState, row: email_outbox::Model) {
    tokio::spawn(deliver(state.clone(), row));
}

/// The name this server gives in EHLO and in Message-IDs.
pub fn hello_name(state: &AppState) -> String {
    state.settings.public_url.host_str().unwrap_or("localhost").trim_matches(['[', ']']).to_string()
}

async fn deliver(state: AppState, row: email_outbox::Model) {
    let body = match state.keys.master().open(&row.body_sealed, &aad(&row.id)) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(err) => {
            tracing::error!(error = %err, id = %row.id, "email: the queued message cannot be opened; dropped");
            remove(&state, &row.id).await;
            return;
        }
    };
    let hello = hello_name(&state);
    let mut attempts = row.attempts;
    let mut wait = Duration::from_secs(1);
    let mut in_a_row = 0;
    loop {
        attempts += 1;
        in_a_row += 1;
        let outgoing = Outgoing {
            id: &row.id,
            from: &row.from_address,
            to: &row.to_address,
            subject: &row.subject,
            body: &body,
        };
        let failure = match state.mailer.send(outgoing, &hello).await {
            Ok(()) => {
                tracing::info!(message = %row.message, id = %row.id, attempts, "email sent");
                remove(&state, &row.id).await;
                return;
            }
            Err(SendError::Permanent(reason)) => {
                tracing::error!(message = %row.message, id = %row.id, %reason, "email refused for good; dropped");
                remove(&state, &row.id).await;
                return;
            }
            Err(SendError::Temporary(reason)) => reason,
        };
        let now = state.now();
        if now - row.created_at > GIVE_UP_SECONDS {
            tracing::error!(message = %row.message, id = %row.id, attempts, reason = %failure, "email undeliverable for a day; dropped");
            remove(&state, &row.id).await;
            return;
        }
        tracing::warn!(message = %row.message, id = %row.id, attempts, reason = %failure, "email not sent yet");
        if in_a_row >= state.settings.email.attempts.max(1) {
            if let Err(err) =
                store::email_outbox::reschedule(&state.db, &row.id, attempts, now + LATER_SECONDS).await
            {
                tracing::warn!(error = %err, "email: retry not recorded");
            }
            return;
        }
        // Held while this sender waits: another instance takes it only if this one stops.
        let held = i64::try_from(wait.as_secs()).unwrap_or(300) + 60;
        if let Err(err) = store::email_outbox::reschedule(&state.db, &row.id, attempts, now + held).await {
            tracing::warn!(error = %err, "email: retry not recorded");
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(MAX_WAIT);
    }
}

async fn remove(state: &AppState, id: &str) {
    if let Err(err) = store::email_outbox::delete(&state.db, id).await {
        tracing::warn!(error = %err, "email: outbox row not removed");
    }
}

/// Picks up messages that are due and that no instance is sending (one stopped, or gave up for a
/// while); each is claimed with a compare-and-set so only one instance resumes it.
pub async fn resume_pending(state: &AppState, now: i64) -> Result<usize, StoreError> {
    let mut resumed = 0;
    for row in store::email_outbox::due(&state.db, now).await? {
        if store::email_outbox::claim(&state.db, &row.id, row.next_attempt_at, now + 60).await? {
            start(state, row);
            resumed += 1;
        }
    }
    Ok(resumed)
}

/// Waits until the outbox is empty (every message sent or dropped), at most `limit`: for the
/// command line, which sends and then exits. False when messages still wait.
pub async fn wait_until_sent(state: &AppState, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match store::email_outbox::list(&state.db).await {
            Ok(rows) if rows.is_empty() => return true,
            Ok(_) => {}
            Err(err) => {
                tracing::warn!(error = %err, "email outbox not readable");
                return false;
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
