use sea_orm::entity::prelude::*;

/// A revoked self-contained access token (`kind` = `token`, `subject` = its SHA-256 hex), a
/// person (`user`: their id) or a deleted client (`client`: its row id) whose tokens issued until
/// `revoked_at` are all revoked.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "token_revocations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub subject: String,
    pub tenant_id: String,
    pub revoked_at: i64,
    /// After this no token the row names is unexpired: housekeeping removes it.
    pub expires_at: i64,
    /// The database's clock (Unix seconds) when the row was written.
    pub recorded_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
