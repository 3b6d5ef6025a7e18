//! The second-factor forms of a login: a verification code, a backup code, forced enrolment with
//! an app, the Continue of the notice stage, consent, and "Did you not receive the code?".

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::request::LoginRequest;
use super::{flow_error, respond};
use crate::authn::flow::completion;
use crate::authn::flow::enrolment_step::{self, EnrolOutcome};
use crate::authn::flow::second_factor_step::{self, BackupCodeForm, CodeForm};
use crate::authn::flow::{Stage, StepOutcome};
use crate::authn::{session, sms};
use crate::error::PageError;
use crate::http::cookies;
use crate::http::page;
use crate::state::AppState;
use crate::views::pages::{BackupCodePage, BackupCodesPage, ConfirmPage};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login/{attempt}/code", post(submit_code))
        .route("/login/{attempt}/backup", get(backup_form).post(submit_backup_code))
        .route("/login/{attempt}/enrol", post(confirm_enrolment))
        .route("/login/{attempt}/continue", post(continue_after_notice))
        .route("/login/{attempt}/consent", post(decide_consent))
        .route("/login/{attempt}/resend", get(resend_form).post(resend_code))
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
    #[serde(default)]
    decision: String,
}

async fn submit_code(
    State(state): State<AppState>,
    request: LoginRequest,
    body: String,
) -> Result<Response, PageError> {
    let body: CodeBody = LoginRequest::form(&body)?;
    let form = CodeForm {
        code: body.code,
        csrf_token: body.csrf_token,
        remember_device: body.remember_device.is_some(),
    };
    let outcome = second_factor_step::submit_code(
        &state,
        &request.tenant,
        &request.current.attempt,
        form,
        &request.browser(),
        &request.ip,
        state.now(),
    )
    .await
    .map_err(flow_error)?;
    respond(&state, &request.tenant, &request.current, &request.headers, outcome, None).await
}

async fn backup_form(State(state): State<AppState>, request: LoginRequest) -> Result<Response, PageError> {
    request.current.attempt.expect_stage(Stage::SecondFactor).map_err(flow_error)?;
    render_backup_form(&state, &request, None, StatusCode::OK)
}

fn render_backup_form(
    state: &AppState,
    request: &LoginRequest,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let context = BackupCodePage {
        frame: page::frame(state, Some(&request.tenant), request.lang),
        action: request.url(state, "/backup"),
        back_url: request.url(state, ""),
        csrf_token: request.current.attempt.csrf_token.clone(),
        error,
    };
    let html = state.views.render("backup_code.html", context).map_err(PageError::internal)?;
    Ok((status, Html(html)).into_response())
}

async fn submit_backup_code(
    State(state): State<AppState>,
    request: LoginRequest,
    body: String,
) -> Result<Response, PageError> {
    let body: CodeBody = LoginRequest::form(&body)?;
    let outcome = second_factor_step::submit_backup_code(
        &state,
        &request.tenant,
        &request.current.attempt,
        BackupCodeForm { code: &body.backup_code, csrf_token: &body.csrf_token },
        &request.browser(),
        &request.ip,
        state.now(),
    )
    .await
    .map_err(flow_error)?;
    if let StepOutcome::Retry { message_key, .. } = &outcome {
        let message = state.views.message(request.lang, message_key);
        return render_backup_form(&state, &request, Some(message), StatusCode::UNAUTHORIZED);
    }
    respond(&state, &request.tenant, &request.current, &request.headers, outcome, None).await
}

/// Shows a new set of backup codes, then Continue finishes the attempt.
pub fn show_backup_codes(
    state: &AppState,
    request: &LoginRequest,
    codes: Vec<String>,
) -> Result<Response, PageError> {
    let context = BackupCodesPage {
        frame: page::frame(state, Some(&request.tenant), request.lang),
        codes,
        continue_action: Some(request.url(state, "/continue")),
        continue_link: None,
        csrf_token: request.current.attempt.csrf_token.clone(),
    };
    let html = state.views.render("backup_codes.html", context).map_err(PageError::internal)?;
    Ok(Html(html).into_response())
}

async fn confirm_enrolment(
    State(state): State<AppState>,
    request: LoginRequest,
    body: String,
) -> Result<Response, PageError> {
    let body: CodeBody = LoginRequest::form(&body)?;
    let outcome = enrolment_step::confirm(
        &state,
        &request.tenant,
        &request.current.attempt,
        &body.code,
        &body.csrf_token,
        &request.browser(),
        &request.ip,
        state.now(),
    )
    .await
    .map_err(flow_error)?;
    match outcome {
        EnrolOutcome::Step(step) => {
            respond(&state, &request.tenant, &request.current, &request.headers, step, None).await
        }
        EnrolOutcome::Confirmed { backup_codes } => show_backup_codes(&state, &request, backup_codes),
    }
}

