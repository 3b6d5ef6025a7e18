//! `GET /login/{attempt}`: the page of the attempt's stage; and the password form posted there.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use secrecy::SecretString;
use serde::Deserialize;

use super::flow_error;
use super::request::LoginRequest;
use super::respond::{FormPage, respond};
use super::sms_notice::ResendQuery;
use super::stage_page::{self, Shown};
use crate::authn::flow::Stage;
use crate::authn::flow::password_step::{self, PasswordForm};
use crate::error::PageError;
use crate::http::form::PageForm;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/login/{attempt}", get(show).post(submit_password))
}

async fn show(
    State(state): State<AppState>,
    request: LoginRequest,
    Query(query): Query<ResendQuery>,
) -> Result<Response, PageError> {
    let notices = match request.attempt.stage {
        Stage::SecondFactor => query.notices(&state, request.lang),
        _ => Default::default(),
    };
    stage_page::render(&state, &request, Shown { notices, ..Shown::default() }, StatusCode::OK).await
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
    request: LoginRequest,
    PageForm(body): PageForm<PasswordBody>,
) -> Result<Response, PageError> {
    // The typed address goes back into the form when it is shown again.
    let typed_email = body.email.clone();
    let form = PasswordForm {
        email: body.email,
        password: SecretString::from(body.password),
        csrf_token: body.csrf_token,
    };
    let outcome = password_step::submit(
        &state,
        &request.tenant,
        &request.attempt,
        form,
        &request.visitor(),
        state.now(),
    )
    .await
    .map_err(flow_error)?;
    respond(&state, request, outcome, FormPage::Stage { typed_email: Some(&typed_email) }).await
}
