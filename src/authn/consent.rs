//! Consent for third-party clients: the person allows the scopes once per client; first-party
//! apps of the tenant skip it. `prompt=consent` asks again.

use serde_json::json;

use crate::audit::{self, AuditEvent, Event};
use crate::domain::Scope;
use crate::oauth::authorize_request::AuthorizationRequest;
use crate::state::AppState;
use crate::store::{self, StoreError};
use crate::tenants::Tenant;

/// Whether this request needs the consent page before a code is issued.
pub async fn needed(
    state: &AppState,
    request: &AuthorizationRequest,
    user_id: &str,
) -> Result<bool, StoreError> {
    let Some(client) = store::clients::find_by_row_id(&state.db, &request.client_row_id).await? else {
        return Ok(true);
    };
    if client.first_party {
        return Ok(false);
    }
    if request.prompt.iter().any(|p| p == "consent") {
        return Ok(true);
    }
    let Some(consent) = store::consents::find(&state.db, user_id, &client.id).await? else {
        return Ok(true);
    };
    Ok(!request.scope.is_subset_of(&Scope::parse(&consent.scope)))
}

pub async fn allow(
    state: &AppState,
    tenant: &Tenant,
    request: &AuthorizationRequest,
    user_id: &str,
    ip: &str,
    now: i64,
) -> Result<(), StoreError> {
    store::consents::grant(&state.db, tenant.id(), user_id, &request.client_row_id, &request.scope, now)
        .await?;
    let event = AuditEvent {
        tenant_id: Some(tenant.id()),
        user_id: Some(user_id),
        event: Event::ConsentGranted,
        detail: json!({ "client": request.client_id, "scope": request.scope }),
        ip: Some(ip),
    };
    audit::record(&state.db, event, now).await
}

/// "Apps with access" on the account page: forget the consent and end the app's refresh tokens.
pub async fn revoke(
    state: &AppState,
    tenant: &Tenant,
    user_id: &str,
    client_row_id: &str,
    ip: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let revoked = store::consents::revoke(&state.db, user_id, client_row_id).await?;
    for family in store::refresh_tokens::families_of(&state.db, user_id, client_row_id).await? {
        crate::oauth::token::refresh_token::revoke_family(state, &family, now).await?;
    }
    if revoked {
        let event = AuditEvent {
            tenant_id: Some(tenant.id()),
            user_id: Some(user_id),
            event: Event::ConsentRevoked,
            detail: json!({ "client": client_row_id }),
            ip: Some(ip),
        };
        audit::record(&state.db, event, now).await?;
    }
    Ok(revoked)
}
