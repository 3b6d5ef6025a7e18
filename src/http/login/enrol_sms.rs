//! Forced enrolment by text message, for people without an authenticator app: a mobile number,
//! the code sent to it, then the backup codes and Continue.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use super::request::LoginRequest;
use super::respond::{FormPage, respond};
use super::{flow_error, forms, sms_notice};
use crate::authn::flow::Stage;
use crate::authn::flow::enrolment_step::{self, EnrolOutcome, SmsEnrolment};
use crate::error::PageError;
use crate::http::form::PageForm;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login/{attempt}/enrol/sms", get(phone_form).post(send_code))
        .route("/login/{attempt}/enrol/sms/confirm", post(confirm))
}

async fn phone_form(State(state): State<AppState>, request: LoginRequest) -> Result<Response, PageError> {
    request.attempt.expect_stage(Stage::Enrol).map_err(flow_error)?;
    forms::sms_enrol_phone(&state, &request, "", None, StatusCode::OK).await
}

#[derive(Deserialize)]
struct Body {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    code: String,
}

async fn send_code(
    State(state): State<AppState>,
    request: LoginRequest,
    PageForm(body): PageForm<Body>,
) -> Result<Response, PageError> {
    let sent = enrolment_step::send_sms_code(
        &state,
        &request.tenant,
        &request.attempt,
        &body.phone,
        &body.csrf_token,
        &request.visitor(),
        state.now(),
    )
    .await
    .map_err(flow_error)?;
    let (message, status) = match sent {
        SmsEnrolment::FormExpired => return Err(PageError::bad_request("login-form-expired")),
        SmsEnrolment::InvalidNumber => {
            (state.views.message(request.lang, "sms-invalid-number"), StatusCode::BAD_REQUEST)
        }
        SmsEnrolment::Sent(outcome) => match sms_notice::refusal(&state, request.lang, &outcome) {
            None => return forms::sms_enrol_confirm(&state, &request, None, StatusCode::OK).await,
            Some(message) => (message, StatusCode::TOO_MANY_REQUESTS),
        },
    };
    forms::sms_enrol_phone(&state, &request, &body.phone, Some(message), status).await
}

async fn confirm(
    State(state): State<AppState>,
    request: LoginRequest,
    PageForm(body): PageForm<Body>,
) -> Result<Response, PageError> {
    let outcome = enrolment_step::confirm_sms(
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
        EnrolOutcome::Confirmed { backup_codes } => forms::backup_codes(&state, &request, backup_codes).await,
        EnrolOutcome::Step(step) => respond(&state, request, step, FormPage::SmsEnrolConfirm).await,
    }
}
