//! The `{tenant}` path segment, resolved to a tenant or a "no such login space" page.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use crate::error::PageError;
use crate::state::AppState;
use crate::tenants::{self, Tenant};

pub struct CurrentTenant(pub Tenant);

impl FromRequestParts<AppState> for CurrentTenant {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| PageError::not_found("error-unknown-tenant"))?;
        let slug = params.get("tenant").ok_or_else(|| PageError::not_found("error-unknown-tenant"))?;
        match tenants::find(state, slug).await {
            Ok(Some(tenant)) => Ok(Self(tenant)),
            Ok(None) => Err(PageError::not_found("error-unknown-tenant")),
            Err(err) => Err(PageError::internal(err)),
        }
    }
}
