//! The two faces of an error: an HTML page for people, an RFC 6749 JSON body for clients.
//! Internals are logged here and never shown.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error shown to a person as a themed page. The page itself is rendered by the
/// `render_error_pages` middleware, which knows the language and the views.
#[derive(Debug, Clone)]
pub struct PageError {
    pub status: StatusCode,
    /// Fluent key of the explanation.
    pub message_key: &'static str,
}

impl PageError {
    pub fn new(status: StatusCode, message_key: &'static str) -> Self {
        Self { status, message_key }
    }

    pub fn bad_request(message_key: &'static str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message_key)
    }

    pub fn not_found(message_key: &'static str) -> Self {
        Self::new(StatusCode::NOT_FOUND, message_key)
    }

    /// Logs `err` and hides it behind a generic page.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "internal error while serving a page");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "error-internal")
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// An RFC 6749 section 5.2 error (also used by userinfo, RFC 6750).
#[derive(Debug)]
pub struct OAuthError {
    pub status: StatusCode,
    /// The error code; empty for a request that brought no credentials at all, which gets no
    /// error information (RFC 6750 3.1), only the challenge.
    pub error: &'static str,
    pub description: String,
    /// `WWW-Authenticate` value for 401 answers.
    pub challenge: Option<String>,
}

impl OAuthError {
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, error, description: description.into(), challenge: None }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new("invalid_request", description)
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new("invalid_grant", description)
    }

    pub fn invalid_client(description: impl Into<String>, basic_attempted: bool) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: description.into(),
            challenge: basic_attempted.then(|| "Basic realm=\"tessera\"".to_string()),
        }
    }

    pub fn invalid_token(description: impl Into<String>) -> Self {
        let description = description.into();
        Self {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_token",
            challenge: Some(format!("Bearer error=\"invalid_token\", error_description=\"{description}\"")),
            description,
        }
    }

    /// A protected resource asked for without any bearer token: the challenge alone, no error
    /// code and no body (RFC 6750 3.1).
    pub fn bearer_token_required() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            error: "",
            description: String::new(),
            challenge: Some("Bearer realm=\"tessera\"".to_string()),
        }
    }

    /// Logs `err` and answers `server_error` without details.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "internal error at a protocol endpoint");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            error: "server_error",
            description: "The server could not complete the request.".to_string(),
            challenge: None,
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut response = if self.error.is_empty() {
            self.status.into_response()
        } else {
            let body = json!({ "error": self.error, "error_description": self.description });
            (self.status, Json(body)).into_response()
        };
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if let Some(challenge) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, challenge);
        }
        response
    }
}
