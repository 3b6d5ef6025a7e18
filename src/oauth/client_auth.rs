//! Client authentication at the token endpoint: `client_secret_basic`, `client_secret_post`, and
//! `none` for public clients (which must then prove possession with PKCE).

use std::collections::HashMap;

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::crypto::{constant_time_eq, sha256_hex};
use crate::error::OAuthError;
use crate::oauth::{client_assertion, client_memory};
use crate::state::AppState;
use crate::tenants::Tenant;

#[derive(PartialEq, Eq)]
pub enum Presented {
    Basic {
        client_id: String,
        secret: String,
    },
    Post {
        client_id: String,
        secret: String,
    },
    None {
        client_id: String,
    },
    /// private_key_jwt.
    Assertion {
        client_id: String,
        assertion: String,
    },
}

impl Presented {
    pub fn client_id(&self) -> &str {
        match self {
            Self::Basic { client_id, .. }
            | Self::Post { client_id, .. }
            | Self::None { client_id }
            | Self::Assertion { client_id, .. } => client_id,
        }
    }
}

/// Never prints the secret or the assertion.
impl std::fmt::Debug for Presented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self {
            Self::Basic { .. } => "Basic",
            Self::Post { .. } => "Post",
            Self::None { .. } => "None",
            Self::Assertion { .. } => "Assertion",
        };
        write!(f, "Presented::{kind}({})", self.client_id())
    }
}

/// Reads the credentials from the `Authorization` header and the form; using two methods at once
/// is an error (RFC 6749 2.3).
pub fn presented(
    authorization: Option<&str>,
    form: &HashMap<String, String>,
) -> Result<Presented, OAuthError> {
    let form_id = form.get("client_id").filter(|v| !v.is_empty());
    let form_secret = form.get("client_secret").filter(|v| !v.is_empty());
    let assertion = form.get("client_assertion").filter(|v| !v.is_empty());
    if let Some(assertion) = assertion {
        if authorization.is_some() || form_secret.is_some() {
            return Err(OAuthError::invalid_request("use one client authentication method only"));
        }
        if form.get("client_assertion_type").map(String::as_str) != Some(client_assertion::ASSERTION_TYPE) {
            return Err(OAuthError::invalid_request("unsupported client_assertion_type"));
        }
        let client_id = match form_id {
            Some(id) => id.clone(),
            None => client_assertion::unverified_issuer(assertion)
                .ok_or_else(|| OAuthError::invalid_client("the client assertion names no client", false))?,
        };
        return Ok(Presented::Assertion { client_id, assertion: assertion.clone() });
    }
    if let Some(header) = authorization {
        let (scheme, value) = header.split_once(' ').unwrap_or((header, ""));
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(OAuthError::invalid_client("unsupported authorization scheme", true));
        }
        if form_secret.is_some() {
            return Err(OAuthError::invalid_request("use one client authentication method only"));
        }
        let decoded = STANDARD
            .decode(value.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials", true))?;
        let (id, secret) = decoded
            .split_once(':')
            .ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials", true))?;
        // RFC 6749 2.3.1: both parts are form-urlencoded before base64.
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let client_id = decode(id);
        if let Some(form_id) = form_id
            && form_id != &client_id
        {
            return Err(OAuthError::invalid_request("client_id does not match the authenticated client"));
        }
        return Ok(Presented::Basic { client_id, secret: decode(secret) });
    }
    match (form_id, form_secret) {
        (Some(id), Some(secret)) => Ok(Presented::Post { client_id: id.clone(), secret: secret.clone() }),
        (Some(id), None) => Ok(Presented::None { client_id: id.clone() }),
        (None, _) => Err(OAuthError::invalid_client("client authentication is required", false)),
    }
}

/// The authenticated client, or `invalid_client` without saying which part was wrong.
pub async fn authenticate(
    state: &AppState,
    tenant: &Tenant,
    presented: &Presented,
) -> Result<Arc<entity::client::Model>, OAuthError> {
    let basic = matches!(presented, Presented::Basic { .. });
    let refuse = || OAuthError::invalid_client("client authentication failed", basic);
    let client = client_memory::find(state, tenant.id(), presented.client_id())
        .await
        .map_err(OAuthError::internal)?
        .ok_or_else(refuse)?;
    let uses_keys = client.token_endpoint_auth_method == "private_key_jwt";
    if let Presented::Assertion { assertion, .. } = presented {
        if !uses_keys {
            return Err(refuse());
        }
        client_assertion::verify(state, tenant, &client, assertion, state.now()).await?;
        return Ok(client);
    }
    if uses_keys {
        return Err(refuse());
    }
    match (presented, &client.secret_hash, client.is_public) {
        (Presented::None { .. }, None, true) => Ok(client),
        (Presented::Basic { secret, .. } | Presented::Post { secret, .. }, Some(hash), false)
            if constant_time_eq(&sha256_hex(secret), hash)
                || previous_secret_matches(state, &client, secret) =>
        {
            Ok(client)
        }
        _ => Err(refuse()),
    }
}

/// The secret before the last rotation, during its grace period (`admin::rotate_client_secret`).
fn previous_secret_matches(state: &AppState, client: &entity::client::Model, secret: &str) -> bool {
    match (&client.previous_secret_hash, client.previous_secret_expires_at) {
        (Some(hash), Some(expires_at)) => {
            state.now() < expires_at && constant_time_eq(&sha256_hex(secret), hash)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn basic_credentials_are_url_decoded() {
        let header = format!("Basic {}", STANDARD.encode("my%20app:s%3Acret"));
        assert_eq!(
            presented(Some(&header), &form(&[])).unwrap(),
            Presented::Basic { client_id: "my app".into(), secret: "s:cret".into() }
        );
    }

    #[test]
    fn two_methods_at_once_are_refused() {
        let header = format!("Basic {}", STANDARD.encode("app:secret"));
        assert!(presented(Some(&header), &form(&[("client_secret", "x")])).is_err());
    }

    #[test]
    fn post_and_none() {
        assert_eq!(
            presented(None, &form(&[("client_id", "a"), ("client_secret", "b")])).unwrap(),
            Presented::Post { client_id: "a".into(), secret: "b".into() }
        );
        assert_eq!(
            presented(None, &form(&[("client_id", "a")])).unwrap(),
            Presented::None { client_id: "a".into() }
        );
        assert!(presented(None, &form(&[])).is_err());
    }
}
