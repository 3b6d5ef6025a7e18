//! "Change email address": the form on the account pages (fresh sign-in), and the page of the
//! link sent to the new address (`/email/change/{token}`), which asks for one click before it
//! uses the link (mail scanners open links; a `GET` changes nothing).

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::signed_in::{FreshlySignedIn, SignedIn};
use super::{account_error, back_to_overview};
use crate::account::email_change::{self, Confirmed, Requested};
use crate::domain::Email;
use crate::error::PageError;
use crate::http::client_ip::ClientIp;
use crate::http::form::PageForm;
use crate::http::password_reset::{check_csrf, csrf_for, well_formed};
use crate::http::tenant::CurrentTenant;
use crate::http::{browser, page};
use crate::state::AppState;
use crate::tenants::Tenant;
use crate::views::pages::{ConfirmPage, EmailChangePage, MessagePage};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PATH, get(form).post(request))
        .route("/email/change/{token}", get(confirm_page).post(confirm))
}

const PATH: &str = "/account/email/change";

async fn render(
    state: &AppState,
    me: &SignedIn,
    new_email: &str,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let context = EmailChangePage {
        frame: page::frame(state, Some(&me.tenant), me.lang),
        action: me.tenant.path(state, PATH),
        csrf_token: me.csrf_token(),
        error,
        current: me.user.email.clone(),
        new_email: new_email.to_string(),
        cancel_url: me.tenant.path(state, "/account"),
    };
    page::render(state, "email_change.html", context, status).await
}

async fn form(
    State(state): State<AppState>,
    FreshlySignedIn(me): FreshlySignedIn,
) -> Result<Response, PageError> {
    render(&state, &me, "", None, StatusCode::OK).await
}

#[derive(Deserialize)]
struct ChangeBody {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    new_email: String,
}

async fn request(
    State(state): State<AppState>,
    FreshlySignedIn(me): FreshlySignedIn,
    ClientIp(ip): ClientIp,
    PageForm(body): PageForm<ChangeBody>,
) -> Result<Response, PageError> {
    me.check_csrf(&body.csrf_token)?;
    let Ok(new) = Email::parse(&body.new_email) else {
        let message = state.views.message(me.lang, "email-change-invalid");
        return render(&state, &me, &body.new_email, Some(message), StatusCode::BAD_REQUEST).await;
    };
    let requested = email_change::request(&state, &me.tenant, &me.user, &new, me.lang, &ip, state.now())
        .await
        .map_err(account_error)?;
    match requested {
        Requested::Sent => Ok(back_to_overview(&me, &state, "email-change-sent")),
        Requested::Unchanged => {
            let message = state.views.message(me.lang, "email-change-same");
            render(&state, &me, &body.new_email, Some(message), StatusCode::BAD_REQUEST).await
        }
        Requested::Throttled => {
            let message = state.views.message(me.lang, "email-change-throttled");
            render(&state, &me, &body.new_email, Some(message), StatusCode::TOO_MANY_REQUESTS).await
        }
    }
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

const UNUSABLE: (&str, &str) = ("reset-link-invalid-title", "email-change-link-invalid");
const TAKEN: (&str, &str) = ("email-change-title", "email-change-address-taken");

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
        email_change::usable_link(&state, &tenant, token, state.now()).await.map_err(account_error)?;
    let Some((_, _, new)) = usable else {
        return message(&state, &tenant, lang, UNUSABLE, StatusCode::GONE).await;
    };
    let (browser_token, set_cookie) = browser::binding(&state, &headers);
    let context = ConfirmPage {
        frame: page::frame(&state, Some(&tenant), lang),
        action: tenant.path(&state, &format!("/email/change/{token}")),
        csrf_token: csrf_for(&state, &browser_token),
        title: state.views.message(lang, "email-change-confirm-title"),
        message: state.views.message_with(
            lang,
            "email-change-confirm-intro",
            &[("email", new.as_str().into())],
        ),
        button: state.views.message(lang, "email-change-confirm-submit"),
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
    ClientIp(ip): ClientIp,
    Path(params): Path<HashMap<String, String>>,
    PageForm(body): PageForm<super::CsrfBody>,
) -> Result<Response, PageError> {
    check_csrf(&state, &headers, &body.csrf_token)?;
    let lang = page::language(&headers, None, Some(&tenant));
    let Some(token) = token(&params) else {
        return message(&state, &tenant, lang, UNUSABLE, StatusCode::GONE).await;
    };
    let seen = crate::email::Seen { user_agent: Some(&browser::user_agent(&headers)), lang: Some(lang) };
    let confirmed =
        email_change::confirm(&state, &tenant, token, &ip, seen, state.now()).await.map_err(account_error)?;
    match confirmed {
        Confirmed::Changed => {
            message(&state, &tenant, lang, ("email-change-done-title", "email-change-done"), StatusCode::OK)
                .await
        }
        Confirmed::LinkUnusable => message(&state, &tenant, lang, UNUSABLE, StatusCode::GONE).await,
        Confirmed::AddressTaken => message(&state, &tenant, lang, TAKEN, StatusCode::CONFLICT).await,
    }
}
