//! Argon2id password hashing with the OWASP parameters (m=19456 KiB, t=2, p=1), on hashing threads
//! of its own (one per core). Unknown emails are checked against a dummy hash so they take the same
//! time.
//!
//! Each hashing thread keeps one 19 MiB Argon2 memory while sign-ins keep coming, and gives it back
//! after `IDLE` without one: a server busy with tokens, not sign-ins, need not carry it (issue 17:
//! peak RSS under 32 MiB outside sign-ins). Hashing on tokio's blocking pool instead let every pool
//! thread's malloc arena keep a freed 19 MiB block, so a burst of sign-ins left the server at
//! hundreds of MiB (measured with tessera-bench).

use std::sync::Arc;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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

/// Work for a hashing thread, given that thread's Argon2 memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

#[derive(Clone)]
pub struct PasswordHasher {
    argon: Argon2<'static>,
    dummy_hash: String,
    /// One per hashing thread: a burst of sign-ins queues here (as futures) instead of filling
    /// memory, and the async workers never run a hash themselves.
    permits: Arc<tokio::sync::Semaphore>,
    jobs: flume::Sender<Job>,
}

impl PasswordHasher {
    pub fn new() -> Result<Self, PasswordError> {
        let params = Params::new(19_456, 2, 1, None).map_err(|e| PasswordError::Hashing(e.to_string()))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy_hash = hash_with(&argon, &mut [], b"tessera dummy password for unknown accounts")?;
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let jobs = start_threads(threads, argon.params().block_count())?;
        Ok(Self { argon, dummy_hash, permits: Arc::new(tokio::sync::Semaphore::new(threads)), jobs })
    }

    /// Checks the policy, then hashes on a hashing thread.
    pub async fn hash(&self, password: SecretString) -> Result<String, PasswordError> {
        check_policy(&password)?;
        let argon = self.argon.clone();
        self.run(move |memory| hash_with(&argon, memory, password.expose_secret().as_bytes())).await?
    }

    /// True when `password` matches `stored`. With no stored hash (unknown account) the dummy hash
    /// is checked and false returned, so both cases cost the same.
    pub async fn verify(&self, password: SecretString, stored: Option<String>) -> bool {
        if password.expose_secret().len() > MAX_PASSWORD_BYTES {
            return false;
        }
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.dummy_hash.clone());
        let matched = self
            .run(move |memory| verify_with(memory, password.expose_secret().as_bytes(), &hash))
            .await
            .unwrap_or(false);
        known && matched
    }

    /// After a correct password: a new hash with tessera's parameters when `stored` was made with
    /// others (an imported hash, often heavier), so the next sign-in costs what ours does. No
    /// policy check: this is the person's existing password. `None` when `stored` is ours already.
    pub async fn upgrade(
        &self,
        password: SecretString,
        stored: &str,
    ) -> Option<Result<String, PasswordError>> {
        if self.is_current(stored) {
            return None;
        }
        let argon = self.argon.clone();
        Some(
            self.run(move |memory| hash_with(&argon, memory, password.expose_secret().as_bytes()))
                .await
                .and_then(|r| r),
        )
    }

    fn is_current(&self, stored: &str) -> bool {
        let Ok(hash) = PasswordHash::new(stored) else { return false };
        let ours = self.argon.params();
        hash.algorithm == Algorithm::Argon2id.ident()
            && hash.version == Some(Version::V0x13.into())
            && Params::try_from(&hash).is_ok_and(|params| {
                (params.m_cost(), params.t_cost(), params.p_cost())
                    == (ours.m_cost(), ours.t_cost(), ours.p_cost())
            })
    }

    /// Runs `work` on a hashing thread once a permit is free. The permit goes with the job, so a
    /// request that gives up waiting cannot let more jobs pile up than there are threads.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        let permit =
            self.permits.clone().acquire_owned().await.map_err(|e| PasswordError::Hashing(e.to_string()))?;
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let _ = reply.send(work(memory));
            drop(permit);
        });
        self.jobs.send(job).map_err(|_| PasswordError::Hashing("no hashing thread".into()))?;
        answer.await.map_err(|_| PasswordError::Hashing("the hashing thread stopped".into()))
    }
}

/// Makes glibc's malloc serve every block of 4 MiB or more (the Argon2 memories) from a mapping
/// of its own and unmap it when freed. By default glibc raises that threshold to the size of the
/// largest mapped block freed, so after the first idle spell the next 19 MiB came from a thread's
/// heap, which keeps freed memory: each spell of sign-ins left the process larger (review of
/// issue 17: 72, 95, 115, 134 MiB; tests/argon_memory). A fixed threshold turns that off.
fn map_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes a tuning parameter of the allocator; it takes plain integers,
    // touches no memory of ours, and glibc serialises it with its own locks.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
    }
}

