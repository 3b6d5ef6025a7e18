//! The page of an invitation link (`/invitation/{token}`): "Set your password".

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use secrecy::SecretString;
use serde::Deserialize;

use crate::account::invitation::{self, AcceptOutcome};
use crate::authn::password::PasswordError;
use crate::error::PageError;
use crate::http::form::PageForm;
use crate::http::password_reset::{check_csrf, csrf_for, well_formed};
use crate::http::tenant::CurrentTenant;
use crate::http::{browser, page};
use crate::state::AppState;
use crate::tenants::Tenant;
use crate::views::pages::{MessagePage, PasswordResetPage};

pub fn router() -> Router<AppState> {
    Router::new().route("/invitation/{token}", get(form).post(accept))
}

async fn unusable(state: &AppState, tenant: &Tenant, lang: &'static str) -> Result<Response, PageError> {
    let context = MessagePage {
        frame: page::frame(state, Some(tenant), lang),
        title: state.views.message(lang, "reset-link-invalid-title"),
        message: state.views.message(lang, "invitation-link-invalid"),
        link_url: None,
        link_text: None,
    };
    page::render(state, "message.html", context, StatusCode::GONE).await
}

async fn render(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    token: &str,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let lang = page::language(headers, None, Some(tenant));
    let (browser_token, set_cookie) = browser::binding(state, headers);
    let context = PasswordResetPage {
        frame: page::frame(state, Some(tenant), lang),
        action: tenant.path(state, &format!("/invitation/{token}")),
        csrf_token: csrf_for(state, &browser_token),
        error,
    };
    let mut response = page::render(state, "invitation.html", context, status).await?;
    browser::attach(&mut response, set_cookie);
    Ok(response)
}

async fn form(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    headers: HeaderMap,
    Path(params): Path<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let lang = page::language(&headers, None, Some(&tenant));
    let Some(token) = params.get("token").filter(|t| well_formed(t)) else {
        return unusable(&state, &tenant, lang).await;
    };
    let usable =
        invitation::usable_link(&state, &tenant, token, state.now()).await.map_err(PageError::internal)?;
    if usable.is_none() {
        return unusable(&state, &tenant, lang).await;
    }
    render(&state, &tenant, &headers, token, None, StatusCode::OK).await
}

#[derive(Deserialize)]
struct Body {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    new_password: String,
}

async fn accept(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    headers: HeaderMap,
    Path(params): Path<HashMap<String, String>>,
    PageForm(body): PageForm<Body>,
) -> Result<Response, PageError> {
    check_csrf(&state, &headers, &body.csrf_token)?;
    let lang = page::language(&headers, None, Some(&tenant));
    let Some(token) = params.get("token").filter(|t| well_formed(t)) else {
        return unusable(&state, &tenant, lang).await;
    };
    let password = SecretString::from(body.new_password);
    match invitation::accept(&state, &tenant, token, password, state.now())
        .await
        .map_err(PageError::internal)?
    {
        // Signing in comes next (with two-factor setup when the tenant requires it).
        AcceptOutcome::Accepted => Ok(Redirect::to(&tenant.path(&state, "/account")).into_response()),
        AcceptOutcome::LinkUnusable => unusable(&state, &tenant, lang).await,
        AcceptOutcome::Refused(err) => {
            let key = match err {
                PasswordError::TooLong => "password-change-too-long",
                _ => "password-change-too-short",
            };
            let error = Some(state.views.message(lang, key));
            render(&state, &tenant, &headers, token, error, StatusCode::BAD_REQUEST).await
        }
    }
}
