use sea_orm::entity::prelude::*;

/// A registered WebAuthn credential: a security key, or a passkey on a phone or computer.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "security_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    pub user_id: String,
    /// The credential id (base64url), unique per tenant.
    pub credential_id: String,
    /// The name the person gave it ("Blue key").
    pub name: String,
    /// webauthn-rs `SecurityKey` as JSON: the public key and the flags it was registered with.
    pub credential: String,
    /// The last signature counter seen; a use may only move it forward.
    pub counter: i64,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
