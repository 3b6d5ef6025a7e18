//! PKCE (RFC 7636), S256 only: `plain` offers no protection against a leaked request.

use crate::crypto::{constant_time_eq, sha256_b64url};

/// RFC 7636 4.1: 43-128 characters of `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`.
pub fn is_valid_verifier_or_challenge(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'))
}

pub fn verify_s256(verifier: &str, challenge: &str) -> bool {
    is_valid_verifier_or_challenge(verifier)
        && constant_time_eq(&sha256_b64url(verifier.as_bytes()), challenge)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verify_s256(verifier, challenge));
        assert!(!verify_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX", challenge));
        assert!(!verify_s256("short", challenge));
    }
}
