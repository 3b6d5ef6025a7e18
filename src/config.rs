//! Typed settings: embedded defaults (`config/default.toml`) < a `--config` file < `TESSERA_*` env.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

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
        // TESSERA_TEST_* variables belong to the test suite, not to the server.
        let env = Env::prefixed("TESSERA_")
            .filter(|key| !key.as_str().to_ascii_lowercase().starts_with("test_"))
            .split("__");
        Self::from_figment(figment.merge(env))
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
}
