//! The `tessera` command line: serve, migrate, and the admin commands.
//! Each command group has its file (tenant, client, user, key, theme, serve); this one parses,
//! sets up logging and the runtime, and dispatches.

mod audit;
mod client;
mod key;
mod serve;
mod tenant;
mod theme;
mod user;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use self::audit::AuditCommand;
use self::client::ClientCommand;
use self::key::KeyCommand;
use self::tenant::TenantCommand;
use self::theme::ThemeCommand;
use self::user::UserCommand;
use crate::clock::SystemClock;
use crate::config::Settings;
use crate::startup;

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
    /// Read the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
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
    if !settings.ignored_env.is_empty() {
        tracing::info!(
            variables = %settings.ignored_env.join(", "),
            "ignoring environment variables that name no tessera setting (a platform's, such as \
             Kubernetes' TESSERA_PORT)"
        );
    }
    let state = if matches!(command, Command::Serve { .. }) {
        startup::build_state_waiting_for_database(settings, Arc::new(SystemClock)).await
    } else {
        startup::build_state(settings, Arc::new(SystemClock)).await
    }
    .map_err(|e| e.to_string())?;
    match command {
        Command::Serve { demo } => serve::run(state, listen, demo).await,
        Command::Migrate => {
            println!("migrations applied");
            Ok(())
        }
        Command::Tenant(command) => tenant::run(&state, command).await,
        Command::Client(command) => client::run(&state, command).await,
        Command::User(command) => user::run(&state, command).await,
        Command::Key(command) => key::run(&state, command).await,
        Command::Theme(command) => theme::run(&state, command),
        Command::Audit(command) => audit::run(&state, command).await,
    }
}
