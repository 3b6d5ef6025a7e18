//! The login state machine between `/authorize` (or the account pages) and the redirect back.
//!
//! An attempt is named by a random token in the login URL, bound to the browser that started it
//! (a cookie whose hash the attempt stores), and every form carries the attempt's CSRF token.
//! Stages: `password` -> (`second_factor` | `enrol`) -> (`notice`) -> (`consent`) -> finished.
//! Every stage lives in the database, so any instance can continue any attempt. Steps decide and
//! write; the pages of a stage only read (`next_stage` does what entering a stage needs).

pub mod begin;
pub mod completion;
pub mod consent_step;
pub mod enrolment_step;
pub mod next_stage;
pub mod outcome;
pub mod passkey_step;
pub mod password_step;
pub mod pending;
mod purpose;
pub mod second_factor_page;
pub mod second_factor_step;
mod tries;

pub use outcome::{CodeFrom, Factor, Refusal, StepOutcome};
pub use purpose::Purpose;

use serde::{Deserialize, Serialize};

use crate::account::AccountError;
use crate::authn::second_factor::FactorError;
use crate::authn::webauthn::SecurityKeyError;
use crate::crypto::{constant_time_eq, random_token, sha256_hex};
use crate::domain::auth_context::AuthContext;
use crate::state::AppState;
use crate::store::{self, StoreError};
use crate::tenants::Tenant;

/// Wrong second-factor codes allowed in one attempt; the next one ends it.
pub const MAX_FACTOR_FAILURES: i32 = 5;

/// Why a step could not run. The first two are the person's (an old or foreign link); the
/// others are the server's, and keep their source so the log says what really failed.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error("the login attempt is unknown, expired or belongs to another browser")]
    AttemptGone,
    #[error("this step does not belong to the attempt's current stage")]
    WrongStage,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Factor(#[from] FactorError),
    #[error(transparent)]
    SecurityKey(#[from] SecurityKeyError),
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error("the login attempt's stored JSON is unreadable: {0}")]
    Unreadable(#[from] serde_json::Error),
    #[error("the login attempt names an unknown stage {0:?}")]
    UnknownStage(String),
    #[error("the user's method is text messages but their phone number is unusable")]
    NoPhoneNumber,
}

/// Who is at the keyboard, as far as a step needs to know.
pub struct Visitor<'a> {
    /// The browser-binding cookie: a restarted attempt is bound to the same browser.
    pub browser_token: &'a str,
    /// Names a remembered device ("Firefox on Linux").
    pub user_agent: &'a str,
    /// The trusted-device cookie, when the browser has one.
    pub trusted_device: Option<&'a str>,
    /// The known-device cookie (`authn::known_device`), when the browser has one.
    pub known_device: Option<&'a str>,
    /// The browser's session cookie at this tenant: a step-up raises that session.
    pub session_token: Option<&'a str>,
    /// For throttles and the audit log.
    pub ip: &'a str,
    /// The page language, also the language of a text message sent now.
    pub lang: &'a str,
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
    /// A pending attempt's row, not stored yet (`keep` stores it).
    unsaved: Option<Box<entity::login_attempt::Model>>,
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
    let purpose_json = serde_json::to_string(purpose)?;
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

/// The live attempt named by `token`, if this browser started it. A pending account sign-in
/// (`pending`) is read from its token, unsaved until a step `keep`s it.
pub async fn load(
    state: &AppState,
    tenant: &Tenant,
    token: &str,
    browser_token: Option<&str>,
    now: i64,
) -> Result<LoginAttempt, FlowError> {
    let browser_token = browser_token.ok_or(FlowError::AttemptGone)?;
    let id_hash = sha256_hex(token);
    let mut unsaved = None;
    let mut row = store::attempts::find_active(&state.db, tenant.id(), &id_hash, now).await?;
    if row.is_none()
        && let Some(pending) = pending::open(state, tenant, token, browser_token, now)
    {
        unsaved = Some(Box::new(pending.clone()));
        row = Some(pending);
    }
    let row = row.ok_or(FlowError::AttemptGone)?;
    if !constant_time_eq(&row.browser_hash, &sha256_hex(browser_token)) {
        return Err(FlowError::AttemptGone);
    }
    let purpose = serde_json::from_str(&row.request)?;
    let stage = Stage::parse(&row.stage).ok_or_else(|| FlowError::UnknownStage(row.stage.clone()))?;
    let notice = match row.notice.as_deref() {
        Some(json) => Some(serde_json::from_str(json)?),
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
        unsaved,
    })
}

/// Stores a pending attempt (`pending`) before a step writes to it: called once the form's CSRF
/// token matched, so only a genuine form of the page stores anything. Two first forms sent at
/// once store it once.
pub async fn keep(state: &AppState, attempt: &LoginAttempt) -> Result<(), FlowError> {
    if let Some(row) = &attempt.unsaved {
        store::attempts::insert_if_absent(&state.db, (**row).clone()).await?;
    }
    Ok(())
}
