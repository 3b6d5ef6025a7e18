//! The refresh_token grant (RFC 6749 6) with rotation and reuse detection (RFC 9700 4.14.2):
//! every use returns a new refresh token; presenting a used one revokes the whole family, except
//! for a retry of the last rotation by its own client within a short grace, which gets the same
//! successor again (docs/decisions.md, "Refresh retry grace").

use std::collections::HashMap;

use serde_json::json;

use super::TokenResponse;
use super::issue::{self, Consume, Issued, Refresh, UserGrant};
use crate::audit::{self, AuditEvent, Event};
use crate::crypto::sha256_hex;
use crate::domain::{AuthContext, Scope};
use crate::error::OAuthError;
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

pub async fn grant(
    state: &AppState,
    tenant: &Tenant,
    client: &entity::client::Model,
    form: &HashMap<String, String>,
) -> Result<TokenResponse, OAuthError> {
    let now = state.now();
    let token = form
        .get("refresh_token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    let hash = sha256_hex(token);
    let read = store::refresh_tokens::find_for_refresh(&state.db, tenant.id(), &hash, now)
        .await
        .map_err(OAuthError::internal)?
        .ok_or_else(|| OAuthError::invalid_grant("the refresh token is invalid"))?;
    let (row, session_live) = (read.token, read.session_live);
    if row.revoked_at.is_some() {
        return Err(OAuthError::invalid_grant("the refresh token was revoked"));
    }
    // A used token, whoever presents it: a retry within the grace, or reuse.
    if row.used_at.is_some() {
        return again_or_reused(state, tenant, client, form, token, &row, now).await;
    }
    if row.client_id != client.id {
        return Err(OAuthError::invalid_grant("the refresh token was issued to another client"));
    }
    let successor = successor_of(state, token);
    let refresh = Refresh::Rotate {
        family_id: row.family_id.clone(),
        expires_at: row.expires_at,
        offline: row.offline,
        token: successor,
    };
    let consume = Consume::RefreshToken(&hash);
    let read = Read { session_live: Some(session_live), user: Some(read.user) };
    match answer(state, tenant, client, form, &row, read, refresh, consume, now).await? {
        Issued::Tokens(tokens) => Ok(tokens),
        // Another request rotated it first (a retry that overtook the first try, or a copy).
        Issued::AlreadyUsed => {
            let row = store::refresh_tokens::find(&state.db, tenant.id(), &hash)
                .await
                .map_err(OAuthError::internal)?
                .ok_or_else(|| OAuthError::invalid_grant("the refresh token is invalid"))?;
            if row.revoked_at.is_some() {
                return Err(OAuthError::invalid_grant("the refresh token was revoked"));
            }
            again_or_reused(state, tenant, client, form, token, &row, now).await
        }
    }
}

/// What the caller already read with `row`; `None`: read it in `answer`.
#[derive(Default)]
struct Read {
    /// Whether `row`'s session lives.
    session_live: Option<bool>,
    /// `row`'s person (`Some(None)`: erased).
    user: Option<Option<entity::user::Model>>,
}

/// The checks every refresh makes of the token it answers for (`row`: the presented token, or
/// on a retry its successor), then the tokens minted and stored with `consume`.
#[allow(clippy::too_many_arguments)]
async fn answer(
    state: &AppState,
    tenant: &Tenant,
    client: &entity::client::Model,
    form: &HashMap<String, String>,
    row: &entity::refresh_token::Model,
    read: Read,
    refresh: Refresh,
    consume: Consume<'_>,
    now: i64,
) -> Result<Issued, OAuthError> {
    let session_live = read.session_live;
    if now >= row.expires_at || now >= row.idle_expires_at {
        return Err(OAuthError::invalid_grant("the refresh token has expired"));
    }
    // Without offline_access a refresh token lives only as long as its sign-in session.
    let session_live = match session_live {
        Some(live) => live,
        None if row.offline => true,
        None => store::sessions::is_live(&state.db, &row.sid, now).await.map_err(OAuthError::internal)?,
    };
    if !row.offline && !session_live {
        revoke_family(state, &row.family_id, now).await.map_err(OAuthError::internal)?;
        return Err(OAuthError::invalid_grant("the session of this refresh token has ended"));
    }
    let granted = Scope::parse(&row.scope);
    let scope = match form.get("scope").filter(|s| !s.is_empty()) {
        Some(requested) => {
            let requested = Scope::parse(requested);
            // A scope of only spaces names nothing: refused rather than granting an empty scope.
            if requested.is_empty() || !requested.is_subset_of(&granted) {
                return Err(OAuthError::new("invalid_scope", "the scope exceeds what was granted"));
            }
            requested
        }
        None => granted.clone(),
    };
    let user = match read.user {
        Some(user) => user,
        None => {
            store::users::find(&state.db, tenant.id(), &row.user_id).await.map_err(OAuthError::internal)?
        }
    }
    .ok_or_else(|| OAuthError::invalid_grant("the user no longer exists"))?;
    // A disabled person's grants ended with the change; this closes the gap of one made meanwhile.
    if user.disabled_at.is_some() {
        return Err(OAuthError::invalid_grant("the refresh token was revoked"));
    }
    let context = AuthContext::from_stored(&row.amr, &row.acr);
    let grant = UserGrant {
        client,
        user: &user,
        scope: &scope,
        nonce: None,
        auth_time: row.auth_time,
        context: &context,
        sid: &row.sid,
        code_hash: None,
        refresh_scope: Some(&granted),
        refresh,
    };
    issue::user_tokens(state, tenant, grant, consume, now).await
}

/// The refresh token that rotating `token` gives: HMAC-SHA-256 of it under a key derived from the
/// master key. Any instance can compute it again from the token the client presents, so a retry
/// can be given the same successor without the successor being kept anywhere but as a hash.
fn successor_of(state: &AppState, token: &str) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use hmac::{Hmac, Mac};
    let key = state.keys.master().derive(SUCCESSOR_PURPOSE);
    match Hmac::<sha2::Sha256>::new_from_slice(&key) {
        Ok(mut mac) => {
            mac.update(token.as_bytes());
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        }
        // HMAC takes a key of any length; should it ever refuse, the successor is merely random
        // (a retry then finds no successor and counts as reuse).
        Err(_) => crate::crypto::random_token(32),
    }
}

