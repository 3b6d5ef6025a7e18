//! The hosted login pages: each attempt's current stage at `GET /login/{attempt}`, and the
//! password form posted to the same address.

mod enrol_sms;
pub mod request;
mod second_factor;
mod webauthn;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use fluent_bundle::FluentValue;
use secrecy::SecretString;
use serde::Deserialize;

use super::browser;
use super::client_ip::ClientIp;
use super::cookies;
use super::page;
use super::path_param::AttemptParam;
use super::tenant::CurrentTenant;
use crate::authn::backup_codes::LOW_WATERMARK;
use crate::authn::flow::password_step::{self, PasswordForm};
use crate::authn::flow::{self, FlowError, LoginAttempt, Purpose, Stage, StepOutcome};
use crate::authn::flow::{enrolment_step, second_factor_step};
use crate::authn::second_factor::Method;
use crate::authn::sms::{self, SendOutcome};
use crate::error::PageError;
use crate::state::AppState;
use crate::tenants::Tenant;
use crate::views::pages::{
    ConsentPage, LoginPage, NoticePage, SecondFactorPage, TotpSetupPage, WebauthnForm,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login/{attempt}", get(show).post(submit_password))
        .merge(second_factor::router())
        .merge(enrol_sms::router())
        .merge(webauthn::router())
}

/// The login attempt named in the path, for this browser.
pub struct Attempt {
    pub token: String,
    pub attempt: LoginAttempt,
}

pub fn flow_error(err: FlowError) -> PageError {
    match err {
        FlowError::AttemptGone | FlowError::WrongStage => PageError::bad_request("error-attempt-expired"),
        other => PageError::internal(other),
    }
}

pub async fn load_attempt(
    state: &AppState,
    tenant: &Tenant,
    token: &str,
    headers: &HeaderMap,
) -> Result<Attempt, PageError> {
    let browser = cookies::read(headers, &cookies::browser_name(state));
    let attempt =
        flow::load(state, tenant, token, browser.as_deref(), state.now()).await.map_err(flow_error)?;
    Ok(Attempt { token: token.to_string(), attempt })
}

fn html_response(status: StatusCode, body: String) -> Response {
    (status, Html(body)).into_response()
}

/// Renders the page of the attempt's current stage, optionally with an error message.
pub async fn render_stage(
    state: &AppState,
    tenant: &Tenant,
    current: &Attempt,
    headers: &HeaderMap,
    error: Option<String>,
    typed_email: Option<&str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let attempt = &current.attempt;
    let lang = page::language(headers, attempt.purpose.ui_locales(), Some(tenant));
    let frame = page::frame(state, Some(tenant), lang);
    let action = |suffix: &str| tenant.path(state, &format!("/login/{}{suffix}", current.token));
    let body = match attempt.stage {
        Stage::Password => {
            let email = typed_email.or(attempt.purpose.login_hint()).unwrap_or_default().to_string();
            state.views.render(
                "login.html",
                LoginPage {
                    frame,
                    action: action(""),
                    csrf_token: attempt.csrf_token.clone(),
                    email,
                    error,
                    passkey: Some(WebauthnForm {
                        begin_url: action("/webauthn"),
                        action: action("/passkey"),
                        script: super::assets::webauthn_script_url(),
                    }),
                },
            )
        }
        Stage::SecondFactor => {
            return render_second_factor(state, tenant, current, headers, error, Notices::default(), status)
                .await;
        }
        Stage::Enrol => {
            let setup =
                enrolment_step::setup(state, tenant, attempt, state.now()).await.map_err(flow_error)?;
            state.views.render(
                "totp_setup.html",
                TotpSetupPage {
                    intro: Some(state.views.message(lang, "enrol-required-intro")),
                    frame,
                    action: action("/enrol"),
                    csrf_token: attempt.csrf_token.clone(),
                    error,
                    setup_key: setup.setup_key,
                    otpauth_uri: setup.otpauth_uri,
                    qr_data_uri: setup.qr_data_uri,
                    cancel_url: None,
                    sms_url: Some(action("/enrol/sms")),
                },
            )
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
            state.views.render(
                "consent.html",
                ConsentPage {
                    frame,
                    action: action("/consent"),
                    csrf_token: attempt.csrf_token.clone(),
                    client_name: request.client_id.to_string(),
                    scopes,
                },
            )
        }
        Stage::Notice => {
            let left = attempt.notice.as_ref().and_then(|n| n.backup_codes_left);
            state.views.render(
                "notice.html",
                NoticePage {
                    frame,
                    action: action("/continue"),
                    csrf_token: attempt.csrf_token.clone(),
                    backup_codes_left: left,
                    running_low: left.is_some_and(|l| l <= LOW_WATERMARK),
                },
            )
        }
    };
    Ok(html_response(status, body.map_err(PageError::internal)?))
}

