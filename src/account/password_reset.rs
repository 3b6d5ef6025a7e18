//! "Forgot your password?": a link by email, valid 30 minutes and once, stored as a hash; a new
//! request replaces the earlier link. Every address gets the same answer at the same pace (the
//! link is made in the background), and requests are throttled per address and per client
//! address. Setting the new password uses the link in one conditional UPDATE inside the
//! transaction that stores the password, ends every session and refresh token, forgets trusted
//! devices and queues the "your password was changed" email. The second factor stays as it was.

use secrecy::SecretString;
use serde_json::json;

use super::AccountError;
use crate::audit::{self, AuditEvent, Event};
use crate::authn::password::PasswordError;
use crate::authn::session::Session;
use crate::crypto::{random_token, sha256_hex};
use crate::domain::Email;
use crate::email::messages::{self, Notice, SecurityEvent};
use crate::email::outbox;
use crate::state::AppState;
use crate::store;
use crate::tenants::Tenant;

pub const PURPOSE: &str = "password_reset";
pub const LINK_SECONDS: i64 = messages::RESET_LINK_MINUTES * 60;
/// Reset emails per address, and requests per client address, in an hour.
const PER_ADDRESS: i32 = 3;
const PER_CLIENT: i32 = 20;
const WINDOW_SECONDS: i64 = 3600;

pub struct ResetRequest<'a> {
    pub email: &'a str,
    pub ip: &'a str,
    /// The page language: the email's too.
    pub lang: &'static str,
    /// The login attempt the request came from (its token), to continue after the reset.
    pub attempt: Option<&'a str>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum RequestOutcome {
    /// The same for every well-formed address: sent, unknown, or throttled.
    Answered,
    /// Not an email address at all (says nothing about accounts).
    InvalidEmail,
}

/// Takes a request for a reset link. The answer does not tell whether the address has an account.
pub async fn request(
    state: &AppState,
    tenant: &Tenant,
    request: ResetRequest<'_>,
    now: i64,
) -> Result<RequestOutcome, AccountError> {
    let Ok(email) = Email::parse(request.email) else { return Ok(RequestOutcome::InvalidEmail) };
    let per_address = format!("reset-address:{}:{}", tenant.id(), sha256_hex(email.as_str()));
    let per_client = format!("reset-client:{}:{}", tenant.id(), request.ip);
    for (key, limit) in [(&per_client, PER_CLIENT), (&per_address, PER_ADDRESS)] {
        store::throttles::forget_if_older(&state.db, key, now - WINDOW_SECONDS).await?;
        if !store::throttles::take_under(&state.db, key, limit, now).await? {
            tracing::info!(tenant = tenant.slug(), "password reset request throttled");
            return Ok(RequestOutcome::Answered);
        }
    }
    let Some(user) = store::users::find_by_email(&state.db, tenant.id(), &email).await? else {
        return Ok(RequestOutcome::Answered);
    };
    // Made in the background: the answer takes as long for an unknown address as for a known one.
    let (state, tenant) = (state.clone(), tenant.clone());
    let (ip, lang, attempt) = (request.ip.to_string(), request.lang, request.attempt.map(str::to_string));
    tokio::spawn(async move {
        if let Err(err) = send_link(&state, &tenant, &user, lang, attempt.as_deref(), &ip, now).await {
            tracing::error!(error = %err, "password reset link not sent");
        }
    });
    Ok(RequestOutcome::Answered)
}

async fn send_link(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
    lang: &'static str,
    attempt: Option<&str>,
    ip: &str,
    now: i64,
) -> Result<(), AccountError> {
    let token = random_token(32);
    let id = uuid::Uuid::new_v4().to_string();
    let link_url = tenant.url(&format!("/password/reset/{token}"));
    let message =
        messages::password_reset(state, tenant, user, lang, &link_url, now).await.map_err(email_error)?;
    // The attempt's token is a bearer secret of the browser that started it: sealed at rest.
    let attempt_sealed = match attempt {
        Some(attempt) => Some(
            state
                .keys
                .master()
                .seal(attempt.as_bytes(), &attempt_aad(&id))
                .map_err(|e| AccountError::Store(store::StoreError::Corrupt(e.to_string())))?,
        ),
        None => None,
    };
    let link = entity::email_link::Model {
        id,
        tenant_id: tenant.id().to_string(),
        user_id: user.id.clone(),
        purpose: PURPOSE.to_string(),
        token_hash: sha256_hex(&token),
        attempt_id: attempt_sealed,
        created_at: now,
        expires_at: now + LINK_SECONDS,
        used_at: None,
        new_email: None,
    };
    store::email_links::replace_and_send(&state.db, link, message.clone()).await?;
    outbox::start(state, message);
    record(state, tenant, &user.id, Event::PasswordResetRequested, json!({}), ip, now).await
}

