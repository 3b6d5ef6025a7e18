//! Email: the outbox that makes a message durable in the transaction of the change that causes
//! it, the single-use links that messages carry (password reset), and a tenant's own sender
//! address.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("email_outbox")
                    .if_not_exists()
                    .col(string("id").primary_key().to_owned())
                    .col(string("tenant_id"))
                    .col(string("message"))
                    .col(text("to_address"))
                    .col(text("from_address"))
                    .col(text("subject"))
                    .col(text("body_sealed"))
                    .col(integer("attempts"))
                    .col(big_integer("created_at"))
                    .col(big_integer("next_attempt_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_email_outbox_next_attempt_at")
                    .table("email_outbox")
                    .col("next_attempt_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("email_links")
                    .if_not_exists()
                    .col(string("id").primary_key().to_owned())
                    .col(string("tenant_id"))
                    .col(string("user_id"))
                    .col(string("purpose"))
                    .col(string("token_hash").unique_key().to_owned())
                    .col(string_null("attempt_id"))
                    .col(big_integer("created_at"))
                    .col(big_integer("expires_at"))
                    .col(big_integer_null("used_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_email_links_user_purpose")
                    .table("email_links")
                    .col("user_id")
                    .col("purpose")
                    .to_owned(),
            )
            .await?;
        let mut from = string_null("email_from");
        manager.alter_table(Table::alter().table("tenants").add_column(&mut from).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("tenants").drop_column("email_from").to_owned()).await?;
        manager.drop_table(Table::drop().table("email_links").if_exists().to_owned()).await?;
        manager.drop_table(Table::drop().table("email_outbox").if_exists().to_owned()).await
    }
}
