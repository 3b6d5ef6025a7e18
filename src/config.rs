//! Typed settings: embedded defaults (`config/default.toml`) < a `--config` file < `TESSERA_*` env.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// The longest refresh retry grace accepted (Cognito's upper bound too).
pub const MAX_REFRESH_REUSE_GRACE: i64 = 60;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Development,
    Production,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub mode: Mode,
    pub listen: SocketAddr,
    /// Where `/metrics` is served, apart from `listen`; empty: nowhere.
    metrics_listen: String,
    pub public_url: Url,
    pub data_dir: PathBuf,
    /// Folder of tenant themes (`<name>/theme.toml`, `templates/`, `static/`).
    pub themes_dir: PathBuf,
    database_url: String,
    master_key: SecretString,
    pub log: String,
    pub trust_forwarded_for: bool,
    pub tokens: TokenSettings,
    pub sessions: SessionSettings,
    pub throttle: ThrottleSettings,
    pub keys: KeySettings,
    pub sms: crate::notify::SmsSettings,
    pub email: crate::email::EmailSettings,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    /// `TESSERA_*` environment variables that name no setting (Kubernetes sets `TESSERA_PORT`
    /// and `TESSERA_SERVICE_HOST` for a Service called `tessera`): ignored, logged once at start.
    #[serde(skip)]
    pub ignored_env: Vec<String>,
}

/// Bounds on what clients may hold: connections, requests in flight, and how long each part of
/// a request may take (docs/operations.md, "Timeouts and limits").
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub header_read_timeout_seconds: u64,
    pub body_read_timeout_seconds: u64,
    pub request_timeout_seconds: u64,
    pub max_connections: usize,
    pub max_requests_in_flight: usize,
    pub shutdown_timeout_seconds: u64,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SqliteSynchronous {
    Full,
    Normal,
}

