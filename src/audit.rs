//! Append-only audit events: who did what, when, from where. Details never hold secrets.
//! `Event` is the catalogue of what is recorded; docs/audit-events.md lists it for operators.

use serde_json::Value;

use crate::store::{self, Db, StoreError};

/// Every kind of audit event. The stored name (`name`) never changes once released: tests,
/// dashboards and operators search for it. Each variant says when it is recorded and which fields
/// its `detail` JSON holds; every event also carries the tenant, and the user and client address
/// where there is one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A sign-in finished and its session began (after the password and any second factor or a
    /// trusted device, or with a passkey).
    /// Detail: `client` (the `client_id` signed in to; null for the account pages), `amr`, `acr`.
    LoginSucceeded,
    /// A wrong email address or password on the sign-in page, or any password for a disabled
    /// person (who gets the same answer); it counts towards the delays.
    /// Detail: `known_account` (whether the address belongs to a user; the user is set when so),
    /// `disabled` (present and true when the person is disabled).
    LoginPasswordFailed,
    /// A passkey sign-in was refused (after `security_key.refused` or
    /// `security_key.counter_regression` when the key is registered).
    /// Detail: `reason` (`ceremony`, `malformed`, `unknown_key`, `invalid`, `counter_regression`,
    /// `concurrent_use`, `disabled`: the key verified but its owner is disabled).
    LoginPasskeyFailed,
    /// A wrong second-factor answer at sign-in or at a forced enrolment, with tries left.
    /// Detail: `kind` (`code`, `backup_code`, `security_key`, `enrolment_code`), `failures` (tries
    /// this attempt has used).
    LoginSecondFactorFailed,
    /// The attempt's last try was wrong: the attempt ends and the person starts at the password.
    /// Detail: `kind`, `failures` (as `login.second_factor_failed`).
    LoginSecondFactorLocked,
    /// A session ended: the logout page, RP-initiated logout, or another session ending at a
    /// password change. Its refresh tokens (not `offline_access` ones) are revoked and its apps told.
    /// Detail: `sid`.
    Logout,
    /// A backup code was accepted as the second factor at sign-in.
    /// Detail: `remaining` (unused codes left).
    BackupCodeUsed,
    /// A new set of backup codes was made on the account page; the old set stops working.
    /// Detail: `count`.
    BackupCodesRegenerated,
    /// A browser was remembered as a trusted device after a second factor.
    /// Detail: `browser` (a label made from the user agent).
    DeviceRemembered,
    /// One trusted device was forgotten on the account page.
    /// Detail: `device` (its id).
    DeviceForgotten,
    /// All trusted devices were forgotten on the account page.
    /// Detail: `count`.
    DeviceForgottenAll,
    /// A security key or passkey signed someone in (second factor or passkey sign-in).
    /// Detail: `key` (its id), `name`, `user_verified`, `hardware_bound`.
    SecurityKeyUsed,
    /// A registered key's answer was refused at sign-in, for any reason but a counter regression.
    /// Detail: `key`, `reason` (as `login.passkey_failed`).
    SecurityKeyRefused,
    /// A registered key answered with a signature counter that did not move forward: possibly a
    /// cloned authenticator (also logged as a warning).
    /// Detail: `key`, `reason` (`counter_regression`).
    SecurityKeyCounterRegression,
    /// A verified security key was registered on the account page.
    /// Detail: `key` (its id), `name`.
    SecurityKeyAdded,
    /// A security key was removed on the account page.
    /// Detail: `key` (its id), `name`.
    SecurityKeyRemoved,
    /// A key registration the browser answered did not verify (wrong origin, bad signature,
    /// expired ceremony).
    /// Detail: `reason`.
    SecurityKeyRegisterFailed,
    /// Two-factor authentication was switched on by someone without a method: an app or phone
    /// number confirmed, or a first security key added (on the account page or at enrolment).
    /// Detail: `method` (`totp`, `sms`, `security_key`).
    TwoFactorEnabled,
    /// Two-factor authentication was switched off on the account page: the app, security keys,
    /// backup codes and trusted devices are gone.
    /// Detail: `method` (the method it was).
    TwoFactorDisabled,
    /// Someone who already had a second factor confirmed a new authenticator app: it replaces
    /// their previous app or method (security keys are removed).
    /// Detail: `method` (`totp`).
    TwoFactorAppChanged,
    /// Someone whose method was text messages confirmed another phone number.
    /// Detail: `method` (`sms`).
    TwoFactorPhoneChanged,
    /// Text messages or security keys became the method in place of another one, which stops
    /// working.
    /// Detail: `method` (`sms`, `security_key`).
    TwoFactorMethodChanged,
    /// The password was changed on the account page; other sessions ended (each with a `logout`)
    /// and trusted devices were forgotten.
    /// Detail: none (`{}`).
    PasswordChanged,
    /// The current password given on the account page was wrong; it counts towards the delays.
    /// Detail: `reason` (`wrong_current_password`).
    PasswordChangeFailed,
    /// A text message with a code was handed to the SMS provider.
    /// Detail: `purpose` (`login`, `enrol`), `to` (the number, masked).
    SmsSent,
    /// Sending a text message with a code failed; it still counts against the limits.
    /// Detail: `purpose`, `to` (as `sms.sent`).
    SmsFailed,
    /// The person allowed a client the scopes it asked for.
    /// Detail: `client` (its `client_id`), `scope`.
    ConsentGranted,
    /// The person took back a client's access on the account page; its refresh tokens were
    /// revoked.
    /// Detail: `client` (the client's internal id).
    ConsentRevoked,
    /// A used authorization code came back: the tokens of its first redemption were revoked.
    /// Detail: `client` (the client's internal id), `revoked_access_tokens`, `revoked_families`.
    TokenCodeReplayed,
    /// A used refresh token came back: someone holds a copy, and its whole family was revoked.
    /// Detail: `client` (the client's internal id), `family`.
    TokenRefreshReused,
    /// A refresh token was presented again by its client within `tokens.refresh_reuse_grace_seconds`
    /// of its rotation, while its successor was unused: the answer to the first try was lost, so
    /// the same successor was given again with a new access token. Nothing was revoked.
    /// Detail: `client` (the client's internal id), `family`.
    TokenRefreshRetried,
    /// A tenant was created (`tessera tenant create`, `tessera serve --demo`), with its first
    /// signing keys.
    /// Detail: `slug`.
    TenantCreated,
    /// A tenant's two-factor or trusted-device policy was changed (`tessera tenant update`).
    /// Detail: `require_2fa`, `trusted_device_days` (null when not changed).
    TenantPolicyChanged,
    /// A tenant's own SMS sender was set or removed (`tessera tenant sms-sender`).
    /// Detail: `own_sender` (true: the tenant's own; false: the server's).
    TenantSmsSenderChanged,
    /// A signing key was rotated (`tessera key rotate`).
    /// Detail: `kid`, `alg`, `activates_at` (when it starts to sign).
    KeyRotated,
    /// A client was registered (`tessera client create`, `tessera serve --demo`).
    /// Detail: `client_id`, `public`, `first_party`.
    ClientCreated,
    /// A user was created (`tessera user create` or `invite`, `tessera serve --demo`, the admin
    /// API's `POST /users`).
    /// Detail: `email_verified` (true only when the administrator vouched for the address with
    /// `--email-verified`; otherwise the detail is `{}`); by invitation `invited` (true) and `by`.
    UserCreated,
    /// Users were imported (`tessera user import`), written in the import's own transaction.
    /// Detail: `users`, `with_totp` (how many came with an authenticator-app seed).
    UsersImported,
    /// An administrator ended every session, refresh token and access token of a person
    /// (`tessera user sign-out`, `DELETE /users/{id}/sessions`), or one session of theirs
    /// (`DELETE /users/{id}/sessions/{sid}`); their apps are told by back-channel logout.
    /// Detail: `actor` (`cli`, or the admin API's caller), `sessions` (how many were live), `sid`
    /// (when one session ended).
    UserSignedOut,
    /// An administrator removed every factor of a person (app, phone number, security keys and
    /// passkeys), their backup codes and trusted devices, and ended every sign-in
    /// (`tessera user reset-2fa`).
    /// Detail: `actor`, `method` (the method they had; null when it was off).
    UserTwoFactorReset,
    /// An administrator disabled a person (`tessera user disable`): they cannot sign in, every
    /// session and token ended.
    /// Detail: `actor`.
    UserDisabled,
    /// An administrator enabled a disabled person again (`tessera user enable`).
    /// Detail: `actor`.
    UserEnabled,
    /// An administrator erased a person (`tessera user delete`); their earlier events keep only
    /// the user id (client address, key names and browser labels removed).
    /// Detail: `actor`.
    UserDeleted,
    /// "Forgot your password?" sent a reset link to a known address (an unknown address records
    /// nothing and gets the same page).
    /// Detail: none (`{}`).
    PasswordResetRequested,
    /// A password was set with a reset link: every session and refresh token ended, trusted
    /// devices were forgotten, and the person was told by email.
    /// Detail: `sessions` (how many ended).
    PasswordReset,
    /// A client's redirect URIs, logout URIs, scopes or token settings were changed (admin API).
    /// Detail: `client_id`, `by` (`cli` or `client:<client_id>` of the caller).
    ClientUpdated,
    /// A client got a new secret; the previous one works until `previous_valid_until` (admin API).
    /// Detail: `client_id`, `previous_valid_until` (Unix seconds), `by`.
    ClientSecretRotated,
    /// A client was deleted; its access and refresh tokens were revoked (admin API).
    /// Detail: `client_id`, `by`.
    ClientDeleted,
    /// A user's name or email address was changed by an administrator (admin API); a new
    /// address is not verified.
    /// Detail: `email_changed`, `name_changed`, `by`.
    UserUpdated,
    /// A tenant's policy (second factor, trusted devices, text messages, theme, host) was changed
    /// in one write (admin API).
    /// Detail: `changed` (the names of the settings that changed), `by`.
    TenantSettingsChanged,
    /// An admin API call with a valid token, whatever its outcome (also refused for scope), with
    /// the caller's address.
    /// Detail: `client` (the calling `client_id`), `method`, `route` (the path template),
    /// `status` (the HTTP status answered).
    AdminApiCall,
    /// "Change email address" on the account page sent a link to the new address, or (when
    /// another account of the tenant uses it) word of the request to that address; the person
    /// asking sees the same page either way.
    /// Detail: `address_taken` (true: no link was sent). No address: the log keeps none.
    EmailChangeRequested,
    /// The person followed the link sent to their new address: the address changed, is
    /// verified, and the old address was told.
    /// Detail: `by` (`link`).
    EmailChanged,
}

