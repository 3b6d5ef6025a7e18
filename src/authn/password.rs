//! Argon2id password hashing with the OWASP parameters (m=19456 KiB, t=2, p=1), always on a
//! blocking thread. Unknown emails are checked against a dummy hash so they take the same time.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};

/// Longest password we hash: long enough for any passphrase, short enough that nobody can make us
/// hash megabytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// NIST SP 800-63B: at least 8 characters when chosen by the person.
pub const MIN_PASSWORD_CHARS: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must be at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("the password must be at most {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

#[derive(Clone)]
pub struct PasswordHasher {
    argon: Argon2<'static>,
    dummy_hash: String,
    /// Each hash holds 19 MiB for tens of milliseconds: at most this many run at once, and a burst
    /// of sign-ins queues here instead of filling memory and the blocking pool.
    permits: std::sync::Arc<tokio::sync::Semaphore>,
}

impl PasswordHasher {
    pub fn new() -> Result<Self, PasswordError> {
        let params = Params::new(19_456, 2, 1, None).map_err(|e| PasswordError::Hashing(e.to_string()))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy_hash = hash_with(&argon, b"tessera dummy password for unknown accounts")?;
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(cores * 2));
        Ok(Self { argon, dummy_hash, permits })
    }

    /// Checks the policy, then hashes on a blocking thread.
    pub async fn hash(&self, password: SecretString) -> Result<String, PasswordError> {
        check_policy(&password)?;
        let _permit = self.permits.acquire().await.map_err(|e| PasswordError::Hashing(e.to_string()))?;
        let argon = self.argon.clone();
        tokio::task::spawn_blocking(move || hash_with(&argon, password.expose_secret().as_bytes()))
            .await
            .map_err(|e| PasswordError::Hashing(e.to_string()))?
    }

    /// True when `password` matches `stored`. With no stored hash (unknown account) the dummy hash
    /// is checked and false returned, so both cases cost the same.
    pub async fn verify(&self, password: SecretString, stored: Option<String>) -> bool {
        if password.expose_secret().len() > MAX_PASSWORD_BYTES {
            return false;
        }
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.dummy_hash.clone());
        let Ok(_permit) = self.permits.acquire().await else { return false };
        let argon = self.argon.clone();
        let matched = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|parsed| argon.verify_password(password.expose_secret().as_bytes(), &parsed).is_ok())
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        known && matched
    }
}

pub fn check_policy(password: &SecretString) -> Result<(), PasswordError> {
    let value = password.expose_secret();
    if value.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    if value.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    Ok(())
}

fn hash_with(argon: &Argon2<'static>, password: &[u8]) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    argon
        .hash_password(password, &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hashing(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_with_owasp_parameters_and_verifies() {
        let hasher = PasswordHasher::new().unwrap();
        let hash = hasher.hash(SecretString::from("correct horse")).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(hasher.verify(SecretString::from("correct horse"), Some(hash.clone())).await);
        assert!(!hasher.verify(SecretString::from("wrong horse"), Some(hash)).await);
        assert!(!hasher.verify(SecretString::from("correct horse"), None).await);
    }

    #[test]
    fn policy_refuses_short_and_huge() {
        assert!(matches!(check_policy(&SecretString::from("short")), Err(PasswordError::TooShort)));
        assert!(matches!(check_policy(&SecretString::from("")), Err(PasswordError::TooShort)));
        assert!(matches!(check_policy(&SecretString::from("x".repeat(2000))), Err(PasswordError::TooLong)));
        assert!(check_policy(&SecretString::from("long enough")).is_ok());
    }
}
