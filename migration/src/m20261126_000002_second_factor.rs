//! Second factor I: authenticator apps (TOTP), backup codes, trusted devices, tenant policy,
//! login-attempt stages and per-session CSRF tokens.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn add_column(table: &'static str, column: ColumnDef) -> TableAlterStatement {
    let mut column = column;
    Table::alter().table(table).add_column(&mut column).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let alterations = [
            add_column("tenants", boolean("require_2fa").default(false).to_owned()),
            add_column("tenants", integer("trusted_device_days").default(30).to_owned()),
            add_column("users", string_null("two_factor_method")),
            add_column("sessions", string("csrf_token").default("").to_owned()),
            add_column("login_attempts", string("stage").default("password").to_owned()),
            add_column("login_attempts", string_null("user_id")),
            add_column("login_attempts", integer("factor_failures").default(0).to_owned()),
            add_column("login_attempts", text_null("notice")),
        ];
        for alteration in alterations {
            manager.alter_table(alteration).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table("totp_credentials")
                    .if_not_exists()
                    .col(string("id").primary_key().to_owned())
                    .col(string("tenant_id"))
                    .col(string("user_id"))
                    .col(text("secret_sealed"))
                    .col(string("status"))
                    .col(big_integer_null("last_used_step"))
                    .col(big_integer("created_at"))
                    .col(big_integer_null("confirmed_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("backup_codes")
                    .if_not_exists()
                    .col(string("id").primary_key().to_owned())
                    .col(string("tenant_id"))
                    .col(string("user_id"))
                    .col(string("code_hash"))
                    .col(big_integer_null("used_at"))
                    .col(big_integer("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("trusted_devices")
                    .if_not_exists()
                    .col(string("id").primary_key().to_owned())
                    .col(string("tenant_id"))
                    .col(string("user_id"))
                    .col(string_uniq("token_hash"))
                    .col(string("browser"))
                    .col(big_integer("created_at"))
                    .col(big_integer("last_used_at"))
                    .col(big_integer("expires_at"))
                    .to_owned(),
            )
            .await?;
        let indexes = [
            Index::create()
                .name("ix_totp_credentials_user")
                .table("totp_credentials")
                .col("user_id")
                .to_owned(),
            Index::create()
                .name("ux_backup_codes_user_code")
                .table("backup_codes")
                .col("user_id")
                .col("code_hash")
                .unique()
                .to_owned(),
            Index::create()
                .name("ix_trusted_devices_user")
                .table("trusted_devices")
                .col("user_id")
                .to_owned(),
        ];
        for index in indexes {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["trusted_devices", "backup_codes", "totp_credentials"] {
            manager.drop_table(Table::drop().table(table).if_exists().to_owned()).await?;
        }
        let drops: [(&str, &str); 8] = [
            ("tenants", "require_2fa"),
            ("tenants", "trusted_device_days"),
            ("users", "two_factor_method"),
            ("sessions", "csrf_token"),
            ("login_attempts", "stage"),
            ("login_attempts", "user_id"),
            ("login_attempts", "factor_failures"),
            ("login_attempts", "notice"),
        ];
        for (table, column) in drops {
            manager.alter_table(Table::alter().table(table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
