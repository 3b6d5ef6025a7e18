//! The account pages: overview, trusted devices, password, sign out. Two-factor settings are in
//! `account_two_factor`. Every page needs a session; sensitive ones a fresh sign-in.

mod security_keys;
mod sms;
mod two_factor;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use secrecy::SecretString;
use serde::Deserialize;

use super::browser;
use super::client_ip::ClientIp;
use super::cookies;
use super::page;
use super::path_param::IdParam;
use super::tenant::CurrentTenant;
use crate::account::{self, AccountError};
use crate::authn::backup_codes::LOW_WATERMARK;
use crate::authn::flow::{self, Purpose};
use crate::authn::second_factor::Method;
use crate::authn::session::{self, Session};
use crate::crypto::constant_time_eq;
use crate::error::PageError;
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;
use crate::views::pages::{AccountPage, AppRow, DeviceRow, PasswordChangePage};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(overview))
        .route("/account/devices/{id}/forget", post(forget_device))
        .route("/account/devices/forget-all", post(forget_all_devices))
        .route("/account/password", get(password_form).post(change_password))
        .route("/account/apps/{id}/revoke", post(revoke_app))
        .merge(two_factor::router())
}

/// A signed-in person on the account pages.
pub struct SignedIn {
    pub session: Session,
    pub user: entity::user::Model,
    pub lang: &'static str,
}

/// The signed-in person, or a redirect to sign in (again, when `fresh` and the sign-in is old)
/// that comes back to `return_path`.
pub async fn signed_in(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    return_path: &str,
    fresh: bool,
) -> Result<Result<SignedIn, Response>, PageError> {
    let now = state.now();
    let lang = page::language(headers, None, Some(tenant));
    if let Some(token) = cookies::read(headers, &cookies::session_name(state, tenant.slug())) {
        let found = session::resume(state, tenant, &token, now).await.map_err(PageError::internal)?;
        if let Some(session) = found {
            let user = store::users::find(&state.db, tenant.id(), &session.row.user_id)
                .await
                .map_err(PageError::internal)?;
            if let Some(user) = user
                && (!fresh || account::is_fresh(&session, &user, now))
            {
                return Ok(Ok(SignedIn { session, user, lang }));
            }
        }
    }
    let (browser_token, set_cookie) = browser::binding(state, headers);
    let purpose = Purpose::Account { return_to: tenant.path(state, return_path) };
    let attempt =
        flow::start(state, tenant, &purpose, &browser_token, now).await.map_err(PageError::internal)?;
    let mut response = Redirect::to(&tenant.path(state, &format!("/login/{attempt}"))).into_response();
    browser::attach(&mut response, set_cookie);
    Ok(Err(response))
}

/// Checks a form's CSRF token against the session's.
pub fn check_csrf(signed_in: &SignedIn, presented: &str) -> Result<(), PageError> {
    if constant_time_eq(presented, &signed_in.session.row.csrf_token) {
        Ok(())
    } else {
        Err(PageError::bad_request("login-form-expired"))
    }
}

#[derive(Deserialize, Default)]
pub struct CsrfBody {
    #[serde(default)]
    pub csrf_token: String,
}

pub fn parse_form<T: serde::de::DeserializeOwned>(body: &str) -> Result<T, PageError> {
    serde_urlencoded::from_str(body).map_err(|_| PageError::bad_request("error-bad-request"))
}

pub fn account_error(err: AccountError) -> PageError {
    PageError::internal(err)
}

/// Redirect to the overview with a confirmation message (only known keys are shown).
pub fn back_to_overview(state: &AppState, tenant: &Tenant, done: &str) -> Response {
    Redirect::to(&tenant.path(state, &format!("/account?done={done}"))).into_response()
}

const DONE_MESSAGES: [(&str, &str); 9] = [
    ("security-key-on", "account-security-key-method"),
    ("phone-changed", "account-phone-changed"),
    ("app-revoked", "account-app-revoked"),
    ("two-factor-on", "account-two-factor-enabled"),
    ("two-factor-off", "account-two-factor-disabled"),
    ("app-changed", "account-app-changed"),
    ("device-forgotten", "account-device-forgotten"),
    ("devices-forgotten", "account-devices-forgotten"),
    ("password-changed", "account-password-changed"),
];

#[derive(Deserialize)]
struct OverviewQuery {
    done: Option<String>,
}