fn attempt_aad(link_id: &str) -> String {
    format!("email_link_attempt:{link_id}")
}

fn email_error(err: crate::email::EmailError) -> AccountError {
    match err {
        crate::email::EmailError::Store(err) => AccountError::Store(err),
        other => AccountError::Store(store::StoreError::Corrupt(other.to_string())),
    }
}

async fn record(
    state: &AppState,
    tenant: &Tenant,
    user_id: &str,
    event: Event,
    detail: serde_json::Value,
    ip: &str,
    now: i64,
) -> Result<(), AccountError> {
    let event =
        AuditEvent { tenant_id: Some(tenant.id()), user_id: Some(user_id), event, detail, ip: Some(ip) };
    Ok(audit::record(&state.db, event, now).await?)
}

/// The link's row and its person when the link can still be used (this tenant's, unused,
/// unexpired); a `GET` of the page uses nothing, so a mail scanner opening it does no harm.
pub async fn usable_link(
    state: &AppState,
    tenant: &Tenant,
    token: &str,
    now: i64,
) -> Result<Option<(entity::email_link::Model, entity::user::Model)>, AccountError> {
    let Some(link) = store::email_links::find(&state.db, PURPOSE, &sha256_hex(token)).await? else {
        return Ok(None);
    };
    if link.tenant_id != tenant.id() || link.used_at.is_some() || link.expires_at <= now {
        return Ok(None);
    }
    Ok(store::users::find(&state.db, tenant.id(), &link.user_id).await?.map(|user| (link, user)))
}

#[derive(Debug)]
pub enum ResetOutcome {
    /// The password is set; the login attempt to continue, when the request came from one.
    Done { attempt: Option<String> },
    /// Used, expired, replaced or unknown.
    LinkUnusable,
    /// The new password breaks the rules; the link stays usable.
    Refused(PasswordError),
}

pub struct NewPassword<'a> {
    pub password: SecretString,
    pub ip: &'a str,
    pub user_agent: &'a str,
    pub lang: &'static str,
}

/// Sets the new password with the link `token`.
pub async fn complete(
    state: &AppState,
    tenant: &Tenant,
    token: &str,
    new: NewPassword<'_>,
    now: i64,
) -> Result<ResetOutcome, AccountError> {
    let Some((link, user)) = usable_link(state, tenant, token, now).await? else {
        return Ok(ResetOutcome::LinkUnusable);
    };
    let hash = match state.passwords.hash(new.password).await {
        Ok(hash) => hash,
        Err(err @ (PasswordError::TooShort | PasswordError::TooLong)) => {
            return Ok(ResetOutcome::Refused(err));
        }
        Err(err) => return Err(err.into()),
    };
    let notice = Notice {
        event: SecurityEvent::PasswordReset,
        lang: Some(new.lang),
        user_agent: Some(new.user_agent),
        now,
    };
    let message = messages::security_notice(state, tenant, &user, &notice).await.map_err(email_error)?;
    if !store::passwords::reset(&state.db, &link.id, &user.id, hash, message.clone(), now).await? {
        // A parallel use of the same link won.
        return Ok(ResetOutcome::LinkUnusable);
    }
    outbox::start(state, message);
    let sessions = store::sessions::list_for_user(&state.db, &user.id).await?;
    let ended = sessions.len();
    for row in sessions {
        crate::oidc::logout::end_session(state, tenant, &Session { row }, new.ip, now).await?;
    }
    record(state, tenant, &user.id, Event::PasswordReset, json!({ "sessions": ended }), new.ip, now).await?;
    let attempt = link.attempt_id.as_deref().and_then(|sealed| {
        let opened = state.keys.master().open(sealed, &attempt_aad(&link.id)).ok()?;
        String::from_utf8(opened).ok()
    });
    Ok(ResetOutcome::Done { attempt })
}
