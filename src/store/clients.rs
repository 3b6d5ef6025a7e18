use entity::client;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::{StoreError, duplicate_as};
use crate::domain::{ClientId, RedirectUri};

pub struct NewClient<'a> {
    pub tenant_id: &'a str,
    pub client_id: &'a ClientId,
    pub secret_hash: Option<String>,
    pub is_public: bool,
    pub first_party: bool,
    pub redirect_uris: &'a [RedirectUri],
    pub post_logout_redirect_uris: &'a [RedirectUri],
    /// Scopes the client may ask for with client_credentials.
    pub allowed_scopes: Vec<String>,
    pub refresh_without_offline_access: bool,
    pub id_token_alg: &'a str,
    pub token_endpoint_auth_method: &'a str,
    pub jwks: Option<String>,
    pub jwks_uri: Option<String>,
    pub backchannel_logout_uri: Option<String>,
    pub jwt_access_tokens: bool,
    pub resource_server: bool,
}

pub async fn insert(
    db: &impl ConnectionTrait,
    new: NewClient<'_>,
    now: i64,
) -> Result<client::Model, StoreError> {
    let uris: Vec<&str> = new.redirect_uris.iter().map(RedirectUri::as_str).collect();
    let uris = serde_json::to_string(&uris).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let logout_uris: Vec<&str> = new.post_logout_redirect_uris.iter().map(RedirectUri::as_str).collect();
    let logout_uris = serde_json::to_string(&logout_uris).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let scopes =
        serde_json::to_string(&new.allowed_scopes).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let model = client::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        tenant_id: Set(new.tenant_id.to_string()),
        client_id: Set(new.client_id.as_str().to_string()),
        secret_hash: Set(new.secret_hash),
        is_public: Set(new.is_public),
        first_party: Set(new.first_party),
        redirect_uris: Set(uris),
        created_at: Set(now),
        post_logout_redirect_uris: Set(logout_uris),
        allowed_scopes: Set(scopes),
        refresh_without_offline_access: Set(new.refresh_without_offline_access),
        refresh_idle_seconds: Set(14 * 86_400),
        refresh_absolute_seconds: Set(30 * 86_400),
        id_token_signed_response_alg: Set(new.id_token_alg.to_string()),
        token_endpoint_auth_method: Set(new.token_endpoint_auth_method.to_string()),
        jwks: Set(new.jwks),
        jwks_uri: Set(new.jwks_uri),
        backchannel_logout_uri: Set(new.backchannel_logout_uri),
        jwt_access_tokens: Set(new.jwt_access_tokens),
        resource_server: Set(new.resource_server),
    };
    model.insert(db).await.map_err(duplicate_as("a client with this client id"))
}

pub async fn find(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    client_id: &str,
) -> Result<Option<client::Model>, StoreError> {
    Ok(client::Entity::find()
        .filter(client::Column::TenantId.eq(tenant_id))
        .filter(client::Column::ClientId.eq(client_id))
        .one(db)
        .await?)
}

pub async fn list(db: &impl ConnectionTrait, tenant_id: &str) -> Result<Vec<client::Model>, StoreError> {
    Ok(client::Entity::find()
        .filter(client::Column::TenantId.eq(tenant_id))
        .order_by_asc(client::Column::ClientId)
        .all(db)
        .await?)
}

/// The registered redirect URIs of a client row. Each is parsed again on the way out (see
/// `RedirectUri`'s serde): all were parsed when the client was registered, so one that no longer
/// parses was written around tessera, and the row counts as corrupt rather than redirecting to it.
pub fn redirect_uris(client: &client::Model) -> Result<Vec<RedirectUri>, StoreError> {
    serde_json::from_str(&client.redirect_uris)
        .map_err(|e| StoreError::Corrupt(format!("client redirect_uris: {e}")))
}

/// The registered post-logout redirect URIs of a client row, parsed like `redirect_uris`.
pub fn post_logout_redirect_uris(client: &client::Model) -> Result<Vec<RedirectUri>, StoreError> {
    serde_json::from_str(&client.post_logout_redirect_uris)
        .map_err(|e| StoreError::Corrupt(format!("client post_logout_redirect_uris: {e}")))
}

/// The scopes a client may obtain with client_credentials.
pub fn allowed_scopes(client: &client::Model) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(&client.allowed_scopes)
        .map_err(|e| StoreError::Corrupt(format!("client allowed_scopes: {e}")))
}

pub async fn find_by_row_id(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<client::Model>, StoreError> {
    Ok(client::Entity::find_by_id(id.to_string()).one(db).await?)
}
