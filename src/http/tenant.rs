//! The tenant of a request: the `{tenant}` path segment (not on a tenant's own host), or else the
//! tenant whose own host name the `Host` header names. Neither: a "no such login space" page.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::header;
use axum::http::request::Parts;

use crate::error::PageError;
use crate::state::AppState;
use crate::tenants::{self, Tenant};

pub struct CurrentTenant(pub Tenant);

impl FromRequestParts<AppState> for CurrentTenant {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let params =
            Path::<HashMap<String, String>>::from_request_parts(parts, state).await.ok().map(|Path(p)| p);
        let slug = params.as_ref().and_then(|p| p.get("tenant")).map(String::as_str);
        // An absolute-form request target names the host itself, and then wins over `Host`.
        let host = match parts.uri.authority() {
            Some(authority) => Some(authority.host()),
            None => parts.headers.get(header::HOST).and_then(|h| h.to_str().ok()),
        };
        let found = tenants::resolve(state, slug, host).await;
        match found {
            Ok(Some(tenant)) => Ok(Self(tenant)),
            Ok(None) => Err(PageError::not_found("error-unknown-tenant")),
            Err(err) => Err(PageError::internal(err)),
        }
    }
}
