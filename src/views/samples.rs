//! Sample contexts for every page, for the render tests and `tessera theme check`.

use minijinja::Value;

use super::pages::*;

/// A sample context for every page template (partials and the base are rendered through them).
pub fn pages(frame: Frame) -> Vec<(&'static str, Value)> {
    let f = || frame.clone();
    vec![
        (
            "login.html",
            Value::from_serialize(LoginPage {
                frame: f(),
                action: "/t/x/login/abc".into(),
                csrf_token: "tok".into(),
                email: "a@b.example".into(),
                error: Some("<script>".into()),
                passkey: Some(WebauthnForm {
                    begin_url: "/w".into(),
                    action: "/p".into(),
                    script: "/assets/webauthn.js".into(),
                }),
                forgot_url: Some("/t/x/password/forgot?attempt=abc".into()),
            }),
        ),
        (
            "password_forgot.html",
            Value::from_serialize(PasswordForgotPage {
                frame: f(),
                action: "/t/x/password/forgot".into(),
                csrf_token: "c".into(),
                email: "a@b.example".into(),
                error: Some("e".into()),
                sent: Some("s".into()),
                back_url: Some("/t/x/login/abc".into()),
            }),
        ),
        (
            "invitation.html",
            Value::from_serialize(PasswordResetPage {
                frame: f(),
                action: "/t/x/invitation/abc".into(),
                csrf_token: "c".into(),
                error: Some("e".into()),
            }),
        ),
        (
            "password_reset.html",
            Value::from_serialize(PasswordResetPage {
                frame: f(),
                action: "/t/x/password/reset/abc".into(),
                csrf_token: "c".into(),
                error: Some("e".into()),
            }),
        ),
        (
            "error.html",
            Value::from_serialize(ErrorPage { frame: f(), title: "T".into(), message: "M".into() }),
        ),
        (
            "second_factor.html",
            Value::from_serialize(SecondFactorPage {
                frame: f(),
                action: "/a".into(),
                backup_url: "/b".into(),
                csrf_token: "c".into(),
                error: Some("e".into()),
                offer_remember: true,
                remember_days: 30,
                sms_intro: Some("We sent a code ending in 78".into()),
                resend_url: Some("/r".into()),
                status: Some("s".into()),
                warning: Some("w".into()),
                code_form: true,
                security_key: Some(WebauthnForm {
                    begin_url: "/w".into(),
                    action: "/k".into(),
                    script: "/assets/webauthn.js".into(),
                }),
                key_missing_url: None,
                backup_allowed: true,
            }),
        ),
        (
            "security_keys.html",
            Value::from_serialize(SecurityKeysPage {
                frame: f(),
                base: "/t/x".into(),
                csrf_token: "c".into(),
                keys: vec![KeyRow {
                    id: "k1".into(),
                    name: "Blue key".into(),
                    added: "2026-11-26 09:00 UTC".into(),
                    last_used: None,
                }],
                add: WebauthnForm {
                    begin_url: "/w".into(),
                    action: "/k".into(),
                    script: "/assets/webauthn.js".into(),
                },
                name_max: 60,
                error: Some("e".into()),
                message: Some("m".into()),
                is_method: true,
            }),
        ),
        (
            "sms_setup.html",
            Value::from_serialize(SmsSetupPage {
                frame: f(),
                action: "/a".into(),
                csrf_token: "c".into(),
                error: Some("e".into()),
                phone: "06".into(),
                cancel_url: "/x".into(),
            }),
        ),
        (
            "sms_confirm.html",
            Value::from_serialize(SmsConfirmPage {
                frame: f(),
                action: "/a".into(),
                csrf_token: "c".into(),
                error: None,
                status: Some("s".into()),
                intro: "i".into(),
                cancel_url: "/x".into(),
            }),
        ),
        (
            "backup_code.html",
            Value::from_serialize(BackupCodePage {
                frame: f(),
                action: "/a".into(),
                back_url: "/b".into(),
                csrf_token: "c".into(),
                error: None,
            }),
        ),
        (
            "totp_setup.html",
            Value::from_serialize(TotpSetupPage {
                frame: f(),
                action: "/a".into(),
                csrf_token: "c".into(),
                error: None,
                intro: Some("i".into()),
                setup_key: "ABCD EFGH".into(),
                otpauth_uri: "otpauth://totp/x".into(),
                qr_data_uri: "data:image/svg+xml;base64,AA".into(),
                cancel_url: Some("/x".into()),
                sms_url: Some("/s".into()),
            }),
        ),
        (
            "backup_codes.html",
            Value::from_serialize(BackupCodesPage {
                frame: f(),
                codes: vec!["abcde-fghjk".into()],
                continue_action: Some("/c".into()),
                continue_link: None,
                csrf_token: "c".into(),
            }),
        ),
        (
            "notice.html",
            Value::from_serialize(NoticePage {
                frame: f(),
                action: "/a".into(),
                csrf_token: "c".into(),
                backup_codes_left: Some(1),
                running_low: true,
            }),
        ),
        (
            "account.html",
            Value::from_serialize(AccountPage {
                frame: f(),
                base: "/t/x".into(),
                csrf_token: "c".into(),
                email: "a@b.example".into(),
                email_verified: false,
                two_factor_on: true,
                method_label: Some("App".into()),
                phone_masked: Some("+31 6 •••• ••78".into()),
                security_keys: false,
                backup_codes_left: 2,
                running_low: true,
                devices: vec![DeviceRow {
                    id: "d".into(),
                    browser: "Firefox on Linux".into(),
                    first_used: "x".into(),
                    last_used: "y".into(),
                    expires: "z".into(),
                }],
                apps: vec![AppRow { id: "a".into(), name: "Third party".into(), scopes: vec!["s".into()] }],
                message: Some("m".into()),
            }),
        ),
        (
            "account.html",
            Value::from_serialize(AccountPage {
                frame: f(),
                base: "/t/x".into(),
                csrf_token: "c".into(),
                email: "a@b.example".into(),
                email_verified: true,
                two_factor_on: true,
                method_label: Some("App".into()),
                phone_masked: None,
                security_keys: false,
                backup_codes_left: 2,
                running_low: true,
                devices: vec![DeviceRow {
                    id: "d".into(),
                    browser: "Firefox on Linux".into(),
                    first_used: "x".into(),
                    last_used: "y".into(),
                    expires: "z".into(),
                }],
                apps: vec![AppRow { id: "a".into(), name: "Third party".into(), scopes: vec!["s".into()] }],
                message: Some("m".into()),
            }),
        ),
        (
            "method_choice.html",
            Value::from_serialize(MethodChoicePage {
                frame: f(),
                action: "/a".into(),
                csrf_token: "c".into(),
                methods: vec![MethodOption { value: "totp", label: "Authenticator app".into() }],
                cancel_url: "/x".into(),
            }),
        ),
        (
            "confirm.html",
            Value::from_serialize(ConfirmPage {
                frame: f(),
                action: "/a".into(),
                csrf_token: "c".into(),
                title: "t".into(),
                message: "m".into(),
                button: "b".into(),
                cancel_url: "/x".into(),
                hidden: vec![HiddenField { name: "state", value: "s".into() }],
            }),
        ),
        (
            "consent.html",
            Value::from_serialize(ConsentPage {
                frame: f(),
                action: "/a".into(),
                csrf_token: "c".into(),
                client_name: "Third Party <Inc>".into(),
                scopes: vec!["See your email address".into()],
            }),
        ),
        (
            "email_change.html",
            Value::from_serialize(EmailChangePage {
                frame: f(),
                action: "/a".into(),
                csrf_token: "c".into(),
                error: Some("e".into()),
                current: "an@example.org".into(),
                new_email: "an.new@example.org".into(),
                cancel_url: "/x".into(),
            }),
        ),
        (
            "password_change.html",
            Value::from_serialize(PasswordChangePage {
                frame: f(),
                action: "/a".into(),
                csrf_token: "c".into(),
                error: None,
                cancel_url: "/x".into(),
            }),
        ),
        (
            "message.html",
            Value::from_serialize(MessagePage {
                frame: f(),
                title: "t".into(),
                message: "m".into(),
                link_url: Some("/l".into()),
                link_text: Some("l".into()),
            }),
        ),
    ]
}
