//! The authorization response: a single-use code, or an error, sent to the redirect URI with
//! `state` and `iss` (RFC 9207, so clients can detect mix-up attacks).

use url::Url;

use super::authorize_request::AuthorizationRequest;
use crate::authn::session::Session;
use crate::crypto::{random_token, sha256_hex};
use crate::domain::RedirectUri;
use crate::state::AppState;
use crate::store::{self, StoreError};
use crate::tenants::Tenant;

/// Issues a code for `request` backed by `session`, and returns the URL to redirect to.
pub async fn issue_code(
    state: &AppState,
    tenant: &Tenant,
    request: &AuthorizationRequest,
    session: &Session,
    now: i64,
) -> Result<String, StoreError> {
    let code = random_token(32);
    let row = entity::authorization_code::Model {
        code_hash: sha256_hex(&code),
        tenant_id: tenant.id().to_string(),
        client_id: request.client_row_id.clone(),
        user_id: session.row.user_id.clone(),
        sid: session.row.sid.clone(),
        redirect_uri: request.redirect_uri.to_string(),
        scope: request.scope.to_string(),
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
        auth_time: session.row.auth_time,
        amr: session.row.amr.clone(),
        acr: session.row.acr.clone(),
        created_at: now,
        expires_at: now + state.settings.tokens.authorization_code_seconds,
        consumed_at: None,
    };
    store::authorization_codes::insert(&state.db, row).await?;
    store::session_clients::record(
        &state.db,
        &session.row.sid,
        &request.client_row_id,
        &session.row.user_id,
        now,
    )
    .await?;
    Ok(redirect_with(
        request.redirect_uri.as_str(),
        &[("code", Some(code.as_str())), ("state", request.state.as_deref()), ("iss", Some(&tenant.issuer))],
    ))
}

pub fn error_redirect(
    redirect_uri: &RedirectUri,
    error: &str,
    description: &str,
    state: Option<&str>,
    issuer: &str,
) -> String {
    redirect_with(
        redirect_uri.as_str(),
        &[
            ("error", Some(error)),
            ("error_description", Some(description)),
            ("state", state),
            ("iss", Some(issuer)),
        ],
    )
}

/// An error for the client of a validated request, at its redirect URI with its `state`.
pub fn refuse(request: &AuthorizationRequest, issuer: &str, error: &str, description: &str) -> String {
    error_redirect(&request.redirect_uri, error, description, request.state.as_deref(), issuer)
}

/// Appends parameters to the redirect URI's query, keeping its own query (RFC 6749 3.1.2).
fn redirect_with(redirect_uri: &str, params: &[(&str, Option<&str>)]) -> String {
    match Url::parse(redirect_uri) {
        Ok(mut url) => {
            {
                let mut query = url.query_pairs_mut();
                for (name, value) in params {
                    if let Some(value) = value {
                        query.append_pair(name, value);
                    }
                }
            }
            url.to_string()
        }
        // Registered URIs were parsed when registered; this branch is unreachable in practice,
        // and refusing to redirect is the safe answer.
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_existing_query_and_encodes() {
        let url = redirect_with("https://app.example/cb?x=1", &[("code", Some("a b")), ("state", None)]);
        assert_eq!(url, "https://app.example/cb?x=1&code=a+b");
    }
}