async fn continue_after_notice(
    State(state): State<AppState>,
    request: LoginRequest,
    body: String,
) -> Result<Response, PageError> {
    let body: CodeBody = LoginRequest::form(&body)?;
    let outcome = completion::continue_after_notice(
        &state,
        &request.tenant,
        &request.current.attempt,
        &body.csrf_token,
        &request.ip,
        state.now(),
    )
    .await
    .map_err(flow_error)?;
    respond(&state, &request.tenant, &request.current, &request.headers, outcome, None).await
}

async fn decide_consent(
    State(state): State<AppState>,
    request: LoginRequest,
    body: String,
) -> Result<Response, PageError> {
    let body: CodeBody = LoginRequest::form(&body)?;
    let tenant = &request.tenant;
    let session = match cookies::read(&request.headers, &cookies::session_name(&state, tenant.slug())) {
        Some(cookie) => {
            session::resume(&state, tenant, &cookie, state.now()).await.map_err(PageError::internal)?
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
        tenant,
        &request.current.attempt,
        session.as_ref(),
        allow,
        &body.csrf_token,
        &request.ip,
        state.now(),
    )
    .await
    .map_err(flow_error)?;
    respond(&state, tenant, &request.current, &request.headers, outcome, None).await
}

/// "Did you not receive the verification code?": a page that offers a new code (a link must not
/// send a paid message by itself: prefetching or a reload would).
async fn resend_form(State(state): State<AppState>, request: LoginRequest) -> Result<Response, PageError> {
    request.current.attempt.expect_stage(Stage::SecondFactor).map_err(flow_error)?;
    let lang = request.lang;
    let context = ConfirmPage {
        frame: page::frame(&state, Some(&request.tenant), lang),
        action: request.url(&state, "/resend"),
        csrf_token: request.current.attempt.csrf_token.clone(),
        title: state.views.message(lang, "sms-resend-title"),
        message: state.views.message(lang, "sms-resend-message"),
        button: state.views.message(lang, "sms-resend-button"),
        cancel_url: request.url(&state, ""),
        hidden: Vec::new(),
    };
    let html = state.views.render("confirm.html", context).map_err(PageError::internal)?;
    Ok(Html(html).into_response())
}

/// Sends a new code within the limits, then back to the step (post-redirect-get: a reload sends
/// nothing).
async fn resend_code(
    State(state): State<AppState>,
    request: LoginRequest,
    body: String,
) -> Result<Response, PageError> {
    let tenant = &request.tenant;
    request.current.attempt.expect_stage(Stage::SecondFactor).map_err(flow_error)?;
    let body: CodeBody = LoginRequest::form(&body)?;
    if !request.current.attempt.csrf_matches(&body.csrf_token) {
        return Err(PageError::bad_request("login-form-expired"));
    }
    let user =
        second_factor_step::load_user(&state, tenant, &request.current.attempt).await.map_err(flow_error)?;
    // Only for someone whose method is text messages, and never where a code would not count.
    if user.two_factor_method.as_deref() != Some(crate::authn::second_factor::Method::Sms.as_str())
        || request.current.attempt.purpose.demands_security_key()
    {
        return Err(PageError::bad_request("error-bad-request"));
    }
    let phone = sms::user_phone(tenant, &user).ok_or_else(|| PageError::bad_request("error-bad-request"))?;
    let outcome = sms::send_code(
        &state,
        tenant,
        &user.id,
        &phone,
        sms::PURPOSE_LOGIN,
        request.lang,
        Some(&request.ip),
        state.now(),
    )
    .await
    .map_err(PageError::internal)?;
    let query = match outcome {
        sms::SendOutcome::Sent => "sent".to_string(),
        sms::SendOutcome::Wait(seconds) => format!("wait&seconds={seconds}"),
        sms::SendOutcome::HourlyLimit => "hourly".to_string(),
        sms::SendOutcome::DailyLimit => "daily".to_string(),
        sms::SendOutcome::CountryRefused => "country".to_string(),
        sms::SendOutcome::Failed => "failed".to_string(),
    };
    Ok(Redirect::to(&format!("{}?resend={query}", request.url(&state, ""))).into_response())
}
