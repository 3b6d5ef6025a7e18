//! Security notifications: each change to a person's sign-in security sends them an email over
//! SMTP saying what happened, when, from which browser, and what to do if it was not them.

use crate::both_backends;
use crate::email::spawn_app_mailing_to;
use crate::helpers::*;
use crate::smtp_sink::{Mail, SmtpSink};

/// The `n`th email (1-based), checked to be a security notice to the patient.
async fn notice(sink: &SmtpSink, n: usize) -> Mail {
    let mail = sink.wait_for(n, 15).await[n - 1].clone();
    assert_eq!(mail.to, vec![EMAIL.to_string()]);
    assert_eq!(mail.header("Subject").unwrap(), "Acme Clinic: a change to your sign-in security");
    assert!(mail.body.contains("When: "), "{}", mail.body);
    assert!(mail.body.contains("Browser: Firefox on Linux"), "{}", mail.body);
    assert!(mail.body.contains("If this was not you"), "{}", mail.body);
    mail
}

async fn every_change_to_sign_in_security_is_told_by_email(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = spawn_app_mailing_to(backend, sink.url()).await else { return };
    // Switching the app on.
    let (browser, enrolled) = app.user_with_totp().await;
    let mail = notice(&sink, 1).await;
    assert!(mail.body.contains("two-factor authentication method was set or changed"), "{}", mail.body);

    // New backup codes (after a fresh sign-in with the second factor).
    let new = format!("{}/account/backup-codes/new", app.issuer);
    let response = browser.get(&new).send().await.unwrap();
    let login_url = app.absolute(&location(&response));
    app.submit_password(&browser, &login_url, EMAIL, PASSWORD).await;
    app.submit_code(&browser, &login_url, &totp_code(&enrolled.setup_key, app.clock.now()), false).await;
    let (_, html) = app.get_html(&browser, &new).await;
    let response = app.post_form(&browser, &new, &csrf_token(&html), &[]).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    let fresh: Vec<String> = between(&html, "aria-label=\"Backup codes\">", "</ul>")
        .split("<code>")
        .skip(1)
        .map(|p| p.split("</code>").next().unwrap().to_string())
        .collect();
    let mail = notice(&sink, 2).await;
    assert!(mail.body.contains("New backup codes were generated"), "{}", mail.body);

    // A backup code used at sign-in, with the number left.
    let other = firefox();
    let pkce = pkce();
    let login_url = app.password_then_second_factor(&other, &AuthRequest::portal(&pkce)).await;
    let response = app.submit_backup_code(&other, &login_url, &fresh[0]).await;
    assert_eq!(response.status(), 303);
    let mail = notice(&sink, 3).await;
    assert!(
        mail.body.contains("A backup code was used to sign in. You have 9 backup codes left."),
        "{}",
        mail.body
    );

    // A device remembered.
    app.clock.advance(30);
    let third = firefox();
    let challenge = crate::helpers::pkce();
    let login_url = app.password_then_second_factor(&third, &AuthRequest::portal(&challenge)).await;
    let response =
        app.submit_code(&third, &login_url, &totp_code(&enrolled.setup_key, app.clock.now()), true).await;
    assert_eq!(response.status(), 303);
    let mail = notice(&sink, 4).await;
    assert!(mail.body.contains("A device was remembered"), "{}", mail.body);

    // Two-factor authentication switched off (the session is fresh with the second factor).
    let off = format!("{}/account/two-factor/off", app.issuer);
    let (status, html) = app.get_html(&browser, &off).await;
    assert_eq!(status, 200, "{html}");
    let response = app.post_form(&browser, &off, &csrf_token(&html), &[]).await;
    assert_eq!(response.status(), 303);
    let mail = notice(&sink, 5).await;
    assert!(mail.body.contains("Two-factor authentication was switched off"), "{}", mail.body);

    // The password changed on the account page.
    let page = format!("{}/account/password", app.issuer);
    let (_, html) = app.get_html(&browser, &page).await;
    let response = app
        .post_form(
            &browser,
            &page,
            &csrf_token(&html),
            &[("current_password", PASSWORD), ("new_password", "another long passphrase")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let mail = notice(&sink, 6).await;
    assert!(mail.body.contains("Your password was changed."), "{}", mail.body);
    assert_eq!(sink.received().len(), 6, "one email per change");
}
both_backends!(every_change_to_sign_in_security_is_told_by_email);

/// The notice is part of the change's transaction: committed together, sent from the outbox.
async fn a_notice_is_written_with_its_change(backend: Backend) {
    let port = crate::smtp_sink::unused_port().await;
    let Some(app) = spawn_app_mailing_to(backend, format!("smtp://127.0.0.1:{port}")).await else { return };
    let (_browser, _) = app.user_with_totp().await;
    let waiting = tessera::store::email_outbox::list(&app.state.db).await.unwrap();
    assert_eq!(waiting.len(), 1, "queued with the change while the server is down");
    assert_eq!(waiting[0].message, "security_notice");
    let sink = SmtpSink::start_on(port).await;
    let mail = sink.wait_for(1, 20).await.remove(0);
    assert!(mail.body.contains("method was set or changed"), "{}", mail.body);
}
both_backends!(a_notice_is_written_with_its_change);

async fn the_email_address_is_verified_by_a_link(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = spawn_app_mailing_to(backend, sink.url()).await else { return };
    let browser = firefox();
    let pkce = crate::helpers::pkce();
    app.sign_in(&browser, &AuthRequest::portal(&pkce)).await;
    let account = format!("{}/account", app.issuer);
    let (_, html) = app.get_html(&browser, &account).await;
    assert!(html.contains("Your email address is not verified yet."), "{html}");
    assert!(html.contains(">Send verification email</button>"), "{html}");
    let response = app
        .post_form(&browser, &format!("{}/account/email/verify", app.issuer), &csrf_token(&html), &[])
        .await;
    assert_eq!(response.status(), 303);
    let mail = sink.wait_for(1, 15).await.remove(0);
    assert_eq!(mail.header("Subject").unwrap(), "Acme Clinic: verify your email address");
    assert!(mail.body.contains("24 hours"), "{}", mail.body);
    let link = mail.link_with("/email/verify/");

    // Opening the link changes nothing until the button is pressed (mail scanners open links).
    let reader = firefox();
    let (status, page) = app.get_html(&reader, &link).await;
    assert_eq!(status, 200);
    assert!(page.contains(EMAIL) && page.contains("Verify email address"), "{page}");
    let (_, html) = app.get_html(&browser, &account).await;
    assert!(html.contains("not verified yet"));
    let response = app.post_form(&reader, &link, &csrf_token(&page), &[]).await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("Your email address is verified"));
    let (_, html) = app.get_html(&browser, &account).await;
    assert!(html.contains("Your email address is verified."), "{html}");
    assert!(!html.contains("Send verification email"));

    // Single use.
    let (status, page) = app.get_html(&reader, &link).await;
    assert_eq!(status, 410);
    assert!(page.contains("This link no longer works"));

    // The claim says so.
    let pkce = crate::helpers::pkce();
    let params = app.sign_in(&firefox(), &AuthRequest::portal(&pkce)).await;
    let tokens: serde_json::Value =
        app.exchange_portal_code(&params["code"], &pkce.verifier).await.json().await.unwrap();
    let userinfo: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/userinfo", app.issuer))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(userinfo["email_verified"], true, "{userinfo}");
}
both_backends!(the_email_address_is_verified_by_a_link);

async fn a_verification_link_expires_after_24_hours(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = spawn_app_mailing_to(backend, sink.url()).await else { return };
    let tenant = tessera::admin::tenant(&app.state, "acme").await.unwrap();
    let email = tessera::domain::Email::parse(EMAIL).unwrap();
    let user =
        tessera::store::users::find_by_email(&app.state.db, tenant.id(), &email).await.unwrap().unwrap();
    tessera::account::email_verification::send(&app.state, &tenant, &user, "en", app.clock.now())
        .await
        .unwrap();
    let link = sink.wait_for(1, 15).await.remove(0).link_with("/email/verify/");
    app.clock.advance(24 * 3600 + 1);
    let (status, _) = app.get_html(&firefox(), &link).await;
    assert_eq!(status, 410);
}
both_backends!(a_verification_link_expires_after_24_hours);

async fn an_invited_person_sets_a_password_and_signs_in(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = spawn_app_mailing_to(backend, sink.url()).await else { return };
    let tenant = tessera::admin::tenant(&app.state, "acme").await.unwrap();
    let invited = "new.patient@example.org";
    tessera::admin::invite_user(&app.state, &tenant, invited, Some("New Patient")).await.unwrap();
    let first = sink.wait_for(1, 15).await.remove(0);
    assert_eq!(first.header("Subject").unwrap(), "Acme Clinic: you are invited");
    assert!(first.body.contains("7 days"), "{}", first.body);
    let first = first.link_with("/invitation/");
    // Inviting again sends a new link; the old one stops working.
    tessera::admin::invite_user(&app.state, &tenant, invited, None).await.unwrap();
    let second = sink.wait_for(2, 15).await.remove(1).link_with("/invitation/");
    let browser = firefox();
    let (status, _) = app.get_html(&browser, &first).await;
    assert_eq!(status, 410);
    let (status, page) = app.get_html(&browser, &second).await;
    assert_eq!(status, 200);
    assert!(page.contains("<h1>Set your password</h1>"), "{page}");
    assert!(page.contains(">New password</label>") && page.contains(">Set password</button>"), "{page}");
    let response =
        app.post_form(&browser, &second, &csrf_token(&page), &[("new_password", "my first password")]).await;
    assert_eq!(response.status(), 303, "on to sign in");
    let (status, _) = app.get_html(&browser, &second).await;
    assert_eq!(status, 410, "used once");
    // The new password signs in; the address is verified.
    let pkce = crate::helpers::pkce();
    let login_url = app.open_login_page(&browser, &AuthRequest::portal(&pkce)).await;
    let response = app.submit_password(&browser, &login_url, invited, "my first password").await;
    assert!(redirect_params(&response, PORTAL_REDIRECT).contains_key("code"));
    let email = tessera::domain::Email::parse(invited).unwrap();
    let user =
        tessera::store::users::find_by_email(&app.state.db, tenant.id(), &email).await.unwrap().unwrap();
    assert!(user.email_verified);
    // Someone with an account of their own is not invited again.
    assert!(tessera::admin::invite_user(&app.state, &tenant, invited, None).await.is_err());
}
both_backends!(an_invited_person_sets_a_password_and_signs_in);
