//! The form part shared by the passkey sign-in, the security-key step and adding a security key.

use serde::Serialize;

/// A form whose button runs a WebAuthn ceremony through tessera's script.
#[derive(Serialize, Clone)]
pub struct WebauthnForm {
    /// Where the script asks for a challenge (POST, answers JSON).
    pub begin_url: String,
    /// Where the form posts the browser's answer.
    pub action: String,
    /// The script's address.
    pub script: String,
}
