//! The hosted password page.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use fluent_bundle::FluentValue;
use secrecy::SecretString;
use serde::Deserialize;

use super::client_ip::ClientIp;
use super::cookies;
use super::page;
use super::tenant::CurrentTenant;
use crate::authn::flow::{self, FlowError, LoginAttempt, PasswordForm, PasswordOutcome};
use crate::error::PageError;
use crate::state::AppState;
use crate::tenants::Tenant;
use crate::views::pages::LoginPage;

pub fn router() -> Router<AppState> {
    Router::new().route("/login/{attempt}", get(show).post(submit))
}

#[derive(Deserialize)]
struct LoginFormBody {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf_token: String,
}

fn flow_error(err: FlowError) -> PageError {
    match err {
        FlowError::AttemptGone => PageError::bad_request("error-attempt-expired"),
        other => PageError::internal(other),
    }
}

async fn load_attempt(
    state: &AppState,
    tenant: &Tenant,
    token: &str,
    headers: &HeaderMap,
) -> Result<LoginAttempt, PageError> {
    let browser = cookies::read(headers, &cookies::browser_name(state));
    flow::load(state, tenant, token, browser.as_deref(), state.now()).await.map_err(flow_error)
}

struct Form<'a> {
    email: &'a str,
    error: Option<String>,
}

fn render(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    attempt_token: &str,
    headers: &HeaderMap,
    form: Form<'_>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let lang = page::language(headers, attempt.request.ui_locales.as_deref(), Some(tenant));
    let context = LoginPage {
        frame: page::frame(state, Some(tenant), lang),
        action: tenant.path(state, &format!("/login/{attempt_token}")),
        csrf_token: attempt.csrf_token.clone(),
        email: form.email.to_string(),
        error: form.error,
    };
    let html = state.views.render("login.html", context).map_err(PageError::internal)?;
    Ok((status, Html(html)).into_response())
}

async fn show(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    Path((_, token)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let attempt = load_attempt(&state, &tenant, &token, &headers).await?;
    let email = attempt.request.login_hint.clone().unwrap_or_default();
    let form = Form { email: &email, error: None };
    render(&state, &tenant, &attempt, &token, &headers, form, StatusCode::OK)
}

async fn submit(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    Path((_, token)): Path<(String, String)>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: String,
) -> Result<Response, PageError> {
    let attempt = load_attempt(&state, &tenant, &token, &headers).await?;
    let body: LoginFormBody =
        serde_urlencoded::from_str(&body).map_err(|_| PageError::bad_request("error-bad-request"))?;
    let form = PasswordForm {
        email: body.email,
        password: SecretString::from(body.password),
        csrf_token: body.csrf_token,
    };
    let outcome =
        flow::submit_password(&state, &tenant, &attempt, form, &ip, state.now()).await.map_err(flow_error)?;
    match outcome {
        PasswordOutcome::SignedIn { session_token, redirect_to } => {
            let mut response = Redirect::to(&redirect_to).into_response();
            let name = cookies::session_name(&state, tenant.slug());
            if let Some(cookie) = cookies::set(&state, &name, &session_token, None) {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            Ok(response)
        }
        PasswordOutcome::Retry { message_key, seconds, email } => {
            let lang = page::language(&headers, attempt.request.ui_locales.as_deref(), Some(&tenant));
            let args: Vec<(&str, FluentValue<'_>)> =
                seconds.map(|s| ("seconds", FluentValue::from(s))).into_iter().collect();
            let message = state.views.message_with(lang, message_key, &args);
            let status = match message_key {
                "login-throttled" => StatusCode::TOO_MANY_REQUESTS,
                "login-failed" => StatusCode::UNAUTHORIZED,
                _ => StatusCode::BAD_REQUEST,
            };
            let form = Form { email: &email, error: Some(message) };
            let mut response = render(&state, &tenant, &attempt, &token, &headers, form, status)?;
            if let Some(value) = seconds.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Ok(response)
        }
    }
}
