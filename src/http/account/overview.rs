//! The account overview, and its buttons that need no page of their own: forget a trusted device
//! (or all), revoke an app's consent.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use super::signed_in::SignedIn;
use super::{CsrfBody, account_error, back_to_overview, date};
use crate::account;
use crate::authn::backup_codes::LOW_WATERMARK;
use crate::authn::second_factor::{self, Method};
use crate::domain::Scope;
use crate::error::PageError;
use crate::http::client_ip::ClientIp;
use crate::http::form::PageForm;
use crate::http::page;
use crate::http::path_param::IdParam;
use crate::state::AppState;
use crate::store;
use crate::views::pages::{AccountPage, AppRow, DeviceRow};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(overview))
        .route("/account/devices/{id}/forget", post(forget_device))
        .route("/account/devices/forget-all", post(forget_all_devices))
        .route("/account/apps/{id}/revoke", post(revoke_app))
}

/// `?done=` keys and the confirmation each shows (unknown keys show nothing).
const DONE_MESSAGES: [(&str, &str); 11] = [
    ("email-change-sent", "account-email-change-sent"),
    ("verification-sent", "account-verification-sent"),
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

async fn overview(
    State(state): State<AppState>,
    me: SignedIn,
    Query(query): Query<OverviewQuery>,
) -> Result<Response, PageError> {
    let (tenant, user) = (&me.tenant, &me.user);
    let now = state.now();
    let left = store::backup_codes::remaining(&state.db, &user.id).await.map_err(PageError::internal)?;
    let devices =
        store::trusted_devices::list_active(&state.db, &user.id, now).await.map_err(PageError::internal)?;
    let method = user.two_factor_method;
    let method_label = method.map(|m| state.views.message(me.lang, second_factor::label_key(m)));
    let phone_masked = (method == Some(Method::Sms))
        .then(|| crate::authn::sms::user_phone(tenant, user))
        .flatten()
        .map(|p| p.masked());
    let message = query.done.and_then(|done| {
        DONE_MESSAGES.iter().find(|(k, _)| *k == done).map(|(_, key)| state.views.message(me.lang, key))
    });
    let two_factor_on = method.is_some();
    let mut apps = Vec::new();
    for consent in store::consents::list_for_user(&state.db, &user.id).await.map_err(PageError::internal)? {
        let client = store::clients::find_by_row_id(&state.db, &consent.client_id)
            .await
            .map_err(PageError::internal)?;
        let Some(client) = client else { continue };
        let scopes = Scope::parse(&consent.scope)
            .iter()
            .map(|s| state.views.message(me.lang, &format!("scope-{s}")))
            .collect();
        apps.push(AppRow { id: client.id, name: client.client_id, scopes });
    }
    let context = AccountPage {
        frame: page::frame(&state, Some(tenant), me.lang),
        base: tenant.path(&state, ""),
        csrf_token: me.csrf_token(),
        email: user.email.clone(),
        email_verified: user.email_verified,
        two_factor_on,
        method_label,
        phone_masked,
        security_keys: method == Some(Method::SecurityKey),
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
    page::render(&state, "account.html", context, StatusCode::OK).await
}

async fn forget_device(
    State(state): State<AppState>,
    me: SignedIn,
    IdParam(id): IdParam,
    ClientIp(ip): ClientIp,
    PageForm(body): PageForm<CsrfBody>,
) -> Result<Response, PageError> {
    me.check_csrf(&body.csrf_token)?;
    account::forget_device(&state, &me.tenant, &me.user, &id, &ip, state.now())
        .await
        .map_err(account_error)?;
    Ok(back_to_overview(&me, &state, "device-forgotten"))
}

async fn forget_all_devices(
    State(state): State<AppState>,
    me: SignedIn,
    ClientIp(ip): ClientIp,
    PageForm(body): PageForm<CsrfBody>,
) -> Result<Response, PageError> {
    me.check_csrf(&body.csrf_token)?;
    account::forget_all_devices(&state, &me.tenant, &me.user, &ip, state.now())
        .await
        .map_err(account_error)?;
    Ok(back_to_overview(&me, &state, "devices-forgotten"))
}

async fn revoke_app(
    State(state): State<AppState>,
    me: SignedIn,
    IdParam(id): IdParam,
    ClientIp(ip): ClientIp,
    PageForm(body): PageForm<CsrfBody>,
) -> Result<Response, PageError> {
    me.check_csrf(&body.csrf_token)?;
    crate::authn::consent::revoke(&state, &me.tenant, &me.user.id, &id, &ip, state.now())
        .await
        .map_err(PageError::internal)?;
    Ok(back_to_overview(&me, &state, "app-revoked"))
}
