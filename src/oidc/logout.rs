//! RP-initiated logout 1.0: validating the request, and ending a session (with the refresh tokens
//! that belong to it; `offline_access` grants survive, as OIDC intends).

use serde_json::json;

use crate::audit::{self, AuditEvent, Event};
use crate::authn::session::Session;
use crate::keys::verify::own_jwt_claims;
use crate::oauth::token::refresh_token::revoke_family;
use crate::state::AppState;
use crate::store::{self, StoreError};
use crate::tenants::Tenant;

#[derive(Debug, PartialEq, Eq)]
pub enum LogoutError {
    /// The hint is not a token of ours, or names another client than `client_id`.
    BadHint,
    /// A redirect URI that is not registered, or no client to check it against.
    UnregisteredRedirect,
}

/// A validated logout request.
#[derive(Debug, Default)]
pub struct LogoutRequest {
    /// Subject of a valid `id_token_hint`: the relying party proved which person it means.
    pub hinted_subject: Option<String>,
    /// Where to send the browser afterwards (registered for the client), with `state`.
    pub redirect: Option<String>,
    /// The client, from `client_id` or the hint's audience (the confirmation carries it along).
    pub client_id: Option<String>,
}

pub async fn validate(
    state: &AppState,
    tenant: &Tenant,
    id_token_hint: Option<&str>,
    client_id: Option<&str>,
    post_logout_redirect_uri: Option<&str>,
    client_state: Option<&str>,
) -> Result<Result<LogoutRequest, LogoutError>, StoreError> {
    let mut request = LogoutRequest::default();
    let mut client_id = client_id.map(str::to_string);
    if let Some(hint) = id_token_hint {
        let Some(claims) = own_jwt_claims(&state.db, tenant.id(), hint, state.now()).await? else {
            return Ok(Err(LogoutError::BadHint));
        };
        if claims["iss"] != tenant.issuer.as_str() {
            return Ok(Err(LogoutError::BadHint));
        }
        let audience = claims["aud"].as_str().map(str::to_string);
        if client_id.is_some() && audience != client_id {
            return Ok(Err(LogoutError::BadHint));
        }
        client_id = audience;
        request.hinted_subject = claims["sub"].as_str().map(str::to_string);
    }
    request.client_id = client_id.clone();
    if let Some(uri) = post_logout_redirect_uri {
        let Some(client_id) = client_id else { return Ok(Err(LogoutError::UnregisteredRedirect)) };
        let Some(client) = store::clients::find(&state.db, tenant.id(), &client_id).await? else {
            return Ok(Err(LogoutError::UnregisteredRedirect));
        };
        if !store::clients::post_logout_redirect_uris(&client)?.iter().any(|u| u.as_str() == uri) {
            return Ok(Err(LogoutError::UnregisteredRedirect));
        }
        let mut url = match url::Url::parse(uri) {
            Ok(url) => url,
            Err(_) => return Ok(Err(LogoutError::UnregisteredRedirect)),
        };
        if let Some(client_state) = client_state {
            url.query_pairs_mut().append_pair("state", client_state);
        }
        request.redirect = Some(url.to_string());
    }
    Ok(Ok(request))
}

/// Ends a session and the refresh tokens tied to it.
pub async fn end_session(
    state: &AppState,
    tenant: &Tenant,
    session: &Session,
    ip: &str,
    now: i64,
) -> Result<(), StoreError> {
    store::sessions::delete(&state.db, &session.row.id).await?;
    for family in store::refresh_tokens::session_families(&state.db, &session.row.sid).await? {
        revoke_family(state, &family, now).await?;
    }
    super::backchannel::notify(state, tenant, &session.row.sid, &session.row.user_id, now).await?;
    let event = AuditEvent {
        tenant_id: Some(tenant.id()),
        user_id: Some(&session.row.user_id),
        event: Event::Logout,
        detail: json!({ "sid": session.row.sid }),
        ip: Some(ip),
    };
    audit::record(&state.db, event, now).await
}
