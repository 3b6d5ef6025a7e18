//! Minting the tokens of a grant: an opaque access token, optionally a rotating refresh token,
//! and an ID token when the scope has `openid`. Only hashes are stored.

use super::TokenResponse;
use super::access_token::{Subject, mint};
use crate::crypto::{random_token, sha256_hex};
use crate::domain::{AuthContext, Scope};
use crate::error::OAuthError;
use crate::oidc::id_token::{self, IdTokenInput};
use crate::state::AppState;
pub use crate::store::tokens::Consume;
use crate::tenants::Tenant;

pub enum Refresh {
    None,
    /// A new grant: a new family.
    NewFamily {
        offline: bool,
    },
    /// A rotation: same family, same absolute end; `token` is the successor (see
    /// `refresh_token::successor_of`).
    Rotate {
        family_id: String,
        expires_at: i64,
        offline: bool,
        token: String,
    },
    /// A retry within the grace: the successor the lost answer carried, given again (nothing new
    /// is stored but the access token).
    Again {
        family_id: String,
        token: String,
    },
}

pub struct UserGrant<'a> {
    pub client: &'a entity::client::Model,
    pub user: &'a entity::user::Model,
    pub scope: &'a Scope,
    pub nonce: Option<&'a str>,
    pub auth_time: i64,
    pub context: &'a AuthContext,
    pub sid: &'a str,
    /// The authorization code behind this grant, so a replay can revoke what it produced.
    pub code_hash: Option<String>,
    /// The scope the refresh token keeps (RFC 6749 6: a narrower request narrows only the access
    /// token); `None`: `scope`.
    pub refresh_scope: Option<&'a Scope>,
    pub refresh: Refresh,
}

pub enum Issued {
    Tokens(TokenResponse),
    /// Another request used the code or refresh token first.
    AlreadyUsed,
}

pub async fn user_tokens(
    state: &AppState,
    tenant: &Tenant,
    grant: UserGrant<'_>,
    consume: Consume<'_>,
    now: i64,
) -> Result<Issued, OAuthError> {
    // The family, and the refresh token to store: (token, family, absolute end, offline).
    let (family_id, new_refresh, again) = match grant.refresh {
        Refresh::None => (None, None, None),
        Refresh::NewFamily { offline } => {
            let family_id = uuid::Uuid::new_v4().to_string();
            let expires_at = now + grant.client.refresh_absolute_seconds;
            (Some(family_id.clone()), Some((random_token(32), family_id, expires_at, offline)), None)
        }
        Refresh::Rotate { family_id, expires_at, offline, token } => {
            (Some(family_id.clone()), Some((token, family_id, expires_at, offline)), None)
        }
        Refresh::Again { family_id, token } => (Some(family_id), None, Some(token)),
    };
    // Everything is minted and signed first (signing may create a tenant's first key), so the
    // transaction of `store::tokens::issue_many` holds its locks only for the writes.
    let expires_in = state.settings.tokens.access_token_seconds;
    let subject = Subject { user_id: &grant.user.id, auth_time: grant.auth_time, context: grant.context };
    let scope = grant.scope.as_string();
    let access_token = mint(state, tenant, grant.client, &scope, Some(subject), now, expires_in).await?;
    let access_row = entity::access_token::Model {
        token_hash: sha256_hex(&access_token),
        tenant_id: tenant.id().to_string(),
        client_id: grant.client.id.clone(),
        user_id: Some(grant.user.id.clone()),
        scope: scope.clone(),
        code_hash: grant.code_hash.clone(),
        created_at: now,
        expires_at: now + expires_in,
        revoked_at: None,
        family_id,
    };
    let refresh = new_refresh.map(|(token, family_id, expires_at, offline)| {
        let row = entity::refresh_token::Model {
            token_hash: sha256_hex(&token),
            tenant_id: tenant.id().to_string(),
            client_id: grant.client.id.clone(),
            user_id: grant.user.id.clone(),
            family_id,
            scope: grant.refresh_scope.unwrap_or(grant.scope).as_string(),
            sid: grant.sid.to_string(),
            offline,
            auth_time: grant.auth_time,
            amr: grant.context.amr_json(),
            acr: grant.context.acr.clone(),
            created_at: now,
            idle_expires_at: (now + grant.client.refresh_idle_seconds).min(expires_at),
            expires_at,
            used_at: None,
            revoked_at: None,
        };
        (token, row)
    });
    let id_token = if grant.scope.contains("openid") {
        let input = IdTokenInput {
            user: grant.user,
            client: grant.client,
            scope: grant.scope,
            nonce: grant.nonce,
            auth_time: grant.auth_time,
            context: grant.context,
            sid: grant.sid,
            access_token: &access_token,
        };
        Some(id_token::issue(state, tenant, input, now).await.map_err(OAuthError::internal)?)
    } else {
        None
    };

    let (refresh_token, refresh_row) = refresh.unzip();
    let refresh_token = refresh_token.or(again);
    if !state.token_writer.issue(consume, access_row, refresh_row, now).await.map_err(OAuthError::internal)? {
        return Ok(Issued::AlreadyUsed);
    }
    Ok(Issued::Tokens(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in,
        id_token,
        refresh_token,
        scope,
    }))
}