/// A hashing thread with no sign-in for this long gives its Argon2 memory back.
const IDLE: std::time::Duration = std::time::Duration::from_secs(2);

fn start_threads(count: usize, blocks: usize) -> Result<flume::Sender<Job>, PasswordError> {
    map_large_blocks();
    // Every thread waits on the queue itself (no lock held while waiting), so each one notices
    // its own idle spell.
    let (sender, receiver) = flume::unbounded::<Job>();
    for index in 0..count {
        let receiver = receiver.clone();
        std::thread::Builder::new()
            .name(format!("argon2-{index}"))
            .spawn(move || {
                let mut memory = Vec::new();
                loop {
                    match receiver.recv_timeout(IDLE) {
                        Ok(job) => {
                            // Allocated at the first sign-in of a busy spell, then kept.
                            if memory.is_empty() {
                                memory.resize(blocks, Block::default());
                            }
                            job(&mut memory)
                        }
                        // Idle: the memory goes back to the system (see `map_large_blocks`).
                        Err(flume::RecvTimeoutError::Timeout) => memory = Vec::new(),
                        Err(flume::RecvTimeoutError::Disconnected) => return, // every sender is gone
                    }
                }
            })
            .map_err(|e| PasswordError::Hashing(e.to_string()))?;
    }
    Ok(sender)
}

/// The thread's memory; a stronger (imported) hash gets a memory of its own for the call.
fn with_memory<T>(memory: &mut [Block], blocks: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
    if memory.len() >= blocks {
        work(&mut memory[..blocks])
    } else {
        work(&mut vec![Block::default(); blocks])
    }
}

fn hash_with(
    argon: &Argon2<'static>,
    memory: &mut [Block],
    password: &[u8],
) -> Result<String, PasswordError> {
    let failed = |e: String| PasswordError::Hashing(e);
    let mut salt_bytes = [0u8; 16];
    OsRng.fill_bytes(&mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| failed(e.to_string()))?;
    let params = argon.params();
    let output = with_memory(memory, params.block_count(), |blocks| {
        Output::init_with(params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN), |out| {
            argon.hash_password_into_with_memory(password, &salt_bytes, out, blocks).map_err(Into::into)
        })
    })
    .map_err(|e| failed(e.to_string()))?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: params.try_into().map_err(|e: argon2::password_hash::Error| failed(e.to_string()))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(hash.to_string())
}

/// Checks `password` against a PHC string of any Argon2 variant and parameters (what
/// `PasswordVerifier` does), computing in the thread's memory. Outputs compare in constant time.
fn verify_with(memory: &mut [Block], password: &[u8], stored: &str) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else { return false };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else { return false };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm) else { return false };
    let version = match hash.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&hash) else { return false };
    let mut salt_buffer = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_buffer) else { return false };
    let argon = Argon2::new(algorithm, version, params.clone());
    let computed = with_memory(memory, params.block_count(), |blocks| {
        Output::init_with(expected.len(), |out| {
            argon.hash_password_into_with_memory(password, salt_bytes, out, blocks).map_err(Into::into)
        })
    });
    computed.is_ok_and(|computed| computed == expected)
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

    #[tokio::test]
    async fn verifies_hashes_made_elsewhere_with_other_parameters() {
        use argon2::password_hash::PasswordHasher as _;
        let hasher = PasswordHasher::new().unwrap();
        let salt = SaltString::encode_b64(b"sixteen byte salt").unwrap();
        for (algorithm, m) in
            [(Algorithm::Argon2id, 19_456), (Algorithm::Argon2id, 65_536), (Algorithm::Argon2i, 8_192)]
        {
            let params = Params::new(m, 3, 1, Some(32)).unwrap();
            let hash = Argon2::new(algorithm, Version::V0x13, params)
                .hash_password(b"imported password", &salt)
                .unwrap()
                .to_string();
            assert!(
                hasher.verify(SecretString::from("imported password"), Some(hash.clone())).await,
                "{hash}"
            );
            assert!(!hasher.verify(SecretString::from("imported passworD"), Some(hash)).await);
        }
    }

    #[test]
    fn policy_refuses_short_and_huge() {
        assert!(matches!(check_policy(&SecretString::from("short")), Err(PasswordError::TooShort)));
        assert!(matches!(check_policy(&SecretString::from("")), Err(PasswordError::TooShort)));
        assert!(matches!(check_policy(&SecretString::from("x".repeat(2000))), Err(PasswordError::TooLong)));
        assert!(check_policy(&SecretString::from("long enough")).is_ok());
    }
}
