//! Nothing crosses tenants: an invitation or password-reset link of one tenant does nothing at
//! another, even where a person with the same address lives there, and still works at its own.

use secrecy::SecretString;

use crate::both_backends;
use crate::email::spawn_app_mailing_to;
use crate::helpers::*;
use crate::smtp_sink::SmtpSink;

/// At tenant `beta`, the same link (path moved to `/t/beta/`): the page and its form refuse it.
async fn refused_at_beta(app: &TestApp, link: &str, fields: &[(&str, &str)]) {
    let elsewhere = link.replace("/t/acme/", "/t/beta/");
    assert_ne!(elsewhere, link);
    let browser = firefox();
    let (status, page) = app.get_html(&browser, &elsewhere).await;
    assert_eq!(status, 410, "{page}");
    assert!(page.contains("This link no longer works"), "{page}");
    // The form of the link's own page, posted to the other tenant.
    let (_, own) = app.get_html(&browser, link).await;
    let response = app.post_form(&browser, &elsewhere, &csrf_token(&own), fields).await;
    assert_eq!(response.status(), 410);
}

async fn sign_in_works(app: &TestApp, email: &str, password: &str) -> bool {
    let browser = firefox();
    let pkce = crate::helpers::pkce();
    let login_url = app.open_login_page(&browser, &AuthRequest::portal(&pkce)).await;
    let response = app.submit_password(&browser, &login_url, email, password).await;
    response.status() == 303 && location(&response).starts_with(PORTAL_REDIRECT)
}

async fn an_invitation_link_works_only_at_its_own_tenant(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = spawn_app_mailing_to(backend, sink.url()).await else { return };
    let beta = tessera::admin::create_tenant(&app.state, "beta", "Beta Clinic").await.unwrap();
    let invited = "new.patient@example.org";
    // The same person at beta already, with a password of their own.
    tessera::admin::create_user(&app.state, &beta, invited, None, SecretString::from(PASSWORD))
        .await
        .unwrap();
    let acme = tessera::admin::tenant(&app.state, "acme").await.unwrap();
    tessera::admin::invite_user(&app.state, &acme, invited, None).await.unwrap();
    let link = sink.wait_for(1, 15).await.remove(0).link_with("/invitation/");

    refused_at_beta(&app, &link, &[("new_password", "taken over at beta")]).await;
    let email = tessera::domain::Email::parse(invited).unwrap();
    let at_beta =
        tessera::store::users::find_by_email(&app.state.db, beta.id(), &email).await.unwrap().unwrap();
    assert!(!at_beta.email_verified, "beta's person is untouched");
    assert!(app.state.passwords.verify(SecretString::from(PASSWORD), Some(at_beta.password_hash)).await);

    // At its own tenant the link still works (nothing used it).
    let browser = firefox();
    let (status, page) = app.get_html(&browser, &link).await;
    assert_eq!(status, 200, "{page}");
    let response =
        app.post_form(&browser, &link, &csrf_token(&page), &[("new_password", "my first password")]).await;
    assert_eq!(response.status(), 303);
}
both_backends!(an_invitation_link_works_only_at_its_own_tenant);

async fn a_password_reset_link_works_only_at_its_own_tenant(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = spawn_app_mailing_to(backend, sink.url()).await else { return };
    let beta = tessera::admin::create_tenant(&app.state, "beta", "Beta Clinic").await.unwrap();
    tessera::admin::create_user(&app.state, &beta, EMAIL, None, SecretString::from("beta's own password"))
        .await
        .unwrap();
    let browser = firefox();
    let forgot = format!("{}/password/forgot", app.issuer);
    let (_, page) = app.get_html(&browser, &forgot).await;
    let response = app.post_form(&browser, &forgot, &csrf_token(&page), &[("email", EMAIL)]).await;
    assert_eq!(response.status(), 200);
    let link = sink.wait_for(1, 15).await.remove(0).link_with("/password/reset/");
    assert!(link.contains("/t/acme/"), "{link}");

    refused_at_beta(&app, &link, &[("new_password", "taken over at beta")]).await;
    let email = tessera::domain::Email::parse(EMAIL).unwrap();
    let at_beta =
        tessera::store::users::find_by_email(&app.state.db, beta.id(), &email).await.unwrap().unwrap();
    assert!(
        app.state
            .passwords
            .verify(SecretString::from("beta's own password"), Some(at_beta.password_hash))
            .await,
        "beta's password is unchanged"
    );
    assert!(!sign_in_works(&app, EMAIL, "taken over at beta").await);

    // At its own tenant it still works.
    let (status, page) = app.get_html(&browser, &link).await;
    assert_eq!(status, 200, "{page}");
    let response =
        app.post_form(&browser, &link, &csrf_token(&page), &[("new_password", "a new password here")]).await;
    assert!(response.status().is_redirection() || response.status() == 200, "{}", response.status());
    assert!(sign_in_works(&app, EMAIL, "a new password here").await);
}
both_backends!(a_password_reset_link_works_only_at_its_own_tenant);
