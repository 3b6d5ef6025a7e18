//! The messages tessera sends, rendered from the tenant's theme (`templates/email/<message>.txt`,
//! overridable like any page, under the same sandbox and budget) in the person's language.

use std::time::Instant;

use entity::email_outbox;
use fluent_bundle::FluentValue;
use serde::Serialize;

use super::EmailError;
use super::outbox::{self, Draft};
use crate::state::AppState;
use crate::tenants::Tenant;
use crate::views::budget;

/// Minutes a password-reset link is valid.
pub const RESET_LINK_MINUTES: i64 = 30;
/// Minutes an invitation link is valid (7 days).
pub const INVITE_LINK_MINUTES: i64 = 7 * 24 * 60;
/// Minutes an address-verification link is valid (24 hours).
pub const VERIFY_LINK_MINUTES: i64 = 24 * 60;

/// Something that happened to a person's sign-in security, which they are told about by email.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecurityEvent {
    PasswordChanged,
    PasswordReset,
    TwoFactorDisabled,
    /// Two-factor authentication switched on, or moved to another method.
    TwoFactorMethodChanged,
    /// A new authenticator app or phone number for the same method.
    TwoFactorDeviceChanged,
    BackupCodesRegenerated,
    BackupCodeUsed {
        remaining: u64,
    },
    DeviceRemembered,
    SecurityKeyAdded,
    SecurityKeyRemoved,
    /// An administrator removed every factor (`user reset-2fa`).
    TwoFactorReset,
    /// The email address changed (sent to the old address).
    EmailChanged,
}

impl SecurityEvent {
    fn key(self) -> &'static str {
        match self {
            Self::PasswordChanged => "email-event-password-changed",
            Self::PasswordReset => "email-event-password-reset",
            Self::TwoFactorDisabled => "email-event-two-factor-disabled",
            Self::TwoFactorMethodChanged => "email-event-method-changed",
            Self::TwoFactorDeviceChanged => "email-event-device-changed",
            Self::BackupCodesRegenerated => "email-event-backup-codes-regenerated",
            Self::BackupCodeUsed { .. } => "email-event-backup-code-used",
            Self::DeviceRemembered => "email-event-device-remembered",
            Self::SecurityKeyAdded => "email-event-security-key-added",
            Self::SecurityKeyRemoved => "email-event-security-key-removed",
            Self::TwoFactorReset => "email-event-two-factor-reset",
            Self::EmailChanged => "email-event-email-changed",
        }
    }
}

/// The circumstances of a security notice: who did it from where, and when.
pub struct Notice<'a> {
    pub event: SecurityEvent,
    /// The page language of the change; `None` (an administrator's change): the person's own
    /// (`users.locale`), else the tenant's default.
    pub lang: Option<&'a str>,
    /// The browser's User-Agent; `None` when no browser made the change (the command line).
    pub user_agent: Option<&'a str>,
    pub now: i64,
}

/// Where a change was made from, as a notice tells it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Seen<'a> {
    /// The browser's User-Agent; `None` for the command line.
    pub user_agent: Option<&'a str>,
    /// The page language; `None`: the person's own, else the tenant's default.
    pub lang: Option<&'a str>,
}

impl<'a> Seen<'a> {
    pub fn notice(self, event: SecurityEvent, now: i64) -> Notice<'a> {
        Notice { event, lang: self.lang, user_agent: self.user_agent, now }
    }
}

/// The outbox row of a notice for a store function to write with its change. A notice that
/// cannot be rendered (a broken theme) must not stop a security change: logged, and `None`.
pub async fn notice_row(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
    notice: Notice<'_>,
) -> Option<email_outbox::Model> {
    match security_notice(state, tenant, user, &notice).await {
        Ok(row) => Some(row),
        Err(err) => {
            tracing::error!(error = %err, event = ?notice.event, "security notice not queued");
            None
        }
    }
}