const SUCCESSOR_PURPOSE: &str = "tessera refresh token successor v1";

/// A used token came back. Within `tokens.refresh_reuse_grace_seconds` of its rotation, from the
/// client it belongs to, and while its successor is still unused (so it is the family's last
/// rotated token), the answer is that same successor again with a new access token: the answer
/// to the first try was lost. Anything else is reuse and revokes the family.
async fn again_or_reused(
    state: &AppState,
    tenant: &Tenant,
    client: &entity::client::Model,
    form: &HashMap<String, String>,
    token: &str,
    row: &entity::refresh_token::Model,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let grace = state.settings.tokens.refresh_reuse_grace_seconds;
    // A clock a little behind the instance that rotated gives a negative age: still a retry.
    let within_grace = row.used_at.is_some_and(|used| now - used <= grace);
    if grace <= 0 || !within_grace || row.client_id != client.id {
        return Err(reused(state, tenant, row, now).await);
    }
    let successor = successor_of(state, token);
    let successor_hash = sha256_hex(&successor);
    let next = store::refresh_tokens::find(&state.db, tenant.id(), &successor_hash)
        .await
        .map_err(OAuthError::internal)?
        .filter(|next| next.family_id == row.family_id && next.client_id == client.id);
    let Some(next) = next.filter(|next| next.used_at.is_none() && next.revoked_at.is_none()) else {
        // The successor was used (this is an older token), revoked, or never made this way.
        return Err(reused(state, tenant, row, now).await);
    };
    let refresh = Refresh::Again { family_id: next.family_id.clone(), token: successor };
    let consume = Consume::Unused(&successor_hash);
    match answer(state, tenant, client, form, &next, Read::default(), refresh, consume, now).await? {
        Issued::Tokens(tokens) => {
            let event = AuditEvent {
                tenant_id: Some(tenant.id()),
                user_id: Some(&row.user_id),
                event: Event::TokenRefreshRetried,
                detail: json!({ "client": row.client_id, "family": row.family_id }),
                ip: None,
            };
            // The tokens are stored: a lost audit row must not lose the answer too.
            if let Err(err) = audit::record(&state.db, event, now).await {
                tracing::warn!(error = %err, "audit event token.refresh_retried not recorded");
            }
            Ok(tokens)
        }
        // The successor was used or revoked meanwhile.
        Issued::AlreadyUsed => Err(reused(state, tenant, row, now).await),
    }
}

/// A used refresh token came back: someone holds a copy. The family dies.
async fn reused(
    state: &AppState,
    tenant: &Tenant,
    row: &entity::refresh_token::Model,
    now: i64,
) -> OAuthError {
    if let Err(err) = revoke_family(state, &row.family_id, now).await {
        return OAuthError::internal(err);
    }
    let event = AuditEvent {
        tenant_id: Some(tenant.id()),
        user_id: Some(&row.user_id),
        event: Event::TokenRefreshReused,
        detail: json!({ "client": row.client_id, "family": row.family_id }),
        ip: None,
    };
    if let Err(err) = audit::record(&state.db, event, now).await {
        return OAuthError::internal(err);
    }
    OAuthError::invalid_grant("the refresh token was already used")
}

/// Revokes a family's refresh tokens and the access tokens they produced.
pub async fn revoke_family(state: &AppState, family_id: &str, now: i64) -> Result<(), store::StoreError> {
    store::refresh_tokens::revoke_family(&state.db, family_id, now).await?;
    store::access_tokens::revoke_family(&state.db, family_id, now).await?;
    Ok(())
}
