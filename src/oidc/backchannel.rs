//! Back-channel logout 1.0: when a session ends, every client it signed in to that registered a
//! `backchannel_logout_uri` gets a logout token, retried with backoff on server errors and failed
//! connections for `DELIVERY_WINDOW_SECONDS`, and signed anew at each attempt (a token lives
//! 120 s). Each delivery is written down first (`logout_deliveries`) and removed when settled.
//! An attempt holds its row for `LEASE_SECONDS` (its `next_attempt_at`); every instance looks for
//! due rows every `POLL_SECONDS` (`run`), so a retry is made by whichever instance comes first
//! and a delivery held by an instance that died is taken over within seconds.

use std::time::Duration;

use serde_json::{Value, json};

use crate::crypto::random_token;
use crate::keys::Alg;
use crate::state::AppState;
use crate::store::{self, StoreError};
use crate::tenants::Tenant;

const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// How long a logout is retried: an app that is down for up to an hour still gets it.
pub const DELIVERY_WINDOW_SECONDS: i64 = 3600;
/// The wait after the first failed attempt, doubling after each further one up to
/// `MAX_BACKOFF_SECONDS` (1, 2, 4, ... 256, then every 5 minutes: 19 attempts in the hour).
const FIRST_BACKOFF_SECONDS: i64 = 1;
const MAX_BACKOFF_SECONDS: i64 = 300;
/// How long one attempt holds its delivery: longer than an attempt can take (the outbound HTTP
/// client gives up after 5 s). When it runs out, another instance may take the delivery over.
pub const LEASE_SECONDS: i64 = 10;
/// How often every instance looks for due deliveries.
pub const POLL_SECONDS: u64 = 2;
/// Deliveries taken per look, so an outage's backlog is worked through in steps.
const BATCH: u64 = 100;

/// How long a logout token is valid after it is signed (at each delivery attempt): a short life
/// keeps a captured one from being replayed. Key retirement waits for it too.
pub const LOGOUT_TOKEN_SECONDS: i64 = 120;

/// Sends logout tokens for session `sid` of `user_id`; deliveries run in the background.
pub async fn notify(
    state: &AppState,
    tenant: &Tenant,
    sid: &str,
    user_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    let rows = deliveries_for(state, tenant, sid, user_id, now).await?;
    for row in &rows {
        store::logout_deliveries::insert(&state.db, row.clone()).await?;
    }
    dispatch(state, rows);
    store::session_clients::delete_for_session(&state.db, sid).await
}

/// The deliveries that tell the clients session `sid` signed in to that it ended, not yet
/// written: a caller that ends sessions in a transaction of its own writes them in it, then
/// `dispatch`es them. Each is written down as held by this instance for its first attempt.
pub async fn deliveries_for(
    state: &AppState,
    tenant: &Tenant,
    sid: &str,
    user_id: &str,
    now: i64,
) -> Result<Vec<entity::logout_delivery::Model>, StoreError> {
    let mut rows = Vec::new();
    for link in store::session_clients::for_session(&state.db, sid).await? {
        let Some(client) = store::clients::find_by_row_id(&state.db, &link.client_id).await? else {
            continue;
        };
        let Some(uri) = client.backchannel_logout_uri.clone() else { continue };
        // One jti for every attempt: a client that got an earlier attempt sees the same event.
        let claims = json!({
            "iss": tenant.issuer,
            "aud": client.client_id,
            "jti": random_token(16),
            "sub": user_id,
            "sid": sid,
            "events": { EVENT: {} },
        });
        rows.push(entity::logout_delivery::Model {
            id: uuid::Uuid::new_v4().to_string(),
            client_id: client.client_id.clone(),
            uri,
            logout_token: String::new(),
            tenant_id: Some(tenant.id().to_string()),
            alg: Some(client.id_token_signed_response_alg.clone()),
            claims: Some(claims.to_string()),
            attempts: 0,
            created_at: now,
            next_attempt_at: now + LEASE_SECONDS,
        });
    }
    Ok(rows)
}

/// Makes the first attempt at rows already written (by `deliveries_for`'s caller), each held
/// until its `next_attempt_at`. A process that stops first (the command line) leaves them to a
/// running server, which takes them over when the hold runs out (`run`).
pub fn dispatch(state: &AppState, rows: Vec<entity::logout_delivery::Model>) {
    for row in rows {
        let held_until = row.next_attempt_at;
        tokio::spawn(attempt(state.clone(), row, held_until));
    }
}

