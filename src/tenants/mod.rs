//! Tenant lookup and the values derived from a tenant (its issuer).

use crate::state::AppState;
use crate::store::{self, StoreError};

/// A tenant as requests see it: its row and its issuer URL.
#[derive(Clone, Debug)]
pub struct Tenant {
    pub row: entity::tenant::Model,
    pub issuer: String,
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

    /// A path below the issuer as seen by this server (public_url's own path included).
    pub fn path(&self, state: &AppState, path: &str) -> String {
        let base = state.settings.public_url.path().trim_end_matches('/');
        format!("{base}/t/{}{path}", self.row.slug)
    }
}

pub fn issuer_for(state: &AppState, slug: &str) -> String {
    format!("{}/t/{slug}", state.settings.public_base())
}

pub async fn find(state: &AppState, slug: &str) -> Result<Option<Tenant>, StoreError> {
    let row = store::tenants::find_by_slug(&state.db, slug).await?;
    Ok(row.map(|row| Tenant { issuer: issuer_for(state, &row.slug), row }))
}
