//! A named path parameter, whether the route sits below `/t/{tenant}` or at the root of a
//! tenant's own host (where there is no `{tenant}` segment).

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use crate::error::PageError;
use crate::state::AppState;

/// The `{id}` parameter.
pub struct IdParam(pub String);
/// The `{attempt}` parameter.
pub struct AttemptParam(pub String);

async fn named(parts: &mut Parts, state: &AppState, name: &str) -> Result<String, PageError> {
    let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
        .await
        .map_err(|_| PageError::not_found("error-not-found"))?;
    params.get(name).cloned().ok_or_else(|| PageError::not_found("error-not-found"))
}

impl FromRequestParts<AppState> for IdParam {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self(named(parts, state, "id").await?))
    }
}

impl FromRequestParts<AppState> for AttemptParam {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self(named(parts, state, "attempt").await?))
    }
}