/// Notices above the second-factor form: `status` for good news, `warning` for a refused send.
#[derive(Default)]
pub struct Notices {
    pub status: Option<String>,
    pub warning: Option<String>,
}

/// The second-factor page. For text messages, entering the step sends a code (once per attempt).
pub async fn render_second_factor(
    state: &AppState,
    tenant: &Tenant,
    current: &Attempt,
    headers: &HeaderMap,
    error: Option<String>,
    mut notices: Notices,
    status_code: StatusCode,
) -> Result<Response, PageError> {
    let attempt = &current.attempt;
    let lang = page::language(headers, attempt.purpose.ui_locales(), Some(tenant));
    let user = second_factor_step::load_user(state, tenant, attempt).await.map_err(flow_error)?;
    let base = tenant.path(state, &format!("/login/{}", current.token));
    let mut sms_intro = None;
    let mut resend_url = None;
    // A client that insists on phishing-resistant sign-in gets a key or nothing.
    let demands_key = attempt.purpose.demands_security_key();
    let uses_key = demands_key || user.two_factor_method.as_deref() == Some(Method::SecurityKey.as_str());
    let has_key = uses_key
        && crate::store::security_keys::count_for_user(&state.db, &user.id)
            .await
            .map_err(PageError::internal)?
            > 0;
    if !uses_key && user.two_factor_method.as_deref() == Some(Method::Sms.as_str()) {
        let phone = sms::user_phone(tenant, &user)
            .ok_or_else(|| PageError::internal("an SMS user without a usable phone number"))?;
        let now = state.now();
        let mut sent =
            sms::sent_since(state, &user.id, attempt.created_at).await.map_err(PageError::internal)?;
        if !sent {
            let outcome =
                sms::send_code(state, tenant, &user.id, &phone, sms::PURPOSE_LOGIN, lang, None, now)
                    .await
                    .map_err(PageError::internal)?;
            sent = outcome == SendOutcome::Sent;
            if let Some(message) = send_outcome_message(state, lang, &outcome) {
                notices.warning = notices.warning.or(Some(message));
            }
        }
        // Say "we sent" only when a code of this sign-in is really on its way.
        let key = if sent { "sms-intro" } else { "sms-intro-not-sent" };
        sms_intro =
            Some(state.views.message_with(lang, key, &[("last_two", phone.last_two().to_string().into())]));
        resend_url = Some(format!("{base}/resend"));
    }
    let context = SecondFactorPage {
        frame: page::frame(state, Some(tenant), lang),
        action: format!("{base}/code"),
        backup_url: format!("{base}/backup"),
        csrf_token: attempt.csrf_token.clone(),
        error,
        offer_remember: tenant.row.trusted_device_days > 0 && attempt.purpose.allows_trusted_device(),
        remember_days: tenant.row.trusted_device_days,
        sms_intro,
        resend_url,
        status: notices.status,
        warning: notices.warning,
        code_form: !uses_key,
        security_key: has_key.then(|| WebauthnForm {
            begin_url: format!("{base}/webauthn"),
            action: format!("{base}/security-key"),
            script: super::assets::webauthn_script_url(),
        }),
        key_missing_url: (uses_key && !has_key).then(|| tenant.path(state, "/account")),
        backup_allowed: !demands_key,
    };
    let html = state.views.render("second_factor.html", context).map_err(PageError::internal)?;
    Ok(html_response(status_code, html))
}

/// What to tell the person about a send that did not happen (`None` when it was sent).
pub fn send_outcome_message(state: &AppState, lang: &str, outcome: &SendOutcome) -> Option<String> {
    match outcome {
        SendOutcome::Sent => None,
        SendOutcome::Wait(seconds) => {
            Some(state.views.message_with(lang, "sms-wait", &[("seconds", (*seconds).into())]))
        }
        SendOutcome::HourlyLimit => Some(state.views.message(lang, "sms-hourly-limit")),
        SendOutcome::DailyLimit => Some(state.views.message(lang, "sms-daily-limit")),
        SendOutcome::CountryRefused => Some(state.views.message(lang, "sms-country-refused")),
        SendOutcome::Failed => Some(state.views.message(lang, "sms-failed")),
    }
}

#[derive(Deserialize)]
struct ShowQuery {
    /// What the last "send a new code" did (set by its redirect).
    resend: Option<String>,
    seconds: Option<i64>,
}

