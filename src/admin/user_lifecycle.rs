//! An administrator's recovery and lifecycle operations on one person, named by tenant and email
//! address (the CLI) or id (the admin API): sign them out everywhere or end one session, reset
//! their second factor, disable and enable them, erase them (GDPR art. 17), and show where they
//! stand. Typed input, typed results, typed errors and no printing: the command line and the
//! admin API call the same functions. Every change is one store transaction together with its
//! audit event, whose `actor` says which administrator acted.

use entity::two_factor_method::TwoFactorMethod;
use serde::Serialize;
use serde_json::json;

use super::Actor;
use crate::audit::{self, AuditEvent, Event};
use crate::crypto::sha256_hex;
use crate::domain::{Email, PhoneNumber};
use crate::oidc::backchannel;
use crate::state::AppState;
use crate::store::user_lifecycle::{Ended, Erasure};
use crate::store::{self, StoreError};
use crate::tenants::Tenant;

#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    /// The email address is not one (it cannot name anyone).
    #[error("{0}")]
    InvalidEmail(String),
    #[error("tenant {tenant} has no user with this email address")]
    UnknownUser { tenant: String },
    /// The person has no live session with this `sid`.
    #[error("the person has no such session")]
    UnknownSession,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What ending every sign-in of a person ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SignedOut {
    pub sessions: u64,
    pub refresh_tokens: u64,
    pub access_tokens: u64,
}

impl From<Ended> for SignedOut {
    fn from(ended: Ended) -> Self {
        Self {
            sessions: ended.sessions,
            refresh_tokens: ended.refresh_tokens,
            access_tokens: ended.access_tokens,
        }
    }
}

/// The person's `sub` and what the change ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Done {
    pub user_id: String,
    pub signed_out: SignedOut,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TwoFactorReset {
    pub user_id: String,
    /// The method they had (`None`: two-factor authentication was already off).
    pub previous_method: Option<TwoFactorMethod>,
    pub signed_out: SignedOut,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Disabled {
    Disabled(Done),
    /// Nothing changed: the person was disabled before.
    AlreadyDisabled {
        user_id: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Enabled {
    Enabled {
        user_id: String,
    },
    /// Nothing changed: the person was active.
    AlreadyActive {
        user_id: String,
    },
}

/// Whom an operation is about: the command line names a person by email address (a plain
/// string converts to that), the admin API by id (their `sub`).
#[derive(Clone, Copy, Debug)]
pub enum Person<'a> {
    Email(&'a str),
    Id(&'a str),
}

impl<'a> From<&'a str> for Person<'a> {
    fn from(email: &'a str) -> Self {
        Self::Email(email)
    }
}

impl<'a> From<&'a String> for Person<'a> {
    fn from(email: &'a String) -> Self {
        Self::Email(email)
    }
}

async fn find_user(
    state: &AppState,
    tenant: &Tenant,
    who: Person<'_>,
) -> Result<entity::user::Model, LifecycleError> {
    let found = match who {
        Person::Email(email) => {
            let email = Email::parse(email).map_err(|e| LifecycleError::InvalidEmail(e.0))?;
            store::users::find_by_email(&state.db, tenant.id(), &email).await?
        }
        Person::Id(id) => store::users::find(&state.db, tenant.id(), id).await?,
    };
    found.ok_or_else(|| LifecycleError::UnknownUser { tenant: tenant.slug().to_string() })
}

/// The back-channel logout deliveries for every live session of the user, to be written in the
/// transaction that ends them.
async fn logout_deliveries(
    state: &AppState,
    tenant: &Tenant,
    user_id: &str,
    now: i64,
) -> Result<Vec<entity::logout_delivery::Model>, StoreError> {
    let mut rows = Vec::new();
    for session in store::sessions::list_for_user(&state.db, user_id).await? {
        rows.extend(backchannel::deliveries_for(state, tenant, &session.sid, user_id, now).await?);
    }
    Ok(rows)
}

fn audit_row(
    tenant: &Tenant,
    user_id: &str,
    event: Event,
    actor: &Actor<'_>,
    mut detail: serde_json::Value,
    now: i64,
) -> entity::audit_event::Model {
    detail["actor"] = json!(actor.label());
    audit::row(
        AuditEvent { tenant_id: Some(tenant.id()), user_id: Some(user_id), event, detail, ip: None },
        now,
    )
}

/// Ends every session, refresh token (offline ones too) and access token of the person; the
/// clients that registered back-channel logout are told.
pub async fn sign_out<'a>(
    state: &AppState,
    tenant: &Tenant,
    who: impl Into<Person<'a>>,
    actor: &Actor<'_>,
) -> Result<Done, LifecycleError> {
    let user = find_user(state, tenant, who.into()).await?;
    let now = state.now();
    let deliveries = logout_deliveries(state, tenant, &user.id, now).await?;
    let counted = store::sessions::list_for_user(&state.db, &user.id).await?.len() as u64;
    let audit = audit_row(tenant, &user.id, Event::UserSignedOut, actor, json!({ "sessions": counted }), now);
    let ended = store::user_lifecycle::sign_out(&state.db, &user.id, deliveries.clone(), audit, now).await?;
    backchannel::dispatch(state, deliveries);
    Ok(Done { user_id: user.id, signed_out: ended.into() })
}

/// Ends one session of the person (its public `sid`) as their own logout would: its refresh
/// tokens (not offline ones) and their access tokens end, and the apps it signed in to are told.
pub async fn end_session<'a>(
    state: &AppState,
    tenant: &Tenant,
    who: impl Into<Person<'a>>,
    sid: &str,
    actor: &Actor<'_>,
) -> Result<Done, LifecycleError> {
    let user = find_user(state, tenant, who.into()).await?;
    let now = state.now();
    let live = store::sessions::list_for_user(&state.db, &user.id)
        .await?
        .into_iter()
        .any(|s| s.sid == sid && s.expires_at > now);
    if !live {
        return Err(LifecycleError::UnknownSession);
    }
    let deliveries = backchannel::deliveries_for(state, tenant, sid, &user.id, now).await?;
    let detail = json!({ "sessions": 1, "sid": sid });
    let audit = audit_row(tenant, &user.id, Event::UserSignedOut, actor, detail, now);
    let ended = store::user_lifecycle::end_session(&state.db, &user.id, sid, deliveries.clone(), audit, now)
        .await?
        .ok_or(LifecycleError::UnknownSession)?;
    backchannel::dispatch(state, deliveries);
    Ok(Done { user_id: user.id, signed_out: ended.into() })
}

