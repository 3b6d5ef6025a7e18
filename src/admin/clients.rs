//! Relying-party clients: the registration request and its checks.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::AdminError;
use crate::audit::{self, AuditEvent, Event};
use crate::crypto::{random_token, sha256_hex};
use crate::domain::{ClientId, RedirectUri};
use crate::keys::Alg;
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

pub struct NewClientRequest {
    pub client_id: String,
    pub redirect_uris: Vec<String>,
    pub public: bool,
    pub first_party: bool,
    /// A chosen secret (demo only); `None` generates one for confidential clients.
    pub secret: Option<SecretString>,
    /// Where RP-initiated logout may send the browser afterwards.
    pub post_logout_redirect_uris: Vec<String>,
    /// Scopes the client may ask for with client_credentials.
    pub allowed_scopes: Vec<String>,
    /// Issue refresh tokens without `offline_access` (they then end with the session).
    pub refresh_without_offline_access: bool,
    /// `RS256` (default), `ES256` or `EdDSA`.
    pub id_token_alg: Option<String>,
    /// A JWK Set (JSON) for private_key_jwt client authentication, instead of a secret.
    pub jwks: Option<String>,
    /// Or the URL of that JWK Set.
    pub jwks_uri: Option<String>,
    /// Where to POST back-channel logout tokens.
    pub backchannel_logout_uri: Option<String>,
    /// RFC 9068 JWT access tokens instead of opaque ones.
    pub jwt_access_tokens: bool,
    /// May introspect the access tokens of every client of the tenant (an API), not only its own.
    pub resource_server: bool,
}

impl NewClientRequest {
    /// A client with the given id and redirect URIs and every other setting at its default.
    pub fn new(client_id: &str, redirect_uris: &[&str]) -> Self {
        Self {
            client_id: client_id.to_string(),
            redirect_uris: redirect_uris.iter().map(|u| u.to_string()).collect(),
            public: false,
            first_party: false,
            secret: None,
            post_logout_redirect_uris: Vec::new(),
            allowed_scopes: Vec::new(),
            refresh_without_offline_access: false,
            id_token_alg: None,
            jwks: None,
            jwks_uri: None,
            backchannel_logout_uri: None,
            jwt_access_tokens: false,
            resource_server: false,
        }
    }
}

/// Registers a client. Returns the row and, for confidential clients, the secret: the only time
/// it is ever shown, since only its hash is stored.
pub async fn create_client(
    state: &AppState,
    tenant: &Tenant,
    request: NewClientRequest,
) -> Result<(entity::client::Model, Option<SecretString>), AdminError> {
    let client_id = ClientId::parse(&request.client_id)?;
    if request.redirect_uris.is_empty() {
        return Err(AdminError::Invalid("at least one --redirect-uri is required".into()));
    }
    let redirect_uris =
        request.redirect_uris.iter().map(|uri| RedirectUri::parse(uri)).collect::<Result<Vec<_>, _>>()?;
    let post_logout_redirect_uris = request
        .post_logout_redirect_uris
        .iter()
        .map(|uri| RedirectUri::parse(uri))
        .collect::<Result<Vec<_>, _>>()?;
    for scope in &request.allowed_scopes {
        let valid = !scope.is_empty() && scope.chars().all(|c| c.is_ascii_graphic() && c != '"' && c != '\\');
        if !valid || matches!(scope.as_str(), "openid" | "offline_access") {
            return Err(AdminError::Invalid(format!("invalid client_credentials scope {scope:?}")));
        }
    }
    if request.public && !request.allowed_scopes.is_empty() {
        return Err(AdminError::Invalid("public clients cannot use client_credentials (--scope)".into()));
    }
    let id_token_alg = match request.id_token_alg.as_deref() {
        None => Alg::Rs256,
        Some(value) => Alg::parse(value).ok_or_else(|| {
            AdminError::Invalid(format!(
                "unsupported ID token algorithm {value:?}: use RS256, ES256 or EdDSA"
            ))
        })?,
    };
    let key_auth = request.jwks.is_some() || request.jwks_uri.is_some();
    if key_auth && (request.public || request.secret.is_some()) {
        return Err(AdminError::Invalid(
            "a client with keys (--jwks-file/--jwks-uri) is confidential and has no secret".into(),
        ));
    }
    if request.public && request.resource_server {
        return Err(AdminError::Invalid(
            "a resource server (--resource-server) is a confidential client".into(),
        ));
    }
    if request.jwks.is_some() && request.jwks_uri.is_some() {
        return Err(AdminError::Invalid("give either --jwks-file or --jwks-uri, not both".into()));
    }
    if let Some(jwks) = &request.jwks {
        let parsed: serde_json::Value = serde_json::from_str(jwks)
            .map_err(|e| AdminError::Invalid(format!("the JWK Set is not JSON: {e}")))?;
        if parsed["keys"].as_array().is_none_or(|keys| keys.is_empty()) {
            return Err(AdminError::Invalid("the JWK Set has no keys".into()));
        }
    }
    for uri in [&request.jwks_uri, &request.backchannel_logout_uri].into_iter().flatten() {
        if !is_server_url(uri) {
            return Err(AdminError::Invalid(format!(
                "{uri:?} must be an https URL (http only on localhost or a loopback address)"
            )));
        }
    }
    let secret = match (request.public || key_auth, request.secret) {
        (true, Some(_)) => return Err(AdminError::Invalid("public clients have no secret".into())),
        (true, None) => None,
        (false, Some(secret)) => Some(secret),
        (false, None) => Some(SecretString::from(random_token(32))),
    };
    let now = state.now();
    let row = store::clients::insert(
        &state.db,
        store::clients::NewClient {
            tenant_id: tenant.id(),
            client_id: &client_id,
            secret_hash: secret.as_ref().map(|s| sha256_hex(s.expose_secret())),
            is_public: request.public,
            first_party: request.first_party,
            redirect_uris: &redirect_uris,
            post_logout_redirect_uris: &post_logout_redirect_uris,
            allowed_scopes: request.allowed_scopes.clone(),
            refresh_without_offline_access: request.refresh_without_offline_access,
            id_token_alg: id_token_alg.as_str(),
            token_endpoint_auth_method: if key_auth { "private_key_jwt" } else { "" },
            jwks: request.jwks.clone(),
            jwks_uri: request.jwks_uri.clone(),
            backchannel_logout_uri: request.backchannel_logout_uri.clone(),
            jwt_access_tokens: request.jwt_access_tokens,
            resource_server: request.resource_server,
        },
        now,
    )
    .await?;
    audit::record(
        &state.db,
        AuditEvent {
            tenant_id: Some(tenant.id()),
            user_id: None,
            event: Event::ClientCreated,
            detail: json!({ "client_id": row.client_id, "public": row.is_public, "first_party": row.first_party }),
            ip: None,
        },
        now,
    )
    .await?;
    Ok((row, secret))
}

/// A URL tessera itself calls (a client's JWK Set, its back-channel logout): https, or http to
/// this machine, where nothing travels over a network (development and tests).
fn is_server_url(uri: &str) -> bool {
    let Ok(url) = url::Url::parse(uri) else { return false };
    if url.fragment().is_some() {
        return false;
    }
    match (url.scheme(), url.host()) {
        ("https", Some(_)) => true,
        ("http", Some(url::Host::Domain(host))) => host == "localhost",
        ("http", Some(url::Host::Ipv4(ip))) => ip.is_loopback(),
        ("http", Some(url::Host::Ipv6(ip))) => ip.is_loopback(),
        _ => false,
    }
}
