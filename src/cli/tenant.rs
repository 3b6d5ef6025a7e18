//! `tessera tenant`: create, list and update tenants, and set a tenant's own SMS sender.

use std::io::Read;

use clap::{Args, Subcommand};

use crate::admin;
use crate::state::AppState;
use crate::store;

#[derive(Subcommand)]
pub(super) enum TenantCommand {
    /// Create a tenant; its issuer is {public_url}/t/SLUG.
    Create {
        slug: String,
        #[arg(long)]
        name: String,
    },
    /// List tenants.
    List,
    /// Give a tenant its own SMS sender (its provider account), or back to the server's.
    SmsSender(TenantSmsSender),
    /// Change a tenant's second-factor policy.
    Update {
        slug: String,
        /// Users without a second factor must set one up during login.
        #[arg(long, value_name = "true|false")]
        require_2fa: Option<bool>,
        /// Days "Skip this step for one month on this device" lasts; 0 turns it off.
        #[arg(long, value_name = "N", allow_negative_numbers = true)]
        trusted_device_days: Option<i32>,
        /// Region for phone numbers without a country code (NL).
        #[arg(long, value_name = "CC")]
        sms_region: Option<String>,
        /// Regions text messages may go to, comma-separated (default: the region alone).
        #[arg(long, value_name = "CC,CC")]
        sms_countries: Option<String>,
        /// Text messages per day for the whole tenant (a fifth of it for confirming new numbers).
        #[arg(long, value_name = "N", allow_negative_numbers = true)]
        sms_daily_cap: Option<i32>,
        /// How long a text-message code is valid.
        #[arg(long, value_name = "MINUTES")]
        sms_code_minutes: Option<i64>,
        /// The theme folder that brands the tenant's pages.
        #[arg(long, value_name = "NAME")]
        theme: Option<String>,
        /// A host name of its own (login.kliniek-west.example), or "none".
        #[arg(long, value_name = "HOST")]
        host: Option<String>,
        /// The sender of the tenant's email ("Kliniek West <no-reply@kliniek-west.example>"), or
        /// "none" for the server's email.from.
        #[arg(long, value_name = "MAILBOX")]
        email_from: Option<String>,
    },
}

#[derive(Args)]
pub(super) struct TenantSmsSender {
    slug: String,
    /// webhook, twilio, console (development), or default (the server's sender).
    #[arg(long)]
    sender: String,
    #[arg(long)]
    webhook_url: Option<String>,
    #[arg(long)]
    twilio_base_url: Option<String>,
    #[arg(long)]
    twilio_account_sid: Option<String>,
    #[arg(long)]
    twilio_from: Option<String>,
    #[arg(long)]
    twilio_messaging_service_sid: Option<String>,
    /// Read the webhook secret or the Twilio auth token from standard input.
    #[arg(long)]
    secret_stdin: bool,
}

pub(super) async fn run(state: &AppState, command: TenantCommand) -> Result<(), String> {
    match command {
        TenantCommand::Create { slug, name } => {
            let tenant = admin::create_tenant(state, &slug, &name).await.map_err(|e| e.to_string())?;
            println!(
                "created tenant {} ({})\nissuer: {}",
                tenant.slug(),
                tenant.row.display_name,
                tenant.issuer
            );
        }
        TenantCommand::Update {
            slug,
            require_2fa,
            trusted_device_days,
            sms_region,
            sms_countries,
            sms_daily_cap,
            sms_code_minutes,
            theme,
            host,
            email_from,
        } => {
            let mut tenant = admin::tenant(state, &slug).await.map_err(|e| e.to_string())?;
            let sms_change = sms_region.is_some()
                || sms_countries.is_some()
                || sms_daily_cap.is_some()
                || sms_code_minutes.is_some();
            if sms_change {
                let policy = admin::SmsPolicy {
                    region: sms_region,
                    countries: sms_countries,
                    daily_cap: sms_daily_cap,
                    code_minutes: sms_code_minutes,
                };
                tenant = admin::update_sms_policy(state, &tenant, policy).await.map_err(|e| e.to_string())?;
            }
            if let Some(from) = &email_from {
                tenant =
                    admin::set_tenant_email_from(state, &tenant, from).await.map_err(|e| e.to_string())?;
            }
            let other_change = theme.is_some() || host.is_some();
            if other_change {
                tenant = admin::update_tenant_branding(state, &tenant, theme.as_deref(), host.as_deref())
                    .await
                    .map_err(|e| e.to_string())?;
            }
            if require_2fa.is_some()
                || trusted_device_days.is_some()
                || !(sms_change || other_change || email_from.is_some())
            {
                tenant = admin::update_tenant_policy(state, &tenant, require_2fa, trusted_device_days)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            println!(
                "updated tenant {}: require_2fa={} trusted_device_days={} sms_region={} sms_countries={} sms_daily_cap={} sms_code_minutes={} email_from={}",
                tenant.slug(),
                tenant.row.require_2fa,
                tenant.row.trusted_device_days,
                tenant.row.sms_region,
                if tenant.row.sms_countries.is_empty() { "-" } else { &tenant.row.sms_countries },
                tenant.row.sms_daily_cap,
                tenant.row.sms_code_seconds / 60,
                tenant.row.email_from.as_deref().unwrap_or("-")
            );
        }
        TenantCommand::SmsSender(args) => {
            let tenant = admin::tenant(state, &args.slug).await.map_err(|e| e.to_string())?;
            let sender = if args.sender == "default" {
                None
            } else {
                let secret = if args.secret_stdin { read_secret_from_stdin()? } else { String::new() };
                let is_webhook = args.sender == "webhook";
                Some(crate::notify::SenderOverride {
                    sender: args.sender.clone(),
                    webhook_url: args.webhook_url.unwrap_or_default(),
                    webhook_secret: if is_webhook { secret.clone() } else { String::new() },
                    twilio_base_url: args.twilio_base_url.unwrap_or_default(),
                    twilio_account_sid: args.twilio_account_sid.unwrap_or_default(),
                    twilio_auth_token: if is_webhook { String::new() } else { secret },
                    twilio_from: args.twilio_from.unwrap_or_default(),
                    twilio_messaging_service_sid: args.twilio_messaging_service_sid.unwrap_or_default(),
                })
            };
            admin::set_tenant_sms_sender(state, &tenant, sender).await.map_err(|e| e.to_string())?;
            println!("tenant {} now sends text messages with: {}", tenant.slug(), args.sender);
        }
        TenantCommand::List => {
            let tenants = store::tenants::list(&state.db).await.map_err(|e| e.to_string())?;
            println!("{:<24} {:<32} {:<12} {:<13} ISSUER", "SLUG", "NAME", "REQUIRE 2FA", "DEVICE DAYS");
            for row in tenants {
                let issuer = crate::tenants::issuer_for(state, &row.slug);
                println!(
                    "{:<24} {:<32} {:<12} {:<13} {issuer}",
                    row.slug, row.display_name, row.require_2fa, row.trusted_device_days
                );
            }
        }
    }
    Ok(())
}

/// A secret from standard input, without its trailing newline; never from the command line.
fn read_secret_from_stdin() -> Result<String, String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).map_err(|e| format!("cannot read standard input: {e}"))?;
    let secret = input.trim_end_matches(['\n', '\r']).to_string();
    if secret.is_empty() {
        return Err("the secret on standard input is empty".into());
    }
    Ok(secret)
}
