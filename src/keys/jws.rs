//! Compact JWS (RFC 7515) signing with a parsed, cached key, and verification of our own tokens.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair as RsaKeyPair;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, ED25519, EcdsaKeyPair, Ed25519KeyPair,
    RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaPublicKeyComponents, UnparsedPublicKey,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use super::{Alg, SigningKeyError};

enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

pub struct SigningKey {
    pub kid: String,
    pair: Pair,
    rng: SystemRandom,
}

impl SigningKey {
    pub fn from_pkcs8(kid: &str, alg: Alg, der: &[u8]) -> Result<Self, SigningKeyError> {
        let unusable = |_| SigningKeyError::Unusable(kid.to_string(), "not a PKCS#8 key of its algorithm");
        let pair = match alg {
            Alg::Rs256 => Pair::Rsa(RsaKeyPair::from_pkcs8(der).map_err(unusable)?),
            Alg::Es256 => {
                Pair::Ec(EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der).map_err(unusable)?)
            }
            Alg::EdDsa => Pair::Ed(Ed25519KeyPair::from_pkcs8(der).map_err(unusable)?),
        };
        Ok(Self { kid: kid.to_string(), pair, rng: SystemRandom::new() })
    }

    pub fn alg(&self) -> Alg {
        match self.pair {
            Pair::Rsa(_) => Alg::Rs256,
            Pair::Ec(_) => Alg::Es256,
            Pair::Ed(_) => Alg::EdDsa,
        }
    }

    /// `header.payload.signature` for a JWT with these claims.
    pub fn sign_jwt(&self, claims: &impl Serialize) -> Result<String, SigningKeyError> {
        let header = serde_json::json!({ "alg": self.alg().as_str(), "typ": "JWT", "kid": self.kid });
        self.sign_jws(&header, claims)
    }

    /// A compact JWS with the given header (which must name this key's `alg` and `kid`).
    pub fn sign_jws(
        &self,
        header: &serde_json::Value,
        claims: &impl Serialize,
    ) -> Result<String, SigningKeyError> {
        let fail = |what| SigningKeyError::Unusable(self.kid.clone(), what);
        let header = serde_json::to_vec(header).map_err(|_| fail("header"))?;
        let payload = serde_json::to_vec(claims).map_err(|_| fail("claims"))?;
        let mut token = String::with_capacity(1024);
        URL_SAFE_NO_PAD.encode_string(header, &mut token);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(payload, &mut token);
        let signature = match &self.pair {
            Pair::Rsa(pair) => {
                let mut signature = vec![0u8; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &self.rng, token.as_bytes(), &mut signature)
                    .map_err(|_| fail("signing failed"))?;
                signature
            }
            Pair::Ec(pair) => {
                pair.sign(&self.rng, token.as_bytes()).map_err(|_| fail("signing failed"))?.as_ref().to_vec()
            }
            Pair::Ed(pair) => pair.sign(token.as_bytes()).as_ref().to_vec(),
        };
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut token);
        Ok(token)
    }
}

/// Checks a JWS signature against a public JWK of the given algorithm.
pub fn verify_with_jwk(alg: Alg, jwk: &serde_json::Value, signed: &[u8], signature: &[u8]) -> bool {
    let member = |name: &str| jwk[name].as_str().and_then(|v| URL_SAFE_NO_PAD.decode(v).ok());
    match alg {
        Alg::Rs256 => match (member("n"), member("e")) {
            (Some(n), Some(e)) => RsaPublicKeyComponents { n: &n, e: &e }
                .verify(&RSA_PKCS1_2048_8192_SHA256, signed, signature)
                .is_ok(),
            _ => false,
        },
        Alg::Es256 => match (member("x"), member("y")) {
            (Some(x), Some(y)) if x.len() == 32 && y.len() == 32 => {
                let mut point = vec![4u8];
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).verify(signed, signature).is_ok()
            }
            _ => false,
        },
        Alg::EdDsa => match member("x") {
            Some(x) => UnparsedPublicKey::new(&ED25519, x).verify(signed, signature).is_ok(),
            None => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::generate::generate;

    #[test]
    fn every_algorithm_signs_what_its_jwk_verifies() {
        for alg in [Alg::Rs256, Alg::Es256, Alg::EdDsa] {
            let generated = generate(alg).unwrap();
            let key = SigningKey::from_pkcs8(&generated.kid, alg, &generated.pkcs8_der).unwrap();
            let jwt = key.sign_jwt(&serde_json::json!({ "sub": "x" })).unwrap();
            let (signed, signature) = jwt.rsplit_once('.').unwrap();
            let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
            assert!(verify_with_jwk(alg, &generated.public_jwk, signed.as_bytes(), &signature), "{alg:?}");
            let tampered = format!("{signed}x");
            assert!(!verify_with_jwk(alg, &generated.public_jwk, tampered.as_bytes(), &signature), "{alg:?}");
            assert_eq!(generated.public_jwk["alg"], alg.as_str());
            assert!(generated.public_jwk.get("d").is_none());
        }
    }

    #[test]
    fn a_key_does_not_load_as_another_algorithm() {
        let generated = generate(Alg::Es256).unwrap();
        assert!(SigningKey::from_pkcs8(&generated.kid, Alg::Rs256, &generated.pkcs8_der).is_err());
    }
}
