//! Growing delays after repeated password failures, per account and per client address, kept in
//! the database so every instance sees the same counts. Never a permanent lock: the wait doubles
//! per failure up to a ceiling, and old failures are forgotten.

use crate::config::ThrottleSettings;
use crate::crypto::sha256_hex;
use crate::domain::Email;
use crate::store::{self, Db, StoreError};

/// The counters one password try touches. Growing delays fall on the guesser: the client address
/// and the account at that address, or, on a browser where the person signed in before, that
/// device alone. The account's own counter only caps consecutive failures from unknown browsers,
/// so guessing from anywhere else can neither slow nor lock the owner on a known device.
pub struct ThrottleKeys {
    delayed: Vec<String>,
    account: String,
    /// False on a known device: the account's cap does not apply there.
    capped: bool,
}

impl ThrottleKeys {
    /// The account keys are derived from the typed email, whether or not such a user exists, so
    /// the delays reveal nothing about which accounts exist. `device` is the known-device key
    /// (`known_device::recognise`), when the browser is one.
    pub fn new(tenant_id: &str, email: &Email, ip: &str, device: Option<String>) -> Self {
        let account = format!("account:{tenant_id}:{}", sha256_hex(email.as_str()));
        let (delayed, capped) = match device {
            Some(device) => (vec![device], false),
            None => (vec![format!("ip:{tenant_id}:{ip}"), format!("{account}:ip:{ip}")], true),
        };
        Self { delayed, account, capped }
    }

    fn delayed(&self) -> Vec<&str> {
        self.delayed.iter().map(String::as_str).collect()
    }

    /// Every counter a failure adds to.
    fn counted(&self) -> Vec<&str> {
        let mut keys = self.delayed();
        keys.push(&self.account);
        keys
    }

    /// What a correct password clears: everything but the client address's counter (one attacker
    /// address must not clear its record by signing in to its own account).
    fn cleared_on_success(&self) -> impl Iterator<Item = &str> {
        self.counted().into_iter().filter(|key| !key.starts_with("ip:"))
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

/// Seconds until the account's failures are forgotten, when an unknown browser meets its cap.
async fn account_cap_wait(
    db: &Db,
    settings: &ThrottleSettings,
    keys: &ThrottleKeys,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    if !keys.capped {
        return Ok(None);
    }
    let Some(row) = store::throttles::find(db, &keys.account).await? else { return Ok(None) };
    let until = row.last_failure_at + settings.forget_after_seconds;
    Ok((row.failures >= settings.account_max_failures && now <= until).then_some((until - now).max(1)))
}

/// Before a password is checked: `Some(seconds)` to wait, or `None` with the delayed counters'
/// slots taken (see `claim`).
pub async fn claim_password_try(
    db: &Db,
    settings: &ThrottleSettings,
    keys: &ThrottleKeys,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    if let Some(wait) = account_cap_wait(db, settings, keys, now).await? {
        return Ok(Some(wait));
    }
    claim(db, settings, &keys.delayed(), now).await
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
    record_failure_for(db, settings, &keys.counted(), now).await
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

/// A correct password resets the account's counters (see `ThrottleKeys::cleared_on_success`).
pub async fn record_success(db: &Db, keys: &ThrottleKeys) -> Result<(), StoreError> {
    for key in keys.cleared_on_success() {
        store::throttles::clear(db, key).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stop_at_the_ceiling() {
        let settings = ThrottleSettings {
            free_failures: 5,
            max_delay_seconds: 900,
            forget_after_seconds: 86_400,
            account_max_failures: 100,
        };
        let delays: Vec<i64> = (0..8).map(|f| delay_after(f, &settings)).collect();
        assert_eq!(delays, vec![0, 0, 0, 0, 0, 1, 2, 4]);
        assert_eq!(delay_after(40, &settings), 900);
        assert_eq!(delay_after(i32::MAX, &settings), 900);
    }
}
