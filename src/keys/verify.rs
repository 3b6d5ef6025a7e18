//! Verifying tokens this tenant signed itself (an `id_token_hint` at logout). Only the tenant's
//! own published keys count; expiry is not checked here, as OIDC allows expired hints.

use super::{Alg, verify_with_jwk};
use crate::store::{self, Db, StoreError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The claims of a JWT signed by one of the tenant's published keys, else `None`.
pub async fn own_jwt_claims(
    db: &Db,
    tenant_id: &str,
    jwt: &str,
    now: i64,
) -> Result<Option<serde_json::Value>, StoreError> {
    let mut parts = jwt.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Ok(None);
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).ok();
    let Some(header_json) = decode(header).and_then(|h| serde_json::from_slice::<serde_json::Value>(&h).ok())
    else {
        return Ok(None);
    };
    let (Some(alg), Some(kid)) =
        (header_json["alg"].as_str().and_then(Alg::parse), header_json["kid"].as_str())
    else {
        return Ok(None);
    };
    let Some(signature) = decode(signature) else { return Ok(None) };
    let signed = format!("{header}.{payload}");
    for key in store::signing_keys::published(db, tenant_id, now).await? {
        // The key's own algorithm decides, never the token's header alone.
        if key.kid != kid || key.alg != alg.as_str() {
            continue;
        }
        let Ok(jwk) = serde_json::from_str::<serde_json::Value>(&key.public_jwk) else { continue };
        if verify_with_jwk(alg, &jwk, signed.as_bytes(), &signature) {
            return Ok(decode(payload).and_then(|p| serde_json::from_slice(&p).ok()));
        }
    }
    Ok(None)
}
