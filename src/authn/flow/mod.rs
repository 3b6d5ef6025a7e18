//! The login state machine between `/authorize` (or the account pages) and the redirect back.
//!
//! An attempt is named by a random token in the login URL, bound to the browser that started it
//! (a cookie whose hash the attempt stores), and every form carries the attempt's CSRF token.
//! Stages: `password` -> (`second_factor` | `enrol`) -> (`notice`) -> finished. Every stage lives
//! in the database, so any instance can continue any attempt.

pub mod completion;
pub mod enrolment_step;
pub mod passkey_step;
pub mod password_step;
pub mod second_factor_step;

use serde::{Deserialize, Serialize};

use crate::crypto::{constant_time_eq, random_token, sha256_hex};
use crate::domain::auth_context::{ACR_2FA_REMEMBERED, ACR_PHR, AuthContext, rank};
use crate::oauth::authorize_request::AuthorizationRequest;
use crate::state::AppState;
use crate::store::{self, StoreError};
use crate::tenants::Tenant;

/// Wrong second-factor codes allowed in one attempt; the next one ends it.
pub const MAX_FACTOR_FAILURES: i32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error("the login attempt is unknown, expired or belongs to another browser")]
    AttemptGone,
    #[error("this step does not belong to the attempt's current stage")]
    WrongStage,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("login data is unreadable: {0}")]
    Corrupt(String),
}

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Password,
    SecondFactor,
    Enrol,
    Notice,
    /// Signed in; a third-party client waits for Allow or Deny.
    Consent,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::SecondFactor => "second_factor",
            Self::Enrol => "enrol",
            Self::Notice => "notice",
            Self::Consent => "consent",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        [Self::Password, Self::SecondFactor, Self::Enrol, Self::Notice, Self::Consent]
            .into_iter()
            .find(|s| s.as_str() == value)
    }
}

/// What the `notice` stage shows before the attempt finishes with `context`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Notice {
    pub context: AuthContext,
    pub backup_codes_left: Option<u64>,
}

#[derive(Clone)]
pub struct LoginAttempt {
    pub id_hash: String,
    /// Whether this attempt checked the password (a step-up attempt does not).
    pub password_ok: bool,
    pub created_at: i64,
    pub csrf_token: String,
    pub purpose: Purpose,
    pub stage: Stage,
    pub user_id: Option<String>,
    pub notice: Option<Notice>,
}

impl LoginAttempt {
    pub fn csrf_matches(&self, presented: &str) -> bool {
        constant_time_eq(presented, &self.csrf_token)
    }

    pub fn expect_stage(&self, stage: Stage) -> Result<(), FlowError> {
        if self.stage == stage { Ok(()) } else { Err(FlowError::WrongStage) }
    }

    pub fn user_id(&self) -> Result<&str, FlowError> {
        self.user_id.as_deref().ok_or(FlowError::WrongStage)
    }
}

/// A browser's identity for binding attempts: the cookie token.
pub struct Browser<'a> {
    pub token: &'a str,
    pub user_agent: &'a str,
}

/// Starts an attempt at the password step; returns the token for the login URL.
pub async fn start(
    state: &AppState,
    tenant: &Tenant,
    purpose: &Purpose,
    browser_token: &str,
    now: i64,
) -> Result<String, FlowError> {
    start_at(state, tenant, purpose, browser_token, Stage::Password, None, now).await
}

/// Starts an attempt at a later stage for a known user (step-up from an existing session).
pub async fn start_at(
    state: &AppState,
    tenant: &Tenant,
    purpose: &Purpose,
    browser_token: &str,
    stage: Stage,
    user_id: Option<&str>,
    now: i64,
) -> Result<String, FlowError> {
    let token = random_token(32);
    let purpose_json = serde_json::to_string(purpose).map_err(|e| FlowError::Corrupt(e.to_string()))?;
    store::attempts::insert(
        &state.db,
        entity::login_attempt::Model {
            id: sha256_hex(&token),
            tenant_id: tenant.id().to_string(),
            browser_hash: sha256_hex(browser_token),
            csrf_token: random_token(32),
            request: purpose_json,
            created_at: now,
            expires_at: now + state.settings.sessions.login_attempt_seconds,
            stage: stage.as_str().to_string(),
            user_id: user_id.map(str::to_string),
            factor_failures: 0,
            notice: None,
            password_ok: false,
        },
    )
    .await?;
    Ok(token)
}

/// The live attempt named by `token`, if this browser started it.
pub async fn load(
    state: &AppState,
    tenant: &Tenant,
    token: &str,
    browser_token: Option<&str>,
    now: i64,
) -> Result<LoginAttempt, FlowError> {
    let browser_token = browser_token.ok_or(FlowError::AttemptGone)?;
    let row = store::attempts::find_active(&state.db, tenant.id(), &sha256_hex(token), now)
        .await?
        .ok_or(FlowError::AttemptGone)?;
    if !constant_time_eq(&row.browser_hash, &sha256_hex(browser_token)) {
        return Err(FlowError::AttemptGone);
    }
    let purpose = serde_json::from_str(&row.request).map_err(|e| FlowError::Corrupt(e.to_string()))?;
    let stage = Stage::parse(&row.stage).ok_or_else(|| FlowError::Corrupt(format!("stage {}", row.stage)))?;
    let notice = match row.notice.as_deref() {
        Some(json) => Some(serde_json::from_str(json).map_err(|e| FlowError::Corrupt(e.to_string()))?),
        None => None,
    };
    Ok(LoginAttempt {
        id_hash: row.id,
        password_ok: row.password_ok,
        created_at: row.created_at,
        csrf_token: row.csrf_token,
        purpose,
        stage,
        user_id: row.user_id,
        notice,
    })
}

/// What a submitted step leads to.
pub enum StepOutcome {
    /// Signed in: set the session cookie and go to `redirect_to`.
    Finished(completion::Finished),
    /// Show the page of the attempt's new stage; remember the device when asked.
    NextStage { trusted_device: Option<(String, i64)> },
    /// Show the same page again with this message (a Fluent key and its `seconds` argument).
    Retry { message_key: &'static str, seconds: Option<i64> },
    /// Too many wrong codes ended the attempt; a fresh one starts at the password.
    Restarted { attempt_token: String },
    /// Done without a new session (the consent answer): go here.
    Redirect { redirect_to: String },
}
