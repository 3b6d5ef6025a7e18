//! `/clients`: list, register (the secret shown once), read, change, rotate the secret, delete.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{AdminCaller, CLIENTS_READ, CLIENTS_WRITE};
use super::pagination;
use super::problem::{ApiJson, ApiQuery, Problem, ProblemDocument, nullable};
use super::{if_match, time, with_etag};
use crate::admin::{self, Actor, ClientChange, NewClientRequest};
use crate::state::AppState;
use crate::store;

const LIST: &str = "clients";

#[derive(Serialize, ToSchema)]
pub struct ClientView {
    pub client_id: String,
    /// `confidential` or `public`.
    #[serde(rename = "type")]
    pub kind: String,
    /// An app of the tenant itself: no consent screen.
    pub first_party: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// Scopes it may obtain with client_credentials (`admin.*` for admin API clients).
    pub allowed_scopes: Vec<String>,
    pub refresh_without_offline_access: bool,
    pub jwt_access_tokens: bool,
    pub backchannel_logout_uri: Option<String>,
    pub refresh_idle_seconds: i64,
    pub refresh_absolute_seconds: i64,
    pub id_token_signed_response_alg: String,
    /// `client_secret_basic` (or `_post`), `private_key_jwt`, or `none`.
    pub token_endpoint_auth_method: String,
    pub resource_server: bool,
    /// private_key_jwt: where its JWK Set is fetched from.
    pub jwks_uri: Option<String>,
    /// private_key_jwt: its registered JWK Set (public keys).
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<serde_json::Value>,
    pub created_at: String,
    /// Until when the secret before the last rotation still works.
    pub previous_secret_valid_until: Option<String>,
}

