//! Validation of an authorization request (RFC 6749 4.1.1, OIDC Core 3.1.2.1, RFC 7636).
//!
//! Order matters: until client and redirect URI are proven, errors go to a page and never to
//! the redirect URI (RFC 6749 4.1.2.1); after that, errors go back to the client.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{KNOWN_SCOPES, pkce};
use crate::domain::auth_context::minimum_rank;
use crate::domain::{ClientId, RedirectUri, Scope};
use crate::keys::verify::own_jwt_claims;
use crate::state::AppState;
use crate::store::{self, StoreError};
use crate::tenants::Tenant;

/// A validated request, kept with the login attempt until the code is issued. Its JSON keeps
/// `client_id`, `redirect_uri` and `scope` as plain strings, so attempts survive a rolling upgrade.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    /// Row id of the client.
    pub client_row_id: String,
    pub client_id: ClientId,
    pub redirect_uri: RedirectUri,
    pub scope: Scope,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Vec<String>,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
    /// Minimum `acr` rank asked for with `acr_values` (see `domain::auth_context::ACR_ORDER`).
    #[serde(default)]
    pub min_acr_rank: Option<usize>,
    /// The `sub` of a valid `id_token_hint`: only a session of that person may answer.
    #[serde(default)]
    pub hinted_subject: Option<String>,
}

#[derive(Debug)]
pub enum AuthorizeError {
    /// Shown to the person; the client is not trusted enough to receive it.
    Page(&'static str),
    /// Sent back to the verified redirect URI.
    Redirect {
        redirect_uri: RedirectUri,
        state: Option<String>,
        error: &'static str,
        description: String,
    },
    Store(StoreError),
}

impl From<StoreError> for AuthorizeError {
    fn from(err: StoreError) -> Self {
        Self::Store(err)
    }
}

/// Parses `application/x-www-form-urlencoded` parameters, refusing repeated names (RFC 6749 3.1).
pub fn parse_params(raw: &str) -> Result<HashMap<String, String>, &'static str> {
    let mut params = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(raw.as_bytes()) {
        if params.insert(name.into_owned(), value.into_owned()).is_some() {
            return Err("a parameter was given more than once");
        }
    }
    Ok(params)
}

