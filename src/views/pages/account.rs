//! The account overview (second factor, trusted devices, allowed apps), the password change and
//! the email address change.

use serde::Serialize;

use super::Frame;

#[derive(Serialize)]
pub struct AccountPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub base: String,
    pub csrf_token: String,
    pub email: String,
    /// The address was proven by a link (or by the provider); otherwise "Send verification email".
    pub email_verified: bool,
    pub two_factor_on: bool,
    pub method_label: Option<String>,
    /// The masked number when text messages are the method.
    pub phone_masked: Option<String>,
    /// Security keys are the method: link to manage them.
    pub security_keys: bool,
    pub backup_codes_left: u64,
    pub running_low: bool,
    pub devices: Vec<DeviceRow>,
    pub apps: Vec<AppRow>,
    pub message: Option<String>,
}

#[derive(Serialize)]
pub struct DeviceRow {
    pub id: String,
    pub browser: String,
    pub first_used: String,
    pub last_used: String,
    pub expires: String,
}

/// A third-party client the person allowed.
#[derive(Serialize)]
pub struct AppRow {
    pub id: String,
    pub name: String,
    pub scopes: Vec<String>,
}

/// "Change email address": the new address, to which a link goes.
#[derive(Serialize)]
pub struct EmailChangePage {
    #[serde(flatten)]
    pub frame: Frame,
    pub action: String,
    pub csrf_token: String,
    pub error: Option<String>,
    /// The address the person has now.
    pub current: String,
    /// What was typed, shown again after an error.
    pub new_email: String,
    pub cancel_url: String,
}

#[derive(Serialize)]
pub struct PasswordChangePage {
    #[serde(flatten)]
    pub frame: Frame,
    pub action: String,
    pub csrf_token: String,
    pub error: Option<String>,
    pub cancel_url: String,
}
