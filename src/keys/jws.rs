//! Compact JWS (RFC 7515) signing with a parsed, cached key.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair;
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use super::KeyError;

pub struct SigningKey {
    pub kid: String,
    key_pair: KeyPair,
    rng: SystemRandom,
}

impl SigningKey {
    pub fn from_pkcs8(kid: &str, der: &[u8]) -> Result<Self, KeyError> {
        let key_pair = KeyPair::from_pkcs8(der)
            .map_err(|_| KeyError::Unusable(kid.to_string(), "not an RSA PKCS#8 key"))?;
        Ok(Self { kid: kid.to_string(), key_pair, rng: SystemRandom::new() })
    }

    pub fn alg(&self) -> &'static str {
        "RS256"
    }

    /// `header.payload.signature` for a JWT with these claims.
    pub fn sign_jwt(&self, claims: &impl Serialize) -> Result<String, KeyError> {
        let header = serde_json::json!({ "alg": self.alg(), "typ": "JWT", "kid": self.kid });
        let header =
            serde_json::to_vec(&header).map_err(|_| KeyError::Unusable(self.kid.clone(), "header"))?;
        let payload =
            serde_json::to_vec(claims).map_err(|_| KeyError::Unusable(self.kid.clone(), "claims"))?;
        let mut token = String::with_capacity(1024);
        URL_SAFE_NO_PAD.encode_string(header, &mut token);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(payload, &mut token);
        let mut signature = vec![0u8; self.key_pair.public_modulus_len()];
        self.key_pair
            .sign(&RSA_PKCS1_SHA256, &self.rng, token.as_bytes(), &mut signature)
            .map_err(|_| KeyError::Unusable(self.kid.clone(), "signing failed"))?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut token);
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};

    use super::*;
    use crate::keys::rsa_key::generate;

    #[test]
    fn signed_jwt_verifies_with_the_published_jwk() {
        let generated = generate().unwrap();
        let key = SigningKey::from_pkcs8(&generated.kid, &generated.pkcs8_der).unwrap();
        let jwt = key.sign_jwt(&serde_json::json!({ "sub": "x" })).unwrap();
        let (signed, signature) = jwt.rsplit_once('.').unwrap();
        let n = URL_SAFE_NO_PAD.decode(generated.public_jwk["n"].as_str().unwrap()).unwrap();
        let e = URL_SAFE_NO_PAD.decode(generated.public_jwk["e"].as_str().unwrap()).unwrap();
        let public = RsaPublicKeyComponents { n: &n, e: &e };
        let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
        public.verify(&RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), &signature).unwrap();
        let mut tampered = signed.to_string();
        tampered.push('x');
        assert!(public.verify(&RSA_PKCS1_2048_8192_SHA256, tampered.as_bytes(), &signature).is_err());
    }
}
