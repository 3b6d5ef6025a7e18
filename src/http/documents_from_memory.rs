//! Discovery documents and JWK Sets answered from memory before the router: they are most of the
//! requests relying parties and resource servers make, and the router's page middleware (the
//! language cookie, error pages) has nothing to do for them (docs/decisions.md, "Lean protocol
//! path"). Only a request whose answer the router would give byte for byte is taken here; any
//! other (a query, an `Origin`, another host, a percent-encoded slug, a document not in memory,
//! the request traces switched on, no room among the requests in flight) goes to the router.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, Response, header};
use tower::{Layer, Service, ServiceExt};
use tower_http::cors::CorsLayer;

use super::limits::Limits;
use super::security_headers;
use crate::state::AppState;

const DISCOVERY: &str = ".well-known/openid-configuration";
const JWKS: &str = "jwks.json";

pub struct DocumentsFromMemory {
    state: AppState,
    limits: Arc<Limits>,
    /// Every header of the router's answers (discovery, JWKS) but `content-length` and `date`
    /// (hyper adds those); none when they could not be worked out, and then the router answers.
    headers: Option<(HeaderMap, HeaderMap)>,
}

impl DocumentsFromMemory {
    /// `limits` and `cors` are the very ones the router's protocol routes carry.
    pub fn new(state: AppState, limits: Arc<Limits>, cors: &CorsLayer) -> Self {
        let https = state.settings.public_url.scheme() == "https";
        let cors_headers = cors_headers(cors);
        // In the order the router's layers add them: the handler's, CORS, the security headers.
        let headers = |cors_headers: &HeaderMap, cache_control: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache_control));
            for (name, value) in cors_headers {
                headers.append(name, value.clone());
            }
            security_headers::apply(&mut headers, https);
            headers
        };
        let headers = cors_headers.map(|cors| {
            (
                headers(&cors, super::discovery::DISCOVERY_CACHE_CONTROL),
                headers(&cors, super::discovery::JWKS_CACHE_CONTROL),
            )
        });
        Self { state, limits, headers }
    }

    /// The answer, when memory holds it and the router would give the same one.
    pub fn answer<B>(&self, request: &Request<B>) -> Option<Response<Body>> {
        let (discovery_headers, jwks_headers) = self.headers.as_ref()?;
        let uri = request.uri();
        if request.method() != Method::GET
            || uri.authority().is_some()
            || uri.query().is_some()
            || request.headers().contains_key(header::ORIGIN)
            || traces_on()
        {
            return None;
        }
        let (slug, document) = uri.path().strip_prefix("/t/")?.split_once('/')?;
        // Anything `Path` would decode, or that no route matches, is the router's.
        if slug.is_empty() || slug.contains('%') {
            return None;
        }
        // A tenant's own host serves no `/t/{slug}` path: only the public host is answered here.
        let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok());
        if !crate::tenants::is_public_host(&self.state, host) {
            return None;
        }
        let _in_flight = self.limits.admit()?;
        let (body, headers) = match document {
            DISCOVERY => (self.state.discovery.get(slug)?, discovery_headers),
            JWKS => {
                let now = self.state.now();
                let tenant_id = self.state.tenant_memory.id(slug, now)?;
                (self.state.keys.remembered_jwks(&tenant_id, now)?, jwks_headers)
            }
            _ => return None,
        };
        let mut headers = headers.clone();
        // As axum's routes do: hyper would otherwise send the body chunked.
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        let mut response = Response::new(Body::from(body));
        *response.headers_mut() = headers;
        Some(response)
    }
}

/// With tower_http's request traces switched on (`TESSERA_LOG=tower_http=debug`), the router
/// answers, so that every request is still traced.
fn traces_on() -> bool {
    use tracing::Level;
    tracing::enabled!(target: "tower_http::trace::make_span", Level::DEBUG)
        || tracing::enabled!(target: "tower_http::trace::on_request", Level::DEBUG)
        || tracing::enabled!(target: "tower_http::trace::on_response", Level::DEBUG)
}

/// The headers `cors` adds to the answer of a GET without `Origin`, taken from the layer itself
/// so that the two can never disagree.
fn cors_headers(cors: &CorsLayer) -> Option<HeaderMap> {
    let inner = tower::service_fn(|_: Request<Body>| async {
        Ok::<_, std::convert::Infallible>(Response::new(Body::empty()))
    });
    let mut service = cors.layer(inner);
    let request = Request::get("/").body(Body::empty()).unwrap_or_default();
    let mut future = std::pin::pin!(async move {
        match service.ready().await {
            Ok(service) => service.call(request).await,
            Err(never) => match never {},
        }
    });
    // Neither the layer nor the inner service waits on anything: the first poll answers.
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(Ok(response)) => Some(response.headers().clone()),
        Poll::Ready(Err(never)) => match never {},
        Poll::Pending => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_headers_are_those_of_the_protocol_routes() {
        let headers = cors_headers(&super::super::protocol_cors()).unwrap();
        assert_eq!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(), "*");
        assert!(headers.get(header::VARY).is_some());
    }
}
