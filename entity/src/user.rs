use sea_orm::entity::prelude::*;

pub use crate::two_factor_method::TwoFactorMethod;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    /// Lower-cased; unique per tenant.
    pub email: String,
    pub email_verified: bool,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// The second factor: `totp`, `sms` or `security_key`; `None`: two-factor authentication off.
    pub two_factor_method: Option<TwoFactorMethod>,
    /// Display name for the `profile` scope (`name` claim).
    pub name: Option<String>,
    /// Verified mobile number (E.164) for text-message codes.
    pub phone_number: Option<String>,
    /// When an administrator disabled the person (`tessera user disable`); `None`: active. A
    /// disabled person cannot sign in and their tokens are not active.
    pub disabled_at: Option<i64>,
    /// The page language of the person's last sign-in (`en`, `nl`): the language of emails no
    /// page asks for (an administrator's change). `None`: the tenant's default.
    pub locale: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
