//! Thin axum handlers: extract (tenant, attempt, signed-in person, form), call a step of a flow
//! or a service, and translate its outcome into a page, a redirect or JSON. Each file exposes
//! `router()`; `login/` and `account/` are folders of their pages.

mod account;
mod admin_api;
mod assets;
mod authorize;
mod browser;
mod client_ip;
mod cookies;
mod discovery;
mod documents_from_memory;
mod error_pages;
mod form;
mod health;
mod invitation;
mod language;
mod limits;
mod login;
mod logout;
mod metrics;
mod page;
pub(crate) mod password_reset;
mod path_param;
mod security_headers;
mod static_files;
mod tenant;
mod token;
mod userinfo;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Request, header};
use axum::middleware;
use axum::response::Response;
use tower::Service;
use tower_http::cors::{Any, CorsLayer};
use tower_http::trace::TraceLayer;

use self::documents_from_memory::DocumentsFromMemory;
use crate::state::AppState;

/// Form posts are small; anything larger is refused before a handler sees it.
const BODY_LIMIT_BYTES: usize = 64 * 1024;

pub use admin_api::openapi as admin_openapi;

/// `/metrics` alone, for the operators' listener (`metrics_listen`), never the public one.
pub fn metrics_router(state: AppState) -> Router {
    metrics::router(state)
}

/// What the accept loop serves (`server::run`): discovery documents and JWK Sets from memory
/// when the router would answer them the same, everything else through the router.
#[derive(Clone)]
pub struct App {
    router: Router,
    from_memory: Arc<DocumentsFromMemory>,
}

impl App {
    pub async fn call(&mut self, request: Request<Body>) -> Response {
        if let Some(response) = self.from_memory.answer(&request) {
            return response;
        }
        match self.router.call(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }
}

pub fn app(state: AppState) -> App {
    let limits = limits::Limits::new(&state.settings.server);
    let from_memory = Arc::new(DocumentsFromMemory::new(state.clone(), limits.clone(), &protocol_cors()));
    App { router: router(state, limits), from_memory }
}

/// Browser apps (SPAs with PKCE) call the protocol routes from their own origin; no cookies are
/// involved.
fn protocol_cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(Duration::from_secs(600))
}

fn router(state: AppState, limits: Arc<limits::Limits>) -> Router {
    let protocol = Router::new()
        .merge(discovery::router())
        .merge(token::router())
        .merge(userinfo::router())
        .layer(protocol_cors());
    let tenant_routes = Router::new()
        .merge(protocol)
        .merge(authorize::router())
        .merge(login::router())
        .merge(account::router())
        .merge(password_reset::router())
        .merge(invitation::router())
        .merge(logout::router())
        .merge(admin_api::router(state.clone()));
    Router::new()
        .nest("/t/{tenant}", tenant_routes.clone())
        // The same routes at the root serve tenants on a host name of their own.
        .merge(tenant_routes)
        .merge(health::router())
        .merge(static_files::router())
        .merge(assets::router())
        .fallback(error_pages::not_found)
        // Inside the error pages: its 503 page for people is rendered like any other.
        .layer(middleware::from_fn_with_state(limits, limits::bound_request))
        .layer(middleware::from_fn_with_state(state.clone(), error_pages::render_error_pages))
        .layer(middleware::from_fn_with_state(state.clone(), language::remember_language))
        .layer(middleware::from_fn_with_state(state.clone(), security_headers::add_security_headers))
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
