//! `tessera serve`: the demo data when asked, then the server until a shutdown signal.

use std::net::SocketAddr;

use crate::state::AppState;
use crate::{demo, startup, tenants};

pub(super) async fn run(state: AppState, listen: SocketAddr, demo: bool) -> Result<(), String> {
    if demo {
        demo::ensure(&state).await.map_err(|e| e.to_string())?;
    }
    tenants::check_own_hosts(&state).await?;
    let listener = startup::bind(listen).await.map_err(|e| e.to_string())?;
    tracing::info!(address = %listen, public_url = %state.settings.public_url, "tessera is listening");
    if matches!(state.settings.public_url.host(), Some(url::Host::Ipv4(_) | url::Host::Ipv6(_))) {
        tracing::warn!(
            "public_url uses an IP address: browsers refuse it as a WebAuthn relying party, so \
             security keys and passkeys will not work; use a host name (localhost for development)"
        );
    }
    let metrics = match state.settings.metrics_listen() {
        Some(addr) => {
            let listener = startup::bind(addr).await.map_err(|e| e.to_string())?;
            tracing::info!(address = %addr, "metrics are served at /metrics");
            Some(tokio::spawn(startup::serve_metrics(state.clone(), listener)))
        }
        None => None,
    };
    let result = startup::serve(state, listener, startup::shutdown_signal()).await.map_err(|e| e.to_string());
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    result
}
