//! The second-factor forms of a login: a verification code, a backup code, forced enrolment, and
//! the Continue of the notice stage.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::browser;
use super::client_ip::ClientIp;
use super::cookies;
use super::login::{flow_error, load_attempt, render_second_factor, respond, send_outcome_message};
use super::page;
use super::tenant::CurrentTenant;
use crate::authn::flow::completion;
use crate::authn::flow::enrolment_step::{self, EnrolOutcome};
use crate::authn::flow::second_factor_step::{self, BackupCodeForm, CodeForm};
use crate::authn::flow::{Browser, Stage};
use crate::authn::{session, sms};
use crate::error::PageError;
use crate::state::AppState;
use crate::views::pages::{BackupCodePage, BackupCodesPage};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login/{attempt}/code", post(submit_code))
        .route("/login/{attempt}/backup", get(backup_form).post(submit_backup_code))
        .route("/login/{attempt}/enrol", post(confirm_enrolment))
        .route("/login/{attempt}/continue", post(continue_after_notice))
        .route("/login/{attempt}/consent", post(decide_consent))
        .route("/login/{attempt}/resend", get(resend_code))
}

#[derive(Deserialize)]
struct CodeBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    backup_code: String,
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    remember_device: Option<String>,
}

fn parse(body: &str) -> Result<CodeBody, PageError> {
    serde_urlencoded::from_str(body).map_err(|_| PageError::bad_request("error-bad-request"))
}

fn browser_token(state: &AppState, headers: &HeaderMap) -> String {
    browser::binding(state, headers).0
}

async fn submit_code(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    Path((_, token)): Path<(String, String)>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: String,
) -> Result<Response, PageError> {
    let current = load_attempt(&state, &tenant, &token, &headers).await?;
    let body = parse(&body)?;
    let form = CodeForm {
        code: body.code,
        csrf_token: body.csrf_token,
        remember_device: body.remember_device.is_some(),
    };
    let binding = browser_token(&state, &headers);
    let user_agent = browser::user_agent(&headers);
    let browser = Browser { token: &binding, user_agent: &user_agent };
    let outcome =
        second_factor_step::submit_code(&state, &tenant, &current.attempt, form, &browser, &ip, state.now())
            .await
            .map_err(flow_error)?;
    respond(&state, &tenant, &current, &headers, outcome, None).await
}

