//! Client authentication with private_key_jwt (a registered JWKS or JWKS URI, single-use
//! assertions) and back-channel logout: which clients a session signed in to, and where to tell them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut columns = [
            string("token_endpoint_auth_method").default("").to_owned(),
            text_null("jwks"),
            text_null("jwks_uri"),
            text_null("backchannel_logout_uri"),
        ];
        for column in columns.iter_mut() {
            manager.alter_table(Table::alter().table("clients").add_column(column).to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("used_client_assertions")
                    .if_not_exists()
                    .col(string("id").primary_key().to_owned())
                    .col(big_integer("expires_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("session_clients")
                    .if_not_exists()
                    .col(string("id").primary_key().to_owned())
                    .col(string("sid"))
                    .col(string("client_id"))
                    .col(string("user_id"))
                    .col(big_integer("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("ix_session_clients_sid").table("session_clients").col("sid").to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["session_clients", "used_client_assertions"] {
            manager.drop_table(Table::drop().table(table).if_exists().to_owned()).await?;
        }
        for column in ["token_endpoint_auth_method", "jwks", "jwks_uri", "backchannel_logout_uri"] {
            manager.alter_table(Table::alter().table("clients").drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
