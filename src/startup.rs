//! Builds the application from settings, binds, serves, and shuts down gracefully.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use tokio::net::TcpListener;

use crate::authn::password::{PasswordError, PasswordHasher};
use crate::clock::Clock;
use crate::config::{ConfigError, Mode, Settings};
use crate::crypto::{MasterKey, MasterKeyError};
use crate::keys::KeyStore;
use crate::notify::ConfiguredSender;
use crate::oauth::sealed_token::{SealError, SealedTokens};
use crate::state::{AppState, Inner};
use crate::store::{self, StoreError};
use crate::views::i18n::CatalogueError;
use crate::views::{I18n, Views};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("TESSERA_MASTER_KEY is required in production mode (base64 of 32 random bytes)")]
    MasterKeyRequired,
    #[error(
        "TESSERA_MASTER_KEY is required when public_url is not on loopback (localhost); a development \
         key kept in the data folder is not used there"
    )]
    MasterKeyRequiredOffLoopback,
    #[error("master key: {0}")]
    MasterKey(#[from] MasterKeyError),
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Theme(#[from] crate::views::themes::ThemeError),
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Seal(#[from] SealError),
}

/// Connects (creating the SQLite file when needed), migrates, and assembles the state.
pub async fn build_state(settings: Settings, clock: Arc<dyn Clock>) -> Result<AppState, StartupError> {
    build(settings, clock, false).await
}

/// `build_state` for `tessera serve`: an unreachable database is waited for (see
/// `store::connect_with_retry`) rather than ending the start.
pub async fn build_state_waiting_for_database(
    settings: Settings,
    clock: Arc<dyn Clock>,
) -> Result<AppState, StartupError> {
    build(settings, clock, true).await
}

async fn build(settings: Settings, clock: Arc<dyn Clock>, wait: bool) -> Result<AppState, StartupError> {
    let database_url = settings.database_url();
    if database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&settings.data_dir)
            .map_err(|e| StartupError::Io(format!("cannot create {}", settings.data_dir.display()), e))?;
    }
    let master = resolve_master_key(&settings)?;
    let db = if wait {
        store::connect_with_retry(&database_url, &settings.database).await?
    } else {
        store::connect(&database_url, &settings.database).await?
    };
    store::migrate(&db).await?;
    let themes_dir = Some(settings.themes_dir.clone()).filter(|dir| dir.is_dir());
    let views = Views::with_themes(Arc::new(I18n::load()?), themes_dir, settings.mode == Mode::Development)?;
    let passwords = PasswordHasher::new()?;
    let sms = configured_sender(&settings)?;
    let mailer = configured_mailer(&settings)?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(3))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("tessera/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| StartupError::Io("cannot build the HTTP client".into(), std::io::Error::other(e)))?;
    Ok(AppState::new(Inner {
        token_writer: crate::store::token_writer::TokenWriter::new(db.clone()),
        db,
        settings,
        clock,
        sealed_tokens: SealedTokens::new(&master)?,
        revoked: Default::default(),
        keys: KeyStore::new(master),
        views,
        passwords,
        sms,
        mailer,
        metrics: crate::metrics::Metrics::default(),
        http,
        client_jwks: Default::default(),
        discovery: Default::default(),
        tenant_memory: Default::default(),
        client_memory: Default::default(),
    }))
}

/// The server's SMS sender. Production refuses the console sender; development mode on a public
/// address starts without it (loudly), so a test server there never prints a code to its log.
fn configured_sender(settings: &Settings) -> Result<ConfiguredSender, StartupError> {
    match ConfiguredSender::from_settings(&settings.sms, settings.allows_development_secrets()) {
        Ok(sender) => Ok(sender),
        Err(_) if settings.sms.sender == "console" && settings.mode == Mode::Development => {
            tracing::error!(
                public_url = %settings.public_url,
                "text messages are switched off: the console SMS sender would print sign-in codes to \
                 the log, and public_url is not on loopback; configure sms.sender (webhook or twilio)"
            );
            Ok(ConfiguredSender::Off)
        }
        Err(err) => Err(StartupError::Config(ConfigError::Invalid(err))),
    }
}

