use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "access_tokens")]
pub struct Model {
    /// SHA-256 (hex) of the opaque token.
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    pub tenant_id: String,
    pub client_id: String,
    pub user_id: Option<String>,
    pub scope: String,
    /// The authorization code this token came from: a replayed code revokes it.
    pub code_hash: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    /// The refresh-token family this token came from: reuse of a family member revokes it.
    pub family_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
