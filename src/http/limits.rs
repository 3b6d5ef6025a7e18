//! Bounds on each request (docs/operations.md, "Timeouts and limits" and "Outages"): requests in
//! flight (more are answered 503 at once, never queued), a deadline for the body and one for the
//! whole request, and a 503 with `Retry-After` instead of an error when the database could not be
//! reached while the request ran. People get a themed page (`render_error_pages` renders it),
//! OAuth clients RFC 6749-style JSON with `temporarily_unavailable`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use serde_json::json;
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Sleep;

use crate::config::ServerSettings;
use crate::error::PageError;
use crate::store::outage;

/// `Retry-After` when the database is unreachable or a request ran out of time.
const RETRY_AFTER_OUTAGE: &str = "5";
/// `Retry-After` when too many requests are in flight.
const RETRY_AFTER_BUSY: &str = "1";

/// Protocol endpoints, whose clients read JSON rather than pages.
const JSON_PATHS: [&str; 6] =
    ["/token", "/introspect", "/revoke", "/userinfo", "/jwks.json", "/.well-known/openid-configuration"];

pub struct Limits {
    in_flight: Arc<Semaphore>,
    body_read: Duration,
    request: Duration,
}

impl Limits {
    pub fn new(settings: &ServerSettings) -> Arc<Self> {
        Arc::new(Self {
            in_flight: Arc::new(Semaphore::new(settings.max_requests_in_flight)),
            body_read: Duration::from_secs(settings.body_read_timeout_seconds),
            request: Duration::from_secs(settings.request_timeout_seconds),
        })
    }

    /// A place among the requests in flight, for an answer given without `bound_request` (one
    /// from memory, which never waits): none when `bound_request` would answer 503.
    pub fn admit(&self) -> Option<SemaphorePermit<'_>> {
        self.in_flight.try_acquire().ok()
    }
}

/// How an error reaches whoever sent the request.
#[derive(Clone, Copy)]
enum Audience {
    /// A themed page.
    Person,
    /// RFC 6749-style JSON: the protocol endpoints.
    OAuthClient,
    /// RFC 9457 problem JSON: any other caller that asks for JSON and not HTML (an admin API).
    Api,
}

pub async fn bound_request(State(limits): State<Arc<Limits>>, request: Request, next: Next) -> Response {
    let expected = audience(&request);
    let Ok(_permit) = limits.in_flight.clone().try_acquire_owned() else {
        tracing::warn!("too many requests in flight: answering 503");
        return unavailable(expected, RETRY_AFTER_BUSY);
    };
    let body_timed_out = Arc::new(AtomicBool::new(false));
    let request = request.map(|body| {
        Body::new(DeadlineBody {
            inner: body,
            deadline: Box::pin(tokio::time::sleep(limits.body_read)),
            timed_out: body_timed_out.clone(),
        })
    });
    let Ok((response, database_unreachable)) =
        tokio::time::timeout(limits.request, outage::watch(next.run(request))).await
    else {
        tracing::warn!(seconds = limits.request.as_secs(), "request deadline reached: answering 503");
        return unavailable(expected, RETRY_AFTER_OUTAGE);
    };
    if body_timed_out.load(Ordering::Acquire) {
        return body_too_slow(expected);
    }
    // An answer given while the database could not be reached is not to be trusted (a refusal
    // may only mean that a row could not be read): the client is told to try again instead.
    if database_unreachable && (response.status().is_client_error() || response.status().is_server_error()) {
        tracing::warn!(status = %response.status(), "database unreachable: answering 503");
        // The answer's own form decides: a page stays a page, problem JSON stays problem JSON.
        let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let audience = if response.extensions().get::<PageError>().is_some() {
            Audience::Person
        } else if content_type.is_some_and(|t| t.starts_with("application/problem+json")) {
            Audience::Api
        } else if content_type.is_some_and(|t| t.starts_with("application/json")) {
            Audience::OAuthClient
        } else {
            expected
        };
        return unavailable(audience, RETRY_AFTER_OUTAGE);
    }
    response
}

fn audience(request: &Request) -> Audience {
    let path = request.uri().path();
    if JSON_PATHS.iter().any(|json_path| path.ends_with(json_path)) {
        return Audience::OAuthClient;
    }
    let accept = request.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if accept.contains("json") && !accept.contains("text/html") { Audience::Api } else { Audience::Person }
}

/// 503 with `Retry-After`: a page for people, JSON for clients.
fn unavailable(audience: Audience, retry_after: &'static str) -> Response {
    let mut response = match audience {
        Audience::OAuthClient => {
            let body = json!({
                "error": "temporarily_unavailable",
                "error_description": "The server is temporarily unavailable. Try again shortly.",
            });
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response()
        }
        Audience::Api => {
            let body = json!({
                "type": "about:blank",
                "title": "Service Unavailable",
                "status": 503,
                "detail": "The server is temporarily unavailable. Try again shortly.",
            });
            let mut response = (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
            response
        }
        Audience::Person => {
            PageError::new(StatusCode::SERVICE_UNAVAILABLE, "error-unavailable").into_response()
        }
    };
    if !matches!(audience, Audience::Person) {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(retry_after));
    response
}

/// 408 for a body that did not arrive within `body_read_timeout_seconds`; the connection closes.
fn body_too_slow(audience: Audience) -> Response {
    let mut response = if !matches!(audience, Audience::Person) {
        let body = json!({
            "error": "invalid_request",
            "error_description": "The request body did not arrive in time.",
        });
        (StatusCode::REQUEST_TIMEOUT, axum::Json(body)).into_response()
    } else {
        PageError::new(StatusCode::REQUEST_TIMEOUT, "error-bad-request").into_response()
    };
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A request body that fails once its deadline has passed (a total for the body, unlike
/// `tower_http`'s `RequestBodyTimeout`, which a client resets with every byte it trickles).
struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<Sleep>>,
    timed_out: Arc<AtomicBool>,
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Pending => {
                if this.deadline.as_mut().poll(cx).is_ready() {
                    this.timed_out.store(true, Ordering::Release);
                    return Poll::Ready(Some(Err(axum::Error::new(
                        "the request body did not arrive in time",
                    ))));
                }
                Poll::Pending
            }
            ready => ready,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
