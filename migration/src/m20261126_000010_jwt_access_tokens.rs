//! Clients may receive RFC 9068 JWT access tokens instead of opaque ones.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut column = boolean("jwt_access_tokens").default(false).to_owned();
        manager.alter_table(Table::alter().table("clients").add_column(&mut column).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("clients").drop_column("jwt_access_tokens").to_owned()).await
    }
}
