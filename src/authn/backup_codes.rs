//! Backup codes: 10 per set, 50 bits each from the OS CSPRNG, written `k7m2q-x9p4r` in an
//! alphabet without look-alikes. Stored as HMAC-SHA-256 under a pepper derived from the master
//! key: a leaked database alone does not allow brute-forcing the 50-bit codes offline.

use hmac::{Hmac, Mac};
use rand::Rng;
use rand::rngs::OsRng;
use sha2::Sha256;

pub const CODES_PER_SET: usize = 10;
/// At or below this many left, the pages urge a new set.
pub const LOW_WATERMARK: u64 = 2;
/// 32 symbols (5 bits each), without 0/o, 1/l/i and u.
const ALPHABET: &[u8; 32] = b"abcdefghjkmnpqrstvwxyz0123456789";
const SYMBOLS: usize = 10;

/// A fresh set of codes, formatted for reading.
pub fn generate_set() -> Vec<String> {
    (0..CODES_PER_SET)
        .map(|_| {
            let symbols: String =
                (0..SYMBOLS).map(|_| ALPHABET[OsRng.gen_range(0..ALPHABET.len())] as char).collect();
            format!("{}-{}", &symbols[..5], &symbols[5..])
        })
        .collect()
}

/// What a person typed, reduced to the code's symbols: case, spaces and dashes do not matter,
/// and the look-alikes we left out are read as the symbols they resemble.
pub fn normalize(input: &str) -> Option<String> {
    let symbols: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_lowercase() {
            'o' => '0',
            'l' | 'i' => '1',
            other => other,
        })
        .collect();
    (symbols.len() == SYMBOLS && symbols.bytes().all(|b| ALPHABET.contains(&b))).then_some(symbols)
}

/// The stored form of a code: HMAC(pepper, user_id || code), hex.
pub fn hash(pepper: &[u8], user_id: &str, normalized: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(pepper) {
        Ok(mac) => mac,
        // HMAC accepts keys of any length; this arm only satisfies the type.
        Err(_) => return String::new(),
    };
    mac.update(user_id.as_bytes());
    mac.update(b"\0");
    mac.update(normalized.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_are_ten_distinct_readable_codes() {
        let set = generate_set();
        assert_eq!(set.len(), 10);
        for code in &set {
            assert_eq!(code.len(), 11);
            assert_eq!(&code[5..6], "-");
            assert!(normalize(code).is_some(), "{code}");
        }
        let mut unique = set.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 10);
        // 10 symbols of 5 bits: 50 bits of entropy per code.
        assert_eq!(SYMBOLS * 5, 50);
    }

    #[test]
    fn normalization_forgives_case_spaces_and_look_alikes() {
        assert_eq!(normalize(" K7M2Q-X9P4R ").as_deref(), Some("k7m2qx9p4r"));
        assert_eq!(normalize("k7m2q x9p4r").as_deref(), Some("k7m2qx9p4r"));
        assert_eq!(normalize("abcdo-1111l").as_deref(), Some("abcd011111"));
        assert_eq!(normalize("short"), None);
        assert_eq!(normalize("k7m2q-x9p4u"), None, "u is not in the alphabet");
    }

    #[test]
    fn hash_depends_on_pepper_and_user() {
        let a = hash(b"pepper", "user-1", "k7m2qx9p4r");
        assert_eq!(a, hash(b"pepper", "user-1", "k7m2qx9p4r"));
        assert_ne!(a, hash(b"other", "user-1", "k7m2qx9p4r"));
        assert_ne!(a, hash(b"pepper", "user-2", "k7m2qx9p4r"));
    }
}
