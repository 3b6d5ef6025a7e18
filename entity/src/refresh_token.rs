use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_tokens")]
pub struct Model {
    /// SHA-256 (hex) of the opaque token.
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    pub tenant_id: String,
    /// Row id of the client.
    pub client_id: String,
    pub user_id: String,
    /// All rotations of one grant share a family; reuse of any used member revokes them all.
    pub family_id: String,
    pub scope: String,
    pub sid: String,
    /// Granted through `offline_access`: survives logout.
    pub offline: bool,
    pub auth_time: i64,
    pub amr: String,
    pub acr: String,
    pub created_at: i64,
    /// Unused for this long and the token dies.
    pub idle_expires_at: i64,
    /// The family dies at this time whatever happens.
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
