//! Emails no page asks for (an administrator's change) are written in the person's language: the
//! page language of their last sign-in, else the tenant's default.

use tessera::admin::Actor;

use crate::both_backends;
use crate::email::spawn_app_mailing_to;
use crate::helpers::*;
use crate::smtp_sink::SmtpSink;

/// A browser that asks for Dutch pages.
fn dutch_browser() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::ACCEPT_LANGUAGE, "nl-NL,nl;q=0.9".parse().unwrap());
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

async fn an_administrators_change_is_told_in_the_language_of_the_last_sign_in(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = spawn_app_mailing_to(backend, sink.url()).await else { return };
    let tenant = tessera::admin::tenant(&app.state, "acme").await.unwrap();
    // Never signed in: the tenant's default (English).
    tessera::admin::reset_two_factor(&app.state, &tenant, EMAIL, &Actor::CLI).await.unwrap();
    let mail = sink.wait_for(1, 15).await.remove(0);
    assert!(mail.body.contains("An administrator removed your two-factor authentication."), "{}", mail.body);

    // Signed in on Dutch pages: the next administrator's change is told in Dutch.
    let pkce = crate::helpers::pkce();
    app.sign_in(&dutch_browser(), &AuthRequest::portal(&pkce)).await;
    tessera::admin::reset_two_factor(&app.state, &tenant, EMAIL, &Actor::CLI).await.unwrap();
    let mail = sink.wait_for(2, 15).await.remove(1);
    assert_eq!(mail.header("Subject").unwrap(), "Acme Clinic: een wijziging in de beveiliging van uw inlog");
    assert!(mail.body.contains("Een beheerder heeft uw tweestapsverificatie verwijderd."), "{}", mail.body);

    // Signed in on English pages again: English.
    let browser = firefox();
    let pkce = crate::helpers::pkce();
    app.sign_in(&browser, &AuthRequest::portal(&pkce)).await;
    tessera::admin::reset_two_factor(&app.state, &tenant, EMAIL, &Actor::CLI).await.unwrap();
    let mail = sink.wait_for(3, 15).await.remove(2);
    assert!(mail.body.contains("An administrator removed"), "the last sign-in was English: {}", mail.body);
}
both_backends!(an_administrators_change_is_told_in_the_language_of_the_last_sign_in);
