//! Setting up a second factor (account pages and forced enrolment): the method choice, an
//! authenticator app, a mobile number, and the backup codes shown once.

use serde::Serialize;

use super::Frame;

#[derive(Serialize)]
pub struct MethodOption {
    pub value: &'static str,
    pub label: String,
}

#[derive(Serialize)]
pub struct MethodChoicePage {
    #[serde(flatten)]
    pub frame: Frame,
    pub action: String,
    pub csrf_token: String,
    pub methods: Vec<MethodOption>,
    pub cancel_url: String,
}

/// Setting up an authenticator app (account pages and forced enrolment).
#[derive(Serialize)]
pub struct TotpSetupPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub action: String,
    pub csrf_token: String,
    pub error: Option<String>,
    /// Shown above the setup, e.g. why enrolment is required now.
    pub intro: Option<String>,
    pub setup_key: String,
    pub otpauth_uri: String,
    pub qr_data_uri: String,
    pub cancel_url: Option<String>,
    /// During forced enrolment: "Use text messages instead".
    pub sms_url: Option<String>,
}

/// Entering a mobile number (account pages).
#[derive(Serialize)]
pub struct SmsSetupPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub action: String,
    pub csrf_token: String,
    pub error: Option<String>,
    pub phone: String,
    pub cancel_url: String,
}

/// Confirming a mobile number with the code sent to it.
#[derive(Serialize)]
pub struct SmsConfirmPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub action: String,
    pub csrf_token: String,
    pub error: Option<String>,
    pub status: Option<String>,
    pub intro: String,
    pub cancel_url: String,
}

/// A new set of backup codes, shown once.
#[derive(Serialize)]
pub struct BackupCodesPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub codes: Vec<String>,
    /// Where "Continue" posts (a login attempt) or links (the account page).
    pub continue_action: Option<String>,
    pub continue_link: Option<String>,
    pub csrf_token: String,
}
