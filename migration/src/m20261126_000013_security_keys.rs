//! Second factor III: security keys and passkeys (WebAuthn credentials), and the state of
//! WebAuthn ceremonies between their two requests (so any instance can finish one).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("security_keys")
                    .if_not_exists()
                    .col(string("id").primary_key().to_owned())
                    .col(string("tenant_id"))
                    .col(string("user_id"))
                    .col(string("credential_id"))
                    .col(string("name"))
                    .col(text("credential"))
                    .col(big_integer("counter"))
                    .col(big_integer("created_at"))
                    .col(big_integer_null("last_used_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("webauthn_ceremonies")
                    .if_not_exists()
                    .col(string("id").primary_key().to_owned())
                    .col(string("tenant_id"))
                    .col(string("kind"))
                    .col(string("owner"))
                    .col(text("state"))
                    .col(big_integer("expires_at"))
                    .to_owned(),
            )
            .await?;
        let indexes = [
            Index::create()
                .name("ux_security_keys_credential")
                .table("security_keys")
                .col("tenant_id")
                .col("credential_id")
                .unique()
                .to_owned(),
            Index::create().name("ix_security_keys_user").table("security_keys").col("user_id").to_owned(),
            Index::create()
                .name("ix_webauthn_ceremonies_expires")
                .table("webauthn_ceremonies")
                .col("expires_at")
                .to_owned(),
        ];
        for index in indexes {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["webauthn_ceremonies", "security_keys"] {
            manager.drop_table(Table::drop().table(table).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}