pub async fn validate(
    state: &AppState,
    tenant: &Tenant,
    params: Result<HashMap<String, String>, &'static str>,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let params = params.map_err(|_| AuthorizeError::Page("error-bad-request"))?;
    let get = |name: &str| params.get(name).map(String::as_str).filter(|v| !v.is_empty());

    // Every registered client id parses, so one that does not names no client.
    let client_id = get("client_id")
        .and_then(|id| ClientId::parse(id).ok())
        .ok_or(AuthorizeError::Page("error-unknown-client"))?;
    let client = store::clients::find(&state.db, tenant.id(), client_id.as_str())
        .await?
        .ok_or(AuthorizeError::Page("error-unknown-client"))?;
    let redirect_uri = get("redirect_uri").ok_or(AuthorizeError::Page("error-redirect-uri"))?;
    let native = client.is_public;
    let redirect_uri = store::clients::redirect_uris(&client)?
        .iter()
        .find_map(|uri| uri.matches_request(redirect_uri, native))
        .ok_or(AuthorizeError::Page("error-redirect-uri"))?;

    let request_state = get("state").map(str::to_string);
    let fail = |error: &'static str, description: &str| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.clone(),
        state: request_state.clone(),
        error,
        description: description.to_string(),
    };

    if get("request").is_some() {
        return Err(fail("request_not_supported", "request objects are not supported"));
    }
    if get("request_uri").is_some() {
        return Err(fail("request_uri_not_supported", "request_uri is not supported"));
    }
    match get("response_type") {
        Some("code") => {}
        None => return Err(fail("invalid_request", "response_type is required")),
        Some(_) => return Err(fail("unsupported_response_type", "only response_type=code is supported")),
    }
    if let Some(mode) = get("response_mode")
        && mode != "query"
    {
        return Err(fail("invalid_request", "only response_mode=query is supported"));
    }
    let scope = Scope::parse(get("scope").unwrap_or(""));
    if !scope.contains("openid") {
        return Err(fail("invalid_scope", "the openid scope is required"));
    }

    let code_challenge = get("code_challenge").map(str::to_string);
    match (&code_challenge, get("code_challenge_method")) {
        (Some(challenge), Some("S256")) if pkce::is_valid_verifier_or_challenge(challenge) => {}
        (Some(_), Some("S256")) => return Err(fail("invalid_request", "code_challenge is malformed")),
        (Some(_), None | Some("plain")) => {
            return Err(fail("invalid_request", "code_challenge_method must be S256"));
        }
        (Some(_), Some(_)) => return Err(fail("invalid_request", "unsupported code_challenge_method")),
        (None, Some(_)) => {
            return Err(fail("invalid_request", "code_challenge_method without code_challenge"));
        }
        (None, None) if client.is_public => {
            return Err(fail("invalid_request", "public clients must use PKCE (code_challenge with S256)"));
        }
        (None, None) => {}
    }

    let prompt: Vec<String> =
        get("prompt").unwrap_or("").split(' ').filter(|p| !p.is_empty()).map(str::to_string).collect();
    if prompt.iter().any(|p| !matches!(p.as_str(), "none" | "login" | "consent" | "select_account")) {
        return Err(fail("invalid_request", "unsupported prompt value"));
    }
    if prompt.iter().any(|p| p == "none") && prompt.len() > 1 {
        return Err(fail("invalid_request", "prompt=none cannot be combined with other values"));
    }
    let max_age = match get("max_age") {
        Some(value) => match value.parse::<i64>() {
            Ok(age) if age >= 0 => Some(age),
            _ => return Err(fail("invalid_request", "max_age must be a non-negative integer")),
        },
        None => None,
    };

    let mut min_acr_rank = get("acr_values").and_then(minimum_rank);
    // OIDC Core 5.5.1.1: an essential `acr` in the claims parameter is a minimum too.
    if let Some(claims) = get("claims") {
        let Ok(claims) = serde_json::from_str::<serde_json::Value>(claims) else {
            return Err(fail("invalid_request", "the claims parameter is not JSON"));
        };
        let acr = &claims["id_token"]["acr"];
        if acr["essential"] == true {
            let mut values: Vec<String> = acr["values"]
                .as_array()
                .map(|v| v.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            if let Some(value) = acr["value"].as_str() {
                values.push(value.to_string());
            }
            if let Some(rank) = minimum_rank(&values.join(" ")) {
                min_acr_rank = Some(min_acr_rank.map_or(rank, |r| r.max(rank)));
            }
        }
    }
    let hinted_subject = match get("id_token_hint") {
        None => None,
        Some(hint) => {
            // Our own ID token (expired ones too), issued by this tenant.
            let claims = own_jwt_claims(&state.db, tenant.id(), hint, state.now()).await?;
            match claims.filter(|c| c["iss"] == tenant.issuer.as_str()) {
                Some(claims) => claims["sub"].as_str().map(str::to_string),
                None => {
                    return Err(fail("invalid_request", "id_token_hint is not an ID token of this issuer"));
                }
            }
        }
    };

    Ok(AuthorizationRequest {
        client_row_id: client.id,
        client_id,
        redirect_uri,
        scope: scope.retain_known(&KNOWN_SCOPES),
        state: request_state.clone(),
        nonce: get("nonce").map(str::to_string),
        code_challenge,
        prompt,
        max_age,
        login_hint: get("login_hint").map(str::to_string),
        ui_locales: get("ui_locales").map(str::to_string),
        min_acr_rank,
        hinted_subject,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Attempts stored by an older instance must load in a newer one, and the other way round.
    #[test]
    fn stored_json_keeps_plain_strings() {
        let stored = r#"{"client_row_id":"row-1","client_id":"portal","redirect_uri":"https://portal.example.org/cb","scope":"openid email","state":"xyz","nonce":null,"code_challenge":null,"prompt":["login"],"max_age":null,"login_hint":null,"ui_locales":null,"min_acr_rank":2,"hinted_subject":null}"#;
        let request: AuthorizationRequest = serde_json::from_str(stored).unwrap();
        assert_eq!(request.client_id.as_str(), "portal");
        assert_eq!(request.redirect_uri.as_str(), "https://portal.example.org/cb");
        assert!(request.scope.contains("email"));
        assert_eq!(serde_json::to_string(&request).unwrap(), stored);
    }

    #[test]
    fn stored_json_with_an_unparsable_redirect_uri_is_refused() {
        let stored = r#"{"client_row_id":"row-1","client_id":"portal","redirect_uri":"http://evil.example/cb","scope":"openid","state":null,"nonce":null,"code_challenge":null,"prompt":[],"max_age":null,"login_hint":null,"ui_locales":null}"#;
        assert!(serde_json::from_str::<AuthorizationRequest>(stored).is_err());
    }
}
