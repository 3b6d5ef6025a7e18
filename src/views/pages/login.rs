//! The sign-in page: email and password, or a passkey.

use serde::Serialize;

use super::{Frame, WebauthnForm};

#[derive(Serialize)]
pub struct LoginPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub action: String,
    pub csrf_token: String,
    pub email: String,
    pub error: Option<String>,
    /// "Sign in with a passkey".
    pub passkey: Option<WebauthnForm>,
    /// "Forgot your password?".
    pub forgot_url: Option<String>,
}

/// "Reset your password": the address to send a link to, and afterwards the same page for every
/// address ("If an account exists ...").
#[derive(Serialize)]
pub struct PasswordForgotPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub action: String,
    pub csrf_token: String,
    pub email: String,
    pub error: Option<String>,
    /// The answer after a request, whatever address was typed.
    pub sent: Option<String>,
    /// Back to the sign-in the request came from.
    pub back_url: Option<String>,
}

/// The page of a reset link: "New password", "Set new password".
#[derive(Serialize)]
pub struct PasswordResetPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub action: String,
    pub csrf_token: String,
    pub error: Option<String>,
}
