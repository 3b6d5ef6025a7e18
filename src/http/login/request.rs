//! Everything a login-form handler needs, extracted once: the tenant, the attempt named in the
//! path (for this browser only), the client address, the browser binding and the language.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::{Attempt, load_attempt};
use crate::authn::flow::Browser;
use crate::error::PageError;
use crate::http::browser;
use crate::http::client_ip::ClientIp;
use crate::http::page;
use crate::http::tenant::CurrentTenant;
use crate::state::AppState;
use crate::tenants::Tenant;

pub struct LoginRequest {
    pub tenant: Tenant,
    pub current: Attempt,
    pub headers: HeaderMap,
    pub ip: String,
    pub lang: &'static str,
    browser_token: String,
    user_agent: String,
}

impl LoginRequest {
    pub fn browser(&self) -> Browser<'_> {
        Browser { token: &self.browser_token, user_agent: &self.user_agent }
    }

    /// `/t/{tenant}/login/{attempt}` plus `suffix`.
    pub fn url(&self, state: &AppState, suffix: &str) -> String {
        self.tenant.path(state, &format!("/login/{}{suffix}", self.current.token))
    }

    pub fn form<T: DeserializeOwned>(body: &str) -> Result<T, PageError> {
        serde_urlencoded::from_str(body).map_err(|_| PageError::bad_request("error-bad-request"))
    }
}

impl FromRequestParts<AppState> for LoginRequest {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let CurrentTenant(tenant) = CurrentTenant::from_request_parts(parts, state).await?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| PageError::not_found("error-not-found"))?;
        let token = params.get("attempt").ok_or_else(|| PageError::not_found("error-not-found"))?;
        let Ok(ClientIp(ip)) = ClientIp::from_request_parts(parts, state).await;
        let headers = parts.headers.clone();
        let current = load_attempt(state, &tenant, token, &headers).await?;
        let lang = page::language(&headers, current.attempt.purpose.ui_locales(), Some(&tenant));
        let browser_token = browser::binding(state, &headers).0;
        let user_agent = browser::user_agent(&headers);
        Ok(Self { tenant, current, headers, ip, lang, browser_token, user_agent })
    }
}
