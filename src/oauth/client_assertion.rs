//! private_key_jwt client authentication (RFC 7523, OIDC Core 9): a JWT the client signed with a
//! key from its registered JWK Set, addressed to us, short-lived, and used only once.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::crypto::sha256_hex;
use crate::error::OAuthError;
use crate::keys::{Alg, verify_with_jwk};
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Longest accepted assertion lifetime: they are made for one request.
const MAX_LIFETIME_SECONDS: i64 = 600;

fn refuse(why: &str) -> OAuthError {
    OAuthError::invalid_client(format!("client assertion refused: {why}"), false)
}

/// The unverified `iss` of an assertion, to find the client when no client_id was sent.
pub fn unverified_issuer(assertion: &str) -> Option<String> {
    let payload = assertion.split('.').nth(1)?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    claims["iss"].as_str().map(str::to_string)
}

/// The registered set, or the remembered one behind `jwks_uri` (see `client_jwks`).
async fn client_keys(
    state: &AppState,
    client: &entity::client::Model,
    kid: Option<&str>,
    now: i64,
) -> Result<Arc<Value>, OAuthError> {
    if let Some(jwks) = &client.jwks {
        let keys = serde_json::from_str(jwks).map_err(|_| refuse("the registered JWK Set is unreadable"))?;
        return Ok(Arc::new(keys));
    }
    let Some(uri) = &client.jwks_uri else { return Err(refuse("the client has no keys")) };
    state.client_jwks.keys(&state.http, &client.id, uri, kid, now).await.map_err(|e| refuse(&e.to_string()))
}

/// Everything that can be checked without the client's keys is checked first, so an assertion
/// that could never pass (not a JWT, an algorithm we do not accept, the wrong client or audience,
/// expired) costs no fetch of its `jwks_uri`. The `jti` is recorded last, only for a valid
/// signature, so a forgery cannot use up a genuine assertion's `jti`.
pub async fn verify(
    state: &AppState,
    tenant: &Tenant,
    client: &entity::client::Model,
    assertion: &str,
    now: i64,
) -> Result<(), OAuthError> {
    let mut parts = assertion.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(refuse("not a compact JWS"));
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).ok();
    let header_json: Value = decode(header)
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or_else(|| refuse("unreadable header"))?;
    let alg = header_json["alg"].as_str().and_then(Alg::parse).ok_or_else(|| refuse("unsupported alg"))?;
    let signature = decode(signature).ok_or_else(|| refuse("unreadable signature"))?;
    let claims: Value = decode(payload)
        .and_then(|p| serde_json::from_slice(&p).ok())
        .ok_or_else(|| refuse("unreadable claims"))?;
    if claims["iss"] != client.client_id.as_str() || claims["sub"] != client.client_id.as_str() {
        return Err(refuse("iss and sub must be the client_id"));
    }
    let token_endpoint = tenant.url("/token");
    let audience_ok = match &claims["aud"] {
        Value::String(aud) => aud == &token_endpoint || aud == &tenant.issuer,
        Value::Array(auds) => {
            auds.iter().any(|a| a == token_endpoint.as_str() || a == tenant.issuer.as_str())
        }
        _ => false,
    };
    if !audience_ok {
        return Err(refuse("aud must be the token endpoint or the issuer"));
    }
    let exp = claims["exp"].as_i64().ok_or_else(|| refuse("exp is required"))?;
    if exp <= now || exp > now + MAX_LIFETIME_SECONDS {
        return Err(refuse("expired, or valid for too long"));
    }
    let jti = claims["jti"].as_str().filter(|j| !j.is_empty()).ok_or_else(|| refuse("jti is required"))?;

    let kid = header_json["kid"].as_str();
    let keys = client_keys(state, client, kid, now).await?;
    let signed = format!("{header}.{payload}");
    let verified = keys["keys"].as_array().into_iter().flatten().any(|key| {
        let kid_matches = kid.is_none_or(|kid| key["kid"].as_str().is_none_or(|k| k == kid));
        let alg_matches = key["alg"].as_str().is_none_or(|a| a == alg.as_str());
        kid_matches && alg_matches && verify_with_jwk(alg, key, signed.as_bytes(), &signature)
    });
    if !verified {
        return Err(refuse("the signature does not match a registered key"));
    }
    let used_id = sha256_hex(&format!("{}\0{jti}", client.id));
    if !store::client_assertions::record_once(&state.db, &used_id, exp).await.map_err(OAuthError::internal)? {
        return Err(refuse("this assertion was already used"));
    }
    Ok(())
}
