//! Changing the email address (`email_links.new_email`: the address a change link moves the person
//! to) and the person's language (`users.locale`: the page language of their last sign-in, for
//! emails that no page asks for, such as an administrator's change).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one column at a time.
        let mut new_email = string_null("new_email");
        manager
            .alter_table(Table::alter().table("email_links").add_column(&mut new_email).to_owned())
            .await?;
        let mut locale = string_null("locale");
        manager.alter_table(Table::alter().table("users").add_column(&mut locale).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("users").drop_column("locale").to_owned()).await?;
        manager.alter_table(Table::alter().table("email_links").drop_column("new_email").to_owned()).await
    }
}
