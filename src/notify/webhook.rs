use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use super::{SendError, SmsSender, SmsSettings, with_retries};

/// POSTs `{"to","message","tenant","timestamp"}` with `X-Tessera-Signature: sha256=<hex HMAC of
/// the body>`. The signed `timestamp` (Unix seconds) lets a receiver refuse a request replayed
/// later (README: "Text messages"); retries of one send repeat the same body.
pub struct WebhookSender {
    http: reqwest::Client,
    url: String,
    secret: SecretString,
    attempts: u32,
}

impl WebhookSender {
    pub fn new(http: reqwest::Client, settings: &SmsSettings) -> Result<Self, String> {
        if settings.webhook_url.is_empty() || settings.webhook_secret.expose_secret().is_empty() {
            return Err("sms.sender = \"webhook\" needs sms.webhook_url and sms.webhook_secret".into());
        }
        Ok(Self {
            http,
            url: settings.webhook_url.clone(),
            secret: settings.webhook_secret.clone(),
            attempts: settings.attempts,
        })
    }
}

/// `sha256=<hex>` of HMAC-SHA-256 over the exact body bytes.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl SmsSender for WebhookSender {
    async fn send(&self, to: &str, message: &str, tenant: &str, now: i64) -> Result<(), SendError> {
        let body = serde_json::json!({ "to": to, "message": message, "tenant": tenant, "timestamp": now });
        let body = serde_json::to_vec(&body).map_err(|_| SendError::NotConfigured("body"))?;
        let signature = signature(self.secret.expose_secret(), &body);
        with_retries(self.attempts, || {
            self.http
                .post(&self.url)
                .header("content-type", "application/json")
                .header("x-tessera-signature", &signature)
                .body(body.clone())
                .send()
        })
        .await
    }
}
