//! OAuth 2.0 protocol logic without HTTP types: request validation, PKCE, client authentication,
//! the authorization response and the grants of the token endpoint.

pub mod active_token;
pub mod authorization_response;
pub mod authorize_request;
pub mod client_assertion;
pub mod client_auth;
pub mod client_jwks;
pub mod client_memory;
pub mod introspection;
pub mod pkce;
pub mod revocation;
pub mod revoked;
pub mod sealed_token;
pub mod token;

/// Scopes tessera knows; others are ignored (RFC 6749 3.3 lets the server narrow the scope).
pub const KNOWN_SCOPES: [&str; 5] = ["openid", "profile", "email", "phone", "offline_access"];