async fn backup_form(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    Path((_, token)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let current = load_attempt(&state, &tenant, &token, &headers).await?;
    current.attempt.expect_stage(Stage::SecondFactor).map_err(flow_error)?;
    render_backup_form(&state, &tenant, &current, &headers, None, StatusCode::OK)
}

fn render_backup_form(
    state: &AppState,
    tenant: &crate::tenants::Tenant,
    current: &super::login::Attempt,
    headers: &HeaderMap,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let lang = page::language(headers, current.attempt.purpose.ui_locales(), Some(tenant));
    let base = tenant.path(state, &format!("/login/{}", current.token));
    let html = state
        .views
        .render(
            "backup_code.html",
            BackupCodePage {
                frame: page::frame(state, Some(tenant), lang),
                action: format!("{base}/backup"),
                back_url: base,
                csrf_token: current.attempt.csrf_token.clone(),
                error,
            },
        )
        .map_err(PageError::internal)?;
    Ok((status, Html(html)).into_response())
}

async fn submit_backup_code(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    Path((_, token)): Path<(String, String)>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: String,
) -> Result<Response, PageError> {
    let current = load_attempt(&state, &tenant, &token, &headers).await?;
    let body = parse(&body)?;
    let binding = browser_token(&state, &headers);
    let user_agent = browser::user_agent(&headers);
    let browser = Browser { token: &binding, user_agent: &user_agent };
    let outcome = second_factor_step::submit_backup_code(
        &state,
        &tenant,
        &current.attempt,
        BackupCodeForm { code: &body.backup_code, csrf_token: &body.csrf_token },
        &browser,
        &ip,
        state.now(),
    )
    .await
    .map_err(flow_error)?;
    if let crate::authn::flow::StepOutcome::Retry { message_key, .. } = &outcome {
        let lang = page::language(&headers, current.attempt.purpose.ui_locales(), Some(&tenant));
        let message = state.views.message(lang, message_key);
        return render_backup_form(
            &state,
            &tenant,
            &current,
            &headers,
            Some(message),
            StatusCode::UNAUTHORIZED,
        );
    }
    respond(&state, &tenant, &current, &headers, outcome, None).await
}

async fn confirm_enrolment(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    Path((_, token)): Path<(String, String)>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: String,
) -> Result<Response, PageError> {
    let current = load_attempt(&state, &tenant, &token, &headers).await?;
    let body = parse(&body)?;
    let binding = browser_token(&state, &headers);
    let user_agent = browser::user_agent(&headers);
    let browser = Browser { token: &binding, user_agent: &user_agent };
    let outcome = enrolment_step::confirm(
        &state,
        &tenant,
        &current.attempt,
        &body.code,
        &body.csrf_token,
        &browser,
        &ip,
        state.now(),
    )
    .await
    .map_err(flow_error)?;
    match outcome {
        EnrolOutcome::Step(step) => respond(&state, &tenant, &current, &headers, step, None).await,
        EnrolOutcome::Confirmed { backup_codes } => {
            let lang = page::language(&headers, current.attempt.purpose.ui_locales(), Some(&tenant));
            let html = state
                .views
                .render(
                    "backup_codes.html",
                    BackupCodesPage {
                        frame: page::frame(&state, Some(&tenant), lang),
                        codes: backup_codes,
                        continue_action: Some(tenant.path(&state, &format!("/login/{token}/continue"))),
                        continue_link: None,
                        csrf_token: current.attempt.csrf_token.clone(),
                    },
                )
                .map_err(PageError::internal)?;
            Ok(Html(html).into_response())
        }
    }
}

async fn continue_after_notice(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    Path((_, token)): Path<(String, String)>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: String,
) -> Result<Response, PageError> {
    let current = load_attempt(&state, &tenant, &token, &headers).await?;
    let body = parse(&body)?;
    let outcome = completion::continue_after_notice(
        &state,
        &tenant,
        &current.attempt,
        &body.csrf_token,
        &ip,
        state.now(),
    )
    .await
    .map_err(flow_error)?;
    respond(&state, &tenant, &current, &headers, outcome, None).await
}

#[derive(Deserialize)]
struct ConsentBody {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    decision: String,
}

async fn decide_consent(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    Path((_, token)): Path<(String, String)>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: String,
) -> Result<Response, PageError> {
    let current = load_attempt(&state, &tenant, &token, &headers).await?;
    let body: ConsentBody =
        serde_urlencoded::from_str(&body).map_err(|_| PageError::bad_request("error-bad-request"))?;
    let session = match cookies::read(&headers, &cookies::session_name(&state, tenant.slug())) {
        Some(cookie) => {
            session::resume(&state, &tenant, &cookie, state.now()).await.map_err(PageError::internal)?
        }
        None => None,
    };
    let allow = match body.decision.as_str() {
        "allow" => true,
        "deny" => false,
        _ => return Err(PageError::bad_request("error-bad-request")),
    };
    let outcome = completion::decide_consent(
        &state,
        &tenant,
        &current.attempt,
        session.as_ref(),
        allow,
        &body.csrf_token,
        &ip,
        state.now(),
    )
    .await
    .map_err(flow_error)?;
    respond(&state, &tenant, &current, &headers, outcome, None).await
}

/// "Did you not receive the verification code?": a new code, within the limits.
async fn resend_code(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    Path((_, token)): Path<(String, String)>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let current = load_attempt(&state, &tenant, &token, &headers).await?;
    current.attempt.expect_stage(Stage::SecondFactor).map_err(flow_error)?;
    let user = second_factor_step::load_user(&state, &tenant, &current.attempt).await.map_err(flow_error)?;
    let lang = page::language(&headers, current.attempt.purpose.ui_locales(), Some(&tenant));
    let phone = user
        .phone_number
        .as_deref()
        .and_then(|p| crate::domain::PhoneNumber::parse(p, &tenant.row.sms_region).ok())
        .ok_or_else(|| PageError::bad_request("error-bad-request"))?;
    let outcome =
        sms::send_code(&state, &tenant, &user.id, &phone, sms::PURPOSE_LOGIN, lang, Some(&ip), state.now())
            .await
            .map_err(PageError::internal)?;
    let (error, status, code) = match send_outcome_message(&state, lang, &outcome) {
        None => (None, Some(state.views.message(lang, "sms-resent")), StatusCode::OK),
        Some(message) => (Some(message), None, StatusCode::TOO_MANY_REQUESTS),
    };
    let code = if matches!(outcome, sms::SendOutcome::Failed | sms::SendOutcome::CountryRefused) {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        code
    };
    render_second_factor(&state, &tenant, &current, &headers, error, status, code).await
}
