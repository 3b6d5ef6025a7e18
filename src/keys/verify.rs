//! Verifying tokens this tenant signed itself (an `id_token_hint` at logout). Only the tenant's
//! own published keys count; expiry is not checked here, as OIDC allows expired hints.

use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::ConnectionTrait;

use crate::store::{self, StoreError};

/// The claims of a JWT signed by one of the tenant's published RS256 keys, else `None`.
pub async fn own_jwt_claims(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    jwt: &str,
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
    if header_json["alg"] != "RS256" {
        return Ok(None);
    }
    let Some(kid) = header_json["kid"].as_str() else { return Ok(None) };
    let Some(signature) = decode(signature) else { return Ok(None) };
    for key in store::signing_keys::published(db, tenant_id).await? {
        if key.kid != kid {
            continue;
        }
        let Ok(jwk) = serde_json::from_str::<serde_json::Value>(&key.public_jwk) else { continue };
        let (Some(n), Some(e)) = (jwk["n"].as_str().and_then(decode), jwk["e"].as_str().and_then(decode))
        else {
            continue;
        };
        let public = RsaPublicKeyComponents { n: &n, e: &e };
        let signed = format!("{header}.{payload}");
        if public.verify(&RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), &signature).is_ok() {
            return Ok(decode(payload).and_then(|p| serde_json::from_slice(&p).ok()));
        }
    }
    Ok(None)
}
