//! Back-channel logout tokens waiting for delivery, so a delivery survives an instance stopping.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("logout_deliveries")
                    .if_not_exists()
                    .col(string("id").primary_key().to_owned())
                    .col(string("client_id"))
                    .col(text("uri"))
                    .col(text("logout_token"))
                    .col(integer("attempts"))
                    .col(big_integer("created_at"))
                    .col(big_integer("next_attempt_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("logout_deliveries").if_exists().to_owned()).await
    }
}
