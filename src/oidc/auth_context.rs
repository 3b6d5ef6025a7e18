//! How a person authenticated, as `amr` (RFC 8176) and `acr` values. Honest by construction:
//! only the factor code that checked a factor builds its context.

use serde::{Deserialize, Serialize};

pub const ACR_1FA: &str = "urn:tessera:acr:1fa";
pub const ACR_2FA_REMEMBERED: &str = "urn:tessera:acr:2fa-remembered";
pub const ACR_2FA: &str = "urn:tessera:acr:2fa";
pub const ACR_PHR: &str = "phr";

/// Weakest first; `acr_values` ask for a minimum in this order.
pub const ACR_ORDER: [&str; 4] = [ACR_1FA, ACR_2FA_REMEMBERED, ACR_2FA, ACR_PHR];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthContext {
    pub amr: Vec<String>,
    pub acr: String,
}

impl AuthContext {
    /// Password only, two-factor off.
    pub fn password() -> Self {
        Self { amr: vec!["pwd".to_string()], acr: ACR_1FA.to_string() }
    }

    pub fn amr_json(&self) -> String {
        serde_json::to_string(&self.amr).unwrap_or_else(|_| "[]".to_string())
    }

    /// Rebuilds a context from stored columns; unreadable data degrades to no methods at all,
    /// never to a stronger claim.
    pub fn from_stored(amr: &str, acr: &str) -> Self {
        let amr = serde_json::from_str(amr).unwrap_or_default();
        let acr = if ACR_ORDER.contains(&acr) { acr } else { ACR_1FA };
        Self { amr, acr: acr.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_context_is_1fa() {
        let context = AuthContext::password();
        assert_eq!(context.amr, vec!["pwd"]);
        assert_eq!(context.acr, "urn:tessera:acr:1fa");
        assert_eq!(AuthContext::from_stored(&context.amr_json(), &context.acr), context);
    }

    #[test]
    fn unreadable_context_never_upgrades() {
        let context = AuthContext::from_stored("not json", "made-up");
        assert!(context.amr.is_empty());
        assert_eq!(context.acr, ACR_1FA);
    }
}
