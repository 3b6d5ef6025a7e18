//! Email: settings, the SMTP sender (lettre over tokio with rustls, or the console in
//! development), the outbox that makes a message part of the change that causes it
//! (`outbox.rs`), and the messages themselves, rendered from the tenant's theme (`messages.rs`).

pub mod messages;
pub mod outbox;
mod smtp;

use secrecy::SecretString;
use serde::Deserialize;

pub use messages::{Notice, SecurityEvent, Seen};
pub use smtp::Mailer;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    /// `console` (prints to the log: development with a loopback public_url only) or `smtp`.
    pub sender: String,
    /// `smtp://host:port` (plain), `smtp://host:587?tls=starttls`, `smtps://host:465`; may carry
    /// `user:password@`.
    pub smtp_url: SecretString,
    pub smtp_username: String,
    pub smtp_password: SecretString,
    /// The sender, `"Kliniek West <no-reply@kliniek-west.example>"`; a tenant may have its own.
    pub from: String,
    /// Per SMTP conversation.
    pub timeout_seconds: u64,
    /// Tries in a row with backoff (1 s, 2 s, 4 s ...) before a message waits for housekeeping.
    pub attempts: u32,
}

pub const CONSOLE_REFUSED: &str = "the console email sender prints messages (with their sign-in \
    links) to the log: it is only for development mode with a loopback public_url (localhost); \
    configure email.sender = \"smtp\" and email.smtp_url";

/// Why one delivery attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Connection refused, a timeout, a 4xx answer: worth trying again later.
    #[error("temporary failure: {0}")]
    Temporary(String),
    /// A 5xx answer or an address that cannot be written: trying again will not help.
    #[error("permanent failure: {0}")]
    Permanent(String),
}

/// True for a sender or recipient as email headers take it (`Name <a@b.example>`, `a@b.example`).
pub fn is_mailbox(value: &str) -> bool {
    value.parse::<lettre::message::Mailbox>().is_ok()
}

#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("email template: {0}")]
    Render(String),
    #[error("email could not be sealed: {0}")]
    Seal(String),
}
