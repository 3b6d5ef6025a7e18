//! Back-channel logout tokens are signed at each delivery attempt, not when the session ends:
//! a delivery keeps the tenant, the algorithm and the claims; `logout_token` stays for rows an
//! earlier release wrote (already signed).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: [&str; 3] = ["tenant_id", "alg", "claims"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        for mut column in [string_null("tenant_id"), string_null("alg"), text_null("claims")] {
            let alter = Table::alter().table("logout_deliveries").add_column(&mut column).to_owned();
            manager.alter_table(alter).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in COLUMNS {
            let alter = Table::alter().table("logout_deliveries").drop_column(column).to_owned();
            manager.alter_table(alter).await?;
        }
        Ok(())
    }
}
