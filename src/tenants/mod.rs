//! Tenant lookup and the values derived from a tenant for one request: its issuer and the path
//! its pages live under. A tenant is reached at `{public_url}/t/{slug}`, or at the root of a host
//! name of its own (a custom domain), where its issuer is that origin.

pub mod memory;

use crate::state::AppState;
use crate::store::{self, StoreError};

/// A tenant as requests see it: its row, its issuer URL and its path prefix on this host.
#[derive(Clone, Debug)]
pub struct Tenant {
    pub row: entity::tenant::Model,
    pub issuer: String,
    /// `/t/{slug}` (below public_url's own path), or empty on the tenant's own host.
    base_path: String,
}

impl Tenant {
    pub fn id(&self) -> &str {
        &self.row.id
    }

    pub fn slug(&self) -> &str {
        &self.row.slug
    }

    /// An absolute URL below the issuer, `path` starting with `/`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// A path below the issuer as seen by the browser on this host.
    pub fn path(&self, _state: &AppState, path: &str) -> String {
        if self.base_path.is_empty() && path.is_empty() {
            "/".to_string()
        } else {
            format!("{}{path}", self.base_path)
        }
    }
}

pub fn issuer_for(state: &AppState, slug: &str) -> String {
    format!("{}/t/{slug}", state.settings.public_base())
}

fn by_slug(state: &AppState, row: entity::tenant::Model) -> Tenant {
    let base = state.settings.public_url.path().trim_end_matches('/');
    Tenant { issuer: issuer_for(state, &row.slug), base_path: format!("{base}/t/{}", row.slug), row }
}

pub async fn find(state: &AppState, slug: &str) -> Result<Option<Tenant>, StoreError> {
    let now = state.now();
    if let Some(row) = state.tenant_memory.get(slug, now) {
        return Ok(Some(by_slug(state, row)));
    }
    let row = store::tenants::find_by_slug(&state.db, slug).await?;
    if let Some(row) = &row {
        state.tenant_memory.keep(row, now);
    }
    Ok(row.map(|row| by_slug(state, row)))
}

/// The tenant whose own host name this `Host` header names (port allowed), served at the root.
pub async fn find_by_host(state: &AppState, host_header: &str) -> Result<Option<Tenant>, StoreError> {
    let host_header = host_header.trim().to_ascii_lowercase();
    let host = host_header.rsplit_once(':').map_or(host_header.as_str(), |(host, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) { host } else { host_header.as_str() }
    });
    if host.is_empty() {
        return Ok(None);
    }
    let row = store::tenants::find_by_host(&state.db, host).await?;
    // The origin keeps the port the browser used; the scheme is the server's.
    let scheme = state.settings.public_url.scheme();
    Ok(row.map(|row| Tenant { issuer: format!("{scheme}://{host_header}"), base_path: String::new(), row }))
}
