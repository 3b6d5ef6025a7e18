use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    /// SHA-256 (hex) of the cookie value.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Public, opaque session id for the `sid` claim.
    pub sid: String,
    pub tenant_id: String,
    pub user_id: String,
    pub auth_time: i64,
    /// JSON array of authentication method references.
    pub amr: String,
    pub acr: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    /// CSRF token of the account pages' forms.
    pub csrf_token: String,
    /// When this sign-in last checked the password (0: never, a step-up proved only the factor).
    pub password_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
