//! The signed-in person of an account page, as extractors: `SignedIn` wants a session,
//! `FreshlySignedIn` a recent password and the second factor when there is one (NIST SP 800-63B
//! re-authentication; switching two-factor on needs it too). Without one, the answer is the
//! sign-in, which comes back to the page the request was for.

use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};

use crate::account::{self, Freshness};
use crate::authn::flow;
use crate::authn::session::Session;
use crate::crypto::constant_time_eq;
use crate::error::PageError;
use crate::http::tenant::CurrentTenant;
use crate::http::{browser, cookies, page};
use crate::state::AppState;
use crate::tenants::Tenant;

/// A signed-in person on the account pages.
pub struct SignedIn {
    pub tenant: Tenant,
    pub session: Session,
    pub user: entity::user::Model,
    pub lang: &'static str,
}

impl SignedIn {
    /// Checks a form's CSRF token against the session's.
    pub fn check_csrf(&self, presented: &str) -> Result<(), PageError> {
        if constant_time_eq(presented, &self.session.row.csrf_token) {
            Ok(())
        } else {
            Err(PageError::bad_request("login-form-expired"))
        }
    }

    pub fn csrf_token(&self) -> String {
        self.session.row.csrf_token.clone()
    }
}

pub struct FreshlySignedIn(pub SignedIn);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        extract(parts, state, Freshness::Any).await
    }
}

impl FromRequestParts<AppState> for FreshlySignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        extract(parts, state, Freshness::Fresh).await.map(Self)
    }
}

async fn extract(parts: &mut Parts, state: &AppState, freshness: Freshness) -> Result<SignedIn, Response> {
    let CurrentTenant(tenant) =
        CurrentTenant::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
    let now = state.now();
    let token = cookies::read(&parts.headers, &cookies::session_name(state, tenant.slug()));
    let found = account::signed_in(state, &tenant, token.as_deref(), freshness, now)
        .await
        .map_err(|err| PageError::internal(err).into_response())?;
    if let Some((session, user)) = found {
        let lang = page::language(&parts.headers, None, Some(&tenant));
        return Ok(SignedIn { tenant, session, user, lang });
    }
    // Sign in (again), then back to the page the request came from.
    let route = parts.extensions.get::<MatchedPath>().map(MatchedPath::as_str).unwrap_or("/account");
    // Nothing is stored until the person sends the sign-in form (`flow::pending`).
    let return_to = tenant.path(state, page_of(route));
    let (browser_token, set_cookie) = browser::binding(state, &parts.headers);
    let attempt = flow::pending::mint(state, &tenant, &return_to, &browser_token, now);
    let mut response = Redirect::to(&tenant.path(state, &format!("/login/{attempt}"))).into_response();
    browser::attach(&mut response, set_cookie);
    Err(response)
}

/// The page a route belongs to, below the tenant: itself for pages, the page that holds the form
/// for a form-only action (a sign-in cannot come back to a POST).
fn page_of(route: &str) -> &str {
    let route = route.strip_prefix("/t/{tenant}").unwrap_or(route);
    match route {
        "/account/devices/{id}/forget" | "/account/devices/forget-all" | "/account/apps/{id}/revoke" => {
            "/account"
        }
        "/account/two-factor/sms/confirm" => "/account/two-factor/sms",
        "/account/security-keys/begin" | "/account/security-keys/{id}/remove" => "/account/security-keys",
        page => page,
    }
}

#[cfg(test)]
mod tests {
    use super::page_of;

    #[test]
    fn actions_come_back_to_their_page() {
        assert_eq!(page_of("/t/{tenant}/account/password"), "/account/password");
        assert_eq!(page_of("/account/devices/{id}/forget"), "/account");
        assert_eq!(page_of("/t/{tenant}/account/two-factor/sms/confirm"), "/account/two-factor/sms");
        assert_eq!(page_of("/account/security-keys/{id}/remove"), "/account/security-keys");
    }
}