/// Removes every factor of the person (authenticator app, phone number, security keys and
/// passkeys), their backup codes and trusted devices, and ends every sign-in, in one transaction.
/// At their next sign-in a tenant that requires two-factor authentication has them set it up
/// again.
pub async fn reset_two_factor<'a>(
    state: &AppState,
    tenant: &Tenant,
    who: impl Into<Person<'a>>,
    actor: &Actor<'_>,
) -> Result<TwoFactorReset, LifecycleError> {
    let user = find_user(state, tenant, who.into()).await?;
    let now = state.now();
    let deliveries = logout_deliveries(state, tenant, &user.id, now).await?;
    let previous_method = user.two_factor_method;
    let audit = audit_row(
        tenant,
        &user.id,
        Event::UserTwoFactorReset,
        actor,
        json!({ "method": previous_method.map(TwoFactorMethod::as_str) }),
        now,
    );
    // The person is told by email, written with the change (no browser: the tenant's language).
    let seen = crate::email::messages::Seen::default();
    let notice = crate::email::messages::notice_row(
        state,
        tenant,
        &user,
        seen.notice(crate::email::messages::SecurityEvent::TwoFactorReset, now),
    )
    .await;
    let ended = store::user_lifecycle::reset_two_factor(
        &state.db,
        &user.id,
        deliveries.clone(),
        audit,
        notice.clone(),
        now,
    )
    .await?;
    backchannel::dispatch(state, deliveries);
    crate::email::messages::sent_with_change(state, notice);
    Ok(TwoFactorReset { user_id: user.id, previous_method, signed_out: ended.into() })
}

