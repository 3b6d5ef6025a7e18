//! The `tessera` command line: serve, migrate, and the admin commands.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;

use crate::admin::{self, NewClientRequest};
use crate::clock::SystemClock;
use crate::config::Settings;
use crate::state::AppState;
use crate::{demo, startup, store};

#[derive(Parser)]
#[command(name = "tessera", version, about = "OpenID Connect identity provider with second-factor sign-in")]
pub struct Cli {
    /// Configuration file (TOML) layered over the built-in defaults.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (applies migrations first).
    Serve {
        /// Create a demo tenant, client and user when missing (development mode only).
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage tenants (login spaces).
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage relying-party clients.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Work with themes.
    #[command(subcommand)]
    Theme(ThemeCommand),
}

#[derive(Subcommand)]
enum ThemeCommand {
    /// Render every page of a theme (or of all themes) with sample data and report errors.
    Check { name: Option<String> },
    /// List the themes found in the themes folder.
    List,
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Publish a new signing key now; it signs after keys.rotation_overlap_seconds, and the old key
    /// leaves the JWKS once every token it signed has expired.
    Rotate {
        #[arg(long)]
        tenant: String,
        /// RS256 (default), ES256 or EdDSA.
        #[arg(long, default_value = "RS256")]
        alg: String,
    },
    /// List a tenant's published keys.
    List {
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Subcommand)]
enum TenantCommand {
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
        /// Text messages per day for the whole tenant.
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
    },
}

