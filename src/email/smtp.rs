//! The sender the configuration names: SMTP through lettre (plain on loopback, STARTTLS or
//! implicit TLS elsewhere), the console in development, or off.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use super::{CONSOLE_REFUSED, EmailSettings, SendError};

/// One message ready to go.
pub struct Outgoing<'a> {
    pub id: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Console,
    /// The console sender switched off at start (development mode off loopback): every send
    /// fails, so no link ever reaches the log.
    Off,
}

impl Mailer {
    /// `console_allowed`: development mode with a loopback `public_url`; `hello`: the name this
    /// server gives in EHLO and in Message-IDs.
    pub fn from_settings(
        settings: &EmailSettings,
        console_allowed: bool,
        hello: &str,
    ) -> Result<Self, String> {
        if settings.from.parse::<Mailbox>().is_err() {
            return Err(format!("email.from {:?} is not an address (Name <address@host>)", settings.from));
        }
        match settings.sender.as_str() {
            "console" if !console_allowed => Err(CONSOLE_REFUSED.into()),
            "console" => Ok(Self::Console),
            "smtp" => Ok(Self::Smtp(transport(settings, hello)?)),
            other => Err(format!("unknown email.sender {other:?}: use console or smtp")),
        }
    }

    pub async fn send(&self, message: Outgoing<'_>, hello: &str) -> Result<(), SendError> {
        match self {
            Self::Console => {
                tracing::info!(
                    to = message.to,
                    subject = message.subject,
                    "email (console sender, development only):\n{}",
                    message.body
                );
                Ok(())
            }
            Self::Off => Err(SendError::Temporary(CONSOLE_REFUSED.into())),
            Self::Smtp(transport) => {
                let email = build(&message, hello)?;
                match transport.send(email).await {
                    Ok(_) => Ok(()),
                    Err(err) if err.is_permanent() => Err(SendError::Permanent(err.to_string())),
                    Err(err) => Err(SendError::Temporary(err.to_string())),
                }
            }
        }
    }
}

fn build(message: &Outgoing<'_>, hello: &str) -> Result<Message, SendError> {
    let from: Mailbox =
        message.from.parse().map_err(|e| SendError::Permanent(format!("sender {:?}: {e}", message.from)))?;
    let to: Mailbox =
        message.to.parse().map_err(|e| SendError::Permanent(format!("recipient {:?}: {e}", message.to)))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(message.subject)
        // The same id at every attempt: a copy sent twice after a crash is recognisably one.
        .message_id(Some(format!("<{}@{hello}>", message.id)))
        .header(ContentType::TEXT_PLAIN)
        .body(message.body.to_string())
        .map_err(|e| SendError::Permanent(e.to_string()))
}

/// The transport for `smtp_url`: `smtp://` plain (or `?tls=starttls`), `smtps://` implicit TLS.
fn transport(settings: &EmailSettings, hello: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let raw = settings.smtp_url.expose_secret();
    let url = url::Url::parse(raw.trim())
        .map_err(|_| "email.smtp_url is not a URL (smtp://host:port)".to_string())?;
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or("email.smtp_url has no host")?.to_string();
    let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
    let mode = url.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.to_string());
    let tls_parameters = || TlsParameters::new(host.clone()).map_err(|e| format!("email.smtp_url TLS: {e}"));
    let (tls, default_port) = match (url.scheme(), mode.as_deref()) {
        ("smtp", None | Some("none")) => (Tls::None, 25),
        ("smtp", Some("starttls")) => (Tls::Required(tls_parameters()?), 587),
        ("smtps", None | Some("implicit")) => (Tls::Wrapper(tls_parameters()?), 465),
        (scheme, mode) => {
            return Err(format!(
                "email.smtp_url: unsupported scheme {scheme:?} with tls={mode:?}; use smtp://host:port, \
                 smtp://host:587?tls=starttls or smtps://host:465"
            ));
        }
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(url.port().unwrap_or(default_port))
        .tls(tls)
        .hello_name(ClientId::Domain(hello.to_string()))
        .timeout(Some(Duration::from_secs(settings.timeout_seconds.max(1))));
    let decode = |s: &str| percent_decode(s);
    let (user, password) = if url.username().is_empty() {
        (settings.smtp_username.clone(), settings.smtp_password.expose_secret().to_string())
    } else {
        (decode(url.username()), url.password().map(decode).unwrap_or_default())
    };
    if !user.is_empty() {
        builder = builder.credentials(Credentials::new(user, password));
    }
    Ok(builder.build())
}

fn percent_decode(value: &str) -> String {
    url::form_urlencoded::parse(format!("v={}", value.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn settings(url: &str) -> EmailSettings {
        EmailSettings {
            sender: "smtp".into(),
            smtp_url: SecretString::from(url.to_string()),
            smtp_username: String::new(),
            smtp_password: SecretString::from(String::new()),
            from: "Acme <no-reply@acme.example>".into(),
            timeout_seconds: 5,
            attempts: 3,
        }
    }

    #[test]
    fn smtp_urls_choose_plain_starttls_or_implicit_tls() {
        for good in [
            "smtp://127.0.0.1:2525",
            "smtp://mail.example.org:587?tls=starttls",
            "smtps://mail.example.org:465",
            "smtps://user:p%40ss@mail.example.org",
        ] {
            assert!(Mailer::from_settings(&settings(good), false, "localhost").is_ok(), "{good}");
        }
        for bad in ["http://mail.example.org", "smtp://mail.example.org?tls=maybe", "mail.example.org", ""] {
            assert!(Mailer::from_settings(&settings(bad), false, "localhost").is_err(), "{bad}");
        }
        assert_eq!(percent_decode("p%40ss+word"), "p@ss+word");
    }

    #[test]
    fn the_console_is_refused_off_development_loopback_and_from_must_be_an_address() {
        let mut console = settings("");
        console.sender = "console".into();
        assert!(Mailer::from_settings(&console, false, "localhost").is_err());
        assert!(Mailer::from_settings(&console, true, "localhost").is_ok());
        console.from = "not an address".into();
        assert!(Mailer::from_settings(&console, true, "localhost").is_err());
    }
}
