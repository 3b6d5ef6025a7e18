//! RFC 9457 problem documents: every error of the admin API, with a stable `type` per kind of
//! error (listed in docs/operations.md), and the extractors whose rejections are problems too
//! (JSON bodies with unknown fields or wrong types, query strings, oversized bodies).

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::admin::{AdminError, LifecycleError};
use crate::store::StoreError;

pub const CONTENT_TYPE: &str = "application/problem+json";

/// The body of every error answer (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemDocument {
    /// A stable URI naming the kind of error: `urn:tessera:problem:<kind>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of error; the same for every occurrence.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
}

/// An error answer. `kind` is the last part of the problem type.
#[derive(Debug)]
pub struct Problem {
    pub status: StatusCode,
    pub kind: &'static str,
    pub title: &'static str,
    pub detail: String,
    /// `WWW-Authenticate` (RFC 6750 3) for 401 and 403 answers.
    pub challenge: Option<String>,
}

impl Problem {
    pub fn new(
        status: StatusCode,
        kind: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self { status, kind, title, detail: detail.into(), challenge: None }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", "The request is malformed", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "internal error in the admin API");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "something went wrong on our side",
        )
    }

    pub fn with_challenge(mut self, challenge: String) -> Self {
        self.challenge = Some(challenge);
        self
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let document = ProblemDocument {
            kind: format!("urn:tessera:problem:{}", self.kind),
            title: self.title.to_string(),
            status: self.status.as_u16(),
            detail: self.detail,
        };
        let body = serde_json::to_vec(&document).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if let Some(challenge) = self.challenge
            && let Ok(value) = HeaderValue::from_str(&challenge)
        {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

impl From<AdminError> for Problem {
    fn from(err: AdminError) -> Self {
        match err {
            AdminError::Invalid(detail) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-value",
                "A value is not acceptable",
                detail,
            ),
            AdminError::Password(
                err @ (crate::authn::password::PasswordError::TooShort
                | crate::authn::password::PasswordError::TooLong),
            ) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-value",
                "A value is not acceptable",
                err.to_string(),
            ),
            AdminError::NotFound(what) => Self::not_found(format!("no such {what} in this tenant")),
            AdminError::UnknownTenant(_) => Self::not_found("no such tenant"),
            AdminError::Stale => Self::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                "The resource changed",
                "it was changed since the ETag given in If-Match; read it again and retry",
            ),
            AdminError::Conflict(detail) => {
                Self::new(StatusCode::CONFLICT, "invalid-state", "Not possible while it stands so", detail)
            }
            AdminError::Store(StoreError::Duplicate(what)) => Self::new(
                StatusCode::CONFLICT,
                "conflict",
                "It already exists",
                format!("{what} already exists"),
            ),
            other => Self::internal(other),
        }
    }
}

impl From<LifecycleError> for Problem {
    fn from(err: LifecycleError) -> Self {
        match err {
            LifecycleError::InvalidEmail(detail) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-value",
                "A value is not acceptable",
                detail,
            ),
            LifecycleError::UnknownUser { .. } => Self::not_found("no such user in this tenant"),
            LifecycleError::UnknownSession => Self::not_found("the user has no live session with this sid"),
            LifecycleError::Store(err) => Self::internal(err),
        }
    }
}

/// `Json<T>` whose rejections are problem documents: 400 for malformed JSON, 422 for unknown
/// fields, missing fields and wrong types, 413 for a body over the limit, 415 without
/// `Content-Type: application/json`.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_problem(rejection)),
        }
    }
}

fn json_problem(rejection: JsonRejection) -> Problem {
    match rejection {
        JsonRejection::JsonDataError(err) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-body",
            "The body does not match the schema",
            err.body_text(),
        ),
        JsonRejection::JsonSyntaxError(err) => {
            Problem::new(StatusCode::BAD_REQUEST, "malformed-json", "The body is not JSON", err.body_text())
        }
        JsonRejection::MissingJsonContentType(_) => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "The body must be JSON",
            "send Content-Type: application/json",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            "The body is too large",
            format!("the body may be at most {} bytes", super::BODY_LIMIT_BYTES),
        ),
        other => Problem::bad_request(other.body_text()),
    }
}

/// `Query<T>` whose rejections (unknown parameters, wrong types) are problem documents.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(QueryRejection::FailedToDeserializeQueryString(err)) => Err(Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid-query",
                "The query parameters are not acceptable",
                err.body_text(),
            )),
            Err(other) => Err(Problem::bad_request(other.body_text())),
        }
    }
}

/// An admin API path that does not exist.
pub async fn not_found() -> Problem {
    Problem::not_found("no such admin API endpoint")
}

pub async fn method_not_allowed() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        "this endpoint does not take this method",
    )
}

/// Serde helper for fields that may be absent (keep), `null` (remove) or a value (set).
pub fn nullable<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Ok(Some(Option::deserialize(deserializer)?))
}
