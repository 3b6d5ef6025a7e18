//! The security keys page: the person's keys and the form that adds one.

use serde::Serialize;

use super::{Frame, WebauthnForm};

/// The security keys page: the person's keys and the form that adds one.
#[derive(Serialize)]
pub struct SecurityKeysPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub base: String,
    pub csrf_token: String,
    pub keys: Vec<KeyRow>,
    pub add: WebauthnForm,
    pub name_max: usize,
    pub error: Option<String>,
    pub message: Option<String>,
    /// Security keys are the person's second factor now (otherwise adding one makes them so).
    pub is_method: bool,
}

#[derive(Serialize, Clone)]
pub struct KeyRow {
    pub id: String,
    pub name: String,
    pub added: String,
    pub last_used: Option<String>,
}
