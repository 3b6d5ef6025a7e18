use sea_orm::entity::prelude::*;

/// A WebAuthn ceremony between its begin and finish requests; single use.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webauthn_ceremonies")]
pub struct Model {
    /// SHA-256 (hex) of the ceremony token the page holds.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    /// `register`, `second_factor` or `passkey`.
    pub kind: String,
    /// Whose ceremony: the user id (register) or the login attempt's id hash (sign-in).
    pub owner: String,
    /// webauthn-rs ceremony state as JSON.
    pub state: String,
    pub expires_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
