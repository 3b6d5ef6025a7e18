//! Table shapes of tessera, generated in style: no behaviour lives here (see `src/store`) beyond
//! naming a column's values (`two_factor_method`).
//! Times are Unix seconds (`i64`) so both backends store them identically.

pub mod access_token;
pub mod audit_event;
pub mod authorization_code;
pub mod backup_code;
pub mod client;
pub mod consent;
pub mod email_link;
pub mod email_outbox;
pub mod login_attempt;
pub mod login_throttle;
pub mod logout_delivery;
pub mod refresh_token;
pub mod security_key;
pub mod session;
pub mod session_client;
pub mod signing_key;
pub mod sms_code;
pub mod sms_send;
pub mod tenant;
pub mod token_revocation;
pub mod totp_credential;
pub mod trusted_device;
pub mod two_factor_method;
pub mod used_client_assertion;
pub mod user;
pub mod webauthn_ceremony;
