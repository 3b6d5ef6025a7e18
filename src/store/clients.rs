use entity::client;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};

use super::{Db, StoreError, duplicate_as};
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
        previous_secret_hash: Set(None),
        previous_secret_expires_at: Set(None),
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

/// One page of a tenant's clients in `client_id` order, starting after `after`.
pub async fn list_page(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<client::Model>, StoreError> {
    let mut query = client::Entity::find().filter(client::Column::TenantId.eq(tenant_id));
    if let Some(after) = after {
        query = query.filter(client::Column::ClientId.gt(after));
    }
    Ok(query.order_by_asc(client::Column::ClientId).limit(limit).all(db).await?)
}

/// The settings an administrator may change after registration (already checked).
pub struct ClientSettings {
    pub redirect_uris: Vec<RedirectUri>,
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    pub allowed_scopes: Vec<String>,
    pub refresh_without_offline_access: bool,
    pub jwt_access_tokens: bool,
    pub backchannel_logout_uri: Option<String>,
    pub refresh_idle_seconds: i64,
    pub refresh_absolute_seconds: i64,
}

/// Writes `new` over the client only while its changeable columns still hold what `old` read
/// (a compare-and-set, so two administrators cannot overwrite each other), with the audit event in
/// the same transaction. False, with nothing written, when the row changed or is gone.
pub async fn update_settings(
    db: &Db,
    old: &client::Model,
    new: &ClientSettings,
    audit: entity::audit_event::Model,
) -> Result<bool, StoreError> {
    let as_json = |uris: &[RedirectUri]| {
        let uris: Vec<&str> = uris.iter().map(RedirectUri::as_str).collect();
        serde_json::to_string(&uris).map_err(|e| StoreError::Corrupt(e.to_string()))
    };
    let scopes =
        serde_json::to_string(&new.allowed_scopes).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let txn = db.begin().await?;
    let mut update = client::Entity::update_many()
        .col_expr(client::Column::RedirectUris, Expr::value(as_json(&new.redirect_uris)?))
        .col_expr(
            client::Column::PostLogoutRedirectUris,
            Expr::value(as_json(&new.post_logout_redirect_uris)?),
        )
        .col_expr(client::Column::AllowedScopes, Expr::value(scopes))
        .col_expr(
            client::Column::RefreshWithoutOfflineAccess,
            Expr::value(new.refresh_without_offline_access),
        )
        .col_expr(client::Column::JwtAccessTokens, Expr::value(new.jwt_access_tokens))
        .col_expr(client::Column::BackchannelLogoutUri, Expr::value(new.backchannel_logout_uri.clone()))
        .col_expr(client::Column::RefreshIdleSeconds, Expr::value(new.refresh_idle_seconds))
        .col_expr(client::Column::RefreshAbsoluteSeconds, Expr::value(new.refresh_absolute_seconds))
        .filter(client::Column::Id.eq(old.id.as_str()))
        .filter(client::Column::RedirectUris.eq(old.redirect_uris.as_str()))
        .filter(client::Column::PostLogoutRedirectUris.eq(old.post_logout_redirect_uris.as_str()))
        .filter(client::Column::AllowedScopes.eq(old.allowed_scopes.as_str()))
        .filter(client::Column::RefreshWithoutOfflineAccess.eq(old.refresh_without_offline_access))
        .filter(client::Column::JwtAccessTokens.eq(old.jwt_access_tokens))
        .filter(client::Column::RefreshIdleSeconds.eq(old.refresh_idle_seconds))
        .filter(client::Column::RefreshAbsoluteSeconds.eq(old.refresh_absolute_seconds));
    update = match &old.backchannel_logout_uri {
        Some(uri) => update.filter(client::Column::BackchannelLogoutUri.eq(uri.as_str())),
        None => update.filter(client::Column::BackchannelLogoutUri.is_null()),
    };
    if update.exec(&txn).await?.rows_affected != 1 {
        txn.rollback().await?;
        return Ok(false);
    }
    super::audit_events::insert(&txn, audit).await?;
    txn.commit().await?;
    Ok(true)
}

/// Replaces the secret while it is still `old_hash`; the old one stays valid until
/// `previous_expires_at`. False when another rotation came first.
pub async fn rotate_secret(
    db: &Db,
    client_row_id: &str,
    old_hash: &str,
    new_hash: String,
    previous_expires_at: i64,
    audit: entity::audit_event::Model,
) -> Result<bool, StoreError> {
    let txn = db.begin().await?;
    let result = client::Entity::update_many()
        .col_expr(client::Column::SecretHash, Expr::value(new_hash))
        .col_expr(client::Column::PreviousSecretHash, Expr::value(old_hash))
        .col_expr(client::Column::PreviousSecretExpiresAt, Expr::value(previous_expires_at))
        .filter(client::Column::Id.eq(client_row_id))
        .filter(client::Column::SecretHash.eq(old_hash))
        .exec(&txn)
        .await?;
    if result.rows_affected != 1 {
        txn.rollback().await?;
        return Ok(false);
    }
    super::audit_events::insert(&txn, audit).await?;
    txn.commit().await?;
    Ok(true)
}

/// Deletes a client in one transaction: its access and refresh tokens are revoked first (so
/// introspection by a resource server says inactive), its unused codes and consents go with it.
/// False when there was no such client.
/// `tokens_live_until`: when every access token issued until now will have expired (how long the
/// client's revocation is kept).
pub async fn delete(
    db: &Db,
    tenant_id: &str,
    client_row_id: &str,
    now: i64,
    tokens_live_until: i64,
    audit: entity::audit_event::Model,
) -> Result<bool, StoreError> {
    use entity::{access_token, authorization_code, consent, refresh_token, session_client};
    let txn = db.begin().await?;
    let deleted = client::Entity::delete_many()
        .filter(client::Column::Id.eq(client_row_id))
        .filter(client::Column::TenantId.eq(tenant_id))
        .exec(&txn)
        .await?;
    if deleted.rows_affected != 1 {
        txn.rollback().await?;
        return Ok(false);
    }
    super::token_revocations::revoke_access_tokens_where(
        &txn,
        access_token::Column::ClientId.eq(client_row_id),
        now,
    )
    .await?;
    // Its own (client_credentials) tokens have no rows: the client is recorded as a whole.
    super::token_revocations::record_client(&txn, tenant_id, client_row_id, now, tokens_live_until).await?;
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::ClientId.eq(client_row_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    authorization_code::Entity::delete_many()
        .filter(authorization_code::Column::ClientId.eq(client_row_id))
        .exec(&txn)
        .await?;
    consent::Entity::delete_many().filter(consent::Column::ClientId.eq(client_row_id)).exec(&txn).await?;
    session_client::Entity::delete_many()
        .filter(session_client::Column::ClientId.eq(client_row_id))
        .exec(&txn)
        .await?;
    super::audit_events::insert(&txn, audit).await?;
    txn.commit().await?;
    super::token_revocations::committed();
    Ok(true)
}
