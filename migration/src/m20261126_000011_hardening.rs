//! Hardening after review: the time of the last password check per session (step-up proves the
//! second factor only), whether a login attempt checked the password, and the purpose of each
//! text message for the per-purpose minute between codes.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut columns = [
            ("sessions", big_integer("password_at").default(0).to_owned()),
            ("login_attempts", boolean("password_ok").default(false).to_owned()),
            ("sms_sends", string("purpose").default("login").to_owned()),
        ];
        for (table, column) in columns.iter_mut() {
            manager.alter_table(Table::alter().table(*table).add_column(column).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in
            [("sessions", "password_at"), ("login_attempts", "password_ok"), ("sms_sends", "purpose")]
        {
            manager.alter_table(Table::alter().table(table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
