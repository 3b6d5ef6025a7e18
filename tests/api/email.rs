//! Email delivery: messages reach a real SMTP server (started by the test) through the outbox;
//! a message committed while the server is down arrives once it is up, also when the instance
//! that queued it stopped before sending; the tenant's theme and sender address apply.

use secrecy::SecretString;
use tessera::email::{Notice, SecurityEvent};

use crate::both_backends;
use crate::helpers::*;
use crate::smtp_sink::{SmtpSink, unused_port};

/// `spawn_app` sending email over SMTP to `url`.
pub async fn spawn_app_mailing_to(backend: Backend, url: String) -> Option<TestApp> {
    spawn_app_with(backend, |settings| {
        settings.email.sender = "smtp".into();
        settings.email.smtp_url = SecretString::from(url);
        settings.email.from = "Acme Clinic <no-reply@acme.example>".into();
        settings.email.attempts = 12;
    })
    .await
}

async fn patient(app: &TestApp) -> (tessera::tenants::Tenant, entity::user::Model) {
    let tenant = tessera::admin::tenant(&app.state, "acme").await.unwrap();
    let email = tessera::domain::Email::parse(EMAIL).unwrap();
    let user =
        tessera::store::users::find_by_email(&app.state.db, tenant.id(), &email).await.unwrap().unwrap();
    (tenant, user)
}

fn notice(app: &TestApp, event: SecurityEvent) -> Notice<'static> {
    Notice {
        event,
        lang: None,
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"),
        now: app.clock.now(),
    }
}

async fn a_security_notice_arrives_over_smtp(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = spawn_app_mailing_to(backend, sink.url()).await else { return };
    let (tenant, user) = patient(&app).await;
    tessera::email::messages::notify(
        &app.state,
        &tenant,
        &user,
        notice(&app, SecurityEvent::PasswordChanged),
    )
    .await
    .unwrap();
    let mail = sink.wait_for(1, 10).await.remove(0);
    assert_eq!(mail.to, vec![EMAIL.to_string()]);
    assert_eq!(mail.from, "no-reply@acme.example");
    assert!(mail.header("From").unwrap().contains("Acme Clinic"), "{}", mail.headers);
    assert_eq!(mail.header("Subject").unwrap(), "Acme Clinic: a change to your sign-in security");
    assert!(mail.header("Content-Type").unwrap().starts_with("text/plain"), "{}", mail.headers);
    assert!(mail.body.contains("Your password was changed."), "{}", mail.body);
    assert!(mail.body.contains("Browser: Firefox on Linux"), "{}", mail.body);
    assert!(mail.body.contains("When: "), "{}", mail.body);
    assert!(mail.body.contains("If this was not you"), "{}", mail.body);
    assert!(mail.body.contains(&format!("{}/account", app.issuer)), "{}", mail.body);
    // Sent and gone from the outbox.
    wait_for_empty_outbox(&app).await;
}
both_backends!(a_security_notice_arrives_over_smtp);

