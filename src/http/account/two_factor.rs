//! Two-factor settings on the account pages: switch on (method choice, app setup, backup codes),
//! change method or app, switch off, new backup codes.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::signed_in::{FreshlySignedIn, SignedIn};
use super::{CsrfBody, account_error, back_to_overview, show_codes};
use crate::account;
use crate::authn::second_factor::{self, Method};
use crate::authn::totp_enrolment;
use crate::error::PageError;
use crate::http::client_ip::ClientIp;
use crate::http::form::PageForm;
use crate::http::page;
use crate::state::AppState;
use crate::views::pages::{ConfirmPage, MethodChoicePage, MethodOption, TotpSetupPage};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account/two-factor/method", get(method_choice).post(choose_method))
        .route("/account/two-factor/app", get(app_setup).post(confirm_app))
        .route("/account/two-factor/off", get(confirm_off).post(switch_off))
        .route("/account/backup-codes/new", get(confirm_new_codes).post(new_codes))
}

async fn method_choice(
    State(state): State<AppState>,
    FreshlySignedIn(me): FreshlySignedIn,
) -> Result<Response, PageError> {
    let methods = Method::ALL
        .iter()
        .map(|m| MethodOption {
            value: m.as_str(),
            label: state.views.message(me.lang, second_factor::label_key(*m)),
        })
        .collect();
    let context = MethodChoicePage {
        frame: page::frame(&state, Some(&me.tenant), me.lang),
        action: me.tenant.path(&state, "/account/two-factor/method"),
        csrf_token: me.csrf_token(),
        methods,
        cancel_url: me.tenant.path(&state, "/account"),
    };
    page::render(&state, "method_choice.html", context, StatusCode::OK).await
}

#[derive(Deserialize)]
struct MethodBody {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    method: String,
}

async fn choose_method(
    State(state): State<AppState>,
    FreshlySignedIn(me): FreshlySignedIn,
    PageForm(body): PageForm<MethodBody>,
) -> Result<Response, PageError> {
    me.check_csrf(&body.csrf_token)?;
    let page = match Method::parse(&body.method) {
        Some(Method::Totp) => "/account/two-factor/app",
        Some(Method::Sms) => "/account/two-factor/sms",
        Some(Method::SecurityKey) => "/account/security-keys",
        None => return Err(PageError::bad_request("error-bad-request")),
    };
    Ok(Redirect::to(&me.tenant.path(&state, page)).into_response())
}

/// The app's setup page. Showing it makes the pending seed when there is none (one per person,
/// shown again on a reload): the page is reached by a link, "Change app or device".
async fn render_app_setup(
    state: &AppState,
    me: &SignedIn,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let setup =
        totp_enrolment::begin(state, &me.tenant, &me.user, state.now()).await.map_err(PageError::internal)?;
    let context = TotpSetupPage {
        frame: page::frame(state, Some(&me.tenant), me.lang),
        action: me.tenant.path(state, "/account/two-factor/app"),
        csrf_token: me.csrf_token(),
        error,
        intro: None,
        setup_key: setup.setup_key,
        otpauth_uri: setup.otpauth_uri,
        qr_data_uri: setup.qr_data_uri,
        cancel_url: Some(me.tenant.path(state, "/account")),
        sms_url: None,
    };
    page::render(state, "totp_setup.html", context, status).await
}

async fn app_setup(
    State(state): State<AppState>,
    FreshlySignedIn(me): FreshlySignedIn,
) -> Result<Response, PageError> {
    render_app_setup(&state, &me, None, StatusCode::OK).await
}

#[derive(Deserialize)]
struct CodeBody {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    code: String,
}

async fn confirm_app(
    State(state): State<AppState>,
    FreshlySignedIn(me): FreshlySignedIn,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    PageForm(body): PageForm<CodeBody>,
) -> Result<Response, PageError> {
    me.check_csrf(&body.csrf_token)?;
    let was_on = me.user.two_factor_method.is_some();
    let confirmed = totp_enrolment::confirm(
        &state,
        &me.tenant,
        &me.user,
        &body.code,
        &ip,
        crate::email::Seen {
            user_agent: Some(&crate::http::browser::user_agent(&headers)),
            lang: Some(me.lang),
        },
        state.now(),
    )
    .await
    .map_err(PageError::internal)?;
    match confirmed {
        None => {
            let message = state.views.message(me.lang, "second-factor-wrong-code");
            render_app_setup(&state, &me, Some(message), StatusCode::UNAUTHORIZED).await
        }
        Some(_) if was_on => Ok(back_to_overview(&me, &state, "app-changed")),
        Some(codes) => show_codes(&state, &me, codes, "two-factor-on").await,
    }
}

async fn confirm_page(
    state: &AppState,
    me: &SignedIn,
    path: &str,
    title_key: &str,
    message_key: &str,
) -> Result<Response, PageError> {
    let context = ConfirmPage {
        frame: page::frame(state, Some(&me.tenant), me.lang),
        action: me.tenant.path(state, path),
        csrf_token: me.csrf_token(),
        title: state.views.message(me.lang, title_key),
        message: state.views.message(me.lang, message_key),
        button: state.views.message(me.lang, title_key),
        cancel_url: me.tenant.path(state, "/account"),
        hidden: Vec::new(),
    };
    page::render(state, "confirm.html", context, StatusCode::OK).await
}

async fn confirm_off(
    State(state): State<AppState>,
    FreshlySignedIn(me): FreshlySignedIn,
) -> Result<Response, PageError> {
    confirm_page(&state, &me, "/account/two-factor/off", "confirm-off-title", "confirm-off-message").await
}

async fn switch_off(
    State(state): State<AppState>,
    FreshlySignedIn(me): FreshlySignedIn,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    PageForm(body): PageForm<CsrfBody>,
) -> Result<Response, PageError> {
    me.check_csrf(&body.csrf_token)?;
    account::switch_off_two_factor(
        &state,
        &me.tenant,
        &me.user,
        &ip,
        crate::email::Seen {
            user_agent: Some(&crate::http::browser::user_agent(&headers)),
            lang: Some(me.lang),
        },
        state.now(),
    )
    .await
    .map_err(account_error)?;
    Ok(back_to_overview(&me, &state, "two-factor-off"))
}

async fn confirm_new_codes(
    State(state): State<AppState>,
    FreshlySignedIn(me): FreshlySignedIn,
) -> Result<Response, PageError> {
    confirm_page(
        &state,
        &me,
        "/account/backup-codes/new",
        "confirm-new-codes-title",
        "confirm-new-codes-message",
    )
    .await
}

async fn new_codes(
    State(state): State<AppState>,
    FreshlySignedIn(me): FreshlySignedIn,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    PageForm(body): PageForm<CsrfBody>,
) -> Result<Response, PageError> {
    me.check_csrf(&body.csrf_token)?;
    if me.user.two_factor_method.is_none() {
        return Err(PageError::bad_request("error-bad-request"));
    }
    let codes = account::regenerate_backup_codes(
        &state,
        &me.tenant,
        &me.user,
        &ip,
        crate::email::Seen {
            user_agent: Some(&crate::http::browser::user_agent(&headers)),
            lang: Some(me.lang),
        },
        state.now(),
    )
    .await
    .map_err(account_error)?;
    show_codes(&state, &me, codes, "codes-renewed").await
}
