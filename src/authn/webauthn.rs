//! Security keys and passkeys (WebAuthn, with webauthn-rs). The relying party is the tenant's
//! own origin (its issuer's scheme, host and port; the RP ID is the host). A ceremony's state
//! waits in the database between its two requests, bound to its owner (the user registering, or
//! the login attempt), and is taken out once, so any instance can finish what another began and
//! no challenge answers twice.

use std::time::Duration;

use data_encoding::BASE64URL_NOPAD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;
use webauthn_rs::prelude::{
    AuthenticationResult, PublicKeyCredential, RegisterPublicKeyCredential, SecurityKey, Uuid, Webauthn,
    WebauthnBuilder, WebauthnError,
};

use crate::crypto::{random_token, sha256_hex};
use crate::state::AppState;
use crate::store::{self, StoreError};
use crate::tenants::Tenant;

/// How long a ceremony may take, from the button to the finished form (the browser's prompt
/// times out at the same moment).
pub const CEREMONY_SECONDS: i64 = 300;
pub const KIND_REGISTER: &str = "register";
pub const KIND_SECOND_FACTOR: &str = "second_factor";
pub const KIND_PASSKEY: &str = "passkey";
/// Longest name a person may give a key.
pub const NAME_MAX_CHARS: usize = 60;

#[derive(Debug, thiserror::Error)]
pub enum SecurityKeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the tenant's origin cannot be a WebAuthn relying party: {0}")]
    RelyingParty(String),
    #[error("webauthn: {0}")]
    Webauthn(#[from] WebauthnError),
    #[error("WebAuthn JSON (a stored ceremony or key, or options) is unreadable: {0}")]
    Json(#[from] serde_json::Error),
}

/// A begun ceremony: the token the page sends back, and the options for `navigator.credentials`.
#[derive(Debug, Serialize)]
pub struct Begun {
    pub ceremony: String,
    #[serde(rename = "publicKey")]
    pub public_key: serde_json::Value,
}

/// Why an answer from the browser was refused (for the audit log; the person sees one message).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Unknown, expired, already used or someone else's ceremony.
    Ceremony,
    /// Not a WebAuthn response at all.
    Malformed,
    /// A key that is not registered (to this person).
    UnknownKey,
    /// Signature, origin, RP ID, challenge or flags did not verify.
    Invalid,
    /// The signature counter did not move forward: possibly a cloned authenticator.
    CounterRegression,
    /// Another use of the key was recorded first (or the key was removed meanwhile).
    Concurrent,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ceremony => "ceremony",
            Self::Malformed => "malformed",
            Self::UnknownKey => "unknown_key",
            Self::Invalid => "invalid",
            Self::CounterRegression => "counter_regression",
            Self::Concurrent => "concurrent_use",
        }
    }
}

/// A refused answer, with the registered key it named when there was one (from the verified
/// database row, never from what the client claims).
#[derive(Clone, Debug)]
pub struct Refused {
    pub reason: Refusal,
    /// `(user_id, key_id)` of the key.
    pub key: Option<(String, String)>,
}

impl From<Refusal> for Refused {
    fn from(reason: Refusal) -> Self {
        Self { reason, key: None }
    }
}

/// A verified use of a key.
#[derive(Clone, Debug)]
pub struct KeyUse {
    pub user_id: String,
    pub key_id: String,
    pub key_name: String,
    /// The authenticator verified the person (PIN or biometrics), not only their presence.
    pub user_verified: bool,
    /// The credential cannot leave its device (not a synced passkey: not backup-eligible).
    pub hardware_bound: bool,
}

/// A verified registration, not yet stored.
pub struct NewKey {
    pub credential_id: String,
    pub credential: String,
}

/// The relying party of a tenant: its issuer's origin.
fn relying_party(tenant: &Tenant) -> Result<Webauthn, SecurityKeyError> {
    let issuer = Url::parse(&tenant.issuer).map_err(|e| SecurityKeyError::RelyingParty(e.to_string()))?;
    let rp_id =
        issuer.host_str().ok_or_else(|| SecurityKeyError::RelyingParty("no host".into()))?.to_string();
    let origin = Url::parse(&issuer.origin().ascii_serialization())
        .map_err(|e| SecurityKeyError::RelyingParty(e.to_string()))?;
    let builder = WebauthnBuilder::new(&rp_id, &origin)?
        .rp_name(&tenant.row.display_name)
        .timeout(Duration::from_secs(CEREMONY_SECONDS.unsigned_abs()));
    Ok(builder.build()?)
}

/// The WebAuthn user handle of a user: their random id (no personal data on the authenticator).
pub fn user_handle(user_id: &str) -> Uuid {
    Uuid::parse_str(user_id).unwrap_or_else(|_| {
        let digest = sha256_hex(user_id);
        let mut bytes = [0u8; 16];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(digest.get(2 * i..2 * i + 2).unwrap_or("00"), 16).unwrap_or(0);
        }
        Uuid::from_bytes(bytes)
    })
}

pub fn encode_id(raw: &[u8]) -> String {
    BASE64URL_NOPAD.encode(raw)
}

fn to_json(value: &impl Serialize) -> Result<String, SecurityKeyError> {
    Ok(serde_json::to_string(value)?)
}

fn from_json<T: DeserializeOwned>(json: &str) -> Result<T, SecurityKeyError> {
    Ok(serde_json::from_str(json)?)
}

async fn store_ceremony(
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

async fn take_ceremony<T: DeserializeOwned>(
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
async fn take_answer<T: DeserializeOwned>(
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

fn stored_key(row: &entity::security_key::Model) -> Result<SecurityKey, SecurityKeyError> {
    from_json(&row.credential)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_handles_are_stable_and_distinct() {
        let id = "0f8fad5b-d9cb-469f-a165-70867728950e";
        assert_eq!(user_handle(id).to_string(), id);
        assert_eq!(user_handle("not-a-uuid"), user_handle("not-a-uuid"));
        assert_ne!(user_handle("not-a-uuid"), user_handle("another"));
    }
}
