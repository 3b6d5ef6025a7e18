//! A theme per tenant, and an optional host name of its own (a custom domain).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut columns = [string("theme").default("default").to_owned(), string_null("host")];
        for column in columns.iter_mut() {
            manager.alter_table(Table::alter().table("tenants").add_column(column).to_owned()).await?;
        }
        manager
            .create_index(
                Index::create().name("ux_tenants_host").table("tenants").col("host").unique().to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["theme", "host"] {
            manager.alter_table(Table::alter().table("tenants").drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
