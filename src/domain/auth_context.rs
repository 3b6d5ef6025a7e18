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

/// Position of an `acr` value in `ACR_ORDER`; unknown values count as the weakest.
pub fn rank(acr: &str) -> usize {
    ACR_ORDER.iter().position(|a| *a == acr).unwrap_or(0)
}

/// The minimum an `acr_values` request asks for: the weakest of the known values it lists
/// (any of them is acceptable). `None` when it names none we know.
pub fn minimum_rank(acr_values: &str) -> Option<usize> {
    acr_values.split(' ').filter_map(|v| ACR_ORDER.iter().position(|a| *a == v)).min()
}

fn key_amr(hardware_bound: bool) -> String {
    if hardware_bound { "hwk".to_string() } else { "swk".to_string() }
}

impl AuthContext {
    /// Password only, two-factor off.
    pub fn password() -> Self {
        Self { amr: vec!["pwd".to_string()], acr: ACR_1FA.to_string() }
    }

    /// Password plus an authenticator-app code or a backup code (RFC 8176 `otp`).
    pub fn password_and_otp() -> Self {
        Self { amr: vec!["pwd".into(), "otp".into(), "mfa".into()], acr: ACR_2FA.to_string() }
    }

    /// Password plus a code by text message.
    pub fn password_and_sms() -> Self {
        Self { amr: vec!["pwd".into(), "sms".into(), "mfa".into()], acr: ACR_2FA.to_string() }
    }

    /// Password plus a security key (RFC 8176: `hwk` proof of possession of a hardware-bound key,
    /// `swk` for a synced passkey that can leave its device; `user` presence; `pin` when the key
    /// verified the person). Origin-bound either way, so phishing-resistant: `phr`.
    pub fn password_and_security_key(user_verified: bool, hardware_bound: bool) -> Self {
        let mut amr = vec!["pwd".to_string(), key_amr(hardware_bound), "user".into()];
        if user_verified {
            amr.push("pin".into());
        }
        amr.push("mfa".into());
        Self { amr, acr: ACR_PHR.to_string() }
    }

    /// A passkey without a password: the key and its user verification are two factors.
    pub fn passkey(hardware_bound: bool) -> Self {
        Self {
            amr: vec![key_amr(hardware_bound), "user".into(), "pin".into(), "mfa".into()],
            acr: ACR_PHR.to_string(),
        }
    }

    /// Password on a trusted device: the second factor was proven earlier, not now.
    pub fn password_on_trusted_device() -> Self {
        Self { amr: vec!["pwd".to_string()], acr: ACR_2FA_REMEMBERED.to_string() }
    }

    pub fn rank(&self) -> usize {
        rank(&self.acr)
    }

    /// This context after a step-up proved `proven` as well: the methods of both, but `pwd`
    /// only if this context had it (every second-factor context says `pwd`, because in an
    /// ordinary sign-in the password was typed in the same attempt; a step-up types none), and
    /// the stronger of the two levels.
    pub fn raised_by(&self, proven: &AuthContext) -> Self {
        let typed_password = self.amr.iter().any(|m| m == "pwd");
        let mut amr = self.amr.clone();
        for method in &proven.amr {
            if (method != "pwd" || typed_password) && !amr.contains(method) {
                amr.push(method.clone());
            }
        }
        // `mfa` last, as everywhere else.
        if let Some(at) = amr.iter().position(|m| m == "mfa") {
            let mfa = amr.remove(at);
            amr.push(mfa);
        }
        let acr = if proven.rank() > self.rank() { &proven.acr } else { &self.acr };
        Self { amr, acr: acr.clone() }
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
    fn acr_values_ask_for_the_weakest_listed_minimum() {
        assert_eq!(minimum_rank("urn:tessera:acr:2fa phr"), Some(2));
        assert_eq!(minimum_rank("phr"), Some(3));
        assert_eq!(minimum_rank("urn:other"), None);
        assert!(rank(ACR_1FA) < rank(ACR_2FA_REMEMBERED));
        assert!(rank(ACR_2FA_REMEMBERED) < rank(ACR_2FA));
        assert!(rank(ACR_2FA) < rank(ACR_PHR));
        assert_eq!(AuthContext::password_and_otp().amr, vec!["pwd", "otp", "mfa"]);
    }

    #[test]
    fn a_step_up_adds_the_new_factor_but_never_a_password_nobody_typed() {
        let remembered = AuthContext::password_on_trusted_device();
        let raised = remembered.raised_by(&AuthContext::password_and_otp());
        assert_eq!(raised.amr, vec!["pwd", "otp", "mfa"]);
        assert_eq!(raised.acr, ACR_2FA);

        let passkey = AuthContext::passkey(true);
        let raised = passkey.raised_by(&AuthContext::password_and_sms());
        assert_eq!(raised.amr, vec!["hwk", "user", "pin", "sms", "mfa"], "no pwd");
        assert_eq!(raised.acr, ACR_PHR, "never lowered");

        let password = AuthContext::password();
        let raised = password.raised_by(&AuthContext::password_and_security_key(true, false));
        assert_eq!(raised.amr, vec!["pwd", "swk", "user", "pin", "mfa"]);
        assert_eq!(raised.acr, ACR_PHR);
    }

    #[test]
    fn keys_claim_hwk_only_when_bound_to_their_hardware() {
        let key = AuthContext::password_and_security_key(false, true);
        assert_eq!(key.amr, vec!["pwd", "hwk", "user", "mfa"]);
        assert_eq!(key.acr, ACR_PHR);
        assert_eq!(
            AuthContext::password_and_security_key(true, true).amr,
            vec!["pwd", "hwk", "user", "pin", "mfa"]
        );
        assert_eq!(
            AuthContext::password_and_security_key(true, false).amr,
            vec!["pwd", "swk", "user", "pin", "mfa"]
        );
        assert_eq!(AuthContext::passkey(true).amr, vec!["hwk", "user", "pin", "mfa"]);
        assert_eq!(AuthContext::passkey(false).amr, vec!["swk", "user", "pin", "mfa"]);
        assert_eq!(AuthContext::passkey(false).acr, ACR_PHR);
    }

    #[test]
    fn unreadable_context_never_upgrades() {
        let context = AuthContext::from_stored("not json", "made-up");
        assert!(context.amr.is_empty());
        assert_eq!(context.acr, ACR_1FA);
    }
}
