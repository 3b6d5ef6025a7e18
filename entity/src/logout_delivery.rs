use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "logout_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The client's `client_id` (for logs).
    pub client_id: String,
    pub uri: String,
    /// The signed logout token (it carries no secret: it only says a session ended).
    pub logout_token: String,
    pub attempts: i32,
    pub created_at: i64,
    pub next_attempt_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