/// Starts the send of a row a store function committed.
pub fn sent_with_change(state: &AppState, row: Option<email_outbox::Model>) {
    if let Some(row) = row {
        outbox::start(state, row);
    }
}

/// A notice about a change that has no transaction of its own to join (a backup code used at
/// sign-in, a device remembered): queued on its own; a failure is logged, the sign-in goes on.
pub async fn tell(state: &AppState, tenant: &Tenant, user_id: &str, notice: Notice<'_>) {
    let user = match crate::store::users::find(&state.db, tenant.id(), user_id).await {
        Ok(Some(user)) => user,
        Ok(None) => return,
        Err(err) => {
            tracing::error!(error = %err, "security notice not queued");
            return;
        }
    };
    let event = notice.event;
    if let Err(err) = notify(state, tenant, &user, notice).await {
        tracing::error!(error = %err, ?event, "security notice not queued");
    }
}

/// A supported language for `code`, else the tenant default, else English.
pub fn language(code: Option<&str>, tenant: &Tenant) -> &'static str {
    let pick = |c: &str| crate::views::i18n::SUPPORTED.into_iter().find(|s| c.eq_ignore_ascii_case(s));
    code.and_then(pick).or_else(|| pick(&tenant.row.default_locale)).unwrap_or("en")
}

fn when(now: i64) -> String {
    chrono::DateTime::from_timestamp(now, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

#[derive(Serialize)]
struct SecurityNoticeContext<'a> {
    lang: &'a str,
    theme: &'a str,
    tenant: &'a str,
    what: String,
    when: String,
    browser: Option<String>,
    account_url: String,
}

#[derive(Serialize)]
struct LinkContext<'a> {
    lang: &'a str,
    theme: &'a str,
    tenant: &'a str,
    name: Option<&'a str>,
    link: &'a str,
    minutes: i64,
}

/// The outbox row of a security notice to `user`, for a store function to write with the change.
pub async fn security_notice(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
    notice: &Notice<'_>,
) -> Result<email_outbox::Model, EmailError> {
    // The page's language when the person made the change, else the one they last signed in with.
    let lang = language(notice.lang.or(user.locale.as_deref()), tenant);
    let what = match notice.event {
        SecurityEvent::BackupCodeUsed { remaining } => state.views.message_with(
            lang,
            notice.event.key(),
            &[("remaining", FluentValue::from(i64::try_from(remaining).unwrap_or(i64::MAX)))],
        ),
        event => state.views.message(lang, event.key()),
    };
    let context = SecurityNoticeContext {
        lang,
        theme: &tenant.row.theme,
        tenant: &tenant.row.display_name,
        what: what.clone(),
        when: when(notice.now),
        browser: notice.user_agent.map(crate::authn::trusted_device::browser_label),
        account_url: tenant.url("/account"),
    };
    let subject = state.views.message_with(
        lang,
        "email-security-notice-subject",
        &[("tenant", tenant.row.display_name.as_str().into())],
    );
    let body = render(state, &tenant.row.theme, "email/security_notice.txt", &context).await?;
    let draft = Draft { message: "security_notice", to: user.email.clone(), subject, body };
    outbox::seal(state, tenant, draft, notice.now)
}

/// Tells `user` about a security event by email: queued now, sent in the background. For changes
/// whose store function owns a transaction, pass [`security_notice`]'s row into it instead.
/// Administrator commands call this after their change (`user reset-2fa`, `disable`, ...).
pub async fn notify(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
    notice: Notice<'_>,
) -> Result<(), EmailError> {
    let row = security_notice(state, tenant, user, &notice).await?;
    crate::store::email_outbox::insert(&state.db, row.clone()).await?;
    outbox::start(state, row);
    Ok(())
}

/// The three emails that carry a single-use link: what each one is called, says and lasts.
#[derive(Clone, Copy)]
struct LinkEmail {
    message: &'static str,
    subject_key: &'static str,
    template: &'static str,
    minutes: i64,
}