async fn show(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    AttemptParam(token): AttemptParam,
    Query(query): Query<ShowQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let current = load_attempt(&state, &tenant, &token, &headers).await?;
    if current.attempt.stage == Stage::SecondFactor
        && let Some(resend) = query.resend.as_deref()
    {
        let lang = page::language(&headers, current.attempt.purpose.ui_locales(), Some(&tenant));
        let outcome = match resend {
            "sent" => SendOutcome::Sent,
            "wait" => {
                SendOutcome::Wait(query.seconds.unwrap_or(sms::RESEND_SECONDS).clamp(1, sms::RESEND_SECONDS))
            }
            "hourly" => SendOutcome::HourlyLimit,
            "daily" => SendOutcome::DailyLimit,
            "country" => SendOutcome::CountryRefused,
            _ => SendOutcome::Failed,
        };
        let notices = match send_outcome_message(&state, lang, &outcome) {
            None => Notices { status: Some(state.views.message(lang, "sms-resent")), warning: None },
            Some(message) => Notices { status: None, warning: Some(message) },
        };
        return render_second_factor(&state, &tenant, &current, &headers, None, notices, StatusCode::OK)
            .await;
    }
    render_stage(&state, &tenant, &current, &headers, None, None, StatusCode::OK).await
}

#[derive(Deserialize)]
struct PasswordBody {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf_token: String,
}

async fn submit_password(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    AttemptParam(token): AttemptParam,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: String,
) -> Result<Response, PageError> {
    let current = load_attempt(&state, &tenant, &token, &headers).await?;
    let body: PasswordBody =
        serde_urlencoded::from_str(&body).map_err(|_| PageError::bad_request("error-bad-request"))?;
    // The typed email goes back into the form when it is shown again.
    let typed_email = body.email.clone();
    let form = PasswordForm {
        email: body.email,
        password: SecretString::from(body.password),
        csrf_token: body.csrf_token,
    };
    let device = cookies::read(&headers, &cookies::trusted_device_name(&state, tenant.slug()));
    let outcome =
        password_step::submit(&state, &tenant, &current.attempt, form, device.as_deref(), &ip, state.now())
            .await
            .map_err(flow_error)?;
    respond(&state, &tenant, &current, &headers, outcome, Some(&typed_email)).await
}

/// Turns a step's outcome into the HTTP answer every login form shares.
pub async fn respond(
    state: &AppState,
    tenant: &Tenant,
    current: &Attempt,
    headers: &HeaderMap,
    outcome: StepOutcome,
    typed_email: Option<&str>,
) -> Result<Response, PageError> {
    match outcome {
        StepOutcome::Finished(finished) => {
            let here = tenant.path(state, &format!("/login/{}", current.token));
            let mut response = Redirect::to(finished.redirect_to.as_deref().unwrap_or(&here)).into_response();
            if let Some(token) = &finished.session_token {
                let name = cookies::session_name(state, tenant.slug());
                append_cookie(&mut response, cookies::set(state, &name, token, None));
            }
            if let Some((token, lifetime)) = finished.trusted_device {
                let name = cookies::trusted_device_name(state, tenant.slug());
                append_cookie(&mut response, cookies::set(state, &name, &token, Some(lifetime)));
            }
            Ok(response)
        }
        StepOutcome::NextStage { trusted_device } => {
            let mut response =
                Redirect::to(&tenant.path(state, &format!("/login/{}", current.token))).into_response();
            if let Some((token, lifetime)) = trusted_device {
                let name = cookies::trusted_device_name(state, tenant.slug());
                append_cookie(&mut response, cookies::set(state, &name, &token, Some(lifetime)));
            }
            Ok(response)
        }
        StepOutcome::Retry { message_key, seconds } => {
            let lang = page::language(headers, current.attempt.purpose.ui_locales(), Some(tenant));
            let args: Vec<(&str, FluentValue<'_>)> =
                seconds.map(|s| ("seconds", FluentValue::from(s))).into_iter().collect();
            let message = state.views.message_with(lang, message_key, &args);
            let status = match message_key {
                "login-throttled" | "second-factor-throttled" => StatusCode::TOO_MANY_REQUESTS,
                "login-failed"
                | "second-factor-wrong-code"
                | "backup-code-wrong"
                | "security-key-failed"
                | "passkey-failed" => StatusCode::UNAUTHORIZED,
                _ => StatusCode::BAD_REQUEST,
            };
            let mut response =
                render_stage(state, tenant, current, headers, Some(message), typed_email, status).await?;
            if let Some(value) = seconds.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Ok(response)
        }
        StepOutcome::Redirect { redirect_to } => Ok(Redirect::to(&redirect_to).into_response()),
        StepOutcome::Restarted { attempt_token } => {
            let fresh = load_attempt(state, tenant, &attempt_token, headers).await?;
            let lang = page::language(headers, fresh.attempt.purpose.ui_locales(), Some(tenant));
            let message = state.views.message(lang, "second-factor-too-many");
            render_stage(state, tenant, &fresh, headers, Some(message), None, StatusCode::UNAUTHORIZED).await
        }
    }
}

fn append_cookie(response: &mut Response, cookie: Option<HeaderValue>) {
    browser::attach(response, cookie);
}
