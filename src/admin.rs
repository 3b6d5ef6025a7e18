//! Administration services behind the CLI (and the demo seeding): tenants, clients, users.
//! Input arrives as strings and is parsed here, so every caller gets the same checks.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::audit::{self, AuditEvent, Event};
use crate::authn::password::PasswordError;
use crate::crypto::{random_token, sha256_hex};
use crate::domain::{ClientId, Email, RedirectUri, TenantSlug};
use crate::keys::{Alg, KeyError};
use crate::state::AppState;
use crate::store::{self, StoreError};
use crate::tenants::{self, Tenant};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error("unknown tenant {0:?}")]
    UnknownTenant(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error(transparent)]
    Password(#[from] PasswordError),
}

impl From<crate::domain::ParseError> for AdminError {
    fn from(err: crate::domain::ParseError) -> Self {
        Self::Invalid(err.0)
    }
}

pub async fn tenant(state: &AppState, slug: &str) -> Result<Tenant, AdminError> {
    tenants::find(state, slug).await?.ok_or_else(|| AdminError::UnknownTenant(slug.to_string()))
}

/// Creates a tenant and its first signing key.
pub async fn create_tenant(state: &AppState, slug: &str, display_name: &str) -> Result<Tenant, AdminError> {
    let slug = TenantSlug::parse(slug)?;
    let display_name = display_name.trim();
    if display_name.is_empty() || display_name.chars().count() > 100 {
        return Err(AdminError::Invalid("the tenant name must be 1-100 characters".into()));
    }
    let now = state.now();
    let row = store::tenants::insert(&state.db, slug.as_str(), display_name, now).await?;
    // One key per algorithm from the start, so the first JWKS a client caches has them all.
    for alg in Alg::ALL {
        state.keys.create(&state.db, &row.id, alg, now, now).await?;
    }
    audit::record(
        &state.db,
        AuditEvent {
            tenant_id: Some(&row.id),
            user_id: None,
            event: Event::TenantCreated,
            detail: json!({ "slug": row.slug }),
            ip: None,
        },
        now,
    )
    .await?;
    self::tenant(state, &row.slug).await
}

/// Sets `require_2fa` and/or `trusted_device_days` (0-365; 0 turns trusted devices off).
pub async fn update_tenant_policy(
    state: &AppState,
    tenant: &Tenant,
    require_2fa: Option<bool>,
    trusted_device_days: Option<i32>,
) -> Result<Tenant, AdminError> {
    if require_2fa.is_none() && trusted_device_days.is_none() {
        return Err(AdminError::Invalid(
            "nothing to update: give --require-2fa and/or --trusted-device-days".into(),
        ));
    }
    if let Some(days) = trusted_device_days
        && !(0..=365).contains(&days)
    {
        return Err(AdminError::Invalid("--trusted-device-days must be between 0 and 365".into()));
    }
    store::tenants::update_policy(&state.db, tenant.id(), require_2fa, trusted_device_days).await?;
    state.tenant_memory.forget_all();
    let now = state.now();
    audit::record(
        &state.db,
        AuditEvent {
            tenant_id: Some(tenant.id()),
            user_id: None,
            event: Event::TenantPolicyChanged,
            detail: json!({ "require_2fa": require_2fa, "trusted_device_days": trusted_device_days }),
            ip: None,
        },
        now,
    )
    .await?;
    self::tenant(state, tenant.slug()).await
}

/// `tessera key rotate`: a new key for `alg`, signing after the configured overlap.
pub async fn rotate_key(
    state: &AppState,
    tenant: &Tenant,
    alg: &str,
) -> Result<entity::signing_key::Model, AdminError> {
    let alg = Alg::parse(alg).ok_or_else(|| {
        AdminError::Invalid(format!("unsupported algorithm {alg:?}: use RS256, ES256 or EdDSA"))
    })?;
    let now = state.now();
    let overlap = state.settings.keys.rotation_overlap_seconds;
    let longest = state.settings.tokens.id_token_seconds;
    let row = state.keys.rotate(&state.db, tenant.id(), alg, now, overlap, longest).await?;
    audit::record(
        &state.db,
        AuditEvent {
            tenant_id: Some(tenant.id()),
            user_id: None,
            event: Event::KeyRotated,
            detail: json!({ "kid": row.kid, "alg": row.alg, "activates_at": row.activates_at }),
            ip: None,
        },
        now,
    )
    .await?;
    Ok(row)
}

/// The tenant's text-message policy (`tessera tenant update --sms-*`).
#[derive(Default)]
pub struct SmsPolicy {
    pub region: Option<String>,
    pub countries: Option<String>,
    pub daily_cap: Option<i32>,
    pub code_minutes: Option<i64>,
}