pub(super) fn date(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

async fn overview(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    Query(query): Query<OverviewQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let me = match signed_in(&state, &tenant, &headers, "/account", false).await? {
        Ok(me) => me,
        Err(redirect) => return Ok(redirect),
    };
    let now = state.now();
    let left = store::backup_codes::remaining(&state.db, &me.user.id).await.map_err(PageError::internal)?;
    let devices = store::trusted_devices::list_active(&state.db, &me.user.id, now)
        .await
        .map_err(PageError::internal)?;
    let method_label = me
        .user
        .two_factor_method
        .as_deref()
        .and_then(Method::parse)
        .map(|m| state.views.message(me.lang, m.label_key()));
    let phone_masked = me
        .user
        .two_factor_method
        .as_deref()
        .filter(|m| *m == Method::Sms.as_str())
        .and_then(|_| crate::authn::sms::user_phone(&tenant, &me.user))
        .map(|p| p.masked());
    let message = query.done.and_then(|done| {
        DONE_MESSAGES.iter().find(|(k, _)| *k == done).map(|(_, key)| state.views.message(me.lang, key))
    });
    let two_factor_on = me.user.two_factor_method.is_some();
    let mut apps = Vec::new();
    for consent in
        store::consents::list_for_user(&state.db, &me.user.id).await.map_err(PageError::internal)?
    {
        let client = store::clients::find_by_row_id(&state.db, &consent.client_id)
            .await
            .map_err(PageError::internal)?;
        let Some(client) = client else { continue };
        let scopes = crate::domain::Scope::parse(&consent.scope)
            .iter()
            .map(|s| state.views.message(me.lang, &format!("scope-{s}")))
            .collect();
        apps.push(AppRow { id: client.id, name: client.client_id, scopes });
    }
    let context = AccountPage {
        frame: page::frame(&state, Some(&tenant), me.lang),
        base: tenant.path(&state, ""),
        csrf_token: me.session.row.csrf_token.clone(),
        email: me.user.email.clone(),
        two_factor_on,
        method_label,
        phone_masked,
        security_keys: me.user.two_factor_method.as_deref() == Some(Method::SecurityKey.as_str()),
        backup_codes_left: left,
        running_low: two_factor_on && left <= LOW_WATERMARK,
        devices: devices
            .into_iter()
            .map(|d| DeviceRow {
                id: d.id,
                browser: d.browser,
                first_used: date(d.created_at),
                last_used: date(d.last_used_at),
                expires: date(d.expires_at),
            })
            .collect(),
        apps,
        message,
    };
    Ok(Html(state.views.render("account.html", context).map_err(PageError::internal)?).into_response())
}

async fn forget_device(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    IdParam(id): IdParam,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: String,
) -> Result<Response, PageError> {
    let me = match signed_in(&state, &tenant, &headers, "/account", false).await? {
        Ok(me) => me,
        Err(redirect) => return Ok(redirect),
    };
    check_csrf(&me, &parse_form::<CsrfBody>(&body)?.csrf_token)?;
    account::forget_device(&state, &tenant, &me.user, &id, &ip, state.now()).await.map_err(account_error)?;
    Ok(back_to_overview(&state, &tenant, "device-forgotten"))
}

async fn forget_all_devices(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: String,
) -> Result<Response, PageError> {
    let me = match signed_in(&state, &tenant, &headers, "/account", false).await? {
        Ok(me) => me,
        Err(redirect) => return Ok(redirect),
    };
    check_csrf(&me, &parse_form::<CsrfBody>(&body)?.csrf_token)?;
    account::forget_all_devices(&state, &tenant, &me.user, &ip, state.now()).await.map_err(account_error)?;
    Ok(back_to_overview(&state, &tenant, "devices-forgotten"))
}

fn render_password_form(
    state: &AppState,
    tenant: &Tenant,
    me: &SignedIn,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let context = PasswordChangePage {
        frame: page::frame(state, Some(tenant), me.lang),
        action: tenant.path(state, "/account/password"),
        csrf_token: me.session.row.csrf_token.clone(),
        error,
        cancel_url: tenant.path(state, "/account"),
    };
    let html = state.views.render("password_change.html", context).map_err(PageError::internal)?;
    Ok((status, Html(html)).into_response())
}

async fn password_form(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    match signed_in(&state, &tenant, &headers, "/account/password", false).await? {
        Ok(me) => render_password_form(&state, &tenant, &me, None, StatusCode::OK),
        Err(redirect) => Ok(redirect),
    }
}

#[derive(Deserialize)]
struct PasswordBody {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

async fn change_password(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: String,
) -> Result<Response, PageError> {
    let me = match signed_in(&state, &tenant, &headers, "/account/password", false).await? {
        Ok(me) => me,
        Err(redirect) => return Ok(redirect),
    };
    let body: PasswordBody = parse_form(&body)?;
    check_csrf(&me, &body.csrf_token)?;
    let result = account::change_password(
        &state,
        &tenant,
        &me.user,
        &me.session,
        account::PasswordChange {
            current: SecretString::from(body.current_password),
            new: SecretString::from(body.new_password),
        },
        &ip,
        state.now(),
    )
    .await;
    let error_key = match result {
        Ok(()) => return Ok(back_to_overview(&state, &tenant, "password-changed")),
        Err(AccountError::Throttled(seconds)) => {
            let message =
                state.views.message_with(me.lang, "login-throttled", &[("seconds", seconds.into())]);
            return render_password_form(&state, &tenant, &me, Some(message), StatusCode::TOO_MANY_REQUESTS);
        }
        Err(AccountError::WrongPassword) => "password-change-wrong-current",
        Err(AccountError::Password(crate::authn::password::PasswordError::TooShort)) => {
            "password-change-too-short"
        }
        Err(AccountError::Password(crate::authn::password::PasswordError::TooLong)) => {
            "password-change-too-long"
        }
        Err(other) => return Err(account_error(other)),
    };
    let message = state.views.message(me.lang, error_key);
    render_password_form(&state, &tenant, &me, Some(message), StatusCode::BAD_REQUEST)
}

async fn revoke_app(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    IdParam(id): IdParam,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: String,
) -> Result<Response, PageError> {
    let me = match signed_in(&state, &tenant, &headers, "/account", false).await? {
        Ok(me) => me,
        Err(redirect) => return Ok(redirect),
    };
    check_csrf(&me, &parse_form::<CsrfBody>(&body)?.csrf_token)?;
    crate::authn::consent::revoke(&state, &tenant, &me.user.id, &id, &ip, state.now())
        .await
        .map_err(PageError::internal)?;
    Ok(back_to_overview(&state, &tenant, "app-revoked"))
}
