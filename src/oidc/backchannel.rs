//! Back-channel logout 1.0: when a session ends, every client it signed in to that registered a
//! `backchannel_logout_uri` gets a signed logout token, retried on server errors.

use std::time::Duration;

use serde_json::json;

use crate::crypto::random_token;
use crate::keys::Alg;
use crate::state::AppState;
use crate::store::{self, StoreError};
use crate::tenants::Tenant;

const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// Attempts per delivery, with 1 s, 2 s, 4 s between them.
const ATTEMPTS: u32 = 4;

/// Sends logout tokens for session `sid` of `user_id`; deliveries run in the background.
pub async fn notify(
    state: &AppState,
    tenant: &Tenant,
    sid: &str,
    user_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    for link in store::session_clients::for_session(&state.db, sid).await? {
        let Some(client) = store::clients::find_by_row_id(&state.db, &link.client_id).await? else {
            continue;
        };
        let Some(uri) = client.backchannel_logout_uri.clone() else { continue };
        let alg = Alg::parse(&client.id_token_signed_response_alg).unwrap_or(Alg::Rs256);
        let key = match state.keys.signer(&state.db, tenant.id(), alg, now).await {
            Ok(key) => key,
            Err(err) => {
                tracing::error!(error = %err, client = %client.client_id, "no key to sign a logout token");
                continue;
            }
        };
        let header = json!({ "alg": alg.as_str(), "kid": key.kid, "typ": "logout+jwt" });
        let claims = json!({
            "iss": tenant.issuer,
            "aud": client.client_id,
            "iat": now,
            "exp": now + 120,
            "jti": random_token(16),
            "sub": user_id,
            "sid": sid,
            "events": { EVENT: {} },
        });
        let token = match key.sign_jws(&header, &claims) {
            Ok(token) => token,
            Err(err) => {
                tracing::error!(error = %err, "signing a logout token failed");
                continue;
            }
        };
        tokio::spawn(deliver(state.http.clone(), uri, token, client.client_id));
    }
    store::session_clients::delete_for_session(&state.db, sid).await
}

async fn deliver(http: reqwest::Client, uri: String, token: String, client_id: String) {
    let mut wait = Duration::from_secs(1);
    for attempt in 1..=ATTEMPTS {
        match http.post(&uri).form(&[("logout_token", token.as_str())]).send().await {
            Ok(response) if response.status().is_success() => return,
            // A 4xx will not change by trying again (OIDC Back-Channel Logout 2.8).
            Ok(response) if response.status().is_client_error() => {
                tracing::warn!(client = %client_id, status = %response.status(), "back-channel logout refused");
                return;
            }
            Ok(response) => {
                tracing::warn!(client = %client_id, status = %response.status(), attempt, "back-channel logout failed")
            }
            Err(err) => {
                tracing::warn!(client = %client_id, error = %err, attempt, "back-channel logout failed")
            }
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
    }
    tracing::error!(client = %client_id, "back-channel logout gave up");
}
