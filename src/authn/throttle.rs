//! Growing delays after repeated password failures (per client address, per account at that
//! address, per known device) and a cap per account, kept in the database so every instance sees
//! the same counts. Never a permanent lock: the wait doubles per failure up to a ceiling, and old
//! failures are forgotten.

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
}

/// Seconds to wait after `failures` failures.
pub fn delay_after(failures: i32, settings: &ThrottleSettings) -> i64 {
    if failures < settings.free_failures {
        return 0;
    }
    let exponent = (failures - settings.free_failures).min(30) as u32;
    2i64.saturating_pow(exponent).min(settings.max_delay_seconds)
}

/// Before a password is checked, takes its try on every counter, each in one conditional
/// statement, as the second-factor tries are taken: the check runs only for a try that was
/// counted, so parallel guesses (on one instance or many) get no more checks than sequential ones.
/// `Some(seconds)` to wait, with nothing taken; `None`: the try is counted as a failure until
/// `record_success` says otherwise.
pub async fn take_password_try(
    db: &Db,
    settings: &ThrottleSettings,
    keys: &ThrottleKeys,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let cutoff = now - settings.forget_after_seconds;
    store::throttles::forget_if_older(db, &keys.account, cutoff).await?;
    if keys.capped {
        if !store::throttles::take_under(db, &keys.account, settings.account_max_failures, now).await? {
            // At the cap: wait until the failures are forgotten, never for good.
            let last =
                store::throttles::find(db, &keys.account).await?.map_or(now, |row| row.last_failure_at);
            return Ok(Some((last + settings.forget_after_seconds - now).max(1)));
        }
    } else {
        store::throttles::add_failure(db, &keys.account, now).await?;
    }
    let mut taken = vec![keys.account.as_str()];
    for key in keys.delayed() {
        // The client address is shared by everyone behind it (a hospital's NAT): its try is not
        // taken before the check, or people signing in at once would be refused for each other.
        // Its delay still holds, and a wrong password adds to it (`record_wrong_password`).
        if is_address(key) {
            if let Some(wait) = wait_seconds_for(db, settings, &[key], now).await? {
                for key in taken {
                    store::throttles::give_back(db, key).await?;
                }
                return Ok(Some(wait));
            }
            continue;
        }
        if let Some(wait) = take_delayed(db, settings, key, now).await? {
            for key in taken {
                store::throttles::give_back(db, key).await?;
            }
            return Ok(Some(wait));
        }
        taken.push(key);
    }
    Ok(None)
}

/// How often a try is attempted again when parallel guesses keep changing the counter.
const CONTENDED_LOOKS: usize = 4;

/// One counter's try: a free one while under `free_failures`, then one per growing delay.
async fn take_delayed(
    db: &Db,
    settings: &ThrottleSettings,
    key: &str,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    store::throttles::forget_if_older(db, key, now - settings.forget_after_seconds).await?;
    for _ in 0..CONTENDED_LOOKS {
        if store::throttles::take_under(db, key, settings.free_failures, now).await? {
            return Ok(None);
        }
        let Some(row) = store::throttles::find(db, key).await? else { continue };
        if row.failures < settings.free_failures {
            continue;
        }
        let wait = row.last_failure_at + delay_after(row.failures, settings) - now;
        if wait > 0 {
            return Ok(Some(wait));
        }
        if store::throttles::take_slot(db, key, row.failures, row.last_failure_at, now).await? {
            return Ok(None);
        }
    }
    // Others keep winning the counter: this guess waits its turn.
    Ok(Some(1))
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

/// A correct password resets the account's counters; the address keeps its count (one person's
/// success says nothing of the others behind it).
pub async fn record_success(db: &Db, keys: &ThrottleKeys) -> Result<(), StoreError> {
    for key in keys.counted() {
        if !is_address(key) {
            store::throttles::clear(db, key).await?;
        }
    }
    Ok(())
}

/// A wrong password: the account's counters counted it when its try was taken; the address
/// counts it now.
pub async fn record_wrong_password(
    db: &Db,
    settings: &ThrottleSettings,
    keys: &ThrottleKeys,
    now: i64,
) -> Result<(), StoreError> {
    let addresses: Vec<&str> = keys.delayed().into_iter().filter(|key| is_address(key)).collect();
    record_failure_for(db, settings, &addresses, now).await
}

fn is_address(key: &str) -> bool {
    key.starts_with("ip:")
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
