//! Forced enrolment by text message, for people without an authenticator app: a mobile number,
//! the code sent to it, then the backup codes and Continue.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::request::LoginRequest;
use super::second_factor::show_backup_codes;
use super::{Attempt, flow_error, respond, send_outcome_message};
use crate::authn::flow::enrolment_step::{self, EnrolOutcome};
use crate::authn::flow::{Stage, StepOutcome, second_factor_step};
use crate::authn::sms;
use crate::domain::PhoneNumber;
use crate::error::PageError;
use crate::http::page;
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;
use crate::views::pages::{SmsConfirmPage, SmsSetupPage};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login/{attempt}/enrol/sms", get(phone_form).post(send_code))
        .route("/login/{attempt}/enrol/sms/confirm", post(confirm))
}

fn render(
    state: &AppState,
    template: &str,
    context: impl serde::Serialize,
    status: StatusCode,
) -> Result<Response, PageError> {
    let html = state.views.render(template, context).map_err(PageError::internal)?;
    Ok((status, Html(html)).into_response())
}

fn base(state: &AppState, tenant: &Tenant, current: &Attempt) -> String {
    tenant.path(state, &format!("/login/{}", current.token))
}

fn phone_page(
    state: &AppState,
    tenant: &Tenant,
    current: &Attempt,
    lang: &'static str,
    phone: &str,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let base = base(state, tenant, current);
    let context = SmsSetupPage {
        frame: page::frame(state, Some(tenant), lang),
        action: format!("{base}/enrol/sms"),
        csrf_token: current.attempt.csrf_token.clone(),
        error,
        phone: phone.to_string(),
        cancel_url: base,
    };
    render(state, "sms_setup.html", context, status)
}

async fn confirm_page(
    state: &AppState,
    tenant: &Tenant,
    current: &Attempt,
    lang: &'static str,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let user_id = current.attempt.user_id().map_err(flow_error)?;
    let pending =
        store::sms::newest_code(&state.db, user_id, sms::PURPOSE_ENROL).await.map_err(PageError::internal)?;
    let masked = pending
        .and_then(|code| PhoneNumber::parse(&code.phone_number, &tenant.row.sms_region).ok())
        .map(|phone| phone.masked())
        .unwrap_or_default();
    let base = base(state, tenant, current);
    let context = SmsConfirmPage {
        frame: page::frame(state, Some(tenant), lang),
        action: format!("{base}/enrol/sms/confirm"),
        csrf_token: current.attempt.csrf_token.clone(),
        error,
        status: None,
        intro: state.views.message_with(lang, "sms-confirm-intro", &[("phone", masked.into())]),
        cancel_url: base,
    };
    render(state, "sms_confirm.html", context, status)
}

async fn phone_form(State(state): State<AppState>, request: LoginRequest) -> Result<Response, PageError> {
    request.current.attempt.expect_stage(Stage::Enrol).map_err(flow_error)?;
    phone_page(&state, &request.tenant, &request.current, request.lang, "", None, StatusCode::OK)
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
    body: String,
) -> Result<Response, PageError> {
    let (tenant, current, lang) = (&request.tenant, &request.current, request.lang);
    current.attempt.expect_stage(Stage::Enrol).map_err(flow_error)?;
    let body: Body = LoginRequest::form(&body)?;
    if !current.attempt.csrf_matches(&body.csrf_token) {
        return Err(PageError::bad_request("login-form-expired"));
    }
    let Ok(phone) = PhoneNumber::parse(&body.phone, &tenant.row.sms_region) else {
        let message = state.views.message(lang, "sms-invalid-number");
        return phone_page(
            &state,
            tenant,
            current,
            lang,
            &body.phone,
            Some(message),
            StatusCode::BAD_REQUEST,
        );
    };
    let user = second_factor_step::load_user(&state, tenant, &current.attempt).await.map_err(flow_error)?;
    let outcome = sms::send_code(
        &state,
        tenant,
        &user.id,
        &phone,
        sms::PURPOSE_ENROL,
        lang,
        Some(&request.ip),
        state.now(),
    )
    .await
    .map_err(PageError::internal)?;
    match send_outcome_message(&state, lang, &outcome) {
        None => confirm_page(&state, tenant, current, lang, None, StatusCode::OK).await,
        Some(message) => phone_page(
            &state,
            tenant,
            current,
            lang,
            &body.phone,
            Some(message),
            StatusCode::TOO_MANY_REQUESTS,
        ),
    }
}

async fn confirm(
    State(state): State<AppState>,
    request: LoginRequest,
    body: String,
) -> Result<Response, PageError> {
    let body: Body = LoginRequest::form(&body)?;
    let outcome = enrolment_step::confirm_sms(
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
        EnrolOutcome::Confirmed { backup_codes } => show_backup_codes(&state, &request, backup_codes),
        EnrolOutcome::Step(StepOutcome::Retry { message_key, .. }) => {
            let message = state.views.message(request.lang, message_key);
            confirm_page(
                &state,
                &request.tenant,
                &request.current,
                request.lang,
                Some(message),
                StatusCode::UNAUTHORIZED,
            )
            .await
        }
        EnrolOutcome::Step(step) => {
            respond(&state, &request.tenant, &request.current, &request.headers, step, None).await
        }
    }
}
