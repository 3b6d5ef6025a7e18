//! The login state machine between `/authorize` and the redirect back to the client.
//!
//! An attempt is created by the authorization endpoint and named by a random token in the login
//! URL; it is bound to the browser that started it (a cookie whose hash the attempt stores), and
//! every form carries the attempt's CSRF token. Today the steps are: password -> code. Later
//! factors slot in between without changing the endpoints around them.

use secrecy::SecretString;
use serde_json::json;

use crate::audit::{self, AuditEvent};
use crate::authn::session::{self, Session};
use crate::authn::throttle::{self, ThrottleKeys};
use crate::crypto::{constant_time_eq, random_token, sha256_hex};
use crate::domain::Email;
use crate::oauth::authorization_response;
use crate::oauth::authorize_request::AuthorizationRequest;
use crate::oidc::auth_context::AuthContext;
use crate::state::AppState;
use crate::store::{self, StoreError};
use crate::tenants::Tenant;

#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error("the login attempt is unknown, expired or belongs to another browser")]
    AttemptGone,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored login attempt is unreadable: {0}")]
    Corrupt(String),
}

pub struct LoginAttempt {
    pub id_hash: String,
    pub csrf_token: String,
    pub request: AuthorizationRequest,
}

/// Starts an attempt for a validated request; returns the token for the login URL.
pub async fn start(
    state: &AppState,
    tenant: &Tenant,
    request: &AuthorizationRequest,
    browser_token: &str,
    now: i64,
) -> Result<String, FlowError> {
    let token = random_token(32);
    let request_json = serde_json::to_string(request).map_err(|e| FlowError::Corrupt(e.to_string()))?;
    store::attempts::insert(
        &state.db,
        entity::login_attempt::Model {
            id: sha256_hex(&token),
            tenant_id: tenant.id().to_string(),
            browser_hash: sha256_hex(browser_token),
            csrf_token: random_token(32),
            request: request_json,
            created_at: now,
            expires_at: now + state.settings.sessions.login_attempt_seconds,
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
    let request = serde_json::from_str(&row.request).map_err(|e| FlowError::Corrupt(e.to_string()))?;
    Ok(LoginAttempt { id_hash: row.id, csrf_token: row.csrf_token, request })
}

pub struct PasswordForm {
    pub email: String,
    pub password: SecretString,
    pub csrf_token: String,
}

pub enum PasswordOutcome {
    /// Signed in: set the session cookie and redirect to the client.
    SignedIn { session_token: String, redirect_to: String },
    /// Show the form again with this message (a Fluent key and its `seconds` argument).
    Retry { message_key: &'static str, seconds: Option<i64>, email: String },
}

pub async fn submit_password(
    state: &AppState,
    tenant: &Tenant,
    attempt: &LoginAttempt,
    form: PasswordForm,
    ip: &str,
    now: i64,
) -> Result<PasswordOutcome, FlowError> {
    let retry = |message_key, seconds, email: &str| PasswordOutcome::Retry {
        message_key,
        seconds,
        email: email.to_string(),
    };
    if !constant_time_eq(&form.csrf_token, &attempt.csrf_token) {
        return Ok(retry("login-form-expired", None, &form.email));
    }
    use secrecy::ExposeSecret;
    let Ok(email) = Email::parse(&form.email) else {
        return Ok(retry("login-failed", None, &form.email));
    };
    if form.password.expose_secret().is_empty() {
        return Ok(retry("login-missing-fields", None, &form.email));
    }

    let keys = ThrottleKeys::new(tenant.id(), &email, ip);
    if let Some(seconds) = throttle::wait_seconds(&state.db, &state.settings.throttle, &keys, now).await? {
        return Ok(retry("login-throttled", Some(seconds), &form.email));
    }

    let user = store::users::find_by_email(&state.db, tenant.id(), &email).await?;
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    let verified = state.passwords.verify(form.password, stored_hash).await;
    let user = match (verified, user) {
        (true, Some(user)) => user,
        (_, user) => {
            throttle::record_failure(&state.db, &state.settings.throttle, &keys, now).await?;
            let event = AuditEvent {
                tenant_id: Some(tenant.id()),
                user_id: user.as_ref().map(|u| u.id.as_str()),
                event: "login.password_failed",
                detail: json!({ "known_account": user.is_some() }),
                ip: Some(ip),
            };
            audit::record(&state.db, event, now).await?;
            return Ok(retry("login-failed", None, &form.email));
        }
    };
    throttle::record_success(&state.db, &keys).await?;

    // Only one submission of this attempt may finish it.
    if !store::attempts::finish(&state.db, &attempt.id_hash).await? {
        return Err(FlowError::AttemptGone);
    }
    let context = AuthContext::password();
    let (session_token, session) = session::start(state, tenant, &user.id, &context, now).await?;
    let event = AuditEvent {
        tenant_id: Some(tenant.id()),
        user_id: Some(&user.id),
        event: "login.succeeded",
        detail: json!({ "client": attempt.request.client_id, "amr": context.amr, "acr": context.acr }),
        ip: Some(ip),
    };
    audit::record(&state.db, event, now).await?;
    let redirect_to =
        authorization_response::issue_code(state, tenant, &attempt.request, &session, now).await?;
    Ok(PasswordOutcome::SignedIn { session_token, redirect_to })
}

/// Whether an existing session may answer `request` without asking the person again.
pub fn session_satisfies(session: &Session, request: &AuthorizationRequest, now: i64) -> bool {
    if request.prompt.iter().any(|p| p == "login") {
        return false;
    }
    match request.max_age {
        Some(max_age) => now - session.row.auth_time <= max_age,
        None => true,
    }
}
