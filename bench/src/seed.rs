//! The people of a benchmark: one Argon2id hash made once with tessera's parameters (every user
//! has the same password), and authenticator-app seeds derived from the user's number, so the
//! driver can compute each person's current code like their phone would.

use std::fmt::Write as _;

use data_encoding::BASE32_NOPAD;
use sha2::{Digest, Sha256};

use crate::Fallible;

const PASSWORD: &str = "bench password 1";

pub struct Users {
    count: usize,
    with_totp: usize,
    run: String,
}

impl Users {
    /// `count` users, the first `with_totp` of them with an authenticator app.
    pub fn new(count: usize, with_totp: usize) -> Self {
        Self { count, with_totp: with_totp.min(count), run: uuid::Uuid::new_v4().simple().to_string() }
    }

    pub fn with_totp(&self) -> usize {
        self.with_totp
    }

    pub fn password(&self) -> &str {
        PASSWORD
    }

    pub fn email(&self, index: usize) -> String {
        format!("user{index:06}@bench.example.org")
    }

    fn seed(&self, index: usize) -> Vec<u8> {
        Sha256::digest(format!("{}:{index}", self.run).as_bytes())[..20].to_vec()
    }

    pub fn totp_code(&self, index: usize, unix_seconds: i64) -> Fallible<String> {
        let secret = totp_rs::Secret::new(self.seed(index).into_boxed_slice());
        let totp = totp_rs::Builder::new().with_secret(secret).build().map_err(|e| e.to_string())?;
        Ok(totp.generate(u64::try_from(unix_seconds).map_err(|e| e.to_string())?).to_string())
    }

    /// The file for `tessera user import`.
    pub fn jsonl(&self, password_hash: &str) -> String {
        let mut out = String::with_capacity(self.count * 200);
        for index in 0..self.count {
            let _ = write!(
                out,
                "{{\"email\":\"{}\",\"name\":\"Bench User {index}\",\"password_hash\":\"{password_hash}\"",
                self.email(index)
            );
            if index < self.with_totp {
                let _ = write!(out, ",\"totp_secret\":\"{}\"", BASE32_NOPAD.encode(&self.seed(index)));
            }
            out.push_str("}\n");
        }
        out
    }
}
