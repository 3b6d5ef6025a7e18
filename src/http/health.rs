//! Liveness and readiness for load balancers and orchestrators.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(|| async { "ok" })).route("/readyz", get(ready))
}

/// Answers within the database's acquire timeout and a quarter second, whatever the database
/// does (an unreachable host, a connection that hangs).
async fn ready(State(state): State<AppState>) -> (StatusCode, &'static str) {
    let deadline =
        Duration::from_millis(state.settings.database.acquire_timeout_ms) + Duration::from_millis(250);
    match tokio::time::timeout(deadline, state.db.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready"),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "database ping failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
        Err(_) => {
            tracing::warn!("database ping timed out");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
