use secrecy::{ExposeSecret, SecretString};

use super::{SendError, SmsSender, SmsSettings, with_retries};

/// The Twilio Messages API: `POST {base}/2010-04-01/Accounts/{sid}/Messages.json`, basic auth with
/// the account SID and auth token, form fields `To`, `Body`, and `From` or `MessagingServiceSid`.
pub struct TwilioSender {
    http: reqwest::Client,
    url: String,
    account_sid: String,
    auth_token: SecretString,
    from: String,
    messaging_service_sid: String,
    attempts: u32,
}

impl TwilioSender {
    pub fn new(http: reqwest::Client, settings: &SmsSettings) -> Result<Self, String> {
        if settings.twilio_account_sid.is_empty() || settings.twilio_auth_token.expose_secret().is_empty() {
            return Err(
                "sms.sender = \"twilio\" needs sms.twilio_account_sid and sms.twilio_auth_token".into()
            );
        }
        if settings.twilio_from.is_empty() == settings.twilio_messaging_service_sid.is_empty() {
            return Err("sms.sender = \"twilio\" needs exactly one of sms.twilio_from and sms.twilio_messaging_service_sid".into());
        }
        Ok(Self {
            http,
            url: format!(
                "{}/2010-04-01/Accounts/{}/Messages.json",
                settings.twilio_base_url.trim_end_matches('/'),
                settings.twilio_account_sid
            ),
            account_sid: settings.twilio_account_sid.clone(),
            auth_token: settings.twilio_auth_token.clone(),
            from: settings.twilio_from.clone(),
            messaging_service_sid: settings.twilio_messaging_service_sid.clone(),
            attempts: settings.attempts,
        })
    }
}

impl SmsSender for TwilioSender {
    async fn send(&self, to: &str, message: &str, _tenant: &str, _now: i64) -> Result<(), SendError> {
        let mut form = vec![("To", to), ("Body", message)];
        if self.from.is_empty() {
            form.push(("MessagingServiceSid", &self.messaging_service_sid));
        } else {
            form.push(("From", &self.from));
        }
        with_retries(self.attempts, || {
            self.http
                .post(&self.url)
                .basic_auth(&self.account_sid, Some(self.auth_token.expose_secret()))
                .form(&form)
                .send()
        })
        .await
    }
}
