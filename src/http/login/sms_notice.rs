//! What "Send a new code" did travels to the second-factor page in the query of the redirect
//! after it (post-redirect-get: a reload sends nothing), and becomes a notice there.

use serde::Deserialize;

use crate::authn::sms::{self, SendOutcome};
use crate::state::AppState;

/// `?resend=sent`, `?resend=wait&seconds=42`, ...
#[derive(Deserialize, Default)]
pub struct ResendQuery {
    resend: Option<String>,
    seconds: Option<i64>,
}

/// Notices above a form: `status` for good news, `warning` for a send that did not happen.
#[derive(Default)]
pub struct Notices {
    pub status: Option<String>,
    pub warning: Option<String>,
}

/// The query that carries a resend's `outcome`.
pub fn query(outcome: &SendOutcome) -> String {
    let value = match outcome {
        SendOutcome::Sent => "sent".to_string(),
        SendOutcome::Wait(seconds) => format!("wait&seconds={seconds}"),
        SendOutcome::HourlyLimit => "hourly".to_string(),
        SendOutcome::DailyLimit => "daily".to_string(),
        SendOutcome::CountryRefused => "country".to_string(),
        SendOutcome::Failed => "failed".to_string(),
    };
    format!("resend={value}")
}

impl ResendQuery {
    pub fn notices(&self, state: &AppState, lang: &str) -> Notices {
        let Some(value) = self.resend.as_deref() else { return Notices::default() };
        match refusal(state, lang, &self.outcome(value)) {
            None => Notices { status: Some(state.views.message(lang, "sms-resent")), warning: None },
            Some(message) => Notices { status: None, warning: Some(message) },
        }
    }

    fn outcome(&self, value: &str) -> SendOutcome {
        match value {
            "sent" => SendOutcome::Sent,
            "wait" => {
                SendOutcome::Wait(self.seconds.unwrap_or(sms::RESEND_SECONDS).clamp(1, sms::RESEND_SECONDS))
            }
            "hourly" => SendOutcome::HourlyLimit,
            "daily" => SendOutcome::DailyLimit,
            "country" => SendOutcome::CountryRefused,
            _ => SendOutcome::Failed,
        }
    }
}

/// What to tell the person about a send that did not happen (`None` when it was sent).
pub fn refusal(state: &AppState, lang: &str, outcome: &SendOutcome) -> Option<String> {
    match outcome {
        SendOutcome::Sent => None,
        SendOutcome::Wait(seconds) => {
            Some(state.views.message_with(lang, "sms-wait", &[("seconds", (*seconds).into())]))
        }
        SendOutcome::HourlyLimit => Some(state.views.message(lang, "sms-hourly-limit")),
        SendOutcome::DailyLimit => Some(state.views.message(lang, "sms-daily-limit")),
        SendOutcome::CountryRefused => Some(state.views.message(lang, "sms-country-refused")),
        SendOutcome::Failed => Some(state.views.message(lang, "sms-failed")),
    }
}