/// The logout token for one attempt, signed now with the tenant's current key. `None` when it
/// cannot be signed (logged); a row of an earlier release carries its token already signed.
async fn logout_token(state: &AppState, row: &entity::logout_delivery::Model, now: i64) -> Option<String> {
    let (Some(tenant_id), Some(claims)) = (&row.tenant_id, &row.claims) else {
        return Some(row.logout_token.clone());
    };
    let mut claims: Value = match serde_json::from_str(claims) {
        Ok(claims) => claims,
        Err(err) => {
            tracing::error!(error = %err, client = %row.client_id, "unreadable logout token claims");
            return None;
        }
    };
    claims["iat"] = json!(now);
    claims["exp"] = json!(now + LOGOUT_TOKEN_SECONDS);
    let alg = row.alg.as_deref().and_then(Alg::parse).unwrap_or(Alg::Rs256);
    let key = match state.keys.signer(&state.db, tenant_id, alg, now).await {
        Ok(key) => key,
        Err(err) => {
            tracing::error!(error = %err, client = %row.client_id, "no key to sign a logout token");
            return None;
        }
    };
    let header = json!({ "alg": alg.as_str(), "kid": key.kid, "typ": "logout+jwt" });
    match key.sign_jws(&header, &claims) {
        Ok(token) => Some(token),
        Err(err) => {
            tracing::error!(error = %err, "signing a logout token failed");
            None
        }
    }
}

/// What one attempt came to.
enum Outcome {
    /// Received, or refused with a 4xx, which will not change by trying again (OIDC Back-Channel
    /// Logout 2.8).
    Settled,
    Failed,
}

/// One attempt at a delivery this instance holds until `held_until`: signs the token now, sends
/// it, and removes the row when settled or schedules the next attempt (for any instance).
async fn attempt(state: AppState, row: entity::logout_delivery::Model, held_until: i64) {
    let started = state.now();
    let attempts = row.attempts + 1;
    let outcome = match logout_token(&state, &row, started).await {
        None => Outcome::Failed,
        Some(token) => match state.http.post(&row.uri).form(&[("logout_token", token.as_str())]).send().await
        {
            Ok(response) if response.status().is_success() => Outcome::Settled,
            Ok(response) if response.status().is_client_error() => {
                tracing::warn!(client = %row.client_id, status = %response.status(), "back-channel logout refused");
                Outcome::Settled
            }
            Ok(response) => {
                tracing::warn!(client = %row.client_id, status = %response.status(), attempts, "back-channel logout failed");
                Outcome::Failed
            }
            Err(err) => {
                tracing::warn!(client = %row.client_id, error = %err, attempts, "back-channel logout failed");
                Outcome::Failed
            }
        },
    };
    let next = started + backoff(attempts);
    let result = match outcome {
        Outcome::Settled => store::logout_deliveries::delete(&state.db, &row.id).await,
        Outcome::Failed if next - row.created_at > DELIVERY_WINDOW_SECONDS => {
            tracing::error!(client = %row.client_id, attempts, "back-channel logout gave up");
            store::logout_deliveries::delete(&state.db, &row.id).await
        }
        // Only while this instance still holds it: one that took it over decides from there.
        Outcome::Failed => {
            store::logout_deliveries::reschedule(&state.db, &row.id, held_until, attempts, next)
                .await
                .map(|_| ())
        }
    };
    if let Err(err) = result {
        tracing::warn!(error = %err, "back-channel logout: delivery row not updated");
    }
}

/// The wait after `attempts` failed attempts.
fn backoff(attempts: i32) -> i64 {
    let doublings = u32::try_from(attempts.saturating_sub(1)).unwrap_or(0).min(16);
    (FIRST_BACKOFF_SECONDS << doublings).min(MAX_BACKOFF_SECONDS)
}

/// Takes the deliveries that are due (a retry's time has come, or the instance that held one
/// stopped) and makes an attempt at each; each is claimed with a compare-and-set, so only one
/// instance takes it. Deliveries past their window are dropped.
pub async fn resume_pending(state: &AppState, now: i64) -> Result<usize, StoreError> {
    let mut resumed = 0;
    for row in store::logout_deliveries::due(&state.db, now, BATCH).await? {
        if now - row.created_at > DELIVERY_WINDOW_SECONDS {
            tracing::error!(client = %row.client_id, attempts = row.attempts, "back-channel logout gave up");
            store::logout_deliveries::delete(&state.db, &row.id).await?;
            continue;
        }
        let held_until = now + LEASE_SECONDS;
        if store::logout_deliveries::claim(&state.db, &row.id, row.next_attempt_at, held_until).await? {
            tokio::spawn(attempt(state.clone(), row, held_until));
            resumed += 1;
        }
    }
    Ok(resumed)
}

/// Runs on every instance while it serves: looks for due deliveries every `POLL_SECONDS`.
pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(POLL_SECONDS));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // While the database is away this fails at every look: said once a minute, not every time.
    let mut last_warning: Option<tokio::time::Instant> = None;
    loop {
        tick.tick().await;
        let Err(err) = resume_pending(&state, state.now()).await else { continue };
        if last_warning.is_none_or(|at| at.elapsed() >= Duration::from_secs(60)) {
            tracing::warn!(error = %err, "back-channel logout: due deliveries not read");
            last_warning = Some(tokio::time::Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_five_minutes_and_fills_the_window() {
        let waits: Vec<i64> = (1..=11).map(backoff).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(backoff(0), 1);
        assert_eq!(backoff(i32::MAX), 300);
        let mut elapsed = 0;
        let mut attempts = 0;
        while elapsed <= DELIVERY_WINDOW_SECONDS {
            attempts += 1;
            elapsed += backoff(attempts);
        }
        assert!((15..=25).contains(&attempts), "{attempts} attempts in the window");
    }
}
