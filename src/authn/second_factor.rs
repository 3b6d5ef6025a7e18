//! The second-factor interface: which methods exist, and checking a code with the user's method.
//! Security keys answer a WebAuthn challenge instead of a code (see `webauthn`).

use crate::authn::{sms, totp};
use crate::state::AppState;
use crate::store::{self, StoreError};

/// The second factor a person signs in with, as stored on their row.
pub use entity::two_factor_method::TwoFactorMethod as Method;

/// Fluent key of the method's name (`Authenticator app`, ...).
pub fn label_key(method: Method) -> &'static str {
    match method {
        Method::Totp => "method-totp",
        Method::Sms => "method-sms",
        Method::SecurityKey => "method-security-key",
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FactorError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the user's second-factor data is unusable: {0}")]
    Unusable(String),
}

/// Checks a verification code with the user's method. A code's time step is consumed atomically,
/// so a replayed or concurrently reused code is refused.
pub async fn verify_code(
    state: &AppState,
    user: &entity::user::Model,
    code: &str,
    now: i64,
) -> Result<bool, FactorError> {
    match user.two_factor_method {
        Some(Method::Totp) => {
            let Some(credential) = store::totp_credentials::find_with_status(
                &state.db,
                &user.id,
                store::totp_credentials::ACTIVE,
            )
            .await?
            else {
                return Ok(false);
            };
            check_totp(state, &credential, code, now).await
        }
        Some(Method::Sms) => {
            let Some(phone) = user.phone_number.as_deref() else { return Ok(false) };
            Ok(sms::verify_code(state, &user.id, sms::PURPOSE_LOGIN, code, Some(phone), now).await?.is_some())
        }
        // A key answers a challenge, never a typed code.
        Some(Method::SecurityKey) | None => Ok(false),
    }
}

/// Checks `code` against one credential (active, or pending during enrolment) and uses its step.
pub async fn check_totp(
    state: &AppState,
    credential: &entity::totp_credential::Model,
    code: &str,
    now: i64,
) -> Result<bool, FactorError> {
    let seed = open_seed(state, credential)?;
    let Some(step) = totp::matching_step(&seed, code, now) else { return Ok(false) };
    Ok(store::totp_credentials::use_step(&state.db, &credential.id, step).await?)
}

pub fn open_seed(
    state: &AppState,
    credential: &entity::totp_credential::Model,
) -> Result<totp::Seed, FactorError> {
    let bytes = state
        .keys
        .master()
        .open(&credential.secret_sealed, &credential.id)
        .map_err(|e| FactorError::Unusable(e.to_string()))?;
    Ok(secrecy::SecretBox::new(Box::new(bytes)))
}
