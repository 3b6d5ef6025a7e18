//! The master key: AES-256-GCM over secrets that must be recoverable (signing keys, later TOTP
//! seeds). The associated data binds each ciphertext to its row, so a sealed value copied to
//! another row does not open.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretString};

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error("the master key must be base64 of exactly 32 bytes")]
    Malformed,
    #[error("a sealed value could not be opened: wrong master key or corrupted data")]
    CannotOpen,
    #[error("the system random generator failed")]
    Random,
}

pub struct MasterKey {
    key: LessSafeKey,
    raw: secrecy::SecretBox<Vec<u8>>,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    pub fn parse(encoded: &SecretString) -> Result<Self, MasterKeyError> {
        let bytes = STANDARD.decode(encoded.expose_secret().trim()).map_err(|_| MasterKeyError::Malformed)?;
        if bytes.len() != 32 {
            return Err(MasterKeyError::Malformed);
        }
        let unbound = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| MasterKeyError::Malformed)?;
        Ok(Self { key: LessSafeKey::new(unbound), raw: secrecy::SecretBox::new(Box::new(bytes)) })
    }

    /// A fresh random key, base64-encoded.
    pub fn generate_encoded() -> Result<SecretString, MasterKeyError> {
        let mut bytes = [0u8; 32];
        SystemRandom::new().fill(&mut bytes).map_err(|_| MasterKeyError::Random)?;
        Ok(SecretString::from(STANDARD.encode(bytes)))
    }

    /// A 256-bit key for one purpose (HMAC-SHA-256 of the purpose under the master key), so
    /// peppers and other derived keys never reuse the encryption key itself.
    pub fn derive(&self, purpose: &str) -> Vec<u8> {
        use hmac::{Hmac, Mac};
        match Hmac::<sha2::Sha256>::new_from_slice(self.raw.expose_secret()) {
            Ok(mut mac) => {
                mac.update(purpose.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            Err(_) => Vec::new(),
        }
    }

    /// base64(nonce || ciphertext || tag).
    pub fn seal(&self, plaintext: &[u8], aad: &str) -> Result<String, MasterKeyError> {
        let mut nonce_bytes = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce_bytes).map_err(|_| MasterKeyError::Random)?;
        let mut in_out = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(aad.as_bytes()),
                &mut in_out,
            )
            .map_err(|_| MasterKeyError::Random)?;
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&in_out);
        Ok(STANDARD.encode(out))
    }

    pub fn open(&self, sealed: &str, aad: &str) -> Result<Vec<u8>, MasterKeyError> {
        let bytes = STANDARD.decode(sealed).map_err(|_| MasterKeyError::CannotOpen)?;
        if bytes.len() < NONCE_LEN {
            return Err(MasterKeyError::CannotOpen);
        }
        let (nonce_bytes, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce_bytes).map_err(|_| MasterKeyError::CannotOpen)?;
        let mut in_out = ciphertext.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut in_out)
            .map_err(|_| MasterKeyError::CannotOpen)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MasterKey {
        MasterKey::parse(&MasterKey::generate_encoded().unwrap()).unwrap()
    }

    #[test]
    fn seal_then_open_round_trips() {
        let k = key();
        let sealed = k.seal(b"private key", "kid-1").unwrap();
        assert_eq!(k.open(&sealed, "kid-1").unwrap(), b"private key");
    }

    #[test]
    fn other_row_or_other_key_cannot_open() {
        let k = key();
        let sealed = k.seal(b"private key", "kid-1").unwrap();
        assert!(k.open(&sealed, "kid-2").is_err());
        assert!(key().open(&sealed, "kid-1").is_err());
    }

    #[test]
    fn derived_keys_differ_by_purpose_and_master() {
        let k = key();
        assert_eq!(k.derive("a").len(), 32);
        assert_eq!(k.derive("a"), k.derive("a"));
        assert_ne!(k.derive("a"), k.derive("b"));
        assert_ne!(k.derive("a"), key().derive("a"));
    }

    #[test]
    fn malformed_keys_are_refused() {
        assert!(MasterKey::parse(&SecretString::from("c2hvcnQ=")).is_err());
        assert!(MasterKey::parse(&SecretString::from("not base64!")).is_err());
    }
}