pub async fn update_sms_policy(
    state: &AppState,
    tenant: &Tenant,
    policy: SmsPolicy,
) -> Result<Tenant, AdminError> {
    let region_ok = |r: &str| r.len() == 2 && r.chars().all(|c| c.is_ascii_alphabetic());
    let region = policy.region.map(|r| r.trim().to_ascii_uppercase());
    if region.as_deref().is_some_and(|r| !region_ok(r)) {
        return Err(AdminError::Invalid("--sms-region must be a two-letter region code such as NL".into()));
    }
    let countries = policy.countries.map(|c| {
        c.split(',')
            .map(|x| x.trim().to_ascii_uppercase())
            .filter(|x| !x.is_empty())
            .collect::<Vec<_>>()
            .join(",")
    });
    if countries.as_deref().is_some_and(|c| c.split(',').filter(|x| !x.is_empty()).any(|x| !region_ok(x))) {
        return Err(AdminError::Invalid(
            "--sms-countries must be two-letter region codes, comma-separated".into(),
        ));
    }
    if policy.daily_cap.is_some_and(|cap| cap < 0) {
        return Err(AdminError::Invalid("--sms-daily-cap must be 0 or more".into()));
    }
    if policy.code_minutes.is_some_and(|m| !(1..=60).contains(&m)) {
        return Err(AdminError::Invalid("--sms-code-minutes must be between 1 and 60".into()));
    }
    store::tenants::update_sms_policy(
        &state.db,
        tenant.id(),
        region.as_deref(),
        countries.as_deref(),
        policy.daily_cap,
        policy.code_minutes.map(|m| m * 60),
    )
    .await?;
    state.tenant_memory.forget_all();
    self::tenant(state, tenant.slug()).await
}

/// Gives a tenant its own SMS sender, or (`None`) returns it to the server's sender.
pub async fn set_tenant_sms_sender(
    state: &AppState,
    tenant: &Tenant,
    sender: Option<crate::notify::SenderOverride>,
) -> Result<(), AdminError> {
    let sealed = match sender {
        None => None,
        Some(sender) => {
            let production = state.settings.mode == crate::config::Mode::Production;
            crate::notify::ConfiguredSender::from_settings(&sender.apply_to(&state.settings.sms), production)
                .map_err(AdminError::Invalid)?;
            let json = serde_json::to_vec(&sender).map_err(|e| AdminError::Invalid(e.to_string()))?;
            let sealed = state
                .keys
                .master()
                .seal(&json, &crate::authn::sms::sender_aad(tenant.id()))
                .map_err(|e| AdminError::Keys(KeyError::MasterKey(e)))?;
            Some(sealed)
        }
    };
    let kind = sealed.is_some();
    store::tenants::set_sms_sender(&state.db, tenant.id(), sealed).await?;
    state.tenant_memory.forget_all();
    let now = state.now();
    audit::record(
        &state.db,
        AuditEvent {
            tenant_id: Some(tenant.id()),
            user_id: None,
            event: Event::TenantSmsSenderChanged,
            detail: json!({ "own_sender": kind }),
            ip: None,
        },
        now,
    )
    .await?;
    Ok(())
}

/// Sets the tenant's theme and/or its own host name ("none" removes the host).
pub async fn update_tenant_branding(
    state: &AppState,
    tenant: &Tenant,
    theme: Option<&str>,
    host: Option<&str>,
) -> Result<Tenant, AdminError> {
    if let Some(theme) = theme
        && !state.views.has_theme(theme)
    {
        return Err(AdminError::Invalid(format!(
            "unknown theme {theme:?}; known: {}",
            state.views.theme_names().join(", ")
        )));
    }
    let host = match host {
        None => None,
        Some("none") => Some(None),
        Some(host) => {
            let host = host.trim().to_ascii_lowercase();
            let valid = !host.is_empty()
                && host.len() <= 253
                && host.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                        && !label.starts_with('-')
                });
            if !valid || !host.contains('.') && host != "localhost" {
                return Err(AdminError::Invalid(format!("invalid host name {host:?}")));
            }
            Some(Some(host))
        }
    };
    store::tenants::update_branding(&state.db, tenant.id(), theme, host.as_ref().map(|h| h.as_deref()))
        .await?;
    state.tenant_memory.forget_all();
    self::tenant(state, tenant.slug()).await
}

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
        let parsed = RedirectUri::parse(uri)?;
        if !parsed.as_str().starts_with("https://") && !parsed.as_str().starts_with("http://") {
            return Err(AdminError::Invalid(format!("{uri:?} must be an https URL")));
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

pub async fn create_user(
    state: &AppState,
    tenant: &Tenant,
    email: &str,
    name: Option<&str>,
    password: SecretString,
) -> Result<entity::user::Model, AdminError> {
    let email = Email::parse(email)?;
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    if name.is_some_and(|n| n.chars().count() > 200) {
        return Err(AdminError::Invalid("the name must be at most 200 characters".into()));
    }
    let hash = state.passwords.hash(password).await?;
    let now = state.now();
    let row = store::users::insert(&state.db, tenant.id(), &email, name, hash, now).await?;
    audit::record(
        &state.db,
        AuditEvent {
            tenant_id: Some(tenant.id()),
            user_id: Some(&row.id),
            event: Event::UserCreated,
            detail: json!({}),
            ip: None,
        },
        now,
    )
    .await?;
    Ok(row)
}
