//! The userinfo endpoint's claims (OIDC Core 5.3) for a bearer access token (RFC 6750).

use serde_json::{Value, json};

use crate::domain::Scope;
use crate::error::OAuthError;
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

pub async fn claims(state: &AppState, tenant: &Tenant, access_token: &str) -> Result<Value, OAuthError> {
    let now = state.now();
    let token = crate::oauth::active_token::find(state, tenant, access_token, now)
        .await
        .map_err(OAuthError::internal)?
        .ok_or_else(|| OAuthError::invalid_token("the access token is invalid or expired"))?;
    // A token of a deleted client is not active (see `oauth::introspection`).
    if crate::oauth::client_memory::find_by_row_id(state, &token.client_id)
        .await
        .map_err(OAuthError::internal)?
        .is_none()
    {
        return Err(OAuthError::invalid_token("the access token is invalid or expired"));
    }
    let user_id = token
        .user_id
        .ok_or_else(|| OAuthError::invalid_token("the access token does not belong to a user"))?;
    let scope = Scope::parse(&token.scope);
    if !scope.contains("openid") {
        return Err(OAuthError {
            status: axum::http::StatusCode::FORBIDDEN,
            error: "insufficient_scope",
            description: "the openid scope is required".to_string(),
            challenge: Some("Bearer error=\"insufficient_scope\", scope=\"openid\"".to_string()),
        });
    }
    let user = store::users::find(&state.db, tenant.id(), &user_id)
        .await
        .map_err(OAuthError::internal)?
        .ok_or_else(|| OAuthError::invalid_token("the user no longer exists"))?;
    if user.disabled_at.is_some() {
        return Err(OAuthError::invalid_token("the access token is invalid or expired"));
    }
    let mut claims = json!({ "sub": user.id });
    if scope.contains("profile")
        && let Some(name) = &user.name
    {
        claims["name"] = json!(name);
    }
    if scope.contains("phone")
        && let Some(phone) = &user.phone_number
    {
        claims["phone_number"] = json!(phone);
        claims["phone_number_verified"] = json!(true);
    }
    if scope.contains("email") {
        claims["email"] = json!(user.email);
        claims["email_verified"] = json!(user.email_verified);
    }
    Ok(claims)
}
