//! Pages that tell or ask one thing: an error, a message with a link onwards, a confirmation
//! before a sensitive change.

use serde::Serialize;

use super::Frame;

#[derive(Serialize)]
pub struct ErrorPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub title: String,
    pub message: String,
}

/// A plain message with one link onwards.
#[derive(Serialize)]
pub struct MessagePage {
    #[serde(flatten)]
    pub frame: Frame,
    pub title: String,
    pub message: String,
    pub link_url: Option<String>,
    pub link_text: Option<String>,
}

/// A confirmation before a sensitive change.
#[derive(Serialize)]
pub struct ConfirmPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub action: String,
    pub csrf_token: String,
    pub title: String,
    pub message: String,
    pub button: String,
    pub cancel_url: String,
    /// Further hidden fields the confirmation carries along.
    pub hidden: Vec<HiddenField>,
}

#[derive(Serialize)]
pub struct HiddenField {
    pub name: &'static str,
    pub value: String,
}
