//! The consent page: Allow or Deny a third-party client.

use serde::Serialize;

use super::Frame;

/// Allow or Deny a third-party client.
#[derive(Serialize)]
pub struct ConsentPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub action: String,
    pub csrf_token: String,
    pub client_name: String,
    /// The requested scopes in plain words.
    pub scopes: Vec<String>,
}
