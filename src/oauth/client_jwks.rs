//! The JWK Sets of private_key_jwt clients registered by URL, fetched once and remembered, so an
//! assertion (genuine or garbage) does not make us fetch the client's URL again: a set is fetched
//! when it is older than `MAX_AGE_SECONDS` or an assertion names a `kid` it lacks (a rotated key),
//! and never more than once per `REFETCH_SECONDS` per client, whatever the assertions say.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// A remembered set is fetched again after this long, so a key the client withdrew stops working.
pub const MAX_AGE_SECONDS: i64 = 300;
/// A set older than this is not used any more, even while fetching it fails: a client whose
/// server is gone for good, or a key it withdrew while its URL was down, stops working.
pub const STALE_LIMIT_SECONDS: i64 = 3600;
/// The least time between two fetches of one client's set (successful or not).
pub const REFETCH_SECONDS: i64 = 60;
/// Larger answers are refused: a JWK Set of a few keys takes a few kilobytes.
pub const MAX_BYTES: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("the client's JWK Set could not be fetched")]
    Unreachable,
    #[error("the client's JWK Set is larger than {MAX_BYTES} bytes")]
    TooLarge,
    #[error("the client's JWK Set is not a JSON JWK Set")]
    NotAJwkSet,
}

#[derive(Default)]
struct Remembered {
    uri: String,
    keys: Option<Arc<Value>>,
    fetched_at: i64,
    /// The last fetch, successful or not: a failing URL is not asked again at once either.
    tried_at: Option<i64>,
}

/// One entry per client row; each behind its own lock, held during that client's fetch, so
/// concurrent assertions of one client wait for one fetch and other clients do not wait at all.
#[derive(Default)]
pub struct ClientJwks(Mutex<HashMap<String, Arc<tokio::sync::Mutex<Remembered>>>>);

impl ClientJwks {
    /// The client's key set, fetched if it is missing, old, or lacks `kid` (and the last fetch is
    /// a minute ago). When a fetch fails the set fetched before stays in use, up to
    /// `STALE_LIMIT_SECONDS` after it was fetched: the client's server having a bad minute should
    /// not stop its sign-ins, a server gone for an hour should.
    pub async fn keys(
        &self,
        http: &reqwest::Client,
        client_row_id: &str,
        uri: &str,
        kid: Option<&str>,
        now: i64,
    ) -> Result<Arc<Value>, JwksError> {
        let entry = {
            let mut entries = self.0.lock().map_err(|_| JwksError::Unreachable)?;
            entries.entry(client_row_id.to_string()).or_default().clone()
        };
        let mut remembered = entry.lock().await;
        if remembered.uri != uri {
            *remembered = Remembered { uri: uri.to_string(), ..Remembered::default() };
        }
        let wanted = match &remembered.keys {
            None => true,
            Some(keys) => {
                now - remembered.fetched_at >= MAX_AGE_SECONDS || kid.is_some_and(|k| !holds(keys, k))
            }
        };
        let may_fetch = remembered.tried_at.is_none_or(|at| now - at >= REFETCH_SECONDS);
        if wanted && may_fetch {
            remembered.tried_at = Some(now);
            match fetch(http, uri).await {
                Ok(keys) => {
                    remembered.keys = Some(Arc::new(keys));
                    remembered.fetched_at = now;
                }
                Err(error) => {
                    tracing::warn!(%error, client = client_row_id, "fetching a client's jwks_uri failed");
                    if remembered.keys.is_none() {
                        return Err(error);
                    }
                }
            }
        }
        if now - remembered.fetched_at >= STALE_LIMIT_SECONDS {
            remembered.keys = None;
        }
        remembered.keys.clone().ok_or(JwksError::Unreachable)
    }
}

/// Whether a key of the set may be the one `kid` names (a key without a `kid` may be any).
fn holds(keys: &Value, kid: &str) -> bool {
    keys["keys"].as_array().into_iter().flatten().any(|key| key["kid"].as_str().is_none_or(|k| k == kid))
}

async fn fetch(http: &reqwest::Client, uri: &str) -> Result<Value, JwksError> {
    let mut response = http.get(uri).send().await.map_err(|_| JwksError::Unreachable)?;
    if !response.status().is_success() {
        return Err(JwksError::Unreachable);
    }
    if response.content_length().is_some_and(|length| length > MAX_BYTES as u64) {
        return Err(JwksError::TooLarge);
    }
    // The declared length may be absent or false: count what actually arrives.
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|_| JwksError::Unreachable)? {
        if body.len() + chunk.len() > MAX_BYTES {
            return Err(JwksError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    let keys: Value = serde_json::from_slice(&body).map_err(|_| JwksError::NotAJwkSet)?;
    if !keys["keys"].is_array() {
        return Err(JwksError::NotAJwkSet);
    }
    Ok(keys)
}