/// How long a request waits for the database, and how `serve` waits for it at start
/// (docs/operations.md, "Outages").
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub acquire_timeout_ms: u64,
    pub statement_timeout_ms: u64,
    pub max_connections: u32,
    pub startup_retry_max_delay_seconds: u64,
    pub sqlite_synchronous: SqliteSynchronous,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySettings {
    pub rotation_overlap_seconds: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSettings {
    pub authorization_code_seconds: i64,
    pub access_token_seconds: i64,
    pub id_token_seconds: i64,
    /// How long after a rotation the same client may present the rotated refresh token again and
    /// get the same successor back (a retry after a lost answer); 0: never.
    pub refresh_reuse_grace_seconds: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSettings {
    pub lifetime_seconds: i64,
    pub login_attempt_seconds: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottleSettings {
    pub free_failures: i32,
    pub max_delay_seconds: i64,
    pub forget_after_seconds: i64,
    pub account_max_failures: i32,
}

impl Settings {
    /// Loads defaults, then `file` (which must exist when given), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULT_TOML));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::MissingFile(path.to_path_buf()));
            }
            figment = figment.merge(Toml::file(path));
        }
        // TESSERA_TEST_* variables belong to the test suite, not to the server. Other variables
        // that name no setting are the platform's (Kubernetes' TESSERA_PORT=tcp://...): they are
        // left out and named once in the log, while an unknown key in a file stays an error.
        let known = Figment::from(Toml::string(DEFAULT_TOML));
        let is_setting = move |key: &str| known.contains(&key.to_ascii_lowercase().replace("__", "."));
        let ignored_env = unknown_env_names(std::env::vars_os().map(|(name, _)| name), &is_setting);
        let env = Env::prefixed("TESSERA_")
            .filter(move |key| {
                let key = key.as_str().to_ascii_lowercase();
                !key.starts_with("test_") && is_setting(&key)
            })
            .split("__");
        let mut settings = Self::from_figment(figment.merge(env))?;
        settings.ignored_env = ignored_env;
        Ok(settings)
    }

    /// The embedded defaults alone: the starting point for tests and tools.
    pub fn defaults() -> Result<Self, ConfigError> {
        Self::from_figment(Figment::from(Toml::string(DEFAULT_TOML)))
    }

    fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let settings: Settings = figment.extract().map_err(|e| ConfigError::Invalid(e.to_string()))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !matches!(self.public_url.scheme(), "http" | "https") {
            return Err(ConfigError::Invalid("public_url must be an http or https URL".into()));
        }
        if self.public_url.query().is_some() || self.public_url.fragment().is_some() {
            return Err(ConfigError::Invalid("public_url must not have a query or fragment".into()));
        }
        if self.mode == Mode::Production && self.public_url.scheme() != "https" && !self.is_loopback_http() {
            return Err(ConfigError::Invalid("public_url must be https in production mode".into()));
        }
        if !self.metrics_listen.trim().is_empty() {
            match self.metrics_listen.trim().parse::<SocketAddr>() {
                Ok(addr) if addr == self.listen => {
                    return Err(ConfigError::Invalid("metrics_listen must differ from listen".into()));
                }
                Ok(_) => {}
                Err(_) => {
                    return Err(ConfigError::Invalid(
                        "metrics_listen must be empty or an address and port (127.0.0.1:9464)".into(),
                    ));
                }
            }
        }
        let positive = [
            ("tokens.authorization_code_seconds", self.tokens.authorization_code_seconds),
            ("tokens.access_token_seconds", self.tokens.access_token_seconds),
            ("tokens.id_token_seconds", self.tokens.id_token_seconds),
            ("sessions.lifetime_seconds", self.sessions.lifetime_seconds),
            ("sessions.login_attempt_seconds", self.sessions.login_attempt_seconds),
            ("throttle.max_delay_seconds", self.throttle.max_delay_seconds),
            // A try is taken against these before a password is checked: at 0 nobody could sign in.
            ("throttle.free_failures", i64::from(self.throttle.free_failures)),
            ("throttle.account_max_failures", i64::from(self.throttle.account_max_failures)),
        ];
        for (name, value) in positive {
            if value <= 0 {
                return Err(ConfigError::Invalid(format!("{name} must be greater than 0")));
            }
        }
        if !(0..=MAX_REFRESH_REUSE_GRACE).contains(&self.tokens.refresh_reuse_grace_seconds) {
            return Err(ConfigError::Invalid(format!(
                "tokens.refresh_reuse_grace_seconds must be between 0 and {MAX_REFRESH_REUSE_GRACE}: a \
                 longer grace lets a stolen refresh token follow its owner's without revoking the family"
            )));
        }
        // Every instance remembers the JWK Set and the signing key for `keys::MEMORY_SECONDS`: a
        // shorter overlap lets one instance sign with a key another does not publish yet.
        let memory = crate::keys::MEMORY_SECONDS;
        if self.keys.rotation_overlap_seconds < memory {
            return Err(ConfigError::Invalid(format!(
                "keys.rotation_overlap_seconds must be at least {memory}: instances remember the \
                 published keys for {memory} s, so a shorter overlap signs with a key some do not publish yet"
            )));
        }
        let (server, database) = (&self.server, &self.database);
        let at_least_one = [
            ("server.header_read_timeout_seconds", server.header_read_timeout_seconds),
            ("server.body_read_timeout_seconds", server.body_read_timeout_seconds),
            ("server.request_timeout_seconds", server.request_timeout_seconds),
            ("server.max_connections", server.max_connections as u64),
            ("server.max_requests_in_flight", server.max_requests_in_flight as u64),
            ("server.shutdown_timeout_seconds", server.shutdown_timeout_seconds),
            ("database.acquire_timeout_ms", database.acquire_timeout_ms),
            ("database.max_connections", u64::from(database.max_connections)),
            ("database.startup_retry_max_delay_seconds", database.startup_retry_max_delay_seconds),
        ];
        for (name, value) in at_least_one {
            if value == 0 {
                return Err(ConfigError::Invalid(format!("{name} must be at least 1")));
            }
        }
        if server.body_read_timeout_seconds > server.request_timeout_seconds {
            return Err(ConfigError::Invalid(
                "server.body_read_timeout_seconds must not exceed server.request_timeout_seconds".into(),
            ));
        }
        Ok(())
    }

    /// The operators' address for `/metrics`, if they chose one (checked in `validate`).
    pub fn metrics_listen(&self) -> Option<SocketAddr> {
        self.metrics_listen.trim().parse().ok()
    }

    pub fn set_metrics_listen(&mut self, addr: &str) {
        self.metrics_listen = addr.to_string();
    }

    /// `public_url` without a trailing slash, the prefix of every issuer.
    pub fn public_base(&self) -> String {
        self.public_url.as_str().trim_end_matches('/').to_string()
    }

    /// True for http:// on localhost or a loopback address: the one case where cookies may be
    /// sent without `Secure` (and so without the `__Host-` prefix).
    pub fn is_loopback_http(&self) -> bool {
        self.public_url.scheme() == "http" && self.is_loopback_host()
    }

    /// Development helpers that give secrets away (SMS codes printed to the log, a master key
    /// kept beside the database) are safe only where nobody else can reach the server: in
    /// development mode with `public_url` on this machine, whatever its scheme.
    pub fn allows_development_secrets(&self) -> bool {
        self.mode == Mode::Development && self.is_loopback_host()
    }

    fn is_loopback_host(&self) -> bool {
        match self.public_url.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
    }

    pub fn database_url(&self) -> String {
        if self.database_url.trim().is_empty() {
            format!("sqlite://{}/tessera.db?mode=rwc", self.data_dir.display())
        } else {
            self.database_url.trim().to_string()
        }
    }

    pub fn set_database_url(&mut self, url: String) {
        self.database_url = url;
    }

    pub fn master_key(&self) -> Option<&SecretString> {
        use secrecy::ExposeSecret;
        if self.master_key.expose_secret().trim().is_empty() { None } else { Some(&self.master_key) }
    }

    pub fn set_master_key(&mut self, key: SecretString) {
        self.master_key = key;
    }
}

