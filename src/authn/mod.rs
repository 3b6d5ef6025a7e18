//! Authentication of people: the login state machine and one file per factor.

pub mod backup_codes;
pub mod consent;
pub mod flow;
pub mod known_device;
pub mod password;
pub mod second_factor;
pub mod session;
pub mod sms;
pub mod sso;
pub mod throttle;
pub mod totp;
pub mod totp_enrolment;
pub mod trusted_device;
pub mod webauthn;
