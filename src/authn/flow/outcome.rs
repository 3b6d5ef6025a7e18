//! What a submitted step leads to, and why a step refused the person: typed, so the handler maps
//! each to its page, status and message in one `match`.

use super::completion::Finished;

pub enum StepOutcome {
    /// Signed in: set the session cookie and go to `redirect_to`.
    Finished(Finished),
    /// On to the page of the attempt's new stage.
    NextStage,
    /// Show the same form again and say why.
    Refused(Refusal),
    /// Too many wrong codes ended the attempt; a fresh one starts at the password.
    Restarted { attempt_token: String },
    /// Done without a new session (the consent answer): go here.
    Redirect { redirect_to: String },
}

/// Why a step said no. The person may try again (after `retry_after` when it says so).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The form's CSRF token is not the attempt's: an old tab, or a post from elsewhere.
    FormExpired,
    /// The email address or the password was left empty.
    MissingFields,
    /// The email address or the password is wrong (never which: no account enumeration).
    WrongPassword,
    /// Too many wrong passwords for this address or from this client address.
    PasswordThrottled { seconds: i64 },
    /// A wrong code, or a security key whose answer did not verify.
    WrongFactor(Factor),
    /// Too many wrong codes for this person, across attempts.
    FactorThrottled { seconds: i64 },
    /// The client insists on a security key (`acr_values=phr`): no code will do.
    SecurityKeyRequired,
    /// The passkey's answer did not verify, or it belongs to nobody here.
    PasskeyFailed,
}

impl Refusal {
    /// Seconds to wait before trying again, for a `Retry-After` header and the message.
    pub fn retry_after(self) -> Option<i64> {
        match self {
            Self::PasswordThrottled { seconds } | Self::FactorThrottled { seconds } => Some(seconds),
            _ => None,
        }
    }
}

/// What the person presented at a second-factor form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Factor {
    /// A code from their method: the authenticator app or a text message.
    Code(CodeFrom),
    BackupCode,
    SecurityKey,
    /// The first code of an app or phone number being set up during the sign-in.
    EnrolmentCode(CodeFrom),
}

/// Where a code came from: a wrong one is answered with where to find the right one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeFrom {
    App,
    TextMessage,
}

impl Factor {
    /// The name in the audit log's `kind` (the same for both sources of a code, as it always was).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Code(_) => "code",
            Self::BackupCode => "backup_code",
            Self::SecurityKey => "security_key",
            Self::EnrolmentCode(_) => "enrolment_code",
        }
    }
}