impl Event {
    /// Every event, in the order declared above.
    pub const ALL: [Event; 53] = [
        Event::LoginSucceeded,
        Event::LoginPasswordFailed,
        Event::LoginPasskeyFailed,
        Event::LoginSecondFactorFailed,
        Event::LoginSecondFactorLocked,
        Event::Logout,
        Event::BackupCodeUsed,
        Event::BackupCodesRegenerated,
        Event::DeviceRemembered,
        Event::DeviceForgotten,
        Event::DeviceForgottenAll,
        Event::SecurityKeyUsed,
        Event::SecurityKeyRefused,
        Event::SecurityKeyCounterRegression,
        Event::SecurityKeyAdded,
        Event::SecurityKeyRemoved,
        Event::SecurityKeyRegisterFailed,
        Event::TwoFactorEnabled,
        Event::TwoFactorDisabled,
        Event::TwoFactorAppChanged,
        Event::TwoFactorPhoneChanged,
        Event::TwoFactorMethodChanged,
        Event::PasswordChanged,
        Event::PasswordChangeFailed,
        Event::SmsSent,
        Event::SmsFailed,
        Event::ConsentGranted,
        Event::ConsentRevoked,
        Event::TokenCodeReplayed,
        Event::TokenRefreshReused,
        Event::TokenRefreshRetried,
        Event::TenantCreated,
        Event::TenantPolicyChanged,
        Event::TenantSmsSenderChanged,
        Event::KeyRotated,
        Event::ClientCreated,
        Event::UserCreated,
        Event::UsersImported,
        Event::UserSignedOut,
        Event::UserTwoFactorReset,
        Event::UserDisabled,
        Event::UserEnabled,
        Event::UserDeleted,
        Event::PasswordResetRequested,
        Event::PasswordReset,
        Event::ClientUpdated,
        Event::ClientSecretRotated,
        Event::ClientDeleted,
        Event::UserUpdated,
        Event::TenantSettingsChanged,
        Event::AdminApiCall,
        Event::EmailChangeRequested,
        Event::EmailChanged,
    ];

