//! Small cryptographic building blocks shared by every area: random tokens, hashes of secrets
//! and the master key that seals signing keys at rest.

mod master_key;
mod tokens;

pub use master_key::{MasterKey, MasterKeyError};
pub use tokens::{constant_time_eq, random_token, sha256_b64url, sha256_hex};
