use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "totp_credentials")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    pub user_id: String,
    /// The TOTP seed sealed with the master key (it must be recoverable to compute codes).
    pub secret_sealed: String,
    /// `pending` until confirmed with a first code, then `active`.
    pub status: String,
    /// The last time step a code was accepted for: older and equal steps are refused.
    pub last_used_step: Option<i64>,
    pub created_at: i64,
    pub confirmed_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
