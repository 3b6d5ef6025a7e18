//! Revocations of self-contained access tokens (`oauth::revoked`): every instance keeps them in
//! memory and reads the new ones each second, so introspection needs no read of its own. A row
//! lives until no token it names can still be unexpired.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("token_revocations")
                    .if_not_exists()
                    // `token` (subject: the token's SHA-256) or `user` (subject: the user id).
                    .col(string("kind"))
                    .col(string("subject"))
                    .col(string("tenant_id"))
                    .col(big_integer("revoked_at"))
                    .col(big_integer("expires_at"))
                    // The database's own clock (Unix seconds) when the row was written: instances
                    // read the new rows by it, so their clocks never enter into it.
                    .col(big_integer("recorded_at"))
                    .primary_key(Index::create().col("kind").col("subject"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("token_revocations_recorded_at")
                    .table("token_revocations")
                    .col("recorded_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("token_revocations").if_exists().to_owned()).await
    }
}
