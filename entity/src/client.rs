use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    pub client_id: String,
    /// SHA-256 (hex) of the secret (256 random bits, so no slow hash is needed); `None` for public clients.
    pub secret_hash: Option<String>,
    pub is_public: bool,
    pub first_party: bool,
    /// JSON array of exact redirect URIs.
    pub redirect_uris: String,
    pub created_at: i64,
    /// JSON array of registered `post_logout_redirect_uri`s.
    pub post_logout_redirect_uris: String,
    /// JSON array of scopes the client may ask for with client_credentials.
    pub allowed_scopes: String,
    /// Issue refresh tokens even without the `offline_access` scope (tied to the session).
    pub refresh_without_offline_access: bool,
    pub refresh_idle_seconds: i64,
    pub refresh_absolute_seconds: i64,
    /// `RS256`, `ES256` or `EdDSA`.
    pub id_token_signed_response_alg: String,
    /// `private_key_jwt`, or empty: derived from the secret (`client_secret_*`) or public (`none`).
    pub token_endpoint_auth_method: String,
    /// A registered JWK Set (JSON) for private_key_jwt.
    pub jwks: Option<String>,
    pub jwks_uri: Option<String>,
    /// Where back-channel logout tokens are POSTed.
    pub backchannel_logout_uri: Option<String>,
    /// Access tokens as RFC 9068 JWTs (still revocable and introspectable by their hash).
    pub jwt_access_tokens: bool,
    /// May introspect every access token of the tenant; other clients see only their own.
    pub resource_server: bool,
    /// SHA-256 of the secret before the last rotation, accepted until `previous_secret_expires_at`.
    pub previous_secret_hash: Option<String>,
    pub previous_secret_expires_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
