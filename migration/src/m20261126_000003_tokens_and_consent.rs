//! OpenID Connect completion: refresh tokens (rotated, in families), client settings for logout,
//! refresh lifetimes and client-credentials scopes, and remembered consent.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn add_column(table: &'static str, column: ColumnDef) -> TableAlterStatement {
    let mut column = column;
    Table::alter().table(table).add_column(&mut column).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let alterations = [
            add_column("clients", text("post_logout_redirect_uris").default("[]").to_owned()),
            add_column("clients", text("allowed_scopes").default("[]").to_owned()),
            add_column("clients", boolean("refresh_without_offline_access").default(false).to_owned()),
            add_column("clients", big_integer("refresh_idle_seconds").default(1_209_600).to_owned()),
            add_column("clients", big_integer("refresh_absolute_seconds").default(2_592_000).to_owned()),
            add_column("access_tokens", string_null("family_id")),
        ];
        for alteration in alterations {
            manager.alter_table(alteration).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("refresh_tokens")
                    .if_not_exists()
                    .col(string("token_hash").primary_key().to_owned())
                    .col(string("tenant_id"))
                    .col(string("client_id"))
                    .col(string("user_id"))
                    .col(string("family_id"))
                    .col(text("scope"))
                    .col(string("sid"))
                    .col(boolean("offline"))
                    .col(big_integer("auth_time"))
                    .col(text("amr"))
                    .col(string("acr"))
                    .col(big_integer("created_at"))
                    .col(big_integer("idle_expires_at"))
                    .col(big_integer("expires_at"))
                    .col(big_integer_null("used_at"))
                    .col(big_integer_null("revoked_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("consents")
                    .if_not_exists()
                    .col(string("id").primary_key().to_owned())
                    .col(string("tenant_id"))
                    .col(string("user_id"))
                    .col(string("client_id"))
                    .col(text("scope"))
                    .col(big_integer("created_at"))
                    .to_owned(),
            )
            .await?;
        let indexes = [
            Index::create()
                .name("ix_refresh_tokens_family")
                .table("refresh_tokens")
                .col("family_id")
                .to_owned(),
            Index::create().name("ix_refresh_tokens_sid").table("refresh_tokens").col("sid").to_owned(),
            Index::create()
                .name("ix_access_tokens_family")
                .table("access_tokens")
                .col("family_id")
                .to_owned(),
            Index::create()
                .name("ux_consents_user_client")
                .table("consents")
                .col("user_id")
                .col("client_id")
                .unique()
                .to_owned(),
        ];
        for index in indexes {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["consents", "refresh_tokens"] {
            manager.drop_table(Table::drop().table(table).if_exists().to_owned()).await?;
        }
        let drops: [(&str, &str); 6] = [
            ("clients", "post_logout_redirect_uris"),
            ("clients", "allowed_scopes"),
            ("clients", "refresh_without_offline_access"),
            ("clients", "refresh_idle_seconds"),
            ("clients", "refresh_absolute_seconds"),
            ("access_tokens", "family_id"),
        ];
        for (table, column) in drops {
            manager.alter_table(Table::alter().table(table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
