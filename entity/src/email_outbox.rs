use sea_orm::entity::prelude::*;

/// An email waiting to be sent: written in the transaction of the change that causes it, removed
/// when the SMTP server accepted it (or refused it for good).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "email_outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    /// Which message (`password_reset`, `password_changed`, ...), for logs.
    pub message: String,
    pub to_address: String,
    pub from_address: String,
    pub subject: String,
    /// The plain-text body sealed with the master key (a reset link is a secret until used).
    pub body_sealed: String,
    pub attempts: i32,
    pub created_at: i64,
    pub next_attempt_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