const PASSWORD_RESET: LinkEmail = LinkEmail {
    message: "password_reset",
    subject_key: "email-password-reset-subject",
    template: "email/password_reset.txt",
    minutes: RESET_LINK_MINUTES,
};
const INVITATION: LinkEmail = LinkEmail {
    message: "invitation",
    subject_key: "email-invitation-subject",
    template: "email/invitation.txt",
    minutes: INVITE_LINK_MINUTES,
};
const VERIFY_EMAIL: LinkEmail = LinkEmail {
    message: "verify_email",
    subject_key: "email-verify-subject",
    template: "email/verify_email.txt",
    minutes: VERIFY_LINK_MINUTES,
};

/// The email with a password-reset link, as an outbox row.
pub async fn password_reset(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
    lang: &'static str,
    link: &str,
    now: i64,
) -> Result<email_outbox::Model, EmailError> {
    link_email(state, tenant, user, &user.email, lang, link, PASSWORD_RESET, now).await
}

/// The invitation with its link, as an outbox row.
pub async fn invitation(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
    lang: &'static str,
    link: &str,
    now: i64,
) -> Result<email_outbox::Model, EmailError> {
    link_email(state, tenant, user, &user.email, lang, link, INVITATION, now).await
}

/// The email with an address-verification link, as an outbox row.
pub async fn verify_email(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
    lang: &'static str,
    link: &str,
    now: i64,
) -> Result<email_outbox::Model, EmailError> {
    link_email(state, tenant, user, &user.email, lang, link, VERIFY_EMAIL, now).await
}

const EMAIL_CHANGE: LinkEmail = LinkEmail {
    message: "email_change",
    subject_key: "email-change-subject",
    template: "email/email_change.txt",
    minutes: VERIFY_LINK_MINUTES,
};
const EMAIL_CHANGE_TAKEN: LinkEmail = LinkEmail {
    message: "email_change_taken",
    subject_key: "email-change-taken-subject",
    template: "email/email_change_taken.txt",
    minutes: 0,
};

/// The email with an address-change link, to the `new` address, as an outbox row.
pub async fn email_change(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
    new: &str,
    lang: &'static str,
    link: &str,
    now: i64,
) -> Result<email_outbox::Model, EmailError> {
    link_email(state, tenant, user, new, lang, link, EMAIL_CHANGE, now).await
}

/// To an address someone asked to move their account to, which another account already uses:
/// its owner learns of the request (and how to sign in), the one who asked learns nothing.
pub async fn email_change_taken(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
    new: &str,
    lang: &'static str,
    now: i64,
) -> Result<email_outbox::Model, EmailError> {
    // Not the asker's name: it would tell the address's owner who asked.
    let anonymous = entity::user::Model { name: None, ..user.clone() };
    let sign_in = tenant.url("/account");
    link_email(state, tenant, &anonymous, new, lang, &sign_in, EMAIL_CHANGE_TAKEN, now).await
}

#[allow(clippy::too_many_arguments)]
async fn link_email(
    state: &AppState,
    tenant: &Tenant,
    user: &entity::user::Model,
    to: &str,
    lang: &'static str,
    link: &str,
    kind: LinkEmail,
    now: i64,
) -> Result<email_outbox::Model, EmailError> {
    let context = LinkContext {
        lang,
        theme: &tenant.row.theme,
        tenant: &tenant.row.display_name,
        name: user.name.as_deref(),
        link,
        minutes: kind.minutes,
    };
    let subject = state.views.message_with(
        lang,
        kind.subject_key,
        &[("tenant", tenant.row.display_name.as_str().into())],
    );
    let body = render(state, &tenant.row.theme, kind.template, &context).await?;
    let draft = Draft { message: kind.message, to: to.to_string(), subject, body };
    outbox::seal(state, tenant, draft, now)
}