    /// The stored name: `area.action` (`logout` predates that form and keeps its name).
    pub fn name(self) -> &'static str {
        match self {
            Self::LoginSucceeded => "login.succeeded",
            Self::LoginPasswordFailed => "login.password_failed",
            Self::LoginPasskeyFailed => "login.passkey_failed",
            Self::LoginSecondFactorFailed => "login.second_factor_failed",
            Self::LoginSecondFactorLocked => "login.second_factor_locked",
            Self::Logout => "logout",
            Self::BackupCodeUsed => "backup_code.used",
            Self::BackupCodesRegenerated => "backup_codes.regenerated",
            Self::DeviceRemembered => "device.remembered",
            Self::DeviceForgotten => "device.forgotten",
            Self::DeviceForgottenAll => "device.forgotten_all",
            Self::SecurityKeyUsed => "security_key.used",
            Self::SecurityKeyRefused => "security_key.refused",
            Self::SecurityKeyCounterRegression => "security_key.counter_regression",
            Self::SecurityKeyAdded => "security_key.added",
            Self::SecurityKeyRemoved => "security_key.removed",
            Self::SecurityKeyRegisterFailed => "security_key.register_failed",
            Self::TwoFactorEnabled => "two_factor.enabled",
            Self::TwoFactorDisabled => "two_factor.disabled",
            Self::TwoFactorAppChanged => "two_factor.app_changed",
            Self::TwoFactorPhoneChanged => "two_factor.phone_changed",
            Self::TwoFactorMethodChanged => "two_factor.method_changed",
            Self::PasswordChanged => "password.changed",
            Self::PasswordChangeFailed => "password.change_failed",
            Self::SmsSent => "sms.sent",
            Self::SmsFailed => "sms.failed",
            Self::ConsentGranted => "consent.granted",
            Self::ConsentRevoked => "consent.revoked",
            Self::TokenCodeReplayed => "token.code_replayed",
            Self::TokenRefreshReused => "token.refresh_reused",
            Self::TokenRefreshRetried => "token.refresh_retried",
            Self::TenantCreated => "tenant.created",
            Self::TenantPolicyChanged => "tenant.policy_changed",
            Self::TenantSmsSenderChanged => "tenant.sms_sender_changed",
            Self::KeyRotated => "key.rotated",
            Self::ClientCreated => "client.created",
            Self::UserCreated => "user.created",
            Self::UsersImported => "users.imported",
            Self::UserSignedOut => "user.signed_out",
            Self::UserTwoFactorReset => "user.two_factor_reset",
            Self::UserDisabled => "user.disabled",
            Self::UserEnabled => "user.enabled",
            Self::UserDeleted => "user.deleted",
            Self::PasswordResetRequested => "password.reset_requested",
            Self::PasswordReset => "password.reset",
            Self::ClientUpdated => "client.updated",
            Self::ClientSecretRotated => "client.secret_rotated",
            Self::ClientDeleted => "client.deleted",
            Self::UserUpdated => "user.updated",
            Self::TenantSettingsChanged => "tenant.settings_changed",
            Self::AdminApiCall => "admin_api.call",
            Self::EmailChangeRequested => "email.change_requested",
            Self::EmailChanged => "email.changed",
        }
    }
}

