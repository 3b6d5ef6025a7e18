//! Helpers shared by page handlers: language, frame and the HTML response.

use axum::http::{HeaderMap, header};

use crate::state::AppState;
use crate::tenants::Tenant;
use crate::views::i18n::negotiate;
use crate::views::pages::Frame;

pub fn accept_language(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok())
}

pub fn frame(state: &AppState, tenant: Option<&Tenant>, lang: &'static str) -> Frame {
    let theme = tenant.map(|t| t.row.theme.as_str()).unwrap_or(crate::views::themes::DEFAULT);
    Frame::new(lang, tenant.map(|t| t.row.display_name.clone()), state.views.links(theme))
}

pub fn language(headers: &HeaderMap, ui_locales: Option<&str>, tenant: Option<&Tenant>) -> &'static str {
    let default = tenant.map(|t| t.row.default_locale.as_str()).unwrap_or("en");
    negotiate(ui_locales, accept_language(headers), default)
}
