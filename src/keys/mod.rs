//! Per-tenant signing keys: generated on first need, sealed at rest with the master key, parsed
//! once and cached by kid (a kid names immutable key material, so the cache never goes stale).

mod generate;
mod jws;
pub mod verify;

use std::collections::HashMap;

use axum::body::Bytes;
use std::sync::{Arc, RwLock};

pub use jws::{SigningKey, verify_with_jwk};

use crate::crypto::{MasterKey, MasterKeyError};
use crate::store::{self, Db, StoreError};

/// The JWS algorithms tessera signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Alg {
    Rs256,
    Es256,
    EdDsa,
}

impl Alg {
    pub const ALL: [Alg; 3] = [Alg::Rs256, Alg::Es256, Alg::EdDsa];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == value)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SigningKeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    MasterKey(#[from] MasterKeyError),
    #[error("signing key {0} could not be used: {1}")]
    Unusable(String, &'static str),
    #[error("key generation failed")]
    Generation,
}

pub struct KeyStore {
    master: MasterKey,
    backup_code_pepper: Vec<u8>,
    cache: RwLock<HashMap<String, Arc<SigningKey>>>,
    /// Which key signs, per tenant and algorithm, for `MEMORY_SECONDS` (see `signer`).
    signers: RwLock<HashMap<(String, Alg), RememberedSigner>>,
    /// Serialised JWK Sets by tenant id, for `MEMORY_SECONDS`.
    jwks_documents: RwLock<HashMap<String, Remembered<Bytes>>>,
}

/// A value and the time (Unix seconds) until which it may be reused.
type Remembered<T> = (T, i64);
type RememberedSigner = Remembered<Arc<SigningKey>>;

/// How long an instance reuses what the database said about keys. Safe because a rotated key
/// signs only after `keys.rotation_overlap_seconds` (an hour by default, longer than the JWKS's
/// own `max-age` of 300 s for relying parties, and never less than this: `config` refuses it),
/// while every instance publishes it within this time: every JWKS served still lists the key that
/// signs, and a key that just started to sign elsewhere is already in it. A rotation in this
/// process forgets both at once.
pub const MEMORY_SECONDS: i64 = 30;

impl KeyStore {
    pub fn new(master: MasterKey) -> Self {
        let backup_code_pepper = master.derive("tessera backup codes v1");
        Self {
            master,
            backup_code_pepper,
            cache: RwLock::new(HashMap::new()),
            signers: RwLock::new(HashMap::new()),
            jwks_documents: RwLock::new(HashMap::new()),
        }
    }

    /// The master key, for other secrets that must be recoverable (TOTP seeds).
    pub fn master(&self) -> &MasterKey {
        &self.master
    }

    pub fn backup_code_pepper(&self) -> &[u8] {
        &self.backup_code_pepper
    }

    /// The key that signs for this tenant and algorithm now; a first key is made when there is none.
    pub async fn signer(
        &self,
        db: &Db,
        tenant_id: &str,
        alg: Alg,
        now: i64,
    ) -> Result<Arc<SigningKey>, SigningKeyError> {
        let remembered = self.signers.read().ok().and_then(|signers| {
            signers
                .get(&(tenant_id.to_string(), alg))
                .filter(|(_, until)| now < *until)
                .map(|(key, _)| key.clone())
        });
        if let Some(key) = remembered {
            return Ok(key);
        }
        let key = self.load_signer(db, tenant_id, alg, now).await?;
        if let Ok(mut signers) = self.signers.write() {
            signers.insert((tenant_id.to_string(), alg), (key.clone(), now + MEMORY_SECONDS));
        }
        Ok(key)
    }

    async fn load_signer(
        &self,
        db: &Db,
        tenant_id: &str,
        alg: Alg,
        now: i64,
    ) -> Result<Arc<SigningKey>, SigningKeyError> {
        let row = match store::signing_keys::signing(db, tenant_id, alg.as_str(), now).await? {
            Some(row) => row,
            None => self.create(db, tenant_id, alg, now, now).await?,
        };
        if let Some(key) = self.cached(&row.kid) {
            return Ok(key);
        }
        let der = self.master.open(&row.private_key_sealed, &row.kid)?;
        let key = Arc::new(SigningKey::from_pkcs8(&row.kid, alg, &der)?);
        if let Ok(mut cache) = self.cache.write() {
            cache.insert(row.kid.clone(), key.clone());
        }
        Ok(key)
    }

    fn cached(&self, kid: &str) -> Option<Arc<SigningKey>> {
        self.cache.read().ok().and_then(|cache| cache.get(kid).cloned())
    }

    /// Generates, seals and stores a new key, published now and signing from `activates_at`.
    pub async fn create(
        &self,
        db: &Db,
        tenant_id: &str,
        alg: Alg,
        now: i64,
        activates_at: i64,
    ) -> Result<entity::signing_key::Model, SigningKeyError> {
        // RSA generation takes tens of milliseconds of CPU: keep it off the async workers.
        let generated = tokio::task::spawn_blocking(move || generate::generate(alg))
            .await
            .map_err(|_| SigningKeyError::Generation)??;
        let row = entity::signing_key::Model {
            kid: generated.kid.clone(),
            tenant_id: tenant_id.to_string(),
            alg: alg.as_str().to_string(),
            private_key_sealed: self.master.seal(&generated.pkcs8_der, &generated.kid)?,
            public_jwk: generated.public_jwk.to_string(),
            status: store::signing_keys::ACTIVE.to_string(),
            created_at: now,
            activates_at,
            retires_at: None,
        };
        store::signing_keys::insert(db, row.clone()).await?;
        self.forget_remembered();
        Ok(row)
    }

    /// Forgets the remembered signers and JWK Sets (after a key change in this process).
    fn forget_remembered(&self) {
        if let Ok(mut signers) = self.signers.write() {
            signers.clear();
        }
        if let Ok(mut documents) = self.jwks_documents.write() {
            documents.clear();
        }
    }

    /// The tenant's JWK Set as served less than `MEMORY_SECONDS` ago.
    pub fn remembered_jwks(&self, tenant_id: &str, now: i64) -> Option<Bytes> {
        let documents = self.jwks_documents.read().ok()?;
        documents.get(tenant_id).filter(|(_, until)| now < *until).map(|(body, _)| body.clone())
    }

    /// The tenant's JWK Set as last served, however old: for while the database cannot be
    /// reached (no key can be added or retired meanwhile).
    pub fn last_jwks(&self, tenant_id: &str) -> Option<Bytes> {
        let documents = self.jwks_documents.read().ok()?;
        documents.get(tenant_id).map(|(body, _)| body.clone())
    }

    pub fn remember_jwks(&self, tenant_id: &str, body: Bytes, now: i64) {
        if let Ok(mut documents) = self.jwks_documents.write() {
            documents.insert(tenant_id.to_string(), (body, now + MEMORY_SECONDS));
        }
    }

    /// Rotation: publishes a new key at once, signs with it after `overlap` seconds, and retires
    /// the others once every token they may have signed has expired.
    pub async fn rotate(
        &self,
        db: &Db,
        tenant_id: &str,
        alg: Alg,
        now: i64,
        overlap: i64,
        longest_token_lifetime: i64,
    ) -> Result<entity::signing_key::Model, SigningKeyError> {
        let row = self.create(db, tenant_id, alg, now, now + overlap).await?;
        // Another instance may go on signing with the old key for `MEMORY_SECONDS` after the new
        // one takes over; its last tokens must still verify until they expire.
        let retires_at = now + overlap + MEMORY_SECONDS + longest_token_lifetime;
        store::signing_keys::retire_others(db, tenant_id, alg.as_str(), &row.kid, retires_at).await?;
        self.forget_remembered();
        Ok(row)
    }

    /// The tenant's JWK Set document: every key not yet retired, including ones about to sign.
    /// A first key of each algorithm is made when missing, so the first fetch is never empty; in
    /// the steady state this is one query.
    pub async fn jwks(
        &self,
        db: &Db,
        tenant_id: &str,
        now: i64,
    ) -> Result<serde_json::Value, SigningKeyError> {
        let mut rows = store::signing_keys::published(db, tenant_id, now).await?;
        let signs = |rows: &[entity::signing_key::Model], alg: Alg| {
            rows.iter().any(|row| row.alg == alg.as_str() && row.activates_at <= now)
        };
        if Alg::ALL.into_iter().any(|alg| !signs(&rows, alg)) {
            for alg in Alg::ALL {
                self.signer(db, tenant_id, alg, now).await?;
            }
            rows = store::signing_keys::published(db, tenant_id, now).await?;
        }
        let mut keys = Vec::with_capacity(rows.len());
        for row in rows {
            let jwk: serde_json::Value = serde_json::from_str(&row.public_jwk)
                .map_err(|_| SigningKeyError::Unusable(row.kid.clone(), "public JWK is not JSON"))?;
            keys.push(jwk);
        }
        Ok(serde_json::json!({ "keys": keys }))
    }
}