pub async fn wait_for_empty_outbox(app: &TestApp) {
    for _ in 0..100 {
        if tessera::store::email_outbox::list(&app.state.db).await.unwrap().is_empty() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the outbox was not emptied");
}

async fn mail_committed_while_the_server_is_down_arrives_when_it_is_up(backend: Backend) {
    let port = unused_port().await;
    let Some(app) = spawn_app_mailing_to(backend, format!("smtp://127.0.0.1:{port}")).await else { return };
    let (tenant, user) = patient(&app).await;
    // The change commits with its message; the first tries meet a refused connection.
    tessera::email::messages::notify(
        &app.state,
        &tenant,
        &user,
        notice(&app, SecurityEvent::TwoFactorDisabled),
    )
    .await
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let waiting = tessera::store::email_outbox::list(&app.state.db).await.unwrap();
    assert_eq!(waiting.len(), 1, "the message waits in the outbox");
    assert!(waiting[0].attempts >= 1, "it was tried: {waiting:?}");
    assert!(!waiting[0].body_sealed.contains("switched off"), "the body is sealed at rest");
    let sink = SmtpSink::start_on(port).await;
    let mail = sink.wait_for(1, 20).await.remove(0);
    assert!(mail.body.contains("Two-factor authentication was switched off"), "{}", mail.body);
    wait_for_empty_outbox(&app).await;
}
both_backends!(mail_committed_while_the_server_is_down_arrives_when_it_is_up);

async fn a_temporary_refusal_is_tried_again(backend: Backend) {
    let sink = SmtpSink::start().await;
    sink.refuse(true);
    let Some(app) = spawn_app_mailing_to(backend, sink.url()).await else { return };
    let (tenant, user) = patient(&app).await;
    tessera::email::messages::notify(
        &app.state,
        &tenant,
        &user,
        notice(&app, SecurityEvent::SecurityKeyAdded),
    )
    .await
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(sink.received().is_empty());
    sink.refuse(false);
    let mail = sink.wait_for(1, 20).await.remove(0);
    assert!(mail.body.contains("A security key was added"), "{}", mail.body);
}
both_backends!(a_temporary_refusal_is_tried_again);

/// The instance stopped after the commit and before the send: the row alone survives, and
/// housekeeping on any instance sends it.
async fn a_message_left_by_a_stopped_instance_is_resumed(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = spawn_app_mailing_to(backend, sink.url()).await else { return };
    let (tenant, user) = patient(&app).await;
    let n = notice(&app, SecurityEvent::BackupCodeUsed { remaining: 7 });
    let row = tessera::email::messages::security_notice(&app.state, &tenant, &user, &n).await.unwrap();
    tessera::store::email_outbox::insert(&app.state.db, row).await.unwrap();
    // No sender runs for it; it is held for a minute (its queuing instance would be sending).
    let now = app.clock.now();
    assert_eq!(tessera::email::outbox::resume_pending(&app.state, now).await.unwrap(), 0);
    app.clock.advance(61);
    let now = app.clock.now();
    assert_eq!(tessera::email::outbox::resume_pending(&app.state, now).await.unwrap(), 1);
    assert_eq!(
        tessera::email::outbox::resume_pending(&app.state, now).await.unwrap(),
        0,
        "claimed once: a second instance does not send it again"
    );
    let mail = sink.wait_for(1, 10).await.remove(0);
    assert!(mail.body.contains("You have 7 backup codes left."), "{}", mail.body);
    wait_for_empty_outbox(&app).await;
    assert_eq!(sink.received().len(), 1);
}
both_backends!(a_message_left_by_a_stopped_instance_is_resumed);

#[tokio::test]
async fn dutch_tenant_theme_and_own_sender_address() {
    let sink = SmtpSink::start().await;
    let themes = tempfile::tempdir().unwrap();
    let email_dir = themes.path().join("kliniek").join("templates").join("email");
    std::fs::create_dir_all(&email_dir).unwrap();
    std::fs::write(
        email_dir.join("security_notice.txt"),
        "Kliniek huisstijl ({{ lang }})\n{{ what }}\n{{ t(\"email-notice-not-you\") }} <{{ account_url }}>\n",
    )
    .unwrap();
    let url = sink.url();
    let Some(app) = spawn_app_with(Backend::Sqlite, |settings| {
        settings.email.sender = "smtp".into();
        settings.email.smtp_url = SecretString::from(url);
        settings.themes_dir = themes.path().to_path_buf();
    })
    .await
    else {
        return;
    };
    let (tenant, user) = patient(&app).await;
    let tenant =
        tessera::admin::update_tenant_branding(&app.state, &tenant, Some("kliniek"), None).await.unwrap();
    let tenant = tessera::admin::set_tenant_email_from(
        &app.state,
        &tenant,
        "Kliniek West <no-reply@kliniek-west.example>",
    )
    .await
    .unwrap();
    assert!(tessera::admin::set_tenant_email_from(&app.state, &tenant, "not an address").await.is_err());
    let dutch = Notice { lang: Some("nl"), ..notice(&app, SecurityEvent::PasswordChanged) };
    tessera::email::messages::notify(&app.state, &tenant, &user, dutch).await.unwrap();
    let mail = sink.wait_for(1, 10).await.remove(0);
    assert_eq!(mail.from, "no-reply@kliniek-west.example");
    assert!(mail.body.starts_with("Kliniek huisstijl (nl)"), "{}", mail.body);
    assert!(mail.body.contains("Uw wachtwoord is gewijzigd."), "{}", mail.body);
    assert!(mail.body.contains("Was u dit niet"), "{}", mail.body);
    // Plain text: nothing HTML-escaped.
    assert!(mail.body.contains(&format!("<{}/account>", app.issuer)), "{}", mail.body);
}

#[tokio::test]
async fn a_theme_email_template_is_vetted_like_a_page() {
    let themes = tempfile::tempdir().unwrap();
    let email_dir = themes.path().join("greedy").join("templates").join("email");
    std::fs::create_dir_all(&email_dir).unwrap();
    std::fs::write(email_dir.join("security_notice.txt"), "{{ \"x\" * 100000000 }}").unwrap();
    let i18n = std::sync::Arc::new(tessera::views::I18n::load().unwrap());
    let err = match tessera::views::Views::with_themes(i18n, Some(themes.path().into()), false) {
        Err(err) => err.to_string(),
        Ok(_) => panic!("a template that builds values of any size must not load"),
    };
    assert!(err.contains("templates/email/security_notice.txt"), "{err}");
}

#[test]
fn production_refuses_the_console_email_sender() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["tenant", "list"])
        .env("TESSERA_DATA_DIR", dir.path())
        .env("TESSERA_MODE", "production")
        .env("TESSERA_PUBLIC_URL", "https://login.example.org")
        .env("TESSERA_MASTER_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        .env("TESSERA_SMS__SENDER", "webhook")
        .env("TESSERA_SMS__WEBHOOK_URL", "https://sms.example.org/hook")
        .env("TESSERA_SMS__WEBHOOK_SECRET", "s3cret-s3cret-s3cret")
        .env("TESSERA_EMAIL__SENDER", "console")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("console email sender"), "{stderr}");
}

/// `tessera user reset-2fa` tells the person, with the change (the help article's last resort
/// must not pass unnoticed by the person whose factors went).
async fn a_two_factor_reset_by_an_administrator_is_told_by_email(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = spawn_app_mailing_to(backend, sink.url()).await else { return };
    let (tenant, _) = patient(&app).await;
    let reset = tessera::admin::reset_two_factor(&app.state, &tenant, EMAIL, &tessera::admin::Actor::CLI)
        .await
        .unwrap();
    assert!(!reset.user_id.is_empty());
    let mail = sink.wait_for(1, 10).await.remove(0);
    assert_eq!(mail.to, vec![EMAIL.to_string()]);
    assert!(mail.body.contains("If this was not you"), "{}", mail.body);
    assert!(!mail.body.contains("Browser:"), "no browser made this change: {}", mail.body);
    wait_for_empty_outbox(&app).await;
}
both_backends!(a_two_factor_reset_by_an_administrator_is_told_by_email);
