//! Clients designated as resource servers may introspect every access token of their tenant;
//! every other client only its own (RFC 7662 section 4).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut column = boolean("resource_server").default(false).to_owned();
        manager.alter_table(Table::alter().table("clients").add_column(&mut column).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("clients").drop_column("resource_server").to_owned()).await
    }
}
