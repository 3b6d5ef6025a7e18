//! Helpers shared by page handlers: language, frame and the HTML response.

use std::time::Instant;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::error::PageError;
use crate::state::AppState;
use crate::tenants::Tenant;
use crate::views::budget;
use crate::views::i18n::negotiate;
use crate::views::pages::{Frame, LanguageLink};

pub fn accept_language(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok())
}

pub fn frame(state: &AppState, tenant: Option<&Tenant>, lang: &'static str) -> Frame {
    let theme = tenant.map(|t| t.row.theme.as_str()).unwrap_or(crate::views::themes::DEFAULT);
    let mut frame = Frame::new(lang, tenant.map(|t| t.row.display_name.clone()), state.views.links(theme));
    frame.languages = super::language::switcher_links()
        .into_iter()
        .map(|(code, url)| LanguageLink {
            code,
            name: crate::views::i18n::native_name(code),
            url,
            current: code == lang,
        })
        .collect();
    frame
}

/// The page language: the person's own choice (the switcher's cookie), then `ui_locales`, then
/// `Accept-Language`, then the tenant default.
pub fn language(headers: &HeaderMap, ui_locales: Option<&str>, tenant: Option<&Tenant>) -> &'static str {
    let default = tenant.map(|t| t.row.default_locale.as_str()).unwrap_or("en");
    let chosen = super::cookies::read(headers, super::language::COOKIE);
    let preferred = match (chosen.as_deref(), ui_locales) {
        (Some(chosen), Some(ui)) => Some(format!("{chosen} {ui}")),
        (Some(chosen), None) => Some(chosen.to_string()),
        (None, ui) => ui.map(str::to_string),
    };
    negotiate(preferred.as_deref(), accept_language(headers), default)
}

/// A page template rendered with its context, as the answer with `status`. The render runs on the
/// blocking pool, a few at a time per theme, within `budget::RENDER_DEADLINE` (waiting included):
/// a theme that is slow or over its budget gets the built-in error page and never holds up the
/// async workers that serve the other tenants.
pub async fn render(
    state: &AppState,
    template: &str,
    context: impl serde::Serialize,
    status: StatusCode,
) -> Result<Response, PageError> {
    let context = crate::views::PageContext::from_serialize(&context);
    let theme = crate::views::theme_of(&context);
    let deadline = Instant::now() + budget::RENDER_DEADLINE;
    let over_budget = || PageError::internal(format!("theme {theme}: {template} took too long to render"));
    // The turn is held until the render really ends, also after the answer has gone: a theme's
    // runaway renders use up its own turns, not the server's threads.
    let turn = match state.views.turns(&theme) {
        Some(turns) => Some(
            tokio::time::timeout_at(deadline.into(), turns.acquire_owned())
                .await
                .map_err(|_| over_budget())?
                .map_err(PageError::internal)?,
        ),
        None => None,
    };
    let render = {
        let (state, template) = (state.clone(), template.to_string());
        tokio::task::spawn_blocking(move || {
            let html = state.views.render_until(&template, &context, deadline);
            drop(turn);
            html
        })
    };
    let html = tokio::time::timeout_at(deadline.into(), render)
        .await
        .map_err(|_| over_budget())?
        .map_err(PageError::internal)?
        .map_err(PageError::internal)?;
    Ok((status, Html(html)).into_response())
}
