//! A step's outcome as the HTTP answer every login form shares: a redirect with the cookies of
//! a finished sign-in, the next stage's page, or the same form again saying why it was refused.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use fluent_bundle::FluentValue;

use super::forms;
use super::request::LoginRequest;
use super::stage_page::{self, Shown};
use crate::authn::flow::{CodeFrom, Factor, Refusal, StepOutcome};
use crate::error::PageError;
use crate::http::{browser, cookies};
use crate::state::AppState;

/// The page a refused form is shown again on.
pub enum FormPage<'a> {
    /// The stage's own page; the password form keeps the typed address.
    Stage {
        typed_email: Option<&'a str>,
    },
    BackupCode,
    SmsEnrolConfirm,
}

pub async fn respond(
    state: &AppState,
    request: LoginRequest,
    outcome: StepOutcome,
    form: FormPage<'_>,
) -> Result<Response, PageError> {
    let here = request.url(state, "");
    match outcome {
        StepOutcome::Finished(finished) => {
            let mut response = Redirect::to(finished.redirect_to.as_deref().unwrap_or(&here)).into_response();
            let slug = request.tenant.slug();
            if let Some(token) = &finished.session_token {
                let cookie = cookies::set(state, &cookies::session_name(state, slug), token, None);
                browser::attach(&mut response, cookie);
            }
            if let Some((token, lifetime)) = finished.trusted_device {
                let name = cookies::trusted_device_name(state, slug);
                browser::attach(&mut response, cookies::set(state, &name, &token, Some(lifetime)));
            }
            if let Some((token, lifetime)) = finished.known_device {
                let name = cookies::known_device_name(state, slug);
                browser::attach(&mut response, cookies::set(state, &name, &token, Some(lifetime)));
            }
            Ok(response)
        }
        StepOutcome::NextStage => Ok(Redirect::to(&here).into_response()),
        StepOutcome::Refused(refusal) => {
            let (status, key) = answer(refusal);
            let seconds = refusal.retry_after();
            let args: Vec<(&str, FluentValue<'_>)> =
                seconds.map(|s| ("seconds", FluentValue::from(s))).into_iter().collect();
            let error = Some(state.views.message_with(request.lang, key, &args));
            let mut response = match form {
                FormPage::Stage { typed_email } => {
                    let shown = Shown { error, typed_email, ..Shown::default() };
                    stage_page::render(state, &request, shown, status).await?
                }
                FormPage::BackupCode => forms::backup_code(state, &request, error, status).await?,
                FormPage::SmsEnrolConfirm => forms::sms_enrol_confirm(state, &request, error, status).await?,
            };
            if let Some(value) = seconds.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Ok(response)
        }
        StepOutcome::Redirect { redirect_to } => Ok(Redirect::to(&redirect_to).into_response()),
        StepOutcome::Restarted { attempt_token } => {
            let fresh = request.restarted(state, attempt_token).await?;
            let error = Some(state.views.message(fresh.lang, "second-factor-too-many"));
            let shown = Shown { error, ..Shown::default() };
            stage_page::render(state, &fresh, shown, StatusCode::UNAUTHORIZED).await
        }
    }
}

/// Each refusal's status and message (a Fluent key; its `$seconds` is `retry_after`).
fn answer(refusal: Refusal) -> (StatusCode, &'static str) {
    match refusal {
        Refusal::FormExpired => (StatusCode::BAD_REQUEST, "login-form-expired"),
        Refusal::MissingFields => (StatusCode::BAD_REQUEST, "login-missing-fields"),
        Refusal::WrongPassword => (StatusCode::UNAUTHORIZED, "login-failed"),
        Refusal::PasswordThrottled { .. } => (StatusCode::TOO_MANY_REQUESTS, "login-throttled"),
        Refusal::WrongFactor(Factor::Code(CodeFrom::App) | Factor::EnrolmentCode(CodeFrom::App)) => {
            (StatusCode::UNAUTHORIZED, "second-factor-wrong-code")
        }
        Refusal::WrongFactor(
            Factor::Code(CodeFrom::TextMessage) | Factor::EnrolmentCode(CodeFrom::TextMessage),
        ) => (StatusCode::UNAUTHORIZED, "sms-wrong-code"),
        Refusal::WrongFactor(Factor::BackupCode) => (StatusCode::UNAUTHORIZED, "backup-code-wrong"),
        Refusal::WrongFactor(Factor::SecurityKey) => (StatusCode::UNAUTHORIZED, "security-key-failed"),
        Refusal::FactorThrottled { .. } => (StatusCode::TOO_MANY_REQUESTS, "second-factor-throttled"),
        Refusal::SecurityKeyRequired => (StatusCode::BAD_REQUEST, "security-key-required"),
        Refusal::PasskeyFailed => (StatusCode::UNAUTHORIZED, "passkey-failed"),
    }
}