pub struct AuditEvent<'a> {
    pub tenant_id: Option<&'a str>,
    pub user_id: Option<&'a str>,
    pub event: Event,
    pub detail: Value,
    pub ip: Option<&'a str>,
}

pub async fn record(db: &Db, event: AuditEvent<'_>, now: i64) -> Result<(), StoreError> {
    store::audit_events::insert(db, row(event, now)).await
}

/// The stored form of an event, for a store function that writes it inside its transaction.
pub fn row(event: AuditEvent<'_>, now: i64) -> entity::audit_event::Model {
    entity::audit_event::Model {
        // Time-ordered (UUIDv7: milliseconds, then a counter within this process), so events of one
        // second still list in the order they happened.
        id: uuid::Uuid::now_v7().to_string(),
        tenant_id: event.tenant_id.map(str::to_string),
        user_id: event.user_id.map(str::to_string),
        event: event.event.name().to_string(),
        detail: event.detail.to_string(),
        ip: event.ip.map(str::to_string),
        created_at: now,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    /// Names stored before the `area.action` form was the rule; they cannot change.
    const OLDER_NAMES: [&str; 1] = ["logout"];

    /// The variant's place in `Event::ALL`. No wildcard: a new variant does not compile until it
    /// is given a place here, which is a reminder to list it in `ALL` at that place.
    fn place_in_all(event: Event) -> usize {
        match event {
            Event::LoginSucceeded => 0,
            Event::LoginPasswordFailed => 1,
            Event::LoginPasskeyFailed => 2,
            Event::LoginSecondFactorFailed => 3,
            Event::LoginSecondFactorLocked => 4,
            Event::Logout => 5,
            Event::BackupCodeUsed => 6,
            Event::BackupCodesRegenerated => 7,
            Event::DeviceRemembered => 8,
            Event::DeviceForgotten => 9,
            Event::DeviceForgottenAll => 10,
            Event::SecurityKeyUsed => 11,
            Event::SecurityKeyRefused => 12,
            Event::SecurityKeyCounterRegression => 13,
            Event::SecurityKeyAdded => 14,
            Event::SecurityKeyRemoved => 15,
            Event::SecurityKeyRegisterFailed => 16,
            Event::TwoFactorEnabled => 17,
            Event::TwoFactorDisabled => 18,
            Event::TwoFactorAppChanged => 19,
            Event::TwoFactorPhoneChanged => 20,
            Event::TwoFactorMethodChanged => 21,
            Event::PasswordChanged => 22,
            Event::PasswordChangeFailed => 23,
            Event::SmsSent => 24,
            Event::SmsFailed => 25,
            Event::ConsentGranted => 26,
            Event::ConsentRevoked => 27,
            Event::TokenCodeReplayed => 28,
            Event::TokenRefreshReused => 29,
            Event::TokenRefreshRetried => 30,
            Event::TenantCreated => 31,
            Event::TenantPolicyChanged => 32,
            Event::TenantSmsSenderChanged => 33,
            Event::KeyRotated => 34,
            Event::ClientCreated => 35,
            Event::UserCreated => 36,
            Event::UsersImported => 37,
            Event::UserSignedOut => 38,
            Event::UserTwoFactorReset => 39,
            Event::UserDisabled => 40,
            Event::UserEnabled => 41,
            Event::UserDeleted => 42,
            Event::PasswordResetRequested => 43,
            Event::PasswordReset => 44,
            Event::ClientUpdated => 45,
            Event::ClientSecretRotated => 46,
            Event::ClientDeleted => 47,
            Event::UserUpdated => 48,
            Event::TenantSettingsChanged => 49,
            Event::AdminApiCall => 50,
            Event::EmailChangeRequested => 51,
            Event::EmailChanged => 52,
        }
    }

    #[test]
    fn all_lists_every_variant_once() {
        for (index, event) in Event::ALL.into_iter().enumerate() {
            assert_eq!(place_in_all(event), index, "{event:?}");
            // Declaration order too: a variant declared in between but missing from `ALL` shifts
            // the ones after it.
            assert_eq!(event as usize, index, "{event:?}");
        }
    }

    #[test]
    fn names_are_unique_and_area_dot_action() {
        let mut seen = HashSet::new();
        for event in Event::ALL {
            let name = event.name();
            assert!(seen.insert(name), "{name} is used twice");
            if OLDER_NAMES.contains(&name) {
                continue;
            }
            let parts: Vec<&str> = name.split('.').collect();
            let lower_word =
                |part: &str| !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase() || c == '_');
            assert!(parts.len() == 2 && parts.iter().all(|part| lower_word(part)), "{name}");
        }
    }

    #[test]
    fn every_event_is_in_the_operators_list() {
        let document = include_str!("../docs/audit-events.md");
        for event in Event::ALL {
            assert!(document.contains(&format!("`{}`", event.name())), "{} is missing", event.name());
        }
    }
}
