//! Second factor II: text messages. Verified phone numbers, codes (hashed, newest counts), a log
//! of sends for the throttles, and the tenant's SMS policy.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut columns = [
            ("tenants", string("sms_region").default("NL").to_owned()),
            ("tenants", text("sms_countries").default("").to_owned()),
            ("tenants", big_integer("sms_code_seconds").default(1800).to_owned()),
            ("tenants", integer("sms_daily_cap").default(500).to_owned()),
            ("users", string_null("phone_number")),
        ];
        for (table, column) in columns.iter_mut() {
            manager.alter_table(Table::alter().table(*table).add_column(column).to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("sms_codes")
                    .if_not_exists()
                    .col(string("id").primary_key().to_owned())
                    .col(string("tenant_id"))
                    .col(string("user_id"))
                    .col(string("purpose"))
                    .col(string("phone_number"))
                    .col(string("code_hash"))
                    .col(integer("failures"))
                    .col(big_integer("created_at"))
                    .col(big_integer("expires_at"))
                    .col(big_integer_null("consumed_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("sms_sends")
                    .if_not_exists()
                    .col(string("id").primary_key().to_owned())
                    .col(string("tenant_id"))
                    .col(string("user_id"))
                    .col(string("phone_number"))
                    .col(boolean("delivered"))
                    .col(big_integer("created_at"))
                    .to_owned(),
            )
            .await?;
        let indexes = [
            Index::create()
                .name("ix_sms_codes_user")
                .table("sms_codes")
                .col("user_id")
                .col("purpose")
                .to_owned(),
            Index::create()
                .name("ix_sms_sends_user")
                .table("sms_sends")
                .col("user_id")
                .col("created_at")
                .to_owned(),
            Index::create()
                .name("ix_sms_sends_phone")
                .table("sms_sends")
                .col("phone_number")
                .col("created_at")
                .to_owned(),
            Index::create()
                .name("ix_sms_sends_tenant")
                .table("sms_sends")
                .col("tenant_id")
                .col("created_at")
                .to_owned(),
        ];
        for index in indexes {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["sms_sends", "sms_codes"] {
            manager.drop_table(Table::drop().table(table).if_exists().to_owned()).await?;
        }
        for (table, column) in [
            ("tenants", "sms_region"),
            ("tenants", "sms_countries"),
            ("tenants", "sms_code_seconds"),
            ("tenants", "sms_daily_cap"),
            ("users", "phone_number"),
        ] {
            manager.alter_table(Table::alter().table(table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
