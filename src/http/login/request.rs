//! Everything a login page or form needs, extracted once: the tenant, the attempt named in the
//! path (for this browser only), the language, and what the flow needs to know of the visitor
//! (browser binding, user agent, trusted-device, known-device and session cookies, client address).

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;

use super::flow_error;
use crate::authn::flow::{self, LoginAttempt, Visitor};
use crate::error::PageError;
use crate::http::client_ip::ClientIp;
use crate::http::path_param::AttemptParam;
use crate::http::tenant::CurrentTenant;
use crate::http::{browser, cookies, page};
use crate::state::AppState;
use crate::tenants::Tenant;

pub struct LoginRequest {
    pub tenant: Tenant,
    /// The attempt's token, as in its URL.
    pub token: String,
    pub attempt: LoginAttempt,
    pub lang: &'static str,
    ip: String,
    browser_token: Option<String>,
    user_agent: String,
    trusted_device: Option<String>,
    known_device: Option<String>,
    session_token: Option<String>,
}

impl LoginRequest {
    pub fn visitor(&self) -> Visitor<'_> {
        Visitor {
            browser_token: self.browser_token.as_deref().unwrap_or_default(),
            user_agent: &self.user_agent,
            trusted_device: self.trusted_device.as_deref(),
            known_device: self.known_device.as_deref(),
            session_token: self.session_token.as_deref(),
            ip: &self.ip,
            lang: self.lang,
        }
    }

    /// `/t/{tenant}/login/{attempt}` plus `suffix`.
    pub fn url(&self, state: &AppState, suffix: &str) -> String {
        self.tenant.path(state, &format!("/login/{}{suffix}", self.token))
    }

    /// The same request, continuing with the fresh attempt that replaced this one.
    pub async fn restarted(self, state: &AppState, token: String) -> Result<Self, PageError> {
        let attempt = load(state, &self.tenant, &token, self.browser_token.as_deref()).await?;
        Ok(Self { token, attempt, ..self })
    }
}

async fn load(
    state: &AppState,
    tenant: &Tenant,
    token: &str,
    browser_token: Option<&str>,
) -> Result<LoginAttempt, PageError> {
    flow::load(state, tenant, token, browser_token, state.now()).await.map_err(flow_error)
}

impl FromRequestParts<AppState> for LoginRequest {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let CurrentTenant(tenant) = CurrentTenant::from_request_parts(parts, state).await?;
        let AttemptParam(token) = AttemptParam::from_request_parts(parts, state).await?;
        let Ok(ClientIp(ip)) = ClientIp::from_request_parts(parts, state).await;
        let headers: &HeaderMap = &parts.headers;
        let browser_token = cookies::read(headers, &cookies::browser_name(state));
        let attempt = load(state, &tenant, &token, browser_token.as_deref()).await?;
        let lang = page::language(headers, attempt.purpose.ui_locales(), Some(&tenant));
        Ok(Self {
            user_agent: browser::user_agent(headers),
            trusted_device: cookies::read(headers, &cookies::trusted_device_name(state, tenant.slug())),
            known_device: cookies::read(headers, &cookies::known_device_name(state, tenant.slug())),
            session_token: cookies::read(headers, &cookies::session_name(state, tenant.slug())),
            tenant,
            token,
            attempt,
            lang,
            ip,
            browser_token,
        })
    }
}