impl ClientView {
    fn of(row: &entity::client::Model) -> Result<Self, Problem> {
        let uris =
            |list: Vec<crate::domain::RedirectUri>| list.iter().map(|u| u.as_str().to_string()).collect();
        let method = match (row.token_endpoint_auth_method.as_str(), row.is_public) {
            ("private_key_jwt", _) => "private_key_jwt",
            (_, true) => "none",
            _ => "client_secret_basic",
        };
        Ok(Self {
            client_id: row.client_id.clone(),
            kind: if row.is_public { "public" } else { "confidential" }.to_string(),
            first_party: row.first_party,
            redirect_uris: uris(store::clients::redirect_uris(row).map_err(Problem::internal)?),
            post_logout_redirect_uris: uris(
                store::clients::post_logout_redirect_uris(row).map_err(Problem::internal)?,
            ),
            allowed_scopes: store::clients::allowed_scopes(row).map_err(Problem::internal)?,
            refresh_without_offline_access: row.refresh_without_offline_access,
            jwt_access_tokens: row.jwt_access_tokens,
            backchannel_logout_uri: row.backchannel_logout_uri.clone(),
            refresh_idle_seconds: row.refresh_idle_seconds,
            refresh_absolute_seconds: row.refresh_absolute_seconds,
            id_token_signed_response_alg: row.id_token_signed_response_alg.clone(),
            token_endpoint_auth_method: method.to_string(),
            resource_server: row.resource_server,
            jwks_uri: row.jwks_uri.clone(),
            jwks: row.jwks.as_deref().map(serde_json::from_str).transpose().map_err(Problem::internal)?,
            created_at: time(row.created_at),
            previous_secret_valid_until: row.previous_secret_expires_at.map(time),
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct ClientPage {
    pub items: Vec<ClientView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1-200 (default 50).
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientCreate {
    pub client_id: String,
    pub redirect_uris: Vec<String>,
    /// A native app or SPA: no secret, PKCE required.
    #[serde(default)]
    pub public: bool,
    #[serde(default)]
    pub first_party: bool,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Scopes for client_credentials; admin API clients name the `admin.*` scopes they need.
    #[serde(default)]
    pub allowed_scopes: Vec<String>,
    #[serde(default)]
    pub refresh_without_offline_access: bool,
    /// `RS256` (default), `ES256` or `EdDSA`.
    pub id_token_signed_response_alg: Option<String>,
    /// private_key_jwt with the JWK Set at this URL instead of a secret.
    pub jwks_uri: Option<String>,
    /// Or private_key_jwt with this JWK Set (public keys only), for a client without a URL of its
    /// own; give `jwks` or `jwks_uri`, not both.
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<serde_json::Value>,
    pub backchannel_logout_uri: Option<String>,
    #[serde(default)]
    pub jwt_access_tokens: bool,
    #[serde(default)]
    pub resource_server: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ClientCreated {
    pub client: ClientView,
    /// Shown this once only (confidential clients with a secret); only its hash is kept.
    pub client_secret: Option<String>,
}

/// The settings to change; a field left out keeps its value.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientPatch {
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub allowed_scopes: Option<Vec<String>>,
    pub refresh_without_offline_access: Option<bool>,
    pub jwt_access_tokens: Option<bool>,
    /// A URL, or `null` to remove it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub backchannel_logout_uri: Option<Option<String>>,
    /// 3600 to 31536000.
    pub refresh_idle_seconds: Option<i64>,
    /// From refresh_idle_seconds to 31536000.
    pub refresh_absolute_seconds: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct SecretRotated {
    /// The new secret, shown this once only.
    pub client_secret: String,
    /// The previous secret works until then (24 hours), so the app can switch without an outage.
    pub previous_secret_valid_until: String,
}

/// List the tenant's clients in client_id order.
#[utoipa::path(
    get, path = "/clients", tag = "clients",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of clients", body = ClientPage),
        (status = 400, description = "A bad query parameter or cursor", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin.clients.read", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin.clients.read"]))
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<AdminCaller>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Response, Problem> {
    caller.require(CLIENTS_READ)?;
    let limit = pagination::limit(query.limit)?;
    let after = pagination::decode(LIST, query.cursor.as_deref())?;
    let page = admin::list_clients(&state, &caller.tenant, after.as_deref(), limit).await?;
    let items = page.items.iter().map(ClientView::of).collect::<Result<Vec<_>, _>>()?;
    let next_cursor = page.next.map(|key| pagination::encode(LIST, &key));
    Ok(axum::Json(ClientPage { items, next_cursor }).into_response())
}

/// Register a client. The answer holds its secret, which is never shown again.
#[utoipa::path(
    post, path = "/clients", tag = "clients",
    request_body = ClientCreate,
    responses(
        (status = 201, description = "Registered; Location names it", body = ClientCreated),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin.clients.write", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "The client_id is taken", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "A value is not acceptable, or an unknown field", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin.clients.write"]))
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<AdminCaller>,
    ApiJson(body): ApiJson<ClientCreate>,
) -> Result<Response, Problem> {
    caller.require(CLIENTS_WRITE)?;
    let request = NewClientRequest {
        public: body.public,
        first_party: body.first_party,
        post_logout_redirect_uris: body.post_logout_redirect_uris,
        allowed_scopes: body.allowed_scopes,
        refresh_without_offline_access: body.refresh_without_offline_access,
        id_token_alg: body.id_token_signed_response_alg,
        jwks_uri: body.jwks_uri,
        jwks: body.jwks.map(|jwks| jwks.to_string()),
        backchannel_logout_uri: body.backchannel_logout_uri,
        jwt_access_tokens: body.jwt_access_tokens,
        resource_server: body.resource_server,
        redirect_uris: body.redirect_uris,
        ..NewClientRequest::new(&body.client_id, &[])
    };
    let (row, secret) = admin::create_client(&state, &caller.tenant, request).await?;
    let created = ClientCreated {
        client: ClientView::of(&row)?,
        client_secret: secret.map(|s| s.expose_secret().to_string()),
    };
    let mut response = with_etag(StatusCode::CREATED, &admin::client_revision(&row), created);
    let location = caller.tenant.url(&format!("/admin/v1/clients/{}", row.client_id));
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

#[derive(Deserialize)]
pub struct ClientPath {
    client_id: String,
}

/// Read one client.
#[utoipa::path(
    get, path = "/clients/{client_id}", tag = "clients",
    params(("client_id" = String, Path, description = "The client's client_id")),
    responses(
        (status = 200, description = "The client; ETag names its revision", body = ClientView),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin.clients.read", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such client in this tenant", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin.clients.read"]))
)]
pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<AdminCaller>,
    Path(path): Path<ClientPath>,
) -> Result<Response, Problem> {
    caller.require(CLIENTS_READ)?;
    let row = admin::client(&state, &caller.tenant, &path.client_id).await?;
    Ok(with_etag(StatusCode::OK, &admin::client_revision(&row), ClientView::of(&row)?))
}

