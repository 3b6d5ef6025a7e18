use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "logout_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The client's `client_id` (for logs).
    pub client_id: String,
    pub uri: String,
    /// A logout token signed when the session ended, in rows an earlier release wrote; empty when
    /// `claims` is set.
    pub logout_token: String,
    /// The tenant whose key signs the token at each attempt.
    pub tenant_id: Option<String>,
    /// The client's ID token algorithm, which signs its logout tokens too.
    pub alg: Option<String>,
    /// The logout token's claims (JSON) without `iat` and `exp`: those are set at each attempt, so
    /// a retry hours later is not refused as expired (it carries no secret: a session ended).
    pub claims: Option<String>,
    pub attempts: i32,
    pub created_at: i64,
    pub next_attempt_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
