//! "Forgot your password?": the request page (`/password/forgot`) and the page of the emailed
//! link (`/password/reset/{token}`). Neither needs a session, so their forms carry a CSRF token
//! bound to the browser's binding cookie (an HMAC under the master key).

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use hmac::{Hmac, Mac};
use secrecy::SecretString;
use serde::Deserialize;

use crate::account::AccountError;
use crate::account::password_reset::{self, NewPassword, RequestOutcome, ResetOutcome, ResetRequest};
use crate::authn::password::PasswordError;
use crate::crypto::constant_time_eq;
use crate::error::PageError;
use crate::http::client_ip::ClientIp;
use crate::http::form::PageForm;
use crate::http::tenant::CurrentTenant;
use crate::http::{browser, cookies, page};
use crate::state::AppState;
use crate::tenants::Tenant;
use crate::views::pages::{MessagePage, PasswordForgotPage, PasswordResetPage};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/password/forgot", get(forgot_form).post(forgot_submit))
        .route("/password/reset/{token}", get(reset_form).post(reset_submit))
}

/// The form token of this browser: HMAC-SHA-256 of its binding cookie.
pub(crate) fn csrf_for(state: &AppState, browser_token: &str) -> String {
    let key = state.keys.master().derive("csrf:password-reset");
    match Hmac::<sha2::Sha256>::new_from_slice(&key) {
        Ok(mut mac) => {
            mac.update(browser_token.as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        // HMAC takes keys of any length; an empty token never matches (`check_csrf`).
        Err(_) => String::new(),
    }
}

pub(crate) fn check_csrf(state: &AppState, headers: &HeaderMap, presented: &str) -> Result<(), PageError> {
    let browser_token = cookies::read(headers, &cookies::browser_name(state));
    let expected = browser_token.map(|token| csrf_for(state, &token)).unwrap_or_default();
    if !expected.is_empty() && constant_time_eq(presented, &expected) {
        Ok(())
    } else {
        Err(PageError::bad_request("login-form-expired"))
    }
}

/// A token as links and attempts are made (`random_token`): anything else is not echoed back.
pub(crate) fn well_formed(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 128
        && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn account_error(err: AccountError) -> PageError {
    PageError::internal(err)
}

#[derive(Deserialize, Default)]
struct ForgotQuery {
    attempt: Option<String>,
}

impl ForgotQuery {
    fn attempt(&self) -> Option<&str> {
        self.attempt.as_deref().filter(|a| well_formed(a))
    }
}

struct ForgotView<'a> {
    email: &'a str,
    error: Option<String>,
    sent: bool,
}

async fn render_forgot(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    query: &ForgotQuery,
    view: ForgotView<'_>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let lang = page::language(headers, None, Some(tenant));
    let (browser_token, set_cookie) = browser::binding(state, headers);
    let action = match query.attempt() {
        Some(attempt) => tenant.path(state, &format!("/password/forgot?attempt={attempt}")),
        None => tenant.path(state, "/password/forgot"),
    };
    let context = PasswordForgotPage {
        frame: page::frame(state, Some(tenant), lang),
        action,
        csrf_token: csrf_for(state, &browser_token),
        email: view.email.to_string(),
        error: view.error,
        sent: view.sent.then(|| state.views.message(lang, "forgot-sent")),
        back_url: query.attempt().map(|attempt| tenant.path(state, &format!("/login/{attempt}"))),
    };
    let mut response = page::render(state, "password_forgot.html", context, status).await?;
    browser::attach(&mut response, set_cookie);
    Ok(response)
}

async fn forgot_form(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    headers: HeaderMap,
    Query(query): Query<ForgotQuery>,
) -> Result<Response, PageError> {
    let view = ForgotView { email: "", error: None, sent: false };
    render_forgot(&state, &tenant, &headers, &query, view, StatusCode::OK).await
}

#[derive(Deserialize)]
struct ForgotBody {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    email: String,
}

async fn forgot_submit(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Query(query): Query<ForgotQuery>,
    PageForm(body): PageForm<ForgotBody>,
) -> Result<Response, PageError> {
    check_csrf(&state, &headers, &body.csrf_token)?;
    let lang = page::language(&headers, None, Some(&tenant));
    let request = ResetRequest { email: &body.email, ip: &ip, lang, attempt: query.attempt() };
    let outcome =
        password_reset::request(&state, &tenant, request, state.now()).await.map_err(account_error)?;
    let view = match outcome {
        RequestOutcome::Answered => ForgotView { email: "", error: None, sent: true },
        RequestOutcome::InvalidEmail => ForgotView {
            email: &body.email,
            error: Some(state.views.message(lang, "forgot-invalid-email")),
            sent: false,
        },
    };
    let status = if view.sent { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    render_forgot(&state, &tenant, &headers, &query, view, status).await
}

fn link_token(params: &HashMap<String, String>) -> Option<&str> {
    params.get("token").map(String::as_str).filter(|t| well_formed(t))
}

/// The clear answer for a link that cannot be used (410 Gone), with the way to a new one.
async fn link_unusable(state: &AppState, tenant: &Tenant, lang: &'static str) -> Result<Response, PageError> {
    let context = MessagePage {
        frame: page::frame(state, Some(tenant), lang),
        title: state.views.message(lang, "reset-link-invalid-title"),
        message: state.views.message(lang, "reset-link-invalid"),
        link_url: Some(tenant.path(state, "/password/forgot")),
        link_text: Some(state.views.message(lang, "reset-link-ask-again")),
    };
    page::render(state, "message.html", context, StatusCode::GONE).await
}

async fn render_reset(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    token: &str,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let lang = page::language(headers, None, Some(tenant));
    let (browser_token, set_cookie) = browser::binding(state, headers);
    let context = PasswordResetPage {
        frame: page::frame(state, Some(tenant), lang),
        action: tenant.path(state, &format!("/password/reset/{token}")),
        csrf_token: csrf_for(state, &browser_token),
        error,
    };
    let mut response = page::render(state, "password_reset.html", context, status).await?;
    browser::attach(&mut response, set_cookie);
    Ok(response)
}

async fn reset_form(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    headers: HeaderMap,
    Path(params): Path<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let lang = page::language(&headers, None, Some(&tenant));
    let Some(token) = link_token(&params) else { return link_unusable(&state, &tenant, lang).await };
    let usable =
        password_reset::usable_link(&state, &tenant, token, state.now()).await.map_err(account_error)?;
    if usable.is_none() {
        return link_unusable(&state, &tenant, lang).await;
    }
    render_reset(&state, &tenant, &headers, token, None, StatusCode::OK).await
}

#[derive(Deserialize)]
struct ResetBody {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    new_password: String,
}

async fn reset_submit(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(params): Path<HashMap<String, String>>,
    PageForm(body): PageForm<ResetBody>,
) -> Result<Response, PageError> {
    check_csrf(&state, &headers, &body.csrf_token)?;
    let lang = page::language(&headers, None, Some(&tenant));
    let Some(token) = link_token(&params) else { return link_unusable(&state, &tenant, lang).await };
    let user_agent = browser::user_agent(&headers);
    let new = NewPassword {
        password: SecretString::from(body.new_password),
        ip: &ip,
        user_agent: &user_agent,
        lang,
    };
    let now = state.now();
    let outcome = password_reset::complete(&state, &tenant, token, new, now).await.map_err(account_error)?;
    match outcome {
        ResetOutcome::LinkUnusable => link_unusable(&state, &tenant, lang).await,
        ResetOutcome::Refused(err) => {
            let key = match err {
                PasswordError::TooLong => "password-change-too-long",
                _ => "password-change-too-short",
            };
            let error = Some(state.views.message(lang, key));
            render_reset(&state, &tenant, &headers, token, error, StatusCode::BAD_REQUEST).await
        }
        ResetOutcome::Done { attempt } => {
            // Back to the sign-in the request came from, when it is this browser's and still on.
            let browser_token = cookies::read(&headers, &cookies::browser_name(&state));
            if let Some(attempt) = attempt
                && crate::authn::flow::load(&state, &tenant, &attempt, browser_token.as_deref(), now)
                    .await
                    .is_ok()
            {
                return Ok(Redirect::to(&tenant.path(&state, &format!("/login/{attempt}"))).into_response());
            }
            let context = MessagePage {
                frame: page::frame(&state, Some(&tenant), lang),
                title: state.views.message(lang, "reset-done-title"),
                message: state.views.message(lang, "reset-done"),
                link_url: Some(tenant.path(&state, "/account")),
                link_text: Some(state.views.message(lang, "reset-done-sign-in")),
            };
            page::render(&state, "message.html", context, StatusCode::OK).await
        }
    }
}
