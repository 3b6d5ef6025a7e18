//! The hosted login pages: each attempt's current stage at `GET /login/{attempt}`, and the forms
//! posted below it. Handlers parse the form, call one step of `authn::flow`, and turn its
//! outcome into a page or a redirect (`respond`).

mod enrol_sms;
mod forms;
mod password;
pub mod request;
mod respond;
mod second_factor;
pub mod sms_notice;
mod stage_page;
mod webauthn;

use axum::Router;

use crate::authn::flow::FlowError;
use crate::error::PageError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(password::router())
        .merge(second_factor::router())
        .merge(enrol_sms::router())
        .merge(webauthn::router())
}

/// A step that could not run: an old or foreign link is the person's "start again" page; the
/// rest is the server's, logged and hidden.
pub fn flow_error(err: FlowError) -> PageError {
    match err {
        FlowError::AttemptGone | FlowError::WrongStage => PageError::bad_request("error-attempt-expired"),
        other => PageError::internal(other),
    }
}
