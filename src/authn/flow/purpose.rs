//! Why the person is signing in, kept with the attempt: a relying party's request (with what it
//! insists on), or the account pages.

use serde::{Deserialize, Serialize};

use crate::domain::auth_context::{ACR_2FA_REMEMBERED, ACR_PHR, rank};
use crate::oauth::authorize_request::AuthorizationRequest;

/// Why the person is signing in.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Purpose {
    /// For a relying party: ends with an authorization code.
    Authorize(Box<AuthorizationRequest>),
    /// For the account pages (also re-authentication before a sensitive change): ends at `return_to`.
    Account { return_to: String },
}

impl Purpose {
    pub fn ui_locales(&self) -> Option<&str> {
        match self {
            Self::Authorize(request) => request.ui_locales.as_deref(),
            Self::Account { .. } => None,
        }
    }

    pub fn login_hint(&self) -> Option<&str> {
        match self {
            Self::Authorize(request) => request.login_hint.as_deref(),
            Self::Account { .. } => None,
        }
    }

    /// A trusted device may stand in for the second factor only for a relying party that did not
    /// ask for a real second factor; the account pages always want the factor itself.
    pub fn allows_trusted_device(&self) -> bool {
        match self {
            Self::Authorize(request) => request.min_acr_rank.is_none_or(|r| r <= rank(ACR_2FA_REMEMBERED)),
            Self::Account { .. } => false,
        }
    }

    /// True when the client asked for phishing-resistant sign-in (`acr_values=phr`): only a
    /// security key or a passkey will do, no code.
    pub fn demands_security_key(&self) -> bool {
        match self {
            Self::Authorize(request) => request.min_acr_rank.is_some_and(|r| r >= rank(ACR_PHR)),
            Self::Account { .. } => false,
        }
    }

    /// True when the request needs a second factor even from a user who has none yet.
    pub fn demands_second_factor(&self) -> bool {
        match self {
            Self::Authorize(request) => request.min_acr_rank.is_some_and(|r| r >= rank(ACR_2FA_REMEMBERED)),
            Self::Account { .. } => false,
        }
    }
}
