//! A tenant may use its own SMS sender (its provider account), sealed with the master key.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut column = text_null("sms_sender_sealed");
        manager.alter_table(Table::alter().table("tenants").add_column(&mut column).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("tenants").drop_column("sms_sender_sealed").to_owned()).await
    }
}
