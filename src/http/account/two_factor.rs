//! Two-factor settings on the account pages: switch on (method choice, app setup, backup codes),
//! change method or app, switch off, new backup codes.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::{CsrfBody, SignedIn, account_error, back_to_overview, check_csrf, parse_form, signed_in};
use crate::account;
use crate::authn::second_factor::Method;
use crate::authn::totp_enrolment;
use crate::error::PageError;
use crate::http::client_ip::ClientIp;
use crate::http::page;
use crate::http::tenant::CurrentTenant;
use crate::state::AppState;
use crate::tenants::Tenant;
use crate::views::pages::{BackupCodesPage, ConfirmPage, MethodChoicePage, MethodOption, TotpSetupPage};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account/two-factor/method", get(method_choice).post(choose_method))
        .route("/account/two-factor/app", get(app_setup).post(confirm_app))
        .route("/account/two-factor/off", get(confirm_off).post(switch_off))
        .route("/account/backup-codes/new", get(confirm_new_codes).post(new_codes))
        .merge(super::sms::router())
        .merge(super::security_keys::router())
}

/// Changing an existing second factor needs a fresh sign-in; switching it on needs a session.
pub(super) async fn me(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    path: &str,
    always_fresh: bool,
) -> Result<Result<SignedIn, Response>, PageError> {
    let first = signed_in(state, tenant, headers, path, always_fresh).await?;
    match first {
        Ok(me) if !always_fresh && me.user.two_factor_method.is_some() => {
            signed_in(state, tenant, headers, path, true).await
        }
        other => Ok(other),
    }
}

macro_rules! signed_in_or_redirect {
    ($call:expr) => {
        match $call.await? {
            Ok(me) => me,
            Err(redirect) => return Ok(redirect),
        }
    };
}

pub(super) fn html(
    state: &AppState,
    template: &str,
    context: impl serde::Serialize,
    status: StatusCode,
) -> Result<Response, PageError> {
    let body = state.views.render(template, context).map_err(PageError::internal)?;
    Ok((status, Html(body)).into_response())
}

async fn method_choice(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let me = signed_in_or_redirect!(me(&state, &tenant, &headers, "/account/two-factor/method", false));
    let methods = Method::AVAILABLE
        .iter()
        .map(|m| MethodOption { value: m.as_str(), label: state.views.message(me.lang, m.label_key()) })
        .collect();
    let context = MethodChoicePage {
        frame: page::frame(&state, Some(&tenant), me.lang),
        action: tenant.path(&state, "/account/two-factor/method"),
        csrf_token: me.session.row.csrf_token.clone(),
        methods,
        cancel_url: tenant.path(&state, "/account"),
    };
    html(&state, "method_choice.html", context, StatusCode::OK)
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
    CurrentTenant(tenant): CurrentTenant,
    headers: HeaderMap,
    body: String,
) -> Result<Response, PageError> {
    let me = signed_in_or_redirect!(me(&state, &tenant, &headers, "/account/two-factor/method", false));
    let body: MethodBody = parse_form(&body)?;
    check_csrf(&me, &body.csrf_token)?;
    match Method::parse(&body.method) {
        Some(Method::Totp) => {
            Ok(Redirect::to(&tenant.path(&state, "/account/two-factor/app")).into_response())
        }
        Some(Method::Sms) => {
            Ok(Redirect::to(&tenant.path(&state, "/account/two-factor/sms")).into_response())
        }
        Some(Method::SecurityKey) => {
            Ok(Redirect::to(&tenant.path(&state, "/account/security-keys")).into_response())
        }
        None => Err(PageError::bad_request("error-bad-request")),
    }
}

async fn render_app_setup(
    state: &AppState,
    tenant: &Tenant,
    me: &SignedIn,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let setup =
        totp_enrolment::begin(state, tenant, &me.user, state.now()).await.map_err(PageError::internal)?;
    let context = TotpSetupPage {
        frame: page::frame(state, Some(tenant), me.lang),
        action: tenant.path(state, "/account/two-factor/app"),
        csrf_token: me.session.row.csrf_token.clone(),
        error,
        intro: None,
        setup_key: setup.setup_key,
        otpauth_uri: setup.otpauth_uri,
        qr_data_uri: setup.qr_data_uri,
        cancel_url: Some(tenant.path(state, "/account")),
        sms_url: None,
    };
    html(state, "totp_setup.html", context, status)
}

