//! Security keys and passkeys in a login: the challenge the page's script asks for, and the
//! forms that carry the browser's answer back.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::json;

use super::flow_error;
use super::request::LoginRequest;
use super::respond::{FormPage, respond};
use crate::authn::flow::passkey_step::{self, PasskeyForm};
use crate::authn::flow::second_factor_step::{self, SecurityKeyForm};
use crate::authn::flow::{self, Stage};
use crate::authn::webauthn;
use crate::error::PageError;
use crate::http::form::PageForm;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login/{attempt}/webauthn", post(begin))
        .route("/login/{attempt}/security-key", post(submit_security_key))
        .route("/login/{attempt}/passkey", post(submit_passkey))
}

#[derive(Deserialize)]
struct AnswerBody {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    credential: String,
    #[serde(default)]
    remember_device: Option<String>,
}

fn json_error(status: StatusCode, error: &str) -> Response {
    (status, Json(json!({ "error": error }))).into_response()
}

/// A challenge for the attempt's stage: a passkey at the password step (any registered
/// discoverable credential), the person's own keys at the second-factor step.
async fn begin(State(state): State<AppState>, request: LoginRequest, body: String) -> Response {
    let Ok(body) = serde_urlencoded::from_str::<AnswerBody>(&body) else {
        return json_error(StatusCode::BAD_REQUEST, "invalid_request");
    };
    let attempt = &request.attempt;
    if !attempt.csrf_matches(&body.csrf_token) {
        return json_error(StatusCode::FORBIDDEN, "csrf");
    }
    // The ceremony is kept with the attempt: a pending one is stored now.
    if let Err(err) = flow::keep(&state, attempt).await {
        tracing::error!(error = %err, "storing a pending sign-in failed");
        return json_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error");
    }
    let now = state.now();
    let begun = match attempt.stage {
        Stage::Password => {
            webauthn::begin_passkey(&state, &request.tenant, &attempt.id_hash, now).await.map(Some)
        }
        Stage::SecondFactor => match attempt.user_id() {
            Ok(user_id) => {
                webauthn::begin_second_factor(&state, &request.tenant, &attempt.id_hash, user_id, now).await
            }
            Err(_) => Ok(None),
        },
        _ => Ok(None),
    };
    match begun {
        Ok(Some(begun)) => Json(begun).into_response(),
        Ok(None) => json_error(StatusCode::CONFLICT, "no_security_key"),
        Err(err) => {
            tracing::error!(error = %err, "starting a WebAuthn ceremony failed");
            json_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error")
        }
    }
}

async fn submit_security_key(
    State(state): State<AppState>,
    request: LoginRequest,
    PageForm(body): PageForm<AnswerBody>,
) -> Result<Response, PageError> {
    let form = SecurityKeyForm {
        ceremony: &body.ceremony,
        credential: &body.credential,
        csrf_token: &body.csrf_token,
        remember_device: body.remember_device.is_some(),
    };
    let outcome = second_factor_step::submit_security_key(
        &state,
        &request.tenant,
        &request.attempt,
        form,
        &request.visitor(),
        state.now(),
    )
    .await
    .map_err(flow_error)?;
    respond(&state, request, outcome, FormPage::Stage { typed_email: None }).await
}

async fn submit_passkey(
    State(state): State<AppState>,
    request: LoginRequest,
    PageForm(body): PageForm<AnswerBody>,
) -> Result<Response, PageError> {
    let form =
        PasskeyForm { ceremony: &body.ceremony, credential: &body.credential, csrf_token: &body.csrf_token };
    let outcome = passkey_step::submit(
        &state,
        &request.tenant,
        &request.attempt,
        form,
        &request.visitor(),
        state.now(),
    )
    .await
    .map_err(flow_error)?;
    respond(&state, request, outcome, FormPage::Stage { typed_email: None }).await
}
