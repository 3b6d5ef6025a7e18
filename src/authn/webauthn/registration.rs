//! Registering a security key or passkey on the account pages.

use webauthn_rs::prelude::RegisterPublicKeyCredential;

use super::ceremony::{store_ceremony, take_ceremony};
use super::{
    Begun, KIND_REGISTER, NewKey, Refusal, SecurityKeyError, encode_id, relying_party, stored_key, to_json,
    user_handle,
};
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

/// Starts registering a key for `user` (their registered keys are excluded, so one key is not
/// registered twice).
pub async fn begin_registration(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
    now: i64,
) -> Result<Begun, SecurityKeyError> {
    let rp = relying_party(tenant)?;
    let mut exclude = Vec::new();
    for row in store::security_keys::list_for_user(&state.db, &user.id).await? {
        exclude.push(stored_key(&row)?.cred_id().clone());
    }
    // The email, not the person's name: tenants on one host share an RP ID, so a shared device's
    // passkey list may show other tenants' entries (see docs/operations.md).
    let (options, registration) = rp.start_securitykey_registration(
        user_handle(&user.id),
        &user.email,
        &user.email,
        Some(exclude),
        None,
        None,
    )?;
    let mut options = serde_json::to_value(&options)?;
    if let Some(public_key) = options.get_mut("publicKey").and_then(|v| v.as_object_mut()) {
        // A key that can hold a discoverable credential should make one: it can then also sign in
        // without a password (a passkey). Phones and computers are as welcome as USB keys.
        if let Some(selection) = public_key.get_mut("authenticatorSelection").and_then(|v| v.as_object_mut())
        {
            selection.insert("residentKey".into(), "preferred".into());
        }
        public_key.remove("hints");
        // webauthn-rs asks for credProtect "userVerificationRequired", which Chromium refuses
        // unless user verification is required overall (keys without a PIN could not register).
        // Level 2 says what we need: used by its id (our second factor) the key may skip the PIN;
        // found without an id (a passkey sign-in) it must verify the person.
        if let Some(extensions) = public_key.get_mut("extensions").and_then(|v| v.as_object_mut())
            && extensions.contains_key("credentialProtectionPolicy")
        {
            extensions.insert(
                "credentialProtectionPolicy".into(),
                "userVerificationOptionalWithCredentialIDList".into(),
            );
        }
    }
    let public_key = options.get("publicKey").cloned().unwrap_or_default();
    let ceremony = store_ceremony(state, tenant, KIND_REGISTER, &user.id, &registration, now).await?;
    Ok(Begun { ceremony, public_key })
}

/// Verifies the browser's answer to a registration; `Err(Refusal)` when it does not verify.
pub async fn finish_registration(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
    ceremony: &str,
    response_json: &str,
    now: i64,
) -> Result<Result<NewKey, Refusal>, SecurityKeyError> {
    let Some(registration) = take_ceremony(state, tenant, ceremony, KIND_REGISTER, &user.id, now).await?
    else {
        return Ok(Err(Refusal::Ceremony));
    };
    let Ok(response) = serde_json::from_str::<RegisterPublicKeyCredential>(response_json) else {
        return Ok(Err(Refusal::Malformed));
    };
    let key = match relying_party(tenant)?.finish_securitykey_registration(&response, &registration) {
        Ok(key) => key,
        Err(err) => {
            tracing::info!(error = %err, "security key registration refused");
            return Ok(Err(Refusal::Invalid));
        }
    };
    Ok(Ok(NewKey { credential_id: encode_id(key.cred_id()), credential: to_json(&key)? }))
}
