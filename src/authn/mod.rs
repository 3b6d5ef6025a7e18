//! Authentication of people: the login state machine and one file per factor.

pub mod flow;
pub mod password;
pub mod session;
pub mod throttle;