/// Renders an email template as pages are rendered: on the blocking pool, a few at a time per
/// theme, within the page deadline and size cap.
async fn render(
    state: &AppState,
    theme: &str,
    template: &'static str,
    context: &impl Serialize,
) -> Result<String, EmailError> {
    let context = crate::views::PageContext::from_serialize(context);
    let deadline = Instant::now() + budget::RENDER_DEADLINE;
    let over_budget = || EmailError::Render(format!("theme {theme}: {template} took too long to render"));
    let turn = match state.views.turns(theme) {
        Some(turns) => Some(
            tokio::time::timeout_at(deadline.into(), turns.acquire_owned())
                .await
                .map_err(|_| over_budget())?
                .map_err(|e| EmailError::Render(e.to_string()))?,
        ),
        None => None,
    };
    let render = {
        let state = state.clone();
        tokio::task::spawn_blocking(move || {
            let text = state.views.render_until(template, &context, deadline);
            drop(turn);
            text
        })
    };
    let text = tokio::time::timeout_at(deadline.into(), render)
        .await
        .map_err(|_| over_budget())?
        .map_err(|e| EmailError::Render(e.to_string()))?
        .map_err(|e| EmailError::Render(e.to_string()))?;
    Ok(text.trim().to_string() + "\n")
}

/// Sample contexts of every email template, for the render tests and `tessera theme check`.
pub fn samples(lang: &'static str, theme: &str) -> Vec<(&'static str, minijinja::Value)> {
    vec![
        (
            "email/security_notice.txt",
            minijinja::Value::from_serialize(SecurityNoticeContext {
                lang,
                theme,
                tenant: "Kliniek <West>",
                what: "Your password was changed.".into(),
                when: when(0),
                browser: Some("Firefox on Linux".into()),
                account_url: "https://login.example/t/x/account".into(),
            }),
        ),
        (
            "email/password_reset.txt",
            minijinja::Value::from_serialize(LinkContext {
                lang,
                theme,
                tenant: "Kliniek <West>",
                name: Some("An"),
                link: "https://login.example/t/x/password/reset/abc",
                minutes: RESET_LINK_MINUTES,
            }),
        ),
        (
            "email/verify_email.txt",
            minijinja::Value::from_serialize(LinkContext {
                lang,
                theme,
                tenant: "Kliniek <West>",
                name: None,
                link: "https://login.example/t/x/email/verify/abc",
                minutes: VERIFY_LINK_MINUTES,
            }),
        ),
        (
            "email/email_change.txt",
            minijinja::Value::from_serialize(LinkContext {
                lang,
                theme,
                tenant: "Kliniek <West>",
                name: Some("An"),
                link: "https://login.example/t/x/email/change/abc",
                minutes: VERIFY_LINK_MINUTES,
            }),
        ),
        (
            "email/email_change_taken.txt",
            minijinja::Value::from_serialize(LinkContext {
                lang,
                theme,
                tenant: "Kliniek <West>",
                name: None,
                link: "https://login.example/t/x/account",
                minutes: 0,
            }),
        ),
        (
            "email/invitation.txt",
            minijinja::Value::from_serialize(LinkContext {
                lang,
                theme,
                tenant: "Kliniek <West>",
                name: Some("An"),
                link: "https://login.example/t/x/invitation/abc",
                minutes: INVITE_LINK_MINUTES,
            }),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::views::{I18n, Views};

    #[test]
    fn every_email_renders_as_plain_text_in_every_language() {
        let views = Views::new(Arc::new(I18n::load().unwrap())).unwrap();
        for lang in crate::views::i18n::SUPPORTED {
            for (template, context) in super::samples(lang, "default") {
                let text =
                    views.render(template, context).unwrap_or_else(|e| panic!("{template} ({lang}): {e}"));
                assert!(!text.contains("email-"), "{template} ({lang}) shows a raw key: {text}");
                assert!(text.contains("Kliniek <West>"), "{template} ({lang}) is not HTML-escaped: {text}");
            }
        }
    }
}
