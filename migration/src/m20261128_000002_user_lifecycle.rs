//! Disabling a person: `users.disabled_at` (when an administrator disabled them; null: active).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut column = big_integer_null("disabled_at");
        manager.alter_table(Table::alter().table("users").add_column(&mut column).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("users").drop_column("disabled_at").to_owned()).await
    }
}
