//! Key generation through aws-lc-rs for RS256 (RSA-2048), ES256 (P-256) and EdDSA (Ed25519), with
//! the public half as a JWK whose kid is its RFC 7638 thumbprint.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use super::{Alg, SigningKeyError};
use crate::crypto::sha256_b64url;

pub struct GeneratedKey {
    pub kid: String,
    pub pkcs8_der: Vec<u8>,
    pub public_jwk: serde_json::Value,
}

pub fn generate(alg: Alg) -> Result<GeneratedKey, SigningKeyError> {
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    // RFC 7638: the required members in lexicographic order, no whitespace.
    let (der, thumbprint_input, mut jwk) = match alg {
        Alg::Rs256 => {
            let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| SigningKeyError::Generation)?;
            let der = pair.as_der().map_err(|_| SigningKeyError::Generation)?.as_ref().to_vec();
            let public = pair.public_key();
            let n = b64(public.modulus().big_endian_without_leading_zero());
            let e = b64(public.exponent().big_endian_without_leading_zero());
            let input = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
            (der, input, json!({ "kty": "RSA", "n": n, "e": e }))
        }
        Alg::Es256 => {
            let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                .map_err(|_| SigningKeyError::Generation)?;
            let der = pair.to_pkcs8v1().map_err(|_| SigningKeyError::Generation)?.as_ref().to_vec();
            // Uncompressed point: 0x04 || X (32 bytes) || Y (32 bytes).
            let point = pair.public_key().as_ref();
            if point.len() != 65 {
                return Err(SigningKeyError::Generation);
            }
            let (x, y) = (b64(&point[1..33]), b64(&point[33..65]));
            let input = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
            (der, input, json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y }))
        }
        Alg::EdDsa => {
            let pair = Ed25519KeyPair::generate().map_err(|_| SigningKeyError::Generation)?;
            let der = pair.to_pkcs8().map_err(|_| SigningKeyError::Generation)?.as_ref().to_vec();
            let x = b64(pair.public_key().as_ref());
            let input = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
            (der, input, json!({ "kty": "OKP", "crv": "Ed25519", "x": x }))
        }
    };
    let kid = sha256_b64url(thumbprint_input.as_bytes());
    jwk["kid"] = json!(kid);
    jwk["use"] = json!("sig");
    jwk["alg"] = json!(alg.as_str());
    Ok(GeneratedKey { kid, pkcs8_der: der, public_jwk: jwk })
}
