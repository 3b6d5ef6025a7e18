//! A key in a sign-in: as the second factor (the person's own keys), or as a passkey on the
//! password page (any discoverable credential, which names its person).

use webauthn_rs::prelude::{AuthenticationResult, WebauthnError};

use super::ceremony::{store_ceremony, take_answer};
use super::{
    Begun, KIND_PASSKEY, KIND_SECOND_FACTOR, KeyUse, Refusal, Refused, SecurityKeyError, encode_id,
    relying_party, stored_key, to_json, user_handle,
};
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

/// Starts the second-factor step with the user's keys; `None` when they have none.
pub async fn begin_second_factor(
    state: &AppState,
    tenant: &Tenant,
    attempt_id_hash: &str,
    user_id: &str,
    now: i64,
) -> Result<Option<Begun>, SecurityKeyError> {
    let mut keys = Vec::new();
    for row in store::security_keys::list_for_user(&state.db, user_id).await? {
        keys.push(stored_key(&row)?);
    }
    if keys.is_empty() {
        return Ok(None);
    }
    let (options, authentication) = relying_party(tenant)?.start_securitykey_authentication(&keys)?;
    let mut options = serde_json::to_value(&options)?;
    let mut public_key = options.get_mut("publicKey").map(std::mem::take).unwrap_or_default();
    // Keys may be phones and computers too (registration offers them): no USB-key hint.
    if let Some(object) = public_key.as_object_mut() {
        object.remove("hints");
    }
    let ceremony =
        store_ceremony(state, tenant, KIND_SECOND_FACTOR, attempt_id_hash, &authentication, now).await?;
    Ok(Some(Begun { ceremony, public_key }))
}

/// Checks the browser's answer at the second-factor step: one of `user_id`'s keys signed this
/// ceremony's challenge for this origin, with a counter that moved forward.
pub async fn finish_second_factor(
    state: &AppState,
    tenant: &Tenant,
    attempt_id_hash: &str,
    user_id: &str,
    ceremony: &str,
    response_json: &str,
    now: i64,
) -> Result<Result<KeyUse, Refused>, SecurityKeyError> {
    let (authentication, response) = match take_answer::<webauthn_rs::prelude::SecurityKeyAuthentication>(
        state,
        tenant,
        (ceremony, KIND_SECOND_FACTOR, attempt_id_hash),
        response_json,
        now,
    )
    .await?
    {
        Ok(taken) => taken,
        Err(refusal) => return Ok(Err(refusal.into())),
    };
    let credential_id = encode_id(response.get_credential_id());
    let Some(row) = store::security_keys::find_by_credential(&state.db, tenant.id(), &credential_id).await?
    else {
        return Ok(Err(Refusal::UnknownKey.into()));
    };
    if row.user_id != user_id {
        return Ok(Err(Refusal::UnknownKey.into()));
    }
    let verified = relying_party(tenant)?.finish_securitykey_authentication(&response, &authentication);
    record_use(state, row, verified, now).await
}

/// Starts a passkey sign-in: no user is known yet, the authenticator chooses the credential.
pub async fn begin_passkey(
    state: &AppState,
    tenant: &Tenant,
    attempt_id_hash: &str,
    now: i64,
) -> Result<Begun, SecurityKeyError> {
    let (options, authentication) = relying_party(tenant)?.start_discoverable_authentication()?;
    let mut options = serde_json::to_value(&options)?;
    // A button starts it, so the browser's ordinary prompt (not autofill "conditional" mediation).
    let public_key = options.get_mut("publicKey").map(std::mem::take).unwrap_or_default();
    let ceremony = store_ceremony(state, tenant, KIND_PASSKEY, attempt_id_hash, &authentication, now).await?;
    Ok(Begun { ceremony, public_key })
}

/// Checks a passkey answer: a registered discoverable credential whose user handle is its
/// owner's, signed with user verification (PIN or biometrics).
pub async fn finish_passkey(
    state: &AppState,
    tenant: &Tenant,
    attempt_id_hash: &str,
    ceremony: &str,
    response_json: &str,
    now: i64,
) -> Result<Result<KeyUse, Refused>, SecurityKeyError> {
    let (authentication, response) = match take_answer::<webauthn_rs::prelude::DiscoverableAuthentication>(
        state,
        tenant,
        (ceremony, KIND_PASSKEY, attempt_id_hash),
        response_json,
        now,
    )
    .await?
    {
        Ok(taken) => taken,
        Err(refusal) => return Ok(Err(refusal.into())),
    };
    let rp = relying_party(tenant)?;
    let Ok((handle, raw_id)) = rp.identify_discoverable_authentication(&response) else {
        return Ok(Err(Refusal::Malformed.into()));
    };
    let Some(row) =
        store::security_keys::find_by_credential(&state.db, tenant.id(), &encode_id(raw_id)).await?
    else {
        return Ok(Err(Refusal::UnknownKey.into()));
    };
    if user_handle(&row.user_id) != handle {
        return Ok(Err(Refusal::UnknownKey.into()));
    }
    let key = stored_key(&row)?;
    let verified = rp.finish_discoverable_authentication_v2(&response, authentication, &key);
    record_use(state, row, verified, now).await
}

/// Stores a verified use: the credential's new state and counter, compare-and-set on the counter
/// the row had, so of two concurrent uses of one counter value only one counts.
async fn record_use(
    state: &AppState,
    row: entity::security_key::Model,
    verified: Result<AuthenticationResult, WebauthnError>,
    now: i64,
) -> Result<Result<KeyUse, Refused>, SecurityKeyError> {
    let refused = |reason| Refused { reason, key: Some((row.user_id.clone(), row.id.clone())) };
    let result = match verified {
        Ok(result) => result,
        Err(WebauthnError::CredentialPossibleCompromise) => {
            return Ok(Err(refused(Refusal::CounterRegression)));
        }
        Err(err) => {
            tracing::info!(error = %err, "security key assertion refused");
            return Ok(Err(refused(Refusal::Invalid)));
        }
    };
    // The ceremony's copy of the counter may be older than the row's: check the row too. A key
    // that counted before may not fall back to 0.
    let counter = i64::from(result.counter());
    if (counter != 0 || row.counter != 0) && counter <= row.counter {
        return Ok(Err(refused(Refusal::CounterRegression)));
    }
    let mut key = stored_key(&row)?;
    key.update_credential(&result);
    if !store::security_keys::record_use(&state.db, &row.id, row.counter, counter, to_json(&key)?, now)
        .await?
    {
        return Ok(Err(refused(Refusal::Concurrent)));
    }
    Ok(Ok(KeyUse {
        user_id: row.user_id,
        key_id: row.id,
        key_name: row.name,
        user_verified: result.user_verified(),
        hardware_bound: !result.backup_eligible(),
    }))
}
