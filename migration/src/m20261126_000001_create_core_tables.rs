//! The walking skeleton's tables: tenants, users, clients, sessions, login attempts,
//! authorization codes, access tokens, signing keys, audit events and login throttles.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn create(name: &'static str, columns: Vec<ColumnDef>) -> TableCreateStatement {
    let mut table = Table::create();
    table.table(name).if_not_exists();
    for mut column in columns {
        table.col(&mut column);
    }
    table.to_owned()
}

fn index(
    name: &'static str,
    table: &'static str,
    columns: &[&'static str],
    unique: bool,
) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table).if_not_exists();
    for column in columns {
        index.col(*column);
    }
    if unique {
        index.unique();
    }
    index.to_owned()
}

const TABLES: [&str; 10] = [
    "login_throttles",
    "audit_events",
    "signing_keys",
    "access_tokens",
    "authorization_codes",
    "login_attempts",
    "sessions",
    "clients",
    "users",
    "tenants",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            create(
                "tenants",
                vec![
                    string("id").primary_key().to_owned(),
                    string_uniq("slug"),
                    string("display_name"),
                    string("default_locale"),
                    big_integer("created_at"),
                ],
            ),
            create(
                "users",
                vec![
                    string("id").primary_key().to_owned(),
                    string("tenant_id"),
                    string("email"),
                    boolean("email_verified"),
                    text("password_hash"),
                    big_integer("created_at"),
                    big_integer("updated_at"),
                ],
            ),
            create(
                "clients",
                vec![
                    string("id").primary_key().to_owned(),
                    string("tenant_id"),
                    string("client_id"),
                    text_null("secret_hash"),
                    boolean("is_public"),
                    boolean("first_party"),
                    text("redirect_uris"),
                    big_integer("created_at"),
                ],
            ),
            create(
                "sessions",
                vec![
                    string("id").primary_key().to_owned(),
                    string_uniq("sid"),
                    string("tenant_id"),
                    string("user_id"),
                    big_integer("auth_time"),
                    text("amr"),
                    string("acr"),
                    big_integer("created_at"),
                    big_integer("last_seen_at"),
                    big_integer("expires_at"),
                ],
            ),
            create(
                "login_attempts",
                vec![
                    string("id").primary_key().to_owned(),
                    string("tenant_id"),
                    string("browser_hash"),
                    string("csrf_token"),
                    text("request"),
                    big_integer("created_at"),
                    big_integer("expires_at"),
                ],
            ),
            create(
                "authorization_codes",
                vec![
                    string("code_hash").primary_key().to_owned(),
                    string("tenant_id"),
                    string("client_id"),
                    string("user_id"),
                    string("sid"),
                    text("redirect_uri"),
                    text("scope"),
                    text_null("nonce"),
                    string_null("code_challenge"),
                    big_integer("auth_time"),
                    text("amr"),
                    string("acr"),
                    big_integer("created_at"),
                    big_integer("expires_at"),
                    big_integer_null("consumed_at"),
                ],
            ),
            create(
                "access_tokens",
                vec![
                    string("token_hash").primary_key().to_owned(),
                    string("tenant_id"),
                    string("client_id"),
                    string_null("user_id"),
                    text("scope"),
                    string_null("code_hash"),
                    big_integer("created_at"),
                    big_integer("expires_at"),
                    big_integer_null("revoked_at"),
                ],
            ),
            create(
                "signing_keys",
                vec![
                    string("kid").primary_key().to_owned(),
                    string("tenant_id"),
                    string("alg"),
                    text("private_key_sealed"),
                    text("public_jwk"),
                    string("status"),
                    big_integer("created_at"),
                ],
            ),
            create(
                "audit_events",
                vec![
                    string("id").primary_key().to_owned(),
                    string_null("tenant_id"),
                    string_null("user_id"),
                    string("event"),
                    text("detail"),
                    string_null("ip"),
                    big_integer("created_at"),
                ],
            ),
            create(
                "login_throttles",
                vec![
                    string("key").primary_key().to_owned(),
                    integer("failures"),
                    big_integer("last_failure_at"),
                ],
            ),
        ];
        for table in tables {
            manager.create_table(table).await?;
        }
        let indexes = [
            index("ux_users_tenant_email", "users", &["tenant_id", "email"], true),
            index("ux_clients_tenant_client_id", "clients", &["tenant_id", "client_id"], true),
            index("ix_access_tokens_code_hash", "access_tokens", &["code_hash"], false),
            index("ix_signing_keys_tenant", "signing_keys", &["tenant_id", "status"], false),
            index("ix_audit_events_tenant_time", "audit_events", &["tenant_id", "created_at"], false),
            index("ix_login_attempts_expires", "login_attempts", &["expires_at"], false),
            index("ix_sessions_expires", "sessions", &["expires_at"], false),
        ];
        for index in indexes {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in TABLES {
            manager.drop_table(Table::drop().table(name).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}
