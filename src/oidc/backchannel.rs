//! Back-channel logout 1.0: when a session ends, every client it signed in to that registered a
//! `backchannel_logout_uri` gets a logout token, retried on server errors and signed anew at each
//! attempt (a token lives 120 s; a delivery may be resumed up to a day later). Each delivery is
//! written down first (`logout_deliveries`) and removed when done, so one that an instance could
//! not finish (it stopped mid-retry) is picked up again by `resume_pending`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::crypto::random_token;
use crate::keys::Alg;
use crate::state::AppState;
use crate::store::{self, StoreError};
use crate::tenants::Tenant;

const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// Attempts per delivery, with 1 s, 2 s, 4 s between them.
const ATTEMPTS: i32 = 4;

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
    for row in deliveries_for(state, tenant, sid, user_id, now).await? {
        store::logout_deliveries::insert(&state.db, row.clone()).await?;
        tokio::spawn(deliver(state.clone(), row));
    }
    store::session_clients::delete_for_session(&state.db, sid).await
}

/// The deliveries that tell the clients session `sid` signed in to that it ended, not yet
/// written: a caller that ends sessions in a transaction of its own writes them in it, then
/// `dispatch`es them.
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
            next_attempt_at: now,
        });
    }
    Ok(rows)
}

/// Starts delivering rows already written (by `deliveries_for`'s caller). A process that stops
/// first (the command line) leaves them to `resume_pending` on a running server.
pub fn dispatch(state: &AppState, rows: Vec<entity::logout_delivery::Model>) {
    for row in rows {
        tokio::spawn(deliver(state.clone(), row));
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

/// Delivers one logout token, retrying with backoff; the row goes when the delivery is settled.
async fn deliver(state: AppState, row: entity::logout_delivery::Model) {
    let mut attempts = row.attempts;
    let mut wait = Duration::from_secs(1);
    loop {
        attempts += 1;
        let settled = match logout_token(&state, &row, state.now()).await {
            None => false,
            Some(token) => {
                match state.http.post(&row.uri).form(&[("logout_token", token.as_str())]).send().await {
                    Ok(response) if response.status().is_success() => true,
                    // A 4xx will not change by trying again (OIDC Back-Channel Logout 2.8).
                    Ok(response) if response.status().is_client_error() => {
                        tracing::warn!(client = %row.client_id, status = %response.status(), "back-channel logout refused");
                        true
                    }
                    Ok(response) => {
                        tracing::warn!(client = %row.client_id, status = %response.status(), attempts, "back-channel logout failed");
                        false
                    }
                    Err(err) => {
                        tracing::warn!(client = %row.client_id, error = %err, attempts, "back-channel logout failed");
                        false
                    }
                }
            }
        };
        if settled || attempts >= ATTEMPTS {
            if !settled {
                tracing::error!(client = %row.client_id, "back-channel logout gave up");
            }
            if let Err(err) = store::logout_deliveries::delete(&state.db, &row.id).await {
                tracing::warn!(error = %err, "back-channel logout: delivery row not removed");
            }
            return;
        }
        let next = state.now() + i64::try_from(wait.as_secs()).unwrap_or(60);
        if let Err(err) = store::logout_deliveries::reschedule(&state.db, &row.id, attempts, next).await {
            tracing::warn!(error = %err, "back-channel logout: retry not recorded");
        }
        tokio::time::sleep(wait).await;
        wait *= 2;
    }
}

/// Picks up deliveries that are due and that no instance is working on (an instance stopped
/// mid-retry); each is claimed with a compare-and-set so only one instance resumes it.
pub async fn resume_pending(state: &AppState, now: i64) -> Result<usize, StoreError> {
    let mut resumed = 0;
    for row in store::logout_deliveries::due(&state.db, now).await? {
        if row.attempts >= ATTEMPTS || now - row.created_at > 86_400 {
            store::logout_deliveries::delete(&state.db, &row.id).await?;
            continue;
        }
        // Claimed for a minute; the delivery itself reschedules or removes the row.
        if store::logout_deliveries::claim(&state.db, &row.id, row.next_attempt_at, now + 60).await? {
            tokio::spawn(deliver(state.clone(), row));
            resumed += 1;
        }
    }
    Ok(resumed)
}
