//! Sending text messages: one `SmsSender` trait, three senders chosen in configuration.
//! `console` prints (development on loopback only), `webhook` POSTs signed JSON, `twilio` speaks the Twilio
//! Messages API (any compatible provider through `twilio_base_url`).

mod console;
mod twilio;
mod webhook;

use std::future::Future;

use secrecy::SecretString;
use serde::Deserialize;

pub use console::ConsoleSender;
pub use twilio::TwilioSender;
pub use webhook::WebhookSender;

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the SMS provider refused the message: HTTP {0}")]
    Refused(u16),
    #[error("the SMS provider could not be reached: {0}")]
    Unreachable(String),
    #[error("the SMS sender is not configured: {0}")]
    NotConfigured(&'static str),
}

pub trait SmsSender: Send + Sync {
    /// Sends `message` to `to` (E.164) on behalf of tenant `tenant`; `now` (Unix seconds) dates
    /// a signed request, so a receiver can refuse a replayed one.
    fn send(
        &self,
        to: &str,
        message: &str,
        tenant: &str,
        now: i64,
    ) -> impl Future<Output = Result<(), SendError>> + Send;
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsSettings {
    /// `console`, `webhook` or `twilio`.
    pub sender: String,
    pub webhook_url: String,
    pub webhook_secret: SecretString,
    pub twilio_base_url: String,
    pub twilio_account_sid: String,
    pub twilio_auth_token: SecretString,
    pub twilio_from: String,
    pub twilio_messaging_service_sid: String,
    pub timeout_seconds: u64,
    /// Tries for one message (server errors and connection failures only).
    pub attempts: u32,
}

/// A tenant's own sender: the same choices as the server's, stored sealed in the tenant row.
// No Debug: it holds the provider's secret and token in plain strings (they are sealed at rest).
#[derive(Clone, Default, serde::Serialize, Deserialize)]
pub struct SenderOverride {
    pub sender: String,
    #[serde(default)]
    pub webhook_url: String,
    #[serde(default)]
    pub webhook_secret: String,
    #[serde(default)]
    pub twilio_base_url: String,
    #[serde(default)]
    pub twilio_account_sid: String,
    #[serde(default)]
    pub twilio_auth_token: String,
    #[serde(default)]
    pub twilio_from: String,
    #[serde(default)]
    pub twilio_messaging_service_sid: String,
}

impl SenderOverride {
    /// The server's settings with this tenant's sender in place of the server's.
    pub fn apply_to(&self, base: &SmsSettings) -> SmsSettings {
        let or =
            |mine: &str, theirs: &str| if mine.is_empty() { theirs.to_string() } else { mine.to_string() };
        SmsSettings {
            sender: self.sender.clone(),
            webhook_url: self.webhook_url.clone(),
            webhook_secret: SecretString::from(self.webhook_secret.clone()),
            twilio_base_url: or(&self.twilio_base_url, &base.twilio_base_url),
            twilio_account_sid: self.twilio_account_sid.clone(),
            twilio_auth_token: SecretString::from(self.twilio_auth_token.clone()),
            twilio_from: self.twilio_from.clone(),
            twilio_messaging_service_sid: self.twilio_messaging_service_sid.clone(),
            timeout_seconds: base.timeout_seconds,
            attempts: base.attempts,
        }
    }
}

pub const CONSOLE_REFUSED: &str = "the console SMS sender prints codes to the log: it is only for \
    development mode with a loopback public_url (localhost); configure sms.sender (webhook or twilio)";

/// The sender the configuration names.
pub enum ConfiguredSender {
    Console(ConsoleSender),
    Webhook(WebhookSender),
    Twilio(TwilioSender),
    /// The console sender switched off at start (development mode, `public_url` not on loopback):
    /// every send fails, so no code ever reaches the log.
    Off,
}

impl ConfiguredSender {
    /// `console_allowed`: development mode with a loopback `public_url`
    /// (`Settings::allows_development_secrets`).
    pub fn from_settings(settings: &SmsSettings, console_allowed: bool) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(settings.timeout_seconds.max(1)))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        match settings.sender.as_str() {
            "console" if !console_allowed => Err(CONSOLE_REFUSED.into()),
            "console" => Ok(Self::Console(ConsoleSender)),
            "webhook" => Ok(Self::Webhook(WebhookSender::new(http, settings)?)),
            "twilio" => Ok(Self::Twilio(TwilioSender::new(http, settings)?)),
            other => Err(format!("unknown sms.sender {other:?}: use console, webhook or twilio")),
        }
    }
}

impl SmsSender for ConfiguredSender {
    async fn send(&self, to: &str, message: &str, tenant: &str, now: i64) -> Result<(), SendError> {
        match self {
            Self::Console(sender) => sender.send(to, message, tenant, now).await,
            Self::Webhook(sender) => sender.send(to, message, tenant, now).await,
            Self::Twilio(sender) => sender.send(to, message, tenant, now).await,
            Self::Off => Err(SendError::NotConfigured(CONSOLE_REFUSED)),
        }
    }
}

/// POSTs with retries and backoff (0.5 s, 1 s, 2 s ...) on 5xx and connection errors, never on 4xx.
async fn with_retries<F, Fut>(attempts: u32, mut request: F) -> Result<(), SendError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<reqwest::Response, reqwest::Error>>,
{
    let mut wait = std::time::Duration::from_millis(500);
    let mut last = SendError::Unreachable("no attempt".into());
    for attempt in 1..=attempts.max(1) {
        match request().await {
            Ok(response) if response.status().is_success() => return Ok(()),
            Ok(response) if response.status().is_client_error() => {
                return Err(SendError::Refused(response.status().as_u16()));
            }
            Ok(response) => last = SendError::Refused(response.status().as_u16()),
            Err(err) => last = SendError::Unreachable(err.to_string()),
        }
        tracing::warn!(attempt, error = %last, "SMS send failed");
        if attempt < attempts {
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
    }
    Err(last)
}