/// The server's email sender, by the same rules as the SMS sender: production refuses the
/// console; development mode off loopback starts with email switched off (loudly).
fn configured_mailer(settings: &Settings) -> Result<crate::email::Mailer, StartupError> {
    let hello = settings.public_url.host_str().unwrap_or("localhost").trim_matches(['[', ']']).to_string();
    match crate::email::Mailer::from_settings(&settings.email, settings.allows_development_secrets(), &hello)
    {
        Ok(mailer) => Ok(mailer),
        Err(_) if settings.email.sender == "console" && settings.mode == Mode::Development => {
            tracing::error!(
                public_url = %settings.public_url,
                "email is switched off: the console email sender would print sign-in links to the log, \
                 and public_url is not on loopback; configure email.sender = \"smtp\" and email.smtp_url"
            );
            Ok(crate::email::Mailer::Off)
        }
        Err(err) => Err(StartupError::Config(ConfigError::Invalid(err))),
    }
}

/// The configured master key; in development mode on loopback a generated one kept in the data
/// folder. Elsewhere a key beside the database it protects would protect nothing.
fn resolve_master_key(settings: &Settings) -> Result<MasterKey, StartupError> {
    if let Some(key) = settings.master_key() {
        return Ok(MasterKey::parse(key)?);
    }
    if settings.mode == Mode::Production {
        return Err(StartupError::MasterKeyRequired);
    }
    if !settings.allows_development_secrets() {
        return Err(StartupError::MasterKeyRequiredOffLoopback);
    }
    let path = settings.data_dir.join("master.key");
    if path.is_file() {
        let encoded = std::fs::read_to_string(&path)
            .map_err(|e| StartupError::Io(format!("cannot read {}", path.display()), e))?;
        return Ok(MasterKey::parse(&SecretString::from(encoded))?);
    }
    std::fs::create_dir_all(&settings.data_dir)
        .map_err(|e| StartupError::Io(format!("cannot create {}", settings.data_dir.display()), e))?;
    let encoded = MasterKey::generate_encoded()?;
    write_private_file(&path, &encoded)?;
    tracing::warn!(
        path = %path.display(),
        "no TESSERA_MASTER_KEY set: generated a development master key; set TESSERA_MASTER_KEY in production"
    );
    Ok(MasterKey::parse(&encoded)?)
}

fn write_private_file(path: &Path, secret: &SecretString) -> Result<(), StartupError> {
    use secrecy::ExposeSecret;
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file =
        options.open(path).map_err(|e| StartupError::Io(format!("cannot create {}", path.display()), e))?;
    file.write_all(secret.expose_secret().as_bytes())
        .map_err(|e| StartupError::Io(format!("cannot write {}", path.display()), e))
}

pub async fn bind(addr: SocketAddr) -> Result<TcpListener, StartupError> {
    TcpListener::bind(addr).await.map_err(|e| StartupError::Io(format!("cannot listen on {addr}"), e))
}

/// Serves until `shutdown` resolves, then finishes the requests in flight (within
/// `server.shutdown_timeout_seconds`; see `server::run`).
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), StartupError> {
    let housekeeping = tokio::spawn(housekeeping(state.clone()));
    // Back-channel logout retries, and deliveries another instance left, on every instance.
    let logout_deliveries = tokio::spawn(crate::oidc::backchannel::run(state.clone()));
    let limits = crate::server::Limits::from_settings(&state.settings.server);
    let app = crate::http::app(state);
    let result = crate::server::run(listener, app, limits, shutdown)
        .await
        .map_err(|e| StartupError::Io("server failed".into(), e));
    housekeeping.abort();
    logout_deliveries.abort();
    result
}

/// Serves `/metrics` on the operators' listener until the task is dropped: a scrape has nothing
/// to finish, so it needs no graceful shutdown.
pub async fn serve_metrics(state: AppState, listener: TcpListener) -> Result<(), StartupError> {
    axum::serve(listener, crate::http::metrics_router(state))
        .await
        .map_err(|e| StartupError::Io("metrics server failed".into(), e))
}

/// Removes rows that can no longer matter, every ten minutes.
async fn housekeeping(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        let now = state.now();
        let settings = &state.settings;
        match store::housekeeping::purge(
            &state.db,
            now,
            settings.sessions.lifetime_seconds,
            settings.throttle.forget_after_seconds,
        )
        .await
        {
            Ok(purged) => tracing::debug!(?purged, "housekeeping"),
            Err(err) => tracing::warn!(error = %err, "housekeeping failed"),
        }
        // The first tick runs at start: email an earlier instance did not send, or that waits
        // after failed tries.
        if let Err(err) = crate::email::outbox::resume_pending(&state, now).await {
            tracing::warn!(error = %err, "housekeeping: email outbox");
        }
        if let Err(err) = store::email_links::purge_expired(&state.db, now - 86_400).await {
            tracing::warn!(error = %err, "housekeeping: email links");
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
