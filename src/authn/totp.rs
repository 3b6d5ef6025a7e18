//! Authenticator apps (RFC 6238): SHA-1, 6 digits, 30-second steps. A code is accepted for the
//! current step and the one before it (one minute in total), never for a future step, and each
//! step works once: the step is recorded with a conditional UPDATE (see `store::totp_credentials`).

use data_encoding::BASE32_NOPAD;
use rand::RngCore;
use rand::rngs::OsRng;
use secrecy::{ExposeSecret, SecretBox};
use totp_rs::{Builder, Secret};

use crate::crypto::constant_time_eq;

pub const STEP_SECONDS: i64 = 30;
pub const DIGITS: usize = 6;
/// 160 bits, the HMAC-SHA-1 block-size recommendation of RFC 4226 section 4.
const SEED_BYTES: usize = 20;

pub type Seed = SecretBox<Vec<u8>>;

pub fn generate_seed() -> Seed {
    let mut bytes = vec![0u8; SEED_BYTES];
    OsRng.fill_bytes(&mut bytes);
    SecretBox::new(Box::new(bytes))
}

/// The seed as the base32 "setup key" people type into an app, in groups of four.
pub fn setup_key(seed: &Seed) -> String {
    let encoded = BASE32_NOPAD.encode(seed.expose_secret());
    encoded
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `otpauth://totp/Issuer:account?secret=...&issuer=...` (Google Authenticator key URI format).
pub fn otpauth_uri(seed: &Seed, issuer: &str, account: &str) -> String {
    let encode =
        |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20");
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period=30",
        encode(issuer),
        encode(account),
        BASE32_NOPAD.encode(seed.expose_secret()),
        encode(issuer)
    )
}

/// The code for the step that contains `unix_seconds`.
pub fn code_at(seed: &Seed, unix_seconds: i64) -> Option<String> {
    let totp = Builder::new()
        .with_secret(Secret::new(seed.expose_secret().clone().into_boxed_slice()))
        .build()
        .ok()?;
    Some(totp.generate(u64::try_from(unix_seconds).ok()?).to_string())
}

/// The time step a code matches: the current one or the one before it.
pub fn matching_step(seed: &Seed, code: &str, now: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let current = now.div_euclid(STEP_SECONDS);
    // Both candidates are always computed, so timing does not tell which one matched.
    let mut matched = None;
    for step in [current, current - 1] {
        if let Some(expected) = code_at(seed, step * STEP_SECONDS)
            && constant_time_eq(&expected, &code)
            && matched.is_none()
        {
            matched = Some(step);
        }
    }
    matched
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc_seed() -> Seed {
        SecretBox::new(Box::new(b"12345678901234567890".to_vec()))
    }

    #[test]
    fn rfc6238_appendix_b_sha1_vectors() {
        // RFC 6238 Appendix B (SHA-1), last six digits of the eight-digit values.
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(code_at(&rfc_seed(), time).unwrap(), code, "t={time}");
        }
    }

    #[test]
    fn current_and_previous_step_only() {
        let seed = generate_seed();
        let now = 1_700_000_015;
        let step = now / STEP_SECONDS;
        let code = |s: i64| code_at(&seed, s * STEP_SECONDS).unwrap();
        assert_eq!(matching_step(&seed, &code(step), now), Some(step));
        assert_eq!(matching_step(&seed, &code(step - 1), now), Some(step - 1));
        assert_eq!(matching_step(&seed, &code(step - 2), now), None);
        assert_eq!(matching_step(&seed, &code(step + 1), now), None);
        assert_eq!(matching_step(&seed, "12345", now), None);
        assert_eq!(matching_step(&seed, "abcdef", now), None);
        let spaced = format!("{} {}", &code(step)[..3], &code(step)[3..]);
        assert_eq!(matching_step(&seed, &spaced, now), Some(step), "spaces are ignored");
    }

    #[test]
    fn setup_key_and_uri() {
        let seed = rfc_seed();
        assert_eq!(setup_key(&seed), "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ");
        let uri = otpauth_uri(&seed, "Kliniek West: Zorg", "a@b.example");
        assert!(
            uri.starts_with("otpauth://totp/Kliniek%20West%3A%20Zorg:a%40b.example?secret=GEZDGNBVGY3TQOJQ")
        );
        assert!(uri.contains("&issuer=Kliniek%20West%3A%20Zorg"));
    }
}