/// The `TESSERA_*` names among `names` that are neither a setting nor the test suite's.
fn unknown_env_names(
    names: impl Iterator<Item = std::ffi::OsString>,
    is_setting: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let mut unknown: Vec<String> = names
        .filter_map(|name| name.into_string().ok())
        .filter(|name| {
            let upper = name.to_ascii_uppercase();
            upper.strip_prefix("TESSERA_").is_some_and(|key| !key.starts_with("TEST_") && !is_setting(key))
        })
        .collect();
    unknown.sort();
    unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(toml: &str) -> Result<Settings, ConfigError> {
        Settings::from_figment(Figment::from(Toml::string(DEFAULT_TOML)).merge(Toml::string(toml)))
    }

    #[test]
    fn metrics_are_served_only_on_an_address_the_operator_names() {
        assert_eq!(Settings::defaults().unwrap().metrics_listen(), None);
        let chosen = with("metrics_listen = \"127.0.0.1:9464\"").unwrap().metrics_listen();
        assert_eq!(chosen, Some("127.0.0.1:9464".parse().unwrap()));
        assert!(with("metrics_listen = \"internal\"").is_err());
        assert!(with("metrics_listen = \"127.0.0.1:8080\"").is_err(), "the public listener's own address");
    }

    #[test]
    fn a_rotation_overlap_shorter_than_the_key_memory_is_refused() {
        assert_eq!(Settings::defaults().unwrap().keys.rotation_overlap_seconds, 3600);
        let err = with("[keys]\nrotation_overlap_seconds = 0").unwrap_err().to_string();
        assert!(err.contains("rotation_overlap_seconds must be at least 30"), "{err}");
        assert!(with("[keys]\nrotation_overlap_seconds = 29").is_err());
        assert!(with("[keys]\nrotation_overlap_seconds = 30").is_ok());
    }

    #[test]
    fn the_refresh_retry_grace_is_short_and_may_be_off() {
        assert_eq!(Settings::defaults().unwrap().tokens.refresh_reuse_grace_seconds, 10);
        assert!(with("[tokens]\nrefresh_reuse_grace_seconds = 0").is_ok(), "0 switches it off");
        assert!(with("[tokens]\nrefresh_reuse_grace_seconds = 60").is_ok());
        assert!(with("[tokens]\nrefresh_reuse_grace_seconds = 61").is_err());
        assert!(with("[tokens]\nrefresh_reuse_grace_seconds = -1").is_err());
    }

    #[test]
    fn platform_variables_are_not_settings() {
        let known = Figment::from(Toml::string(DEFAULT_TOML));
        let is_setting = |key: &str| known.contains(&key.to_ascii_lowercase().replace("__", "."));
        let names = [
            "TESSERA_PORT",
            "TESSERA_LISTEN",
            "TESSERA_TOKENS__ACCESS_TOKEN_SECONDS",
            "TESSERA_TEST_X",
            "PATH",
        ];
        let unknown = unknown_env_names(names.into_iter().map(Into::into), &is_setting);
        assert_eq!(unknown, ["TESSERA_PORT"]);
    }

    #[test]
    fn server_bounds_must_be_positive() {
        assert!(with("[server]\nmax_connections = 0").is_err());
        assert!(with("[database]\nacquire_timeout_ms = 0").is_err());
        assert!(with("[database]\nsqlite_synchronous = \"off\"").is_err());
        assert!(with("[server]\nbody_read_timeout_seconds = 60").is_err(), "longer than the request");
        let normal = with("[database]\nsqlite_synchronous = \"normal\"").unwrap();
        assert_eq!(normal.database.sqlite_synchronous, SqliteSynchronous::Normal);
    }
}
