//! The end-session endpoint (RP-initiated logout 1.0) and the sign-out confirmation that the
//! account page's Sign out button also posts to.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::browser;
use super::client_ip::ClientIp;
use super::cookies;
use super::page;
use super::tenant::CurrentTenant;
use crate::authn::session::{self, Session};
use crate::crypto::constant_time_eq;
use crate::error::PageError;
use crate::oauth::authorize_request::parse_params;
use crate::oidc::logout::{self, LogoutError, LogoutRequest};
use crate::state::AppState;
use crate::tenants::Tenant;
use crate::views::pages::{ConfirmPage, HiddenField, MessagePage};

pub fn router() -> Router<AppState> {
    Router::new().route("/logout", get(by_get).post(by_post)).route("/logout/confirm", post(confirm))
}

async fn by_get(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    ClientIp(ip): ClientIp,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    end_session(&state, &tenant, &ip, query.as_deref().unwrap_or(""), &headers).await
}

async fn by_post(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: String,
) -> Result<Response, PageError> {
    end_session(&state, &tenant, &ip, &body, &headers).await
}

async fn current_session(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
) -> Result<Option<Session>, PageError> {
    match cookies::read(headers, &cookies::session_name(state, tenant.slug())) {
        Some(token) => session::resume(state, tenant, &token, state.now()).await.map_err(PageError::internal),
        None => Ok(None),
    }
}

async fn validated(
    state: &AppState,
    tenant: &Tenant,
    params: &std::collections::HashMap<String, String>,
    with_hint: bool,
) -> Result<LogoutRequest, PageError> {
    let get = |name: &str| params.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let hint = if with_hint { get("id_token_hint") } else { None };
    let result = logout::validate(
        state,
        tenant,
        hint,
        get("client_id"),
        get("post_logout_redirect_uri"),
        get("state"),
    )
    .await
    .map_err(PageError::internal)?;
    result.map_err(|err| match err {
        LogoutError::BadHint => PageError::bad_request("error-logout-hint"),
        LogoutError::UnregisteredRedirect => PageError::bad_request("error-logout-redirect"),
    })
}

async fn end_session(
    state: &AppState,
    tenant: &Tenant,
    ip: &str,
    raw: &str,
    headers: &HeaderMap,
) -> Result<Response, PageError> {
    let params = parse_params(raw).map_err(|_| PageError::bad_request("error-bad-request"))?;
    let request = validated(state, tenant, &params, true).await?;
    let lang = page::language(headers, params.get("ui_locales").map(String::as_str), Some(tenant));
    let Some(session) = current_session(state, tenant, headers).await? else {
        return finished(state, tenant, headers, request.redirect, lang).await;
    };
    if request.hinted_subject.as_deref() == Some(session.row.user_id.as_str()) {
        logout::end_session(state, tenant, &session, ip, state.now()).await.map_err(PageError::internal)?;
        return finished(state, tenant, headers, request.redirect, lang).await;
    }
    // Without proof from the relying party, the person confirms (no logout by a mere link).
    let mut hidden: Vec<HiddenField> = ["post_logout_redirect_uri", "state"]
        .into_iter()
        .filter_map(|name| params.get(name).map(|value| HiddenField { name, value: value.clone() }))
        .collect();
    // The client may have been named only by the hint, which the confirmation does not repeat.
    if let Some(client_id) = &request.client_id {
        hidden.push(HiddenField { name: "client_id", value: client_id.clone() });
    }
    let context = ConfirmPage {
        frame: page::frame(state, Some(tenant), lang),
        action: tenant.path(state, "/logout/confirm"),
        csrf_token: session.row.csrf_token.clone(),
        title: state.views.message(lang, "logout-confirm-title"),
        message: state.views.message(lang, "logout-confirm-message"),
        button: state.views.message(lang, "account-sign-out"),
        cancel_url: tenant.path(state, "/account"),
        hidden,
    };
    page::render(state, "confirm.html", context, StatusCode::OK).await
}

async fn confirm(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: String,
) -> Result<Response, PageError> {
    let params = parse_params(&body).map_err(|_| PageError::bad_request("error-bad-request"))?;
    let request = validated(&state, &tenant, &params, false).await?;
    let lang = page::language(&headers, None, Some(&tenant));
    if let Some(session) = current_session(&state, &tenant, &headers).await? {
        let presented = params.get("csrf_token").map(String::as_str).unwrap_or("");
        if !constant_time_eq(presented, &session.row.csrf_token) {
            return Err(PageError::bad_request("login-form-expired"));
        }
        logout::end_session(&state, &tenant, &session, &ip, state.now())
            .await
            .map_err(PageError::internal)?;
    }
    finished(&state, &tenant, &headers, request.redirect, lang).await
}

/// Clears the cookie and goes back to the relying party, or shows "You are signed out".
async fn finished(
    state: &AppState,
    tenant: &Tenant,
    _headers: &HeaderMap,
    redirect: Option<String>,
    lang: &'static str,
) -> Result<Response, PageError> {
    let mut response = match redirect {
        Some(url) => Redirect::to(&url).into_response(),
        None => {
            let context = MessagePage {
                frame: page::frame(state, Some(tenant), lang),
                title: state.views.message(lang, "signed-out-title"),
                message: state.views.message(lang, "signed-out-message"),
                link_url: None,
                link_text: None,
            };
            page::render(state, "message.html", context, StatusCode::OK).await?
        }
    };
    browser::attach(&mut response, cookies::clear(state, &cookies::session_name(state, tenant.slug())));
    Ok(response)
}