/// Change a client's redirect URIs, logout URIs, scopes or token settings.
#[utoipa::path(
    patch, path = "/clients/{client_id}", tag = "clients",
    request_body = ClientPatch,
    params(
        ("client_id" = String, Path, description = "The client's client_id"),
        ("If-Match" = String, Header, description = "The ETag of the last read, or *"),
    ),
    responses(
        (status = 200, description = "The changed client", body = ClientView),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin.clients.write", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such client in this tenant", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 412, description = "The client changed since that ETag", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "A value is not acceptable, or an unknown field", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is missing", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin.clients.write"]))
)]
pub async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<AdminCaller>,
    Path(path): Path<ClientPath>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<ClientPatch>,
) -> Result<Response, Problem> {
    caller.require(CLIENTS_WRITE)?;
    let expected = if_match(&headers, true)?;
    let change = ClientChange {
        redirect_uris: patch.redirect_uris,
        post_logout_redirect_uris: patch.post_logout_redirect_uris,
        allowed_scopes: patch.allowed_scopes,
        refresh_without_offline_access: patch.refresh_without_offline_access,
        jwt_access_tokens: patch.jwt_access_tokens,
        backchannel_logout_uri: patch.backchannel_logout_uri,
        refresh_idle_seconds: patch.refresh_idle_seconds,
        refresh_absolute_seconds: patch.refresh_absolute_seconds,
    };
    let row = admin::update_client(
        &state,
        &caller.tenant,
        &path.client_id,
        change,
        expected.as_deref(),
        Actor::ApiClient(caller.client_id()),
    )
    .await?;
    Ok(with_etag(StatusCode::OK, &admin::client_revision(&row), ClientView::of(&row)?))
}

/// Delete a client: its access and refresh tokens stop being active at once.
#[utoipa::path(
    delete, path = "/clients/{client_id}", tag = "clients",
    params(
        ("client_id" = String, Path, description = "The client's client_id"),
        ("If-Match" = Option<String>, Header, description = "Optional: delete only at this ETag"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin.clients.write", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such client in this tenant", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 412, description = "The client changed since that ETag", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin.clients.write"]))
)]
pub async fn remove(
    State(state): State<AppState>,
    Extension(caller): Extension<AdminCaller>,
    Path(path): Path<ClientPath>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    caller.require(CLIENTS_WRITE)?;
    let expected = if_match(&headers, false)?;
    admin::delete_client(
        &state,
        &caller.tenant,
        &path.client_id,
        expected.as_deref(),
        Actor::ApiClient(caller.client_id()),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Give the client a new secret; the previous one keeps working for 24 hours.
#[utoipa::path(
    post, path = "/clients/{client_id}/secret", tag = "clients",
    params(("client_id" = String, Path, description = "The client's client_id")),
    responses(
        (status = 200, description = "The new secret, shown this once", body = SecretRotated),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks admin.clients.write", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such client in this tenant", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "The client has no secret (public or private_key_jwt)", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin.clients.write"]))
)]
pub async fn rotate_secret(
    State(state): State<AppState>,
    Extension(caller): Extension<AdminCaller>,
    Path(path): Path<ClientPath>,
) -> Result<Response, Problem> {
    caller.require(CLIENTS_WRITE)?;
    let (row, secret) = admin::rotate_client_secret(
        &state,
        &caller.tenant,
        &path.client_id,
        Actor::ApiClient(caller.client_id()),
    )
    .await?;
    let body = SecretRotated {
        client_secret: secret.expose_secret().to_string(),
        previous_secret_valid_until: row.previous_secret_expires_at.map(time).unwrap_or_default(),
    };
    Ok(with_etag(StatusCode::OK, &admin::client_revision(&row), body))
}