async fn app_setup(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let me = signed_in_or_redirect!(me(&state, &tenant, &headers, "/account/two-factor/app", false));
    render_app_setup(&state, &tenant, &me, None, StatusCode::OK).await
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
    CurrentTenant(tenant): CurrentTenant,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: String,
) -> Result<Response, PageError> {
    let me = signed_in_or_redirect!(me(&state, &tenant, &headers, "/account/two-factor/app", false));
    let body: CodeBody = parse_form(&body)?;
    check_csrf(&me, &body.csrf_token)?;
    let was_on = me.user.two_factor_method.is_some();
    let confirmed = totp_enrolment::confirm(&state, &tenant, &me.user, &body.code, &ip, state.now())
        .await
        .map_err(PageError::internal)?;
    match confirmed {
        None => {
            let message = state.views.message(me.lang, "second-factor-wrong-code");
            render_app_setup(&state, &tenant, &me, Some(message), StatusCode::UNAUTHORIZED).await
        }
        Some(_) if was_on => Ok(back_to_overview(&state, &tenant, "app-changed")),
        Some(codes) => show_codes(&state, &tenant, &me, codes, "two-factor-on"),
    }
}

pub(super) fn show_codes(
    state: &AppState,
    tenant: &Tenant,
    me: &SignedIn,
    codes: Vec<String>,
    done: &str,
) -> Result<Response, PageError> {
    let context = BackupCodesPage {
        frame: page::frame(state, Some(tenant), me.lang),
        codes,
        continue_action: None,
        continue_link: Some(tenant.path(state, &format!("/account?done={done}"))),
        csrf_token: me.session.row.csrf_token.clone(),
    };
    html(state, "backup_codes.html", context, StatusCode::OK)
}

fn confirm_page(
    state: &AppState,
    tenant: &Tenant,
    me: &SignedIn,
    path: &str,
    title_key: &str,
    message_key: &str,
) -> Result<Response, PageError> {
    let context = ConfirmPage {
        frame: page::frame(state, Some(tenant), me.lang),
        action: tenant.path(state, path),
        csrf_token: me.session.row.csrf_token.clone(),
        title: state.views.message(me.lang, title_key),
        message: state.views.message(me.lang, message_key),
        button: state.views.message(me.lang, title_key),
        cancel_url: tenant.path(state, "/account"),
        hidden: Vec::new(),
    };
    html(state, "confirm.html", context, StatusCode::OK)
}

async fn confirm_off(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let me = signed_in_or_redirect!(me(&state, &tenant, &headers, "/account/two-factor/off", true));
    confirm_page(&state, &tenant, &me, "/account/two-factor/off", "confirm-off-title", "confirm-off-message")
}

async fn switch_off(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: String,
) -> Result<Response, PageError> {
    let me = signed_in_or_redirect!(me(&state, &tenant, &headers, "/account/two-factor/off", true));
    check_csrf(&me, &parse_form::<CsrfBody>(&body)?.csrf_token)?;
    account::switch_off_two_factor(&state, &tenant, &me.user, &ip, state.now())
        .await
        .map_err(account_error)?;
    Ok(back_to_overview(&state, &tenant, "two-factor-off"))
}

async fn confirm_new_codes(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let me = signed_in_or_redirect!(me(&state, &tenant, &headers, "/account/backup-codes/new", true));
    confirm_page(
        &state,
        &tenant,
        &me,
        "/account/backup-codes/new",
        "confirm-new-codes-title",
        "confirm-new-codes-message",
    )
}

async fn new_codes(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: String,
) -> Result<Response, PageError> {
    let me = signed_in_or_redirect!(me(&state, &tenant, &headers, "/account/backup-codes/new", true));
    check_csrf(&me, &parse_form::<CsrfBody>(&body)?.csrf_token)?;
    if me.user.two_factor_method.is_none() {
        return Err(PageError::bad_request("error-bad-request"));
    }
    let codes = account::regenerate_backup_codes(&state, &tenant, &me.user, &ip, state.now())
        .await
        .map_err(account_error)?;
    show_codes(&state, &tenant, &me, codes, "codes-renewed")
}
