//! The second-factor step of a login: the code or security key, the backup-code form, and the
//! notice after a backup code.

use serde::Serialize;

use super::{Frame, WebauthnForm};

/// The second-factor step of a login.
#[derive(Serialize)]
pub struct SecondFactorPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub action: String,
    pub backup_url: String,
    pub csrf_token: String,
    pub error: Option<String>,
    /// Whether "Skip this step for one month on this device" is offered (tenant setting > 0).
    pub offer_remember: bool,
    pub remember_days: i32,
    /// For text messages: "We sent ... ending in 78" and the resend link.
    pub sms_intro: Option<String>,
    pub resend_url: Option<String>,
    /// A non-error notice ("We sent a new code").
    pub status: Option<String>,
    /// A notice that needs attention but is no input error ("wait 40 seconds").
    pub warning: Option<String>,
    /// The code form (not for security keys).
    pub code_form: bool,
    /// "Use security key", when that is the person's method or the client insists on one.
    pub security_key: Option<WebauthnForm>,
    /// The client insists on a key and the person has none: where to add one.
    pub key_missing_url: Option<String>,
    /// "No access to trusted devices?" (not when the client insists on a key).
    pub backup_allowed: bool,
}

/// "No access to trusted devices?": the backup-code form.
#[derive(Serialize)]
pub struct BackupCodePage {
    #[serde(flatten)]
    pub frame: Frame,
    pub action: String,
    pub back_url: String,
    pub csrf_token: String,
    pub error: Option<String>,
}

/// After a backup code: how many are left, then Continue.
#[derive(Serialize)]
pub struct NoticePage {
    #[serde(flatten)]
    pub frame: Frame,
    pub action: String,
    pub csrf_token: String,
    pub backup_codes_left: Option<u64>,
    pub running_low: bool,
}
