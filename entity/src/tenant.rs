use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    #[sea_orm(unique)]
    pub slug: String,
    pub display_name: String,
    pub default_locale: String,
    pub created_at: i64,
    /// Users without a second factor must set one up during login.
    pub require_2fa: bool,
    /// How long "Skip this step for one month on this device" lasts; 0 turns it off.
    pub trusted_device_days: i32,
    /// Region for phone numbers typed without a country code (`NL`).
    pub sms_region: String,
    /// Comma-separated regions codes may be sent to; empty: only `sms_region`.
    pub sms_countries: String,
    pub sms_code_seconds: i64,
    /// Text messages per day for the whole tenant (a cost and fraud ceiling).
    pub sms_daily_cap: i32,
    /// The tenant's own SMS sender settings (JSON), sealed with the master key; `None`: the
    /// server's sender.
    pub sms_sender_sealed: Option<String>,
    /// Name of the theme folder that brands the tenant's pages.
    pub theme: String,
    /// A host name of its own (`login.kliniek-west.example`): served at the root, its own issuer.
    #[sea_orm(unique)]
    pub host: Option<String>,
    /// The sender address of this tenant's email (`Kliniek West <no-reply@kliniek-west.example>`);
    /// `None`: the server's `email.from`.
    pub email_from: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