#[derive(Args)]
struct TenantSmsSender {
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

#[derive(Subcommand)]
enum ClientCommand {
    /// Register a client; prints its secret once (confidential clients).
    Create(ClientCreate),
    /// List the clients of a tenant.
    List {
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Args)]
struct ClientCreate {
    #[arg(long)]
    tenant: String,
    #[arg(long)]
    client_id: String,
    /// Exact redirect URI; repeat for several.
    #[arg(long = "redirect-uri", required = true)]
    redirect_uris: Vec<String>,
    /// A public client (native app or SPA): no secret, PKCE required.
    #[arg(long)]
    public: bool,
    /// A first-party app of the tenant itself (no consent screen).
    #[arg(long)]
    first_party: bool,
    /// Where logout may return the browser; repeat for several.
    #[arg(long = "post-logout-redirect-uri")]
    post_logout_redirect_uris: Vec<String>,
    /// A scope the client may obtain with client_credentials; repeat for several.
    #[arg(long = "scope")]
    allowed_scopes: Vec<String>,
    /// Issue refresh tokens even without the offline_access scope (they end with the session).
    #[arg(long)]
    refresh_tokens: bool,
    /// ID token signing algorithm: RS256 (default), ES256 or EdDSA.
    #[arg(long, value_name = "ALG")]
    id_token_alg: Option<String>,
    /// Authenticate with private_key_jwt using the public keys in this JWK Set file (no secret).
    #[arg(long, value_name = "FILE")]
    jwks_file: Option<PathBuf>,
    /// Authenticate with private_key_jwt using the JWK Set at this URL (no secret).
    #[arg(long, value_name = "URL")]
    jwks_uri: Option<String>,
    /// Receive back-channel logout tokens at this URL.
    #[arg(long, value_name = "URL")]
    backchannel_logout_uri: Option<String>,
    /// Issue RFC 9068 JWT access tokens (signed like the ID tokens) instead of opaque ones.
    #[arg(long)]
    jwt_access_tokens: bool,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from standard input.
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        /// Display name (the `name` claim with the profile scope).
        #[arg(long)]
        name: Option<String>,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List the users of a tenant.
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Import users from another identity provider: a JSON Lines file of
    /// {"email", "name"?, "password_hash" (Argon2id PHC), "totp_secret"? (base32)}.
    /// All or nothing: a bad line imports no one.
    Import {
        #[arg(long)]
        tenant: String,
        /// The JSON Lines file ("-" for standard input).
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(err) => return fail(err),
    };
    let serving = matches!(cli.command, Command::Serve { .. });
    init_logging(&settings, serving);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => return fail(err),
    };
    match runtime.block_on(execute(cli.command, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(message),
    }
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

fn init_logging(settings: &Settings, serving: bool) {
    use tracing_subscriber::EnvFilter;
    let default = if serving { settings.log.as_str() } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

async fn execute(command: Command, settings: Settings) -> Result<(), String> {
    let listen = settings.listen;
    let state = startup::build_state(settings, Arc::new(SystemClock)).await.map_err(|e| e.to_string())?;
    match command {
        Command::Serve { demo } => {
            if demo {
                demo::ensure(&state).await.map_err(|e| e.to_string())?;
            }
            let listener = startup::bind(listen).await.map_err(|e| e.to_string())?;
            tracing::info!(address = %listen, public_url = %state.settings.public_url, "tessera is listening");
            if matches!(state.settings.public_url.host(), Some(url::Host::Ipv4(_) | url::Host::Ipv6(_))) {
                tracing::warn!(
                    "public_url uses an IP address: browsers refuse it as a WebAuthn relying party, so \
                     security keys and passkeys will not work; use a host name (localhost for development)"
                );
            }
            startup::serve(state, listener, startup::shutdown_signal()).await.map_err(|e| e.to_string())
        }
        Command::Migrate => {
            println!("migrations applied");
            Ok(())
        }
        Command::Tenant(command) => tenant(&state, command).await,
        Command::Client(command) => client(&state, command).await,
        Command::User(command) => user(&state, command).await,
        Command::Key(command) => key(&state, command).await,
        Command::Theme(command) => theme(&state, command),
    }
}

async fn tenant(state: &AppState, command: TenantCommand) -> Result<(), String> {
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
            let other_change = theme.is_some() || host.is_some();
            if other_change {
                tenant = admin::update_tenant_branding(state, &tenant, theme.as_deref(), host.as_deref())
                    .await
                    .map_err(|e| e.to_string())?;
            }
            if require_2fa.is_some() || trusted_device_days.is_some() || !(sms_change || other_change) {
                tenant = admin::update_tenant_policy(state, &tenant, require_2fa, trusted_device_days)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            println!(
                "updated tenant {}: require_2fa={} trusted_device_days={} sms_region={} sms_countries={} sms_daily_cap={} sms_code_minutes={}",
                tenant.slug(),
                tenant.row.require_2fa,
                tenant.row.trusted_device_days,
                tenant.row.sms_region,
                if tenant.row.sms_countries.is_empty() { "-" } else { &tenant.row.sms_countries },
                tenant.row.sms_daily_cap,
                tenant.row.sms_code_seconds / 60
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

async fn client(state: &AppState, command: ClientCommand) -> Result<(), String> {
    use secrecy::ExposeSecret;
    match command {
        ClientCommand::Create(args) => {
            let tenant = admin::tenant(state, &args.tenant).await.map_err(|e| e.to_string())?;
            let jwks = match &args.jwks_file {
                Some(path) => Some(
                    std::fs::read_to_string(path)
                        .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
                ),
                None => None,
            };
            let request = NewClientRequest {
                client_id: args.client_id,
                redirect_uris: args.redirect_uris,
                public: args.public,
                first_party: args.first_party,
                secret: None,
                post_logout_redirect_uris: args.post_logout_redirect_uris,
                allowed_scopes: args.allowed_scopes,
                refresh_without_offline_access: args.refresh_tokens,
                id_token_alg: args.id_token_alg,
                jwks,
                jwks_uri: args.jwks_uri,
                backchannel_logout_uri: args.backchannel_logout_uri,
                jwt_access_tokens: args.jwt_access_tokens,
            };
            let (row, secret) =
                admin::create_client(state, &tenant, request).await.map_err(|e| e.to_string())?;
            println!("created client {} in tenant {}", row.client_id, tenant.slug());
            match secret {
                Some(secret) => {
                    println!("client secret (shown only now, store it safely): {}", secret.expose_secret())
                }
                None => println!("public client: no secret; use PKCE (S256)"),
            }
        }
        ClientCommand::List { tenant } => {
            let tenant = admin::tenant(state, &tenant).await.map_err(|e| e.to_string())?;
            let clients = store::clients::list(&state.db, tenant.id()).await.map_err(|e| e.to_string())?;
            println!("{:<32} {:<13} {:<12} REDIRECT URIS", "CLIENT ID", "TYPE", "PARTY");
            for row in clients {
                let uris = store::clients::redirect_uris(&row).map_err(|e| e.to_string())?;
                let uris = uris.iter().map(|uri| uri.as_str()).collect::<Vec<_>>().join(" ");
                let kind = if row.is_public { "public" } else { "confidential" };
                let party = if row.first_party { "first-party" } else { "third-party" };
                println!("{:<32} {kind:<13} {party:<12} {uris}", row.client_id);
            }
        }
    }
    Ok(())
}

async fn user(state: &AppState, command: UserCommand) -> Result<(), String> {
    match command {
        UserCommand::Create { tenant, email, name, password_stdin: _ } => {
            let tenant = admin::tenant(state, &tenant).await.map_err(|e| e.to_string())?;
            let mut input = String::new();
            std::io::stdin()
                .read_to_string(&mut input)
                .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
            // One trailing newline comes from `echo` or a terminal; it is not part of the password.
            let password = input.strip_suffix('\n').unwrap_or(&input);
            let password = password.strip_suffix('\r').unwrap_or(password);
            if password.is_empty() {
                return Err("the password on standard input is empty".into());
            }
            let row = admin::create_user(
                state,
                &tenant,
                &email,
                name.as_deref(),
                SecretString::from(password.to_string()),
            )
            .await
            .map_err(|e| e.to_string())?;
            println!("created user {} in tenant {} (sub {})", row.email, tenant.slug(), row.id);
        }
        UserCommand::Import { tenant, file } => {
            let tenant = admin::tenant(state, &tenant).await.map_err(|e| e.to_string())?;
            let input = if file.as_os_str() == "-" {
                let mut input = String::new();
                std::io::stdin()
                    .read_to_string(&mut input)
                    .map_err(|e| format!("cannot read standard input: {e}"))?;
                input
            } else {
                std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?
            };
            let imported =
                crate::user_import::import_users(state, &tenant, &input).await.map_err(|e| e.to_string())?;
            println!(
                "imported {} users into tenant {} ({} with an authenticator app)",
                imported.users,
                tenant.slug(),
                imported.with_totp
            );
        }
        UserCommand::List { tenant } => {
            let tenant = admin::tenant(state, &tenant).await.map_err(|e| e.to_string())?;
            let users = store::users::list(&state.db, tenant.id()).await.map_err(|e| e.to_string())?;
            println!("{:<40} {:<38} CREATED", "EMAIL", "SUB");
            for row in users {
                let created = chrono::DateTime::from_timestamp(row.created_at, 0)
                    .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                    .unwrap_or_default();
                println!("{:<40} {:<38} {created}", row.email, row.id);
            }
        }
    }
    Ok(())
}

async fn key(state: &AppState, command: KeyCommand) -> Result<(), String> {
    let format = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default()
    };
    match command {
        KeyCommand::Rotate { tenant, alg } => {
            let tenant = admin::tenant(state, &tenant).await.map_err(|e| e.to_string())?;
            let row = admin::rotate_key(state, &tenant, &alg).await.map_err(|e| e.to_string())?;
            println!("published {} key {}; it signs from {}", row.alg, row.kid, format(row.activates_at));
        }
        KeyCommand::List { tenant } => {
            let tenant = admin::tenant(state, &tenant).await.map_err(|e| e.to_string())?;
            let rows = store::signing_keys::published(&state.db, tenant.id(), state.now())
                .await
                .map_err(|e| e.to_string())?;
            println!("{:<7} {:<44} {:<24} RETIRES", "ALG", "KID", "SIGNS FROM");
            for row in rows {
                let retires = row.retires_at.map(format).unwrap_or_else(|| "-".to_string());
                println!("{:<7} {:<44} {:<24} {retires}", row.alg, row.kid, format(row.activates_at));
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

fn theme(state: &AppState, command: ThemeCommand) -> Result<(), String> {
    match command {
        ThemeCommand::List => {
            for name in state.views.theme_names() {
                println!("{name}");
            }
            Ok(())
        }
        ThemeCommand::Check { name } => {
            let names = match name {
                Some(name) if state.views.has_theme(&name) => vec![name],
                Some(name) => {
                    return Err(format!(
                        "unknown theme {name:?}; known: {}",
                        state.views.theme_names().join(", ")
                    ));
                }
                None => state.views.theme_names(),
            };
            let mut failures = Vec::new();
            for name in &names {
                let found = state.views.check(name);
                if found.is_empty() {
                    println!("theme {name}: every page renders in every language");
                }
                failures.extend(found);
            }
            if failures.is_empty() {
                Ok(())
            } else {
                for failure in &failures {
                    eprintln!("{failure}");
                }
                Err(format!("{} page(s) failed to render", failures.len()))
            }
        }
    }
}
