//! "Change password": the current one, then the new one. Other sessions end and trusted devices
//! are forgotten (`account::change_password`).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use secrecy::SecretString;
use serde::Deserialize;

use super::signed_in::SignedIn;
use super::{account_error, back_to_overview};
use crate::account::{self, AccountError};
use crate::authn::password::PasswordError;
use crate::error::PageError;
use crate::http::client_ip::ClientIp;
use crate::http::form::PageForm;
use crate::http::page;
use crate::state::AppState;
use crate::views::pages::PasswordChangePage;

pub fn router() -> Router<AppState> {
    Router::new().route("/account/password", get(password_form).post(change_password))
}

async fn render(
    state: &AppState,
    me: &SignedIn,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let context = PasswordChangePage {
        frame: page::frame(state, Some(&me.tenant), me.lang),
        action: me.tenant.path(state, "/account/password"),
        csrf_token: me.csrf_token(),
        error,
        cancel_url: me.tenant.path(state, "/account"),
    };
    page::render(state, "password_change.html", context, status).await
}

async fn password_form(State(state): State<AppState>, me: SignedIn) -> Result<Response, PageError> {
    render(&state, &me, None, StatusCode::OK).await
}

#[derive(Deserialize)]
struct PasswordBody {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

async fn change_password(
    State(state): State<AppState>,
    me: SignedIn,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    PageForm(body): PageForm<PasswordBody>,
) -> Result<Response, PageError> {
    me.check_csrf(&body.csrf_token)?;
    let change = account::PasswordChange {
        current: SecretString::from(body.current_password),
        new: SecretString::from(body.new_password),
    };
    let result = account::change_password(
        &state,
        &me.tenant,
        &me.user,
        &me.session,
        change,
        &ip,
        crate::email::Seen {
            user_agent: Some(&crate::http::browser::user_agent(&headers)),
            lang: Some(me.lang),
        },
        state.now(),
    )
    .await;
    let (status, message) = match result {
        Ok(()) => return Ok(back_to_overview(&me, &state, "password-changed")),
        Err(AccountError::Throttled(seconds)) => (
            StatusCode::TOO_MANY_REQUESTS,
            state.views.message_with(me.lang, "login-throttled", &[("seconds", seconds.into())]),
        ),
        Err(AccountError::WrongPassword) => {
            (StatusCode::BAD_REQUEST, state.views.message(me.lang, "password-change-wrong-current"))
        }
        Err(AccountError::Password(PasswordError::TooShort)) => {
            (StatusCode::BAD_REQUEST, state.views.message(me.lang, "password-change-too-short"))
        }
        Err(AccountError::Password(PasswordError::TooLong)) => {
            (StatusCode::BAD_REQUEST, state.views.message(me.lang, "password-change-too-long"))
        }
        Err(other) => return Err(account_error(other)),
    };
    render(&state, &me, Some(message), status).await
}
