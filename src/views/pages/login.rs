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
}
