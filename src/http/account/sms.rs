//! Text messages on the account pages: enter a mobile number, confirm it with the code sent to it
//! ("Confirm phone number"), and it becomes the second factor. Changing the number works the same.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use super::signed_in::{FreshlySignedIn, SignedIn};
use super::{account_error, back_to_overview, show_codes};
use crate::account;
use crate::authn::sms;
use crate::domain::PhoneNumber;
use crate::error::PageError;
use crate::http::client_ip::ClientIp;
use crate::http::form::PageForm;
use crate::http::login::sms_notice;
use crate::http::page;
use crate::state::AppState;
use crate::store;
use crate::views::pages::{SmsConfirmPage, SmsSetupPage};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PATH, get(phone_form).post(send_code))
        .route("/account/two-factor/sms/confirm", post(confirm))
}

const PATH: &str = "/account/two-factor/sms";

async fn render_phone_form(
    state: &AppState,
    me: &SignedIn,
    phone: &str,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let context = SmsSetupPage {
        frame: page::frame(state, Some(&me.tenant), me.lang),
        action: me.tenant.path(state, PATH),
        csrf_token: me.csrf_token(),
        error,
        phone: phone.to_string(),
        cancel_url: me.tenant.path(state, "/account"),
    };
    page::render(state, "sms_setup.html", context, status).await
}

async fn render_confirm(
    state: &AppState,
    me: &SignedIn,
    error: Option<String>,
    status_code: StatusCode,
) -> Result<Response, PageError> {
    let pending = store::sms::newest_code(&state.db, &me.user.id, sms::PURPOSE_ENROL)
        .await
        .map_err(PageError::internal)?;
    let masked = pending
        .and_then(|code| PhoneNumber::parse(&code.phone_number, &me.tenant.row.sms_region).ok())
        .map(|phone| phone.masked())
        .unwrap_or_default();
    let context = SmsConfirmPage {
        frame: page::frame(state, Some(&me.tenant), me.lang),
        action: me.tenant.path(state, &format!("{PATH}/confirm")),
        csrf_token: me.csrf_token(),
        error,
        status: None,
        intro: state.views.message_with(me.lang, "sms-confirm-intro", &[("phone", masked.into())]),
        cancel_url: me.tenant.path(state, "/account"),
    };
    page::render(state, "sms_confirm.html", context, status_code).await
}

async fn phone_form(
    State(state): State<AppState>,
    FreshlySignedIn(me): FreshlySignedIn,
) -> Result<Response, PageError> {
    render_phone_form(&state, &me, "", None, StatusCode::OK).await
}

#[derive(Deserialize)]
struct PhoneBody {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    phone: String,
}

async fn send_code(
    State(state): State<AppState>,
    FreshlySignedIn(me): FreshlySignedIn,
    ClientIp(ip): ClientIp,
    PageForm(body): PageForm<PhoneBody>,
) -> Result<Response, PageError> {
    me.check_csrf(&body.csrf_token)?;
    let Ok(phone) = PhoneNumber::parse(&body.phone, &me.tenant.row.sms_region) else {
        let message = state.views.message(me.lang, "sms-invalid-number");
        return render_phone_form(&state, &me, &body.phone, Some(message), StatusCode::BAD_REQUEST).await;
    };
    let outcome = sms::send_code(
        &state,
        &me.tenant,
        &me.user.id,
        &phone,
        sms::PURPOSE_ENROL,
        me.lang,
        Some(&ip),
        state.now(),
    )
    .await
    .map_err(PageError::internal)?;
    match sms_notice::refusal(&state, me.lang, &outcome) {
        None => render_confirm(&state, &me, None, StatusCode::OK).await,
        Some(message) => {
            render_phone_form(&state, &me, &body.phone, Some(message), StatusCode::TOO_MANY_REQUESTS).await
        }
    }
}

#[derive(Deserialize)]
struct CodeBody {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    code: String,
}

async fn confirm(
    State(state): State<AppState>,
    FreshlySignedIn(me): FreshlySignedIn,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    PageForm(body): PageForm<CodeBody>,
) -> Result<Response, PageError> {
    me.check_csrf(&body.csrf_token)?;
    let now = state.now();
    let Some(phone) = sms::verify_code(&state, &me.user.id, sms::PURPOSE_ENROL, &body.code, None, now)
        .await
        .map_err(PageError::internal)?
    else {
        let message = state.views.message(me.lang, "sms-wrong-code");
        return render_confirm(&state, &me, Some(message), StatusCode::UNAUTHORIZED).await;
    };
    match account::enable_sms(
        &state,
        &me.tenant,
        &me.user,
        &phone,
        &ip,
        crate::email::Seen {
            user_agent: Some(&crate::http::browser::user_agent(&headers)),
            lang: Some(me.lang),
        },
        now,
    )
    .await
    .map_err(account_error)?
    {
        Some(codes) => show_codes(&state, &me, codes, "two-factor-on").await,
        None => Ok(back_to_overview(&me, &state, "phone-changed")),
    }
}
