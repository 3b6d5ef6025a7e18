//! A ceremony's state between its two requests: stored under a hash of the token the page
//! sends back, bound to its kind and owner, and taken out once.

use serde::Serialize;
use serde::de::DeserializeOwned;
use webauthn_rs::prelude::PublicKeyCredential;

use super::{CEREMONY_SECONDS, Refusal, SecurityKeyError, from_json, to_json};
use crate::crypto::{random_token, sha256_hex};
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

pub(super) async fn store_ceremony(
    state: &AppState,
    tenant: &Tenant,
    kind: &str,
    owner: &str,
    ceremony_state: &impl Serialize,
    now: i64,
) -> Result<String, SecurityKeyError> {
    let token = random_token(32);
    let row = entity::webauthn_ceremony::Model {
        id: sha256_hex(&token),
        tenant_id: tenant.id().to_string(),
        kind: kind.to_string(),
        owner: owner.to_string(),
        state: to_json(ceremony_state)?,
        expires_at: now + CEREMONY_SECONDS,
    };
    // One live ceremony per kind and owner: a new one replaces the last, so repeated clicks (or
    // a script) cannot pile up rows.
    store::webauthn_ceremonies::replace(&state.db, row).await?;
    Ok(token)
}

pub(super) async fn take_ceremony<T: DeserializeOwned>(
    state: &AppState,
    tenant: &Tenant,
    token: &str,
    kind: &str,
    owner: &str,
    now: i64,
) -> Result<Option<T>, SecurityKeyError> {
    let row = store::webauthn_ceremonies::take(&state.db, tenant.id(), &sha256_hex(token), kind, owner, now)
        .await?;
    row.map(|row| from_json(&row.state)).transpose()
}

/// The ceremony `(token, kind, owner)` names, taken out of the database, and the browser's
/// answer to it parsed.
pub(super) async fn take_answer<T: DeserializeOwned>(
    state: &AppState,
    tenant: &Tenant,
    (token, kind, owner): (&str, &str, &str),
    response_json: &str,
    now: i64,
) -> Result<Result<(T, PublicKeyCredential), Refusal>, SecurityKeyError> {
    let Some(ceremony) = take_ceremony::<T>(state, tenant, token, kind, owner, now).await? else {
        return Ok(Err(Refusal::Ceremony));
    };
    match serde_json::from_str::<PublicKeyCredential>(response_json) {
        Ok(response) => Ok(Ok((ceremony, response))),
        Err(_) => Ok(Err(Refusal::Malformed)),
    }
}
