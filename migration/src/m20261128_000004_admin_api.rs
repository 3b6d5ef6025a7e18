//! The admin API's secret rotation: a client's previous secret stays valid until a set time, so
//! the app can switch to the new one without an outage.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one column at a time.
        let mut columns = [
            string_null("previous_secret_hash").to_owned(),
            big_integer_null("previous_secret_expires_at").to_owned(),
        ];
        for column in columns.iter_mut() {
            manager.alter_table(Table::alter().table("clients").add_column(column).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["previous_secret_hash", "previous_secret_expires_at"] {
            manager.alter_table(Table::alter().table("clients").drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
