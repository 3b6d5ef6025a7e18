//! The values of `users.two_factor_method`: the second factor a person signs in with. A user
//! without one (`None`) has two-factor authentication switched off.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum TwoFactorMethod {
    /// An authenticator app (TOTP).
    #[sea_orm(string_value = "totp")]
    Totp,
    /// A code by text message.
    #[sea_orm(string_value = "sms")]
    Sms,
    /// A security key or passkey (WebAuthn).
    #[sea_orm(string_value = "security_key")]
    SecurityKey,
}

impl TwoFactorMethod {
    pub const ALL: [Self; 3] = [Self::Totp, Self::Sms, Self::SecurityKey];

    /// The stored value, also the value of the method-choice form and of audit details.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::Sms => "sms",
            Self::SecurityKey => "security_key",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == value)
    }
}
