//! The login pages that are not a stage's own page: the backup-code form, "Send a new code",
//! the new backup codes after a setup, and the text-message setup of a forced enrolment.

use axum::http::StatusCode;
use axum::response::Response;

use super::flow_error;
use super::request::LoginRequest;
use crate::authn::flow::enrolment_step;
use crate::error::PageError;
use crate::http::page;
use crate::state::AppState;
use crate::views::pages::{BackupCodePage, BackupCodesPage, ConfirmPage, SmsConfirmPage, SmsSetupPage};

pub async fn backup_code(
    state: &AppState,
    request: &LoginRequest,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let context = BackupCodePage {
        frame: page::frame(state, Some(&request.tenant), request.lang),
        action: request.url(state, "/backup"),
        back_url: request.url(state, ""),
        csrf_token: request.attempt.csrf_token.clone(),
        error,
    };
    page::render(state, "backup_code.html", context, status).await
}

/// "Did you not receive the verification code?": a page that offers a new code (a link must not
/// send a paid message by itself: prefetching or a reload would).
pub async fn resend(state: &AppState, request: &LoginRequest) -> Result<Response, PageError> {
    let lang = request.lang;
    let context = ConfirmPage {
        frame: page::frame(state, Some(&request.tenant), lang),
        action: request.url(state, "/resend"),
        csrf_token: request.attempt.csrf_token.clone(),
        title: state.views.message(lang, "sms-resend-title"),
        message: state.views.message(lang, "sms-resend-message"),
        button: state.views.message(lang, "sms-resend-button"),
        cancel_url: request.url(state, ""),
        hidden: Vec::new(),
    };
    page::render(state, "confirm.html", context, StatusCode::OK).await
}

/// A new set of backup codes, shown once; Continue finishes the attempt.
pub async fn backup_codes(
    state: &AppState,
    request: &LoginRequest,
    codes: Vec<String>,
) -> Result<Response, PageError> {
    let context = BackupCodesPage {
        frame: page::frame(state, Some(&request.tenant), request.lang),
        codes,
        continue_action: Some(request.url(state, "/continue")),
        continue_link: None,
        csrf_token: request.attempt.csrf_token.clone(),
    };
    page::render(state, "backup_codes.html", context, StatusCode::OK).await
}

/// The mobile number form of a forced enrolment by text message.
pub async fn sms_enrol_phone(
    state: &AppState,
    request: &LoginRequest,
    phone: &str,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let context = SmsSetupPage {
        frame: page::frame(state, Some(&request.tenant), request.lang),
        action: request.url(state, "/enrol/sms"),
        csrf_token: request.attempt.csrf_token.clone(),
        error,
        phone: phone.to_string(),
        cancel_url: request.url(state, ""),
    };
    page::render(state, "sms_setup.html", context, status).await
}

/// "Confirm phone number": the code sent to the number of a forced enrolment.
pub async fn sms_enrol_confirm(
    state: &AppState,
    request: &LoginRequest,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let masked =
        enrolment_step::pending_phone(state, &request.tenant, &request.attempt).await.map_err(flow_error)?;
    let context = SmsConfirmPage {
        frame: page::frame(state, Some(&request.tenant), request.lang),
        action: request.url(state, "/enrol/sms/confirm"),
        csrf_token: request.attempt.csrf_token.clone(),
        error,
        status: None,
        intro: state.views.message_with(request.lang, "sms-confirm-intro", &[("phone", masked.into())]),
        cancel_url: request.url(state, ""),
    };
    page::render(state, "sms_confirm.html", context, status).await
}
