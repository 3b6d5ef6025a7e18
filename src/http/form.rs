//! A form post parsed into `T`. A body that is not such a form answers with the "bad request"
//! page (the status of a body refused for its size is kept).

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::PageError;

pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for PageForm<T> {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let body = String::from_request(request, state)
            .await
            .map_err(|rejection| PageError::new(rejection.status(), "error-bad-request"))?;
        parse(&body).map(PageForm)
    }
}

/// Parses a form body; also for handlers that need the raw body first.
pub fn parse<T: DeserializeOwned>(body: &str) -> Result<T, PageError> {
    serde_urlencoded::from_str(body).map_err(|_| PageError::bad_request("error-bad-request"))
}
