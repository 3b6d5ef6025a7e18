//! The forms after the password: a verification code, a backup code, forced enrolment with an
//! app, the Continue of the notice stage, consent, and "Did you not receive the code?".

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::request::LoginRequest;
use super::respond::{FormPage, respond};
use super::{flow_error, forms, sms_notice};
use crate::authn::flow::enrolment_step::{self, EnrolOutcome};
use crate::authn::flow::second_factor_step::{self, BackupCodeForm, CodeForm, Resend};
use crate::authn::flow::{Stage, completion, consent_step};
use crate::error::PageError;
use crate::http::form::PageForm;
use crate::state::AppState;

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

const STAGE_PAGE: FormPage<'static> = FormPage::Stage { typed_email: None };

async fn submit_code(
    State(state): State<AppState>,
    request: LoginRequest,
    PageForm(body): PageForm<CodeBody>,
) -> Result<Response, PageError> {
    let form = CodeForm {
        code: body.code,
        csrf_token: body.csrf_token,
        remember_device: body.remember_device.is_some(),
    };
    let outcome = second_factor_step::submit_code(
        &state,
        &request.tenant,
        &request.attempt,
        form,
        &request.visitor(),
        state.now(),
    )
    .await
    .map_err(flow_error)?;
    respond(&state, request, outcome, STAGE_PAGE).await
}

async fn backup_form(State(state): State<AppState>, request: LoginRequest) -> Result<Response, PageError> {
    request.attempt.expect_stage(Stage::SecondFactor).map_err(flow_error)?;
    forms::backup_code(&state, &request, None, StatusCode::OK).await
}

async fn submit_backup_code(
    State(state): State<AppState>,
    request: LoginRequest,
    PageForm(body): PageForm<CodeBody>,
) -> Result<Response, PageError> {
    let outcome = second_factor_step::submit_backup_code(
        &state,
        &request.tenant,
        &request.attempt,
        BackupCodeForm { code: &body.backup_code, csrf_token: &body.csrf_token },
        &request.visitor(),
        state.now(),
    )
    .await
    .map_err(flow_error)?;
    respond(&state, request, outcome, FormPage::BackupCode).await
}

async fn confirm_enrolment(
    State(state): State<AppState>,
    request: LoginRequest,
    PageForm(body): PageForm<CodeBody>,
) -> Result<Response, PageError> {
    let outcome = enrolment_step::confirm(
        &state,
        &request.tenant,
        &request.attempt,
        &body.code,
        &body.csrf_token,
        &request.visitor(),
        state.now(),
    )
    .await
    .map_err(flow_error)?;
    match outcome {
        EnrolOutcome::Step(step) => respond(&state, request, step, STAGE_PAGE).await,
        EnrolOutcome::Confirmed { backup_codes } => forms::backup_codes(&state, &request, backup_codes).await,
    }
}

async fn continue_after_notice(
    State(state): State<AppState>,
    request: LoginRequest,
    PageForm(body): PageForm<CodeBody>,
) -> Result<Response, PageError> {
    let outcome = completion::continue_after_notice(
        &state,
        &request.tenant,
        &request.attempt,
        &body.csrf_token,
        &request.visitor(),
        state.now(),
    )
    .await
    .map_err(flow_error)?;
    respond(&state, request, outcome, STAGE_PAGE).await
}

async fn decide_consent(
    State(state): State<AppState>,
    request: LoginRequest,
    PageForm(body): PageForm<CodeBody>,
) -> Result<Response, PageError> {
    let allow = match body.decision.as_str() {
        "allow" => true,
        "deny" => false,
        _ => return Err(PageError::bad_request("error-bad-request")),
    };
    let outcome = consent_step::decide(
        &state,
        &request.tenant,
        &request.attempt,
        allow,
        &body.csrf_token,
        &request.visitor(),
        state.now(),
    )
    .await
    .map_err(flow_error)?;
    respond(&state, request, outcome, STAGE_PAGE).await
}

async fn resend_form(State(state): State<AppState>, request: LoginRequest) -> Result<Response, PageError> {
    request.attempt.expect_stage(Stage::SecondFactor).map_err(flow_error)?;
    forms::resend(&state, &request).await
}

/// Sends a new code within the limits, then back to the step (post-redirect-get: a reload sends
/// nothing).
async fn resend_code(
    State(state): State<AppState>,
    request: LoginRequest,
    PageForm(body): PageForm<CodeBody>,
) -> Result<Response, PageError> {
    let resent = second_factor_step::resend_code(
        &state,
        &request.tenant,
        &request.attempt,
        &body.csrf_token,
        &request.visitor(),
        state.now(),
    )
    .await
    .map_err(flow_error)?;
    let outcome = match resent {
        Resend::Sent(outcome) => outcome,
        Resend::FormExpired => return Err(PageError::bad_request("login-form-expired")),
        Resend::NotByText => return Err(PageError::bad_request("error-bad-request")),
    };
    let query = sms_notice::query(&outcome);
    Ok(Redirect::to(&format!("{}?{query}", request.url(&state, ""))).into_response())
}
