//! "Send verification email" on the account page, and the page of the emailed link
//! (`/email/verify/{token}`), which asks for one click before it uses the link (mail scanners
//! open links; a `GET` changes nothing).

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};

use super::signed_in::SignedIn;
use super::{CsrfBody, account_error, back_to_overview};
use crate::account::email_verification;
use crate::error::PageError;
use crate::http::form::PageForm;
use crate::http::password_reset::{check_csrf, csrf_for, well_formed};
use crate::http::tenant::CurrentTenant;
use crate::http::{browser, page};
use crate::state::AppState;
use crate::tenants::Tenant;
use crate::views::pages::{ConfirmPage, MessagePage};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account/email/verify", post(send_link))
        .route("/email/verify/{token}", get(confirm_page).post(confirm))
}

async fn send_link(
    State(state): State<AppState>,
    me: SignedIn,
    PageForm(body): PageForm<CsrfBody>,
) -> Result<Response, PageError> {
    me.check_csrf(&body.csrf_token)?;
    email_verification::send(&state, &me.tenant, &me.user, me.lang, state.now())
        .await
        .map_err(account_error)?;
    Ok(back_to_overview(&me, &state, "verification-sent"))
}

fn token(params: &HashMap<String, String>) -> Option<&str> {
    params.get("token").map(String::as_str).filter(|t| well_formed(t))
}

async fn message(
    state: &AppState,
    tenant: &Tenant,
    lang: &'static str,
    keys: (&str, &str),
    status: StatusCode,
) -> Result<Response, PageError> {
    let context = MessagePage {
        frame: page::frame(state, Some(tenant), lang),
        title: state.views.message(lang, keys.0),
        message: state.views.message(lang, keys.1),
        link_url: Some(tenant.path(state, "/account")),
        link_text: Some(state.views.message(lang, "verify-go-to-account")),
    };
    page::render(state, "message.html", context, status).await
}

const UNUSABLE: (&str, &str) = ("reset-link-invalid-title", "verify-link-invalid");

async fn confirm_page(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    headers: HeaderMap,
    Path(params): Path<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let lang = page::language(&headers, None, Some(&tenant));
    let Some(token) = token(&params) else {
        return message(&state, &tenant, lang, UNUSABLE, StatusCode::GONE).await;
    };
    let usable =
        email_verification::usable_link(&state, &tenant, token, state.now()).await.map_err(account_error)?;
    let Some((_, user)) = usable else {
        return message(&state, &tenant, lang, UNUSABLE, StatusCode::GONE).await;
    };
    let (browser_token, set_cookie) = browser::binding(&state, &headers);
    let context = ConfirmPage {
        frame: page::frame(&state, Some(&tenant), lang),
        action: tenant.path(&state, &format!("/email/verify/{token}")),
        csrf_token: csrf_for(&state, &browser_token),
        title: state.views.message(lang, "verify-title"),
        message: state.views.message_with(lang, "verify-intro", &[("email", user.email.as_str().into())]),
        button: state.views.message(lang, "verify-submit"),
        cancel_url: tenant.path(&state, "/account"),
        hidden: Vec::new(),
    };
    let mut response = page::render(&state, "confirm.html", context, StatusCode::OK).await?;
    browser::attach(&mut response, set_cookie);
    Ok(response)
}

async fn confirm(
    State(state): State<AppState>,
    CurrentTenant(tenant): CurrentTenant,
    headers: HeaderMap,
    Path(params): Path<HashMap<String, String>>,
    PageForm(body): PageForm<CsrfBody>,
) -> Result<Response, PageError> {
    check_csrf(&state, &headers, &body.csrf_token)?;
    let lang = page::language(&headers, None, Some(&tenant));
    let Some(token) = token(&params) else {
        return message(&state, &tenant, lang, UNUSABLE, StatusCode::GONE).await;
    };
    if email_verification::confirm(&state, &tenant, token, state.now()).await.map_err(account_error)? {
        message(&state, &tenant, lang, ("verify-done-title", "verify-done"), StatusCode::OK).await
    } else {
        message(&state, &tenant, lang, UNUSABLE, StatusCode::GONE).await
    }
}
