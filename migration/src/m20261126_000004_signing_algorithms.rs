//! Signing keys per algorithm with rotation windows, and each client's ID token algorithm.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut columns = [
            ("signing_keys", big_integer("activates_at").default(0).to_owned()),
            ("signing_keys", big_integer_null("retires_at")),
            ("clients", string("id_token_signed_response_alg").default("RS256").to_owned()),
        ];
        for (table, column) in columns.iter_mut() {
            manager.alter_table(Table::alter().table(*table).add_column(column).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in [
            ("signing_keys", "activates_at"),
            ("signing_keys", "retires_at"),
            ("clients", "id_token_signed_response_alg"),
        ] {
            manager.alter_table(Table::alter().table(table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
