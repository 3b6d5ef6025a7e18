//! Growing delays after repeated password failures, per account and per client address, kept in
//! the database so every instance sees the same counts. Never a permanent lock: the wait doubles
//! per failure up to a ceiling, and old failures are forgotten.

use crate::config::ThrottleSettings;
use crate::crypto::sha256_hex;
use crate::domain::Email;
use crate::store::{self, Db, StoreError};

/// The counters one password attempt touches.
pub struct ThrottleKeys {
    pub account: String,
    pub address: String,
}

impl ThrottleKeys {
    /// The account key is derived from the typed email, whether or not such a user exists, so the
    /// delays reveal nothing about which accounts exist.
    pub fn new(tenant_id: &str, email: &Email, ip: &str) -> Self {
        Self {
            account: format!("account:{tenant_id}:{}", sha256_hex(email.as_str())),
            address: format!("ip:{tenant_id}:{ip}"),
        }
    }

    pub fn all(&self) -> [&str; 2] {
        [&self.account, &self.address]
    }
}

/// Seconds to wait after `failures` failures.
pub fn delay_after(failures: i32, settings: &ThrottleSettings) -> i64 {
    if failures < settings.free_failures {
        return 0;
    }
    let exponent = (failures - settings.free_failures).min(30) as u32;
    2i64.saturating_pow(exponent).min(settings.max_delay_seconds)
}

/// Seconds the caller must still wait before another try, if any.
pub async fn wait_seconds(
    db: &Db,
    settings: &ThrottleSettings,
    keys: &ThrottleKeys,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    wait_seconds_for(db, settings, &keys.all(), now).await
}

/// The second-factor counter of one user: wrong codes across all their login attempts. A correct
/// password does not clear it, so restarting the login buys no new guesses.
pub fn factor_key(tenant_id: &str, user_id: &str) -> String {
    format!("factor:{tenant_id}:{user_id}")
}

/// Before a guess is checked: `Some(seconds)` to wait, or `None` with the slot taken. Over the free
/// tries each counter's slot is claimed with a compare-and-set, so a burst of parallel guesses
/// gets one through per delay instead of all of them.
pub async fn claim(
    db: &Db,
    settings: &ThrottleSettings,
    keys: &[&str],
    now: i64,
) -> Result<Option<i64>, StoreError> {
    if let Some(wait) = wait_seconds_for(db, settings, keys, now).await? {
        return Ok(Some(wait));
    }
    for key in keys.iter().copied() {
        let Some(row) = store::throttles::find(db, key).await? else { continue };
        if now - row.last_failure_at > settings.forget_after_seconds || row.failures < settings.free_failures
        {
            continue;
        }
        // Judged on the very row the compare-and-set uses: another guess may have claimed the
        // slot between the first look and this one.
        let until = row.last_failure_at + delay_after(row.failures, settings);
        if now < until {
            return Ok(Some(until - now));
        }
        if !store::throttles::claim_slot(db, key, row.failures, row.last_failure_at, now).await? {
            return Ok(Some(delay_after(row.failures, settings).max(1)));
        }
    }
    Ok(None)
}

/// `wait_seconds` over any set of counters.
pub async fn wait_seconds_for(
    db: &Db,
    settings: &ThrottleSettings,
    keys: &[&str],
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let mut wait = 0;
    for key in keys.iter().copied() {
        if let Some(row) = store::throttles::find(db, key).await? {
            if now - row.last_failure_at > settings.forget_after_seconds {
                continue;
            }
            let until = row.last_failure_at + delay_after(row.failures, settings);
            wait = wait.max(until - now);
        }
    }
    Ok((wait > 0).then_some(wait))
}

pub async fn record_failure(
    db: &Db,
    settings: &ThrottleSettings,
    keys: &ThrottleKeys,
    now: i64,
) -> Result<(), StoreError> {
    record_failure_for(db, settings, &keys.all(), now).await
}

/// `record_failure` over any set of counters.
pub async fn record_failure_for(
    db: &Db,
    settings: &ThrottleSettings,
    keys: &[&str],
    now: i64,
) -> Result<(), StoreError> {
    for key in keys.iter().copied() {
        if let Some(row) = store::throttles::find(db, key).await?
            && now - row.last_failure_at > settings.forget_after_seconds
        {
            store::throttles::clear(db, key).await?;
        }
        store::throttles::add_failure(db, key, now).await?;
    }
    Ok(())
}

/// A correct password resets the account's counter (not the address's: one attacker address
/// must not clear its record by signing in to its own account).
pub async fn record_success(db: &Db, keys: &ThrottleKeys) -> Result<(), StoreError> {
    store::throttles::clear(db, &keys.account).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stop_at_the_ceiling() {
        let settings =
            ThrottleSettings { free_failures: 5, max_delay_seconds: 900, forget_after_seconds: 86_400 };
        let delays: Vec<i64> = (0..8).map(|f| delay_after(f, &settings)).collect();
        assert_eq!(delays, vec![0, 0, 0, 0, 0, 1, 2, 4]);
        assert_eq!(delay_after(40, &settings), 900);
        assert_eq!(delay_after(i32::MAX, &settings), 900);
    }
}
