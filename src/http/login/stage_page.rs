//! The page of an attempt's current stage, shown by `GET /login/{attempt}` and again, with a
//! message, after a refused form. Rendering only reads.

use axum::http::StatusCode;
use axum::response::Response;

use super::flow_error;
use super::request::LoginRequest;
use super::sms_notice::{self, Notices};
use crate::authn::backup_codes::LOW_WATERMARK;
use crate::authn::flow::second_factor_page;
use crate::authn::flow::{Purpose, Stage, enrolment_step};
use crate::error::PageError;
use crate::http::{assets, page};
use crate::state::AppState;
use crate::views::pages::{
    ConsentPage, LoginPage, NoticePage, SecondFactorPage, TotpSetupPage, WebauthnForm,
};

/// What a re-shown form says: the error, the address typed into the password form, notices.
#[derive(Default)]
pub struct Shown<'a> {
    pub error: Option<String>,
    pub typed_email: Option<&'a str>,
    pub notices: Notices,
}

pub async fn render(
    state: &AppState,
    request: &LoginRequest,
    shown: Shown<'_>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let (tenant, attempt, lang) = (&request.tenant, &request.attempt, request.lang);
    let frame = page::frame(state, Some(tenant), lang);
    let action = |suffix: &str| request.url(state, suffix);
    let webauthn_form = |action_suffix: &str| WebauthnForm {
        begin_url: action("/webauthn"),
        action: action(action_suffix),
        script: assets::webauthn_script_url(),
    };
    match attempt.stage {
        Stage::Password => {
            let email = shown.typed_email.or(attempt.purpose.login_hint()).unwrap_or_default().to_string();
            let context = LoginPage {
                frame,
                action: action(""),
                csrf_token: attempt.csrf_token.clone(),
                email,
                error: shown.error,
                passkey: Some(webauthn_form("/passkey")),
                forgot_url: Some(tenant.path(state, &format!("/password/forgot?attempt={}", request.token))),
            };
            page::render(state, "login.html", context, status).await
        }
        Stage::SecondFactor => {
            let view =
                second_factor_page::view(state, tenant, attempt, state.now()).await.map_err(flow_error)?;
            let not_sent = view.sms.as_ref().and_then(|sms| sms.not_sent.as_ref());
            let warning = shown
                .notices
                .warning
                .or_else(|| not_sent.and_then(|why| sms_notice::refusal(state, lang, why)));
            let sms_intro = view.sms.as_ref().map(|sms| {
                // Say "we sent" only when a code of this sign-in is really on its way.
                let key = if sms.sent { "sms-intro" } else { "sms-intro-not-sent" };
                state.views.message_with(lang, key, &[("last_two", sms.last_two.clone().into())])
            });
            let context = SecondFactorPage {
                frame,
                action: action("/code"),
                backup_url: action("/backup"),
                csrf_token: attempt.csrf_token.clone(),
                error: shown.error,
                offer_remember: view.offer_remember,
                remember_days: tenant.row.trusted_device_days,
                resend_url: view.sms.is_some().then(|| action("/resend")),
                sms_intro,
                status: shown.notices.status,
                warning,
                code_form: view.code_form,
                security_key: view.security_key.then(|| webauthn_form("/security-key")),
                key_missing_url: view.key_missing.then(|| tenant.path(state, "/account")),
                backup_allowed: view.backup_allowed,
            };
            page::render(state, "second_factor.html", context, status).await
        }
        Stage::Enrol => {
            let setup = enrolment_step::setup(state, tenant, attempt).await.map_err(flow_error)?;
            let context = TotpSetupPage {
                intro: Some(state.views.message(lang, "enrol-required-intro")),
                frame,
                action: action("/enrol"),
                csrf_token: attempt.csrf_token.clone(),
                error: shown.error,
                setup_key: setup.setup_key,
                otpauth_uri: setup.otpauth_uri,
                qr_data_uri: setup.qr_data_uri,
                cancel_url: None,
                sms_url: Some(action("/enrol/sms")),
            };
            page::render(state, "totp_setup.html", context, status).await
        }
        Stage::Consent => {
            let Purpose::Authorize(request) = &attempt.purpose else {
                return Err(PageError::bad_request("error-attempt-expired"));
            };
            let scopes = request
                .scope
                .iter()
                .map(|scope| state.views.message(lang, &format!("scope-{scope}")))
                .collect();
            let context = ConsentPage {
                frame,
                action: action("/consent"),
                csrf_token: attempt.csrf_token.clone(),
                client_name: request.client_id.to_string(),
                scopes,
            };
            page::render(state, "consent.html", context, status).await
        }
        Stage::Notice => {
            let left = attempt.notice.as_ref().and_then(|n| n.backup_codes_left);
            let context = NoticePage {
                frame,
                action: action("/continue"),
                csrf_token: attempt.csrf_token.clone(),
                backup_codes_left: left,
                running_low: left.is_some_and(|l| l <= LOW_WATERMARK),
            };
            page::render(state, "notice.html", context, status).await
        }
    }
}
