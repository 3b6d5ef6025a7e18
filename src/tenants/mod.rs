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
    // While the database is away, the remembered row rather than a second wait for it.
    if store::outage::recently_away()
        && let Some(row) = state.tenant_memory.get_stale(slug)
    {
        return Ok(Some(by_slug(state, row)));
    }
    let row = match store::tenants::find_by_slug(&state.db, slug).await {
        Ok(row) => row,
        Err(StoreError::Db(err)) if store::outage::is_outage(&err) => {
            match state.tenant_memory.get_stale(slug) {
                Some(row) => return Ok(Some(by_slug(state, row))),
                None => return Err(StoreError::Db(err)),
            }
        }
        Err(err) => return Err(err),
    };
    if let Some(row) = &row {
        state.tenant_memory.keep(row, now);
    }
    Ok(row.map(|row| by_slug(state, row)))
}

/// The tenant of a request: `slug` from a `/t/{slug}` path, else the tenant whose own host name
/// the `Host` header names. A tenant's own host serves that tenant alone: a `/t/{slug}` path
/// there would run another tenant's login and set its cookies on this tenant's domain.
pub async fn resolve(
    state: &AppState,
    slug: Option<&str>,
    host_header: Option<&str>,
) -> Result<Option<Tenant>, StoreError> {
    let host = host_header.map(host_name).unwrap_or_default();
    match slug {
        Some(slug) => {
            if is_tenant_host(state, &host).await? {
                return Ok(None);
            }
            find(state, slug).await
        }
        None => find_by_host(state, &host).await,
    }
}

/// The host name of a `Host` header, lower case, without its port or the root's trailing dot
/// (`login.alpha.example.` names the same host, and must not escape the checks below).
fn host_name(host_header: &str) -> String {
    let header = host_header.trim().to_ascii_lowercase();
    let host = match header.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => header.as_str(),
    };
    host.strip_suffix('.').unwrap_or(host).to_string()
}

/// True when the `Host` header names the public URL's host, where every tenant's `/t/{slug}`
/// paths are served (and their remembered discovery documents may be).
pub fn is_public_host(state: &AppState, host_header: Option<&str>) -> bool {
    let host = host_header.map(host_name).unwrap_or_default();
    state.settings.public_url.host_str().is_some_and(|public| public == host)
}

/// Refuses to serve when a tenant's own host name is the public URL's host (stored before the
/// admin refused it, or `public_url` changed since): that tenant would take over the root of the
/// host where every tenant is served. The message says how to fix it.
pub async fn check_own_hosts(state: &AppState) -> Result<(), String> {
    let Some(public) = state.settings.public_url.host_str() else { return Ok(()) };
    let tenants = store::tenants::list(&state.db).await.map_err(|e| e.to_string())?;
    match tenants.iter().find(|t| t.host.as_deref() == Some(public)) {
        Some(tenant) => Err(format!(
            "tenant {:?} has the public URL's own host {public:?} as its host name; every tenant is \
             served there below /t/{{slug}}. Remove it with `tessera tenant update {} --host none` \
             or give the tenant a host of its own",
            tenant.slug, tenant.slug
        )),
        None => Ok(()),
    }
}

/// True when `host` is some tenant's own host name. The public URL's host never is (the admin
/// refuses it), which keeps the common `/t/{slug}` request free of a second lookup.
async fn is_tenant_host(state: &AppState, host: &str) -> Result<bool, StoreError> {
    if host.is_empty() || state.settings.public_url.host_str().is_some_and(|public| public == host) {
        return Ok(false);
    }
    Ok(store::tenants::find_by_host(&state.db, host).await?.is_some())
}

/// The tenant whose own host name is `host`, served at the root.
async fn find_by_host(state: &AppState, host: &str) -> Result<Option<Tenant>, StoreError> {
    if host.is_empty() {
        return Ok(None);
    }
    let row = store::tenants::find_by_host(&state.db, host).await?;
    Ok(row.map(|row| Tenant { issuer: own_host_issuer(state, &row), base_path: String::new(), row }))
}

/// The issuer on a tenant's own host: its configured name with the public URL's scheme and port
/// (both hosts sit behind the same listener or proxy), never the `Host` header a client sent.
fn own_host_issuer(state: &AppState, row: &entity::tenant::Model) -> String {
    let host = row.host.as_deref().unwrap_or_default();
    let scheme = state.settings.public_url.scheme();
    match state.settings.public_url.port() {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    }
}
