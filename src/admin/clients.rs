//! Relying-party clients: the registration request and its checks.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::{Actor, AdminError, MAX_PAGE, Page, check_revision, revision_of};
use crate::audit::{self, AuditEvent, Event};
use crate::crypto::{random_token, sha256_hex};
use crate::domain::{ClientId, RedirectUri};
use crate::keys::Alg;
use crate::state::AppState;
use crate::store::{self, clients::ClientSettings};
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
        return Err(AdminError::Invalid(
            "at least one redirect URI (--redirect-uri, redirect_uris) is required".into(),
        ));
    }
    let redirect_uris = parse_uris(&request.redirect_uris)?;
    let post_logout_redirect_uris = parse_uris(&request.post_logout_redirect_uris)?;
    check_scopes(&request.allowed_scopes, request.public)?;
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
        let Some(keys) = parsed["keys"].as_array().filter(|keys| !keys.is_empty()) else {
            return Err(AdminError::Invalid("the JWK Set has no keys".into()));
        };
        // A private or symmetric key would be a secret stored (and shown) in the clear.
        if keys.iter().any(|key| key.get("d").is_some() || key.get("k").is_some()) {
            return Err(AdminError::Invalid(
                "the JWK Set must hold public keys only (no \"d\" or \"k\")".into(),
            ));
        }
    }
    for uri in [&request.jwks_uri, &request.backchannel_logout_uri].into_iter().flatten() {
        check_server_url(uri)?;
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

fn parse_uris(uris: &[String]) -> Result<Vec<RedirectUri>, AdminError> {
    Ok(uris.iter().map(|uri| RedirectUri::parse(uri)).collect::<Result<Vec<_>, _>>()?)
}

/// The scopes a client may obtain with client_credentials. Admin API scopes (`admin.*`) are
/// ordinary entries of this list: a client has them only when they are given here, never by
/// default, and user tokens never carry them (the authorization endpoint keeps only the OpenID
/// scopes).
fn check_scopes(scopes: &[String], public: bool) -> Result<(), AdminError> {
    for scope in scopes {
        let valid = !scope.is_empty() && scope.chars().all(|c| c.is_ascii_graphic() && c != '"' && c != '\\');
        if !valid || matches!(scope.as_str(), "openid" | "offline_access") {
            return Err(AdminError::Invalid(format!("invalid client_credentials scope {scope:?}")));
        }
    }
    if public && !scopes.is_empty() {
        return Err(AdminError::Invalid(
            "public clients cannot use client_credentials (--scope, allowed_scopes)".into(),
        ));
    }
    Ok(())
}

fn check_server_url(uri: &str) -> Result<(), AdminError> {
    if is_server_url(uri) {
        Ok(())
    } else {
        Err(AdminError::Invalid(format!(
            "{uri:?} must be an https URL (http only on localhost or a loopback address)"
        )))
    }
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

/// How long the previous secret keeps working after a rotation: a day, to roll the new secret out
/// to every instance of the app.
pub const SECRET_GRACE_SECONDS: i64 = 24 * 3600;

/// A tenant's clients in `client_id` order, `limit` at a time, after the key `after`.
pub async fn list_clients(
    state: &AppState,
    tenant: &Tenant,
    after: Option<&str>,
    limit: u64,
) -> Result<Page<entity::client::Model>, AdminError> {
    let limit = limit.clamp(1, MAX_PAGE);
    let mut items = store::clients::list_page(&state.db, tenant.id(), after, limit + 1).await?;
    let next = if items.len() as u64 > limit {
        items.truncate(limit as usize);
        items.last().map(|c| c.client_id.clone())
    } else {
        None
    };
    Ok(Page { items, next })
}

pub async fn client(
    state: &AppState,
    tenant: &Tenant,
    client_id: &str,
) -> Result<entity::client::Model, AdminError> {
    store::clients::find(&state.db, tenant.id(), client_id).await?.ok_or(AdminError::NotFound("client"))
}

/// The revision of what a client's representation shows (never its secret).
pub fn client_revision(row: &entity::client::Model) -> String {
    revision_of(&(
        &row.client_id,
        &row.redirect_uris,
        &row.post_logout_redirect_uris,
        &row.allowed_scopes,
        row.refresh_without_offline_access,
        row.jwt_access_tokens,
        &row.backchannel_logout_uri,
        row.refresh_idle_seconds,
        row.refresh_absolute_seconds,
        row.is_public,
        row.first_party,
        (&row.id_token_signed_response_alg, row.previous_secret_expires_at),
    ))
}

/// What may change on a registered client; `None` keeps a setting.
#[derive(Default)]
pub struct ClientChange {
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub allowed_scopes: Option<Vec<String>>,
    pub refresh_without_offline_access: Option<bool>,
    pub jwt_access_tokens: Option<bool>,
    /// `Some(None)` removes it.
    pub backchannel_logout_uri: Option<Option<String>>,
    /// Refresh tokens end after this long unused (1 hour to 365 days).
    pub refresh_idle_seconds: Option<i64>,
    /// ... and this long after the sign-in at most (at least the idle time, at most 365 days).
    pub refresh_absolute_seconds: Option<i64>,
}

/// Changes a client's URIs, scopes and token settings with the same checks as at registration,
/// only while it is still at `expected` (an ETag) when one is given.
pub async fn update_client(
    state: &AppState,
    tenant: &Tenant,
    client_id: &str,
    change: ClientChange,
    expected: Option<&str>,
    actor: Actor<'_>,
) -> Result<entity::client::Model, AdminError> {
    let old = client(state, tenant, client_id).await?;
    check_revision(expected, &client_revision(&old))?;
    let current_uris: Vec<String> =
        store::clients::redirect_uris(&old)?.iter().map(|u| u.as_str().to_string()).collect();
    let current_logout: Vec<String> =
        store::clients::post_logout_redirect_uris(&old)?.iter().map(|u| u.as_str().to_string()).collect();
    let redirect_uris = change.redirect_uris.unwrap_or(current_uris);
    if redirect_uris.is_empty() {
        return Err(AdminError::Invalid("at least one redirect URI is required".into()));
    }
    let redirect_uris = parse_uris(&redirect_uris)?;
    let post_logout_redirect_uris = parse_uris(&change.post_logout_redirect_uris.unwrap_or(current_logout))?;
    let allowed_scopes = change.allowed_scopes.unwrap_or(store::clients::allowed_scopes(&old)?);
    check_scopes(&allowed_scopes, old.is_public)?;
    let backchannel_logout_uri = change.backchannel_logout_uri.unwrap_or(old.backchannel_logout_uri.clone());
    if let Some(uri) = &backchannel_logout_uri {
        check_server_url(uri)?;
    }
    let idle = change.refresh_idle_seconds.unwrap_or(old.refresh_idle_seconds);
    let absolute = change.refresh_absolute_seconds.unwrap_or(old.refresh_absolute_seconds);
    const YEAR: i64 = 365 * 86_400;
    if !(3600..=YEAR).contains(&idle) || !(idle..=YEAR).contains(&absolute) {
        return Err(AdminError::Invalid(
            "refresh_idle_seconds must be 3600 to 31536000, and refresh_absolute_seconds from it to 31536000"
                .into(),
        ));
    }
    let settings = ClientSettings {
        redirect_uris,
        post_logout_redirect_uris,
        allowed_scopes,
        refresh_without_offline_access: change
            .refresh_without_offline_access
            .unwrap_or(old.refresh_without_offline_access),
        jwt_access_tokens: change.jwt_access_tokens.unwrap_or(old.jwt_access_tokens),
        backchannel_logout_uri,
        refresh_idle_seconds: idle,
        refresh_absolute_seconds: absolute,
    };
    let now = state.now();
    let event = audit::row(
        AuditEvent {
            tenant_id: Some(tenant.id()),
            user_id: None,
            event: Event::ClientUpdated,
            detail: json!({ "client_id": old.client_id, "by": actor.label() }),
            ip: None,
        },
        now,
    );
    if !store::clients::update_settings(&state.db, &old, &settings, event).await? {
        return Err(AdminError::Stale);
    }
    state.client_memory.forget_all();
    client(state, tenant, client_id).await
}

/// Gives a confidential client a new secret, returned once; the old one keeps working for
/// `SECRET_GRACE_SECONDS` (a rotation during that time ends the older one at once).
pub async fn rotate_client_secret(
    state: &AppState,
    tenant: &Tenant,
    client_id: &str,
    actor: Actor<'_>,
) -> Result<(entity::client::Model, SecretString), AdminError> {
    let old = client(state, tenant, client_id).await?;
    let Some(old_hash) = old.secret_hash.clone() else {
        return Err(AdminError::Invalid("this client has no secret (public, or private_key_jwt)".into()));
    };
    let secret = SecretString::from(random_token(32));
    let now = state.now();
    let expires_at = now + SECRET_GRACE_SECONDS;
    let event = audit::row(
        AuditEvent {
            tenant_id: Some(tenant.id()),
            user_id: None,
            event: Event::ClientSecretRotated,
            detail: json!({ "client_id": old.client_id, "previous_valid_until": expires_at, "by": actor.label() }),
            ip: None,
        },
        now,
    );
    let new_hash = sha256_hex(secret.expose_secret());
    if !store::clients::rotate_secret(&state.db, &old.id, &old_hash, new_hash, expires_at, event).await? {
        return Err(AdminError::Stale);
    }
    state.client_memory.forget_all();
    Ok((client(state, tenant, client_id).await?, secret))
}

/// Deletes a client; its access and refresh tokens stop being active at once.
pub async fn delete_client(
    state: &AppState,
    tenant: &Tenant,
    client_id: &str,
    expected: Option<&str>,
    actor: Actor<'_>,
) -> Result<(), AdminError> {
    let old = client(state, tenant, client_id).await?;
    check_revision(expected, &client_revision(&old))?;
    let now = state.now();
    let event = audit::row(
        AuditEvent {
            tenant_id: Some(tenant.id()),
            user_id: None,
            event: Event::ClientDeleted,
            detail: json!({ "client_id": old.client_id, "by": actor.label() }),
            ip: None,
        },
        now,
    );
    if !store::clients::delete(
        &state.db,
        tenant.id(),
        &old.id,
        now,
        crate::oauth::revoked::tokens_live_until(state, now),
        event,
    )
    .await?
    {
        return Err(AdminError::NotFound("client"));
    }
    state.client_memory.forget_all();
    Ok(())
}
