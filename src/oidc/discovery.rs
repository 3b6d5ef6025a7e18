//! The discovery document (OpenID Connect Discovery 1.0 section 3): exactly what is supported.

use std::collections::HashMap;
use std::sync::RwLock;

use axum::body::Bytes;
use serde_json::{Value, json};

use crate::domain::auth_context::ACR_ORDER;
use crate::oauth::KNOWN_SCOPES;
use crate::tenants::Tenant;

pub fn document(tenant: &Tenant) -> Value {
    json!({
        "issuer": tenant.issuer,
        "authorization_endpoint": tenant.url("/authorize"),
        "token_endpoint": tenant.url("/token"),
        "userinfo_endpoint": tenant.url("/userinfo"),
        "revocation_endpoint": tenant.url("/revoke"),
        "introspection_endpoint": tenant.url("/introspect"),
        "end_session_endpoint": tenant.url("/logout"),
        "jwks_uri": tenant.url("/jwks.json"),
        "scopes_supported": KNOWN_SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": ACR_ORDER,
        "claims_supported": [
            "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr", "acr", "sid", "azp", "at_hash",
            "name", "email", "email_verified", "phone_number", "phone_number_verified"
        ],
        "prompt_values_supported": ["none", "login", "consent"],
        "ui_locales_supported": crate::views::i18n::SUPPORTED,
        // Only an essential `acr` of the `claims` parameter is honoured (a minimum, as
        // `acr_values`); other requested claims would be ignored, so the parameter is not offered.
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
    })
}

/// Discovery documents of tenants served under `/t/{slug}`, serialised once. Such a document
/// depends only on the slug and the settings, and tenants are never deleted, so an entry never
/// goes stale (tenants on a host of their own are not kept: the host can change). Keys are slugs
/// that exist, so the map is as large as the tenant table.
#[derive(Default)]
pub struct Documents(RwLock<HashMap<String, Bytes>>);

impl Documents {
    pub fn get(&self, slug: &str) -> Option<Bytes> {
        self.0.read().ok().and_then(|documents| documents.get(slug).cloned())
    }

    pub fn keep(&self, slug: &str, document: Bytes) {
        if let Ok(mut documents) = self.0.write() {
            documents.insert(slug.to_string(), document);
        }
    }
}