/// Disables the person: they cannot sign in (they get the answer of a wrong password), and every
/// session and token of theirs ends.
pub async fn disable_user<'a>(
    state: &AppState,
    tenant: &Tenant,
    who: impl Into<Person<'a>>,
    actor: &Actor<'_>,
) -> Result<Disabled, LifecycleError> {
    let user = find_user(state, tenant, who.into()).await?;
    if user.disabled_at.is_some() {
        return Ok(Disabled::AlreadyDisabled { user_id: user.id });
    }
    let now = state.now();
    let deliveries = logout_deliveries(state, tenant, &user.id, now).await?;
    let audit = audit_row(tenant, &user.id, Event::UserDisabled, actor, json!({}), now);
    match store::user_lifecycle::disable(
        &state.db,
        tenant.id(),
        &user.id,
        deliveries.clone(),
        audit,
        now,
        crate::oauth::revoked::tokens_live_until(state, now),
    )
    .await?
    {
        Some(ended) => {
            backchannel::dispatch(state, deliveries);
            Ok(Disabled::Disabled(Done { user_id: user.id, signed_out: ended.into() }))
        }
        None => Ok(Disabled::AlreadyDisabled { user_id: user.id }),
    }
}

/// Lets a disabled person sign in again (their factors are as they were).
pub async fn enable_user<'a>(
    state: &AppState,
    tenant: &Tenant,
    who: impl Into<Person<'a>>,
    actor: &Actor<'_>,
) -> Result<Enabled, LifecycleError> {
    let user = find_user(state, tenant, who.into()).await?;
    let now = state.now();
    let audit = audit_row(tenant, &user.id, Event::UserEnabled, actor, json!({}), now);
    Ok(if store::user_lifecycle::enable(&state.db, &user.id, audit, now).await? {
        Enabled::Enabled { user_id: user.id }
    } else {
        Enabled::AlreadyActive { user_id: user.id }
    })
}

/// Audit detail fields that can hold personal data: a key's name, a browser label, a (masked)
/// phone number. An erased person's events lose them.
const PERSONAL_DETAIL_FIELDS: [&str; 3] = ["name", "browser", "to"];

/// Erases the person (GDPR art. 17): their row, factors, sessions, tokens, consents, pending
/// sign-ins and the throttle counters named after them; their earlier audit events keep only the
/// pseudonymous user id. Returns that id (the `sub` clients knew them by).
pub async fn delete_user<'a>(
    state: &AppState,
    tenant: &Tenant,
    who: impl Into<Person<'a>>,
    actor: &Actor<'_>,
) -> Result<String, LifecycleError> {
    let user = find_user(state, tenant, who.into()).await?;
    let now = state.now();
    let deliveries = logout_deliveries(state, tenant, &user.id, now).await?;
    let account_throttle = format!("account:{}:{}", tenant.id(), sha256_hex(&user.email));
    let erasure = Erasure {
        tenant_id: tenant.id(),
        user_id: &user.id,
        email: &user.email,
        account_throttle: &account_throttle,
        user_throttles: vec![
            crate::authn::throttle::factor_key(tenant.id(), &user.id),
            format!("session-user:{}:{}", tenant.id(), user.id),
            crate::account::email_change::throttle_key(tenant.id(), &user.id),
        ],
        personal_detail_fields: &PERSONAL_DETAIL_FIELDS,
    };
    let audit = audit_row(tenant, &user.id, Event::UserDeleted, actor, json!({}), now);
    if !store::user_lifecycle::erase(
        &state.db,
        erasure,
        deliveries.clone(),
        audit,
        now,
        crate::oauth::revoked::tokens_live_until(state, now),
    )
    .await?
    {
        return Err(LifecycleError::UnknownUser { tenant: tenant.slug().to_string() });
    }
    backchannel::dispatch(state, deliveries);
    Ok(user.id)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    Disabled,
    /// Created by an invitation they have not accepted yet: no password of their own.
    Invited,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
            Self::Invited => "invited",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::Active, Self::Disabled, Self::Invited].into_iter().find(|s| s.as_str() == value)
    }
}

