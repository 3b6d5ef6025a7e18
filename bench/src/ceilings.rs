//! This machine's ceilings, measured with the libraries and parameters tessera uses: Argon2id
//! hashes, JWS signatures with a key parsed once, and a trivial axum endpoint's requests.

use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, RSA_PKCS1_SHA256};

use crate::Fallible;

/// tessera's parameters (src/authn/password.rs): OWASP's Argon2id m=19456 KiB, t=2, p=1.
pub fn argon2() -> Fallible<Argon2<'static>> {
    let params = Params::new(19_456, 2, 1, None).map_err(|e| e.to_string())?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// A PHC string of `password` made exactly as tessera makes one.
pub fn hash_password(password: &str) -> Fallible<String> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(argon2()?.hash_password(password.as_bytes(), &salt).map_err(|e| e.to_string())?.to_string())
}

/// Argon2id hashes per second on this thread (one core).
pub fn argon2_per_second(duration: Duration) -> Fallible<f64> {
    let argon = argon2()?;
    per_second(duration, || {
        let salt = SaltString::generate(&mut OsRng);
        argon.hash_password(b"correct horse battery staple", &salt).map(|_| ()).map_err(|e| e.to_string())
    })
}

/// An ID token's signing input of typical size (header and claims, base64url).
fn signing_input() -> Vec<u8> {
    vec![b'e'; 620]
}

/// RS256 signatures per second with an RSA-2048 key parsed once (src/keys/generate.rs sizes).
pub fn rs256_per_second(duration: Duration) -> Fallible<f64> {
    let generated = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|e| e.to_string())?;
    let der = generated.as_der().map_err(|e| e.to_string())?;
    let pair = RsaKeyPair::from_pkcs8(der.as_ref()).map_err(|e| e.to_string())?;
    let rng = SystemRandom::new();
    let input = signing_input();
    let mut signature = vec![0u8; pair.public_modulus_len()];
    per_second(duration, || {
        pair.sign(&RSA_PKCS1_SHA256, &rng, &input, &mut signature).map_err(|e| e.to_string())
    })
}

/// ES256 signatures per second with a P-256 key parsed once.
pub fn es256_per_second(duration: Duration) -> Fallible<f64> {
    let generated = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(|e| e.to_string())?;
    let der = generated.to_pkcs8v1().map_err(|e| e.to_string())?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der.as_ref())
        .map_err(|e| e.to_string())?;
    let rng = SystemRandom::new();
    let input = signing_input();
    per_second(duration, || pair.sign(&rng, &input).map(|_| ()).map_err(|e| e.to_string()))
}

/// EdDSA (Ed25519) signatures per second with a key parsed once.
pub fn eddsa_per_second(duration: Duration) -> Fallible<f64> {
    let generated = Ed25519KeyPair::generate().map_err(|e| e.to_string())?;
    let der = generated.to_pkcs8().map_err(|e| e.to_string())?;
    let pair = Ed25519KeyPair::from_pkcs8(der.as_ref()).map_err(|e| e.to_string())?;
    let input = signing_input();
    per_second(duration, || {
        std::hint::black_box(pair.sign(&input));
        Ok(())
    })
}

fn per_second(duration: Duration, mut work: impl FnMut() -> Fallible<()>) -> Fallible<f64> {
    work()?; // warm up
    let start = Instant::now();
    let mut count = 0u64;
    while count < 3 || start.elapsed() < duration {
        work()?;
        count += 1;
    }
    Ok(count as f64 / start.elapsed().as_secs_f64())
}

/// The trivial endpoint: axum on tokio's multi-threaded runtime (as tessera), a short static body.
pub fn serve_trivial(listen: std::net::SocketAddr) -> Fallible<()> {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
        let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| e.to_string())?;
        axum::serve(listener, app).await.map_err(|e| e.to_string())
    })
}
