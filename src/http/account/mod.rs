//! The account pages: overview, trusted devices, apps, password, email address, and the
//! two-factor settings.
//! Every page needs a session (`signed_in`); changing what protects the account needs a fresh
//! sign-in.

mod email;
mod email_change;
mod overview;
mod password;
mod security_keys;
mod signed_in;
mod sms;
mod two_factor;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::account::AccountError;
use crate::error::PageError;
use crate::http::page;
use crate::state::AppState;
use crate::views::pages::BackupCodesPage;
use signed_in::SignedIn;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(overview::router())
        .merge(email::router())
        .merge(email_change::router())
        .merge(password::router())
        .merge(two_factor::router())
        .merge(sms::router())
        .merge(security_keys::router())
}

/// A form that carries nothing but its CSRF token.
#[derive(Deserialize, Default)]
struct CsrfBody {
    #[serde(default)]
    csrf_token: String,
}

fn account_error(err: AccountError) -> PageError {
    PageError::internal(err)
}

/// Back to the overview with a confirmation message (`overview::DONE_MESSAGES`).
fn back_to_overview(me: &SignedIn, state: &AppState, done: &str) -> Response {
    Redirect::to(&me.tenant.path(state, &format!("/account?done={done}"))).into_response()
}

/// A new set of backup codes, shown once; the link goes on to the overview saying `done`.
async fn show_codes(
    state: &AppState,
    me: &SignedIn,
    codes: Vec<String>,
    done: &str,
) -> Result<Response, PageError> {
    let context = BackupCodesPage {
        frame: page::frame(state, Some(&me.tenant), me.lang),
        codes,
        continue_action: None,
        continue_link: Some(me.tenant.path(state, &format!("/account?done={done}"))),
        csrf_token: me.csrf_token(),
    };
    page::render(state, "backup_codes.html", context, StatusCode::OK).await
}

fn date(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}
