//! `tessera user invite` and `tessera user create --email-verified`, run as the real binary
//! against the database of a running test app (SQLite file or PostgreSQL): the invitation
//! arrives over SMTP and its link works at the server; a vouched-for address is verified in the
//! ID token and at userinfo.

use std::process::{Command, Output, Stdio};

use secrecy::ExposeSecret;

use crate::both_backends;
use crate::email::spawn_app_mailing_to;
use crate::helpers::*;
use crate::smtp_sink::SmtpSink;

/// Runs `tessera <args>` on the app's database and settings, sending email to `sink`.
async fn tessera(app: &TestApp, sink: &SmtpSink, args: &[&str], stdin: &str) -> Output {
    let settings = &app.state.settings;
    let mut command = Command::new(env!("CARGO_BIN_EXE_tessera"));
    command
        .args(args)
        .env("TESSERA_DATA_DIR", &settings.data_dir)
        .env("TESSERA_DATABASE_URL", settings.database_url())
        .env("TESSERA_PUBLIC_URL", &app.address)
        .env("TESSERA_MASTER_KEY", settings.master_key().unwrap().expose_secret())
        .env("TESSERA_EMAIL__SENDER", "smtp")
        .env("TESSERA_EMAIL__SMTP_URL", sink.url())
        .env("TESSERA_EMAIL__FROM", "Acme Clinic <no-reply@acme.example>")
        .env("TESSERA_TEST_EXAMPLE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let stdin = stdin.to_string();
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = command.spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

/// The claims of an ID token straight from the token endpoint (its signature is the code-flow
/// tests' concern).
fn id_token_payload(raw: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = raw.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap())
        .unwrap()
}

fn succeeded(output: &Output) -> String {
    assert!(output.status.success(), "failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout.clone()).unwrap()
}

async fn user_invite_sends_a_link_that_works(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = spawn_app_mailing_to(backend, sink.url()).await else { return };
    let invited = "invited.patient@example.org";
    let args = ["user", "invite", "--tenant", "acme", "--email", invited, "--name", "Invited Patient"];
    let out = succeeded(&tessera(&app, &sink, &args, "").await);
    assert!(out.contains(&format!("invited {invited} to tenant acme")), "{out}");
    let mail = sink.wait_for(1, 15).await.remove(0);
    assert_eq!(mail.to, vec![invited.to_string()]);
    assert_eq!(mail.header("Subject").unwrap(), "Acme Clinic: you are invited");
    assert!(mail.body.contains("Hello Invited Patient,"), "{}", mail.body);
    let link = mail.link_with("/invitation/");
    assert!(link.starts_with(&format!("{}/invitation/", app.issuer)), "{link}");

    // The server answers the link the command made.
    let browser = firefox();
    let (status, page) = app.get_html(&browser, &link).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<h1>Set your password</h1>"), "{page}");
    let response =
        app.post_form(&browser, &link, &csrf_token(&page), &[("new_password", "my first password")]).await;
    assert_eq!(response.status(), 303);
    let pkce = crate::helpers::pkce();
    let login_url = app.open_login_page(&browser, &AuthRequest::portal(&pkce)).await;
    let response = app.submit_password(&browser, &login_url, invited, "my first password").await;
    let code = redirect_params(&response, PORTAL_REDIRECT)["code"].clone();
    let tokens: serde_json::Value =
        app.exchange_portal_code(&code, &pkce.verifier).await.json().await.unwrap();
    let claims = id_token_payload(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["email_verified"], true, "accepting verified the address: {claims}");
}
both_backends!(user_invite_sends_a_link_that_works);

async fn user_create_with_email_verified_says_so_in_the_claims(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = spawn_app_mailing_to(backend, sink.url()).await else { return };
    for (email, verified) in [("vouched@example.org", true), ("unchecked@example.org", false)] {
        let mut args = vec!["user", "create", "--tenant", "acme", "--email", email, "--password-stdin"];
        if verified {
            args.push("--email-verified");
        }
        succeeded(&tessera(&app, &sink, &args, "correct horse battery\n").await);
        let browser = firefox();
        let pkce = crate::helpers::pkce();
        let request = AuthRequest::portal(&pkce);
        let login_url = app.open_login_page(&browser, &request).await;
        let response = app.submit_password(&browser, &login_url, email, "correct horse battery").await;
        let code = redirect_params(&response, PORTAL_REDIRECT)["code"].clone();
        let tokens: serde_json::Value =
            app.exchange_portal_code(&code, &pkce.verifier).await.json().await.unwrap();
        let claims = id_token_payload(tokens["id_token"].as_str().unwrap());
        assert_eq!(claims["email"], email, "{claims}");
        assert_eq!(claims["email_verified"], verified, "{email}: {claims}");
        let userinfo: serde_json::Value = reqwest::Client::new()
            .get(format!("{}/userinfo", app.issuer))
            .bearer_auth(tokens["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(userinfo["email_verified"], verified, "{email}: {userinfo}");
    }
    assert!(sink.received().is_empty(), "creating a user sends no email");
}
both_backends!(user_create_with_email_verified_says_so_in_the_claims);
