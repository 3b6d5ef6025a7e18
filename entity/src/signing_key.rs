use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    pub tenant_id: String,
    pub alg: String,
    /// base64(nonce || AES-256-GCM ciphertext) of the PKCS#8 private key, sealed with the master key.
    pub private_key_sealed: String,
    /// Public JWK (JSON).
    pub public_jwk: String,
    /// `active`, `retired`.
    pub status: String,
    pub created_at: i64,
    /// Published from `created_at`; signs from this time (rotation overlap).
    pub activates_at: i64,
    /// Removed from the JWKS at this time, once every token it signed has expired.
    pub retires_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