/// Where a person stands: disabled, invited (an invitation not accepted yet) or active.
pub async fn status_of(state: &AppState, user: &entity::user::Model) -> Result<Status, StoreError> {
    if user.disabled_at.is_some() {
        return Ok(Status::Disabled);
    }
    Ok(if store::users::is_invited(&state.db, &user.id, super::invitations::PURPOSE).await? {
        Status::Invited
    } else {
        Status::Active
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FactorKind {
    AuthenticatorApp,
    TextMessage,
    SecurityKey,
}

impl FactorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthenticatorApp => "authenticator_app",
            Self::TextMessage => "text_message",
            Self::SecurityKey => "security_key",
        }
    }
}

/// One factor as an administrator may see it: never a secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Factor {
    pub kind: FactorKind,
    /// A security key's name, or the masked phone number.
    pub label: Option<String>,
    pub added_at: Option<i64>,
    /// Where known: a security key's last use, the app's last accepted code.
    pub last_used_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SessionSummary {
    /// The public session id (the `sid` claim).
    pub sid: String,
    pub signed_in_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    /// How they signed in (`pwd`, `otp`, `hwk`, ...).
    pub amr: Vec<String>,
}

/// Where a person stands. Times are Unix seconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserOverview {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub status: Status,
    pub disabled_at: Option<i64>,
    pub email_verified: bool,
    pub created_at: i64,
    /// The method they sign in with; `None`: two-factor authentication is off.
    pub two_factor_method: Option<TwoFactorMethod>,
    pub factors: Vec<Factor>,
    pub backup_codes_left: u64,
    pub trusted_devices: usize,
    pub sessions: Vec<SessionSummary>,
    pub last_sign_in: Option<i64>,
}

pub async fn show_user<'a>(
    state: &AppState,
    tenant: &Tenant,
    who: impl Into<Person<'a>>,
) -> Result<UserOverview, LifecycleError> {
    let user = find_user(state, tenant, who.into()).await?;
    let now = state.now();
    let mut factors = Vec::new();
    if let Some(app) = store::totp_credentials::find_with_status(&state.db, &user.id, "active").await? {
        factors.push(Factor {
            kind: FactorKind::AuthenticatorApp,
            label: None,
            added_at: Some(app.confirmed_at.unwrap_or(app.created_at)),
            last_used_at: app.last_used_step.map(|step| step * crate::authn::totp::STEP_SECONDS),
        });
    }
    if let Some(phone) = &user.phone_number {
        let masked = PhoneNumber::parse(phone, &tenant.row.sms_region).map(|p| p.masked()).ok();
        factors.push(Factor {
            kind: FactorKind::TextMessage,
            label: masked,
            added_at: None,
            last_used_at: None,
        });
    }
    for key in store::security_keys::list_for_user(&state.db, &user.id).await? {
        factors.push(Factor {
            kind: FactorKind::SecurityKey,
            label: Some(key.name),
            added_at: Some(key.created_at),
            last_used_at: key.last_used_at,
        });
    }
    let mut sessions: Vec<SessionSummary> = store::sessions::list_for_user(&state.db, &user.id)
        .await?
        .into_iter()
        .filter(|s| s.expires_at > now)
        .map(|s| SessionSummary {
            amr: serde_json::from_str(&s.amr).unwrap_or_default(),
            sid: s.sid,
            signed_in_at: s.auth_time,
            last_seen_at: s.last_seen_at,
            expires_at: s.expires_at,
        })
        .collect();
    sessions.sort_by_key(|s| std::cmp::Reverse(s.signed_in_at));
    Ok(UserOverview {
        status: status_of(state, &user).await?,
        disabled_at: user.disabled_at,
        email_verified: user.email_verified,
        created_at: user.created_at,
        two_factor_method: user.two_factor_method,
        factors,
        backup_codes_left: store::backup_codes::remaining(&state.db, &user.id).await?,
        trusted_devices: store::trusted_devices::list_active(&state.db, &user.id, now).await?.len(),
        sessions,
        last_sign_in: store::user_lifecycle::last_sign_in(&state.db, &user.id, Event::LoginSucceeded.name())
            .await?,
        id: user.id,
        email: user.email,
        name: user.name,
    })
}
