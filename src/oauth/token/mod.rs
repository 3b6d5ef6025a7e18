//! The token endpoint's grants, one file each.

pub mod access_token;
pub mod authorization_code;
pub mod client_credentials;
pub mod issue;
pub mod refresh_token;

use std::collections::HashMap;

use serde::Serialize;

use super::client_auth;
use crate::error::OAuthError;
use crate::state::AppState;
use crate::tenants::Tenant;

// No Debug: it holds the tokens themselves.
#[derive(Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
}

/// Authenticates the client, then runs the requested grant.
pub async fn exchange(
    state: &AppState,
    tenant: &Tenant,
    authorization: Option<&str>,
    form: &HashMap<String, String>,
) -> Result<TokenResponse, OAuthError> {
    let presented = client_auth::presented(authorization, form)?;
    let client = client_auth::authenticate(state, tenant, &presented).await?;
    let grant = form.get("grant_type").map(String::as_str);
    let result = match grant {
        Some("authorization_code") => authorization_code::grant(state, tenant, &client, form).await,
        Some("refresh_token") => refresh_token::grant(state, tenant, &client, form).await,
        Some("client_credentials") => client_credentials::grant(state, tenant, &client, form).await,
        Some(_) => Err(OAuthError::new("unsupported_grant_type", "this grant type is not supported")),
        None => Err(OAuthError::invalid_request("grant_type is required")),
    };
    if let (Ok(_), Some(grant)) = (&result, grant) {
        state.metrics.token_grant(grant);
    }
    result
}
