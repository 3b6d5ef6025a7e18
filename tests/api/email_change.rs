//! "Change email address": a fresh sign-in, a link to the new address, the change only when it is
//! followed (verified, the old address told), and the refusals: a used, replaced, expired or
//! other tenant's link, a disabled or erased person, an address another account uses.

use tessera::admin::Actor;

use crate::both_backends;
use crate::email::spawn_app_mailing_to;
use crate::helpers::*;
use crate::smtp_sink::SmtpSink;

const NEW: &str = "an.new@example.org";

/// A browser signed in to the account pages (the password just typed: a fresh sign-in).
async fn signed_in(app: &TestApp) -> reqwest::Client {
    let browser = firefox();
    let pkce = crate::helpers::pkce();
    app.sign_in(&browser, &AuthRequest::portal(&pkce)).await;
    browser
}

/// Asks for a change to `new` from the account page; the answer is the overview's confirmation.
async fn ask_for_change(app: &TestApp, browser: &reqwest::Client, new: &str) {
    let url = format!("{}/account/email/change", app.issuer);
    let (status, html) = app.get_html(browser, &url).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<h1>Change email address</h1>"), "{html}");
    assert!(html.contains(">New email address</label>"), "{html}");
    let response = app.post_form(browser, &url, &csrf_token(&html), &[("new_email", new)]).await;
    assert_eq!(response.status(), 303);
    let overview = app.absolute(&location(&response));
    assert!(overview.ends_with("/account?done=email-change-sent"), "{overview}");
    let (_, html) = app.get_html(browser, &overview).await;
    assert!(html.contains("We sent a link to the new address."), "{html}");
}

async fn current_user(app: &TestApp, email: &str) -> Option<entity::user::Model> {
    let tenant = tessera::admin::tenant(&app.state, "acme").await.unwrap();
    let email = tessera::domain::Email::parse(email).unwrap();
    tessera::store::users::find_by_email(&app.state.db, tenant.id(), &email).await.unwrap()
}

/// Opens the link and presses the button in another browser (a mail reader), returning the answer.
async fn follow(app: &TestApp, link: &str) -> (u16, String) {
    let reader = firefox();
    let (status, page) = app.get_html(&reader, link).await;
    if status != 200 {
        return (status, page);
    }
    let response = app.post_form(&reader, link, &csrf_token(&page), &[]).await;
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn the_address_changes_only_when_the_link_is_followed(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = spawn_app_mailing_to(backend, sink.url()).await else { return };
    let browser = signed_in(&app).await;
    let (_, html) = app.get_html(&browser, &format!("{}/account", app.issuer)).await;
    assert!(html.contains(">Change email address</button>"), "{html}");

    ask_for_change(&app, &browser, "An.New@Example.org").await;
    let mail = sink.wait_for(1, 15).await.remove(0);
    assert_eq!(mail.to, vec![NEW.to_string()], "the link goes to the new address");
    assert_eq!(mail.header("Subject").unwrap(), "Acme Clinic: confirm your new email address");
    assert!(mail.body.contains("24 hours"), "{}", mail.body);
    let link = mail.link_with("/email/change/");
    // Nothing changed yet; opening the link changes nothing either (mail scanners open links).
    let reader = firefox();
    let (status, page) = app.get_html(&reader, &link).await;
    assert_eq!(status, 200);
    assert!(page.contains(NEW) && page.contains(">Change email address</button>"), "{page}");
    let before = current_user(&app, EMAIL).await.expect("still at the old address");
    assert!(!before.email_verified);

    let response = app.post_form(&reader, &link, &csrf_token(&page), &[]).await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("Your email address was changed"));
    assert!(current_user(&app, EMAIL).await.is_none());
    let after = current_user(&app, NEW).await.expect("moved to the new address");
    assert_eq!(after.id, before.id);
    assert!(after.email_verified, "the link reached the new address");

    // The old address is told.
    let notice = sink.wait_for(2, 15).await.remove(1);
    assert_eq!(notice.to, vec![EMAIL.to_string()]);
    assert_eq!(notice.header("Subject").unwrap(), "Acme Clinic: a change to your sign-in security");
    assert!(notice.body.contains("The email address of your account was changed."), "{}", notice.body);
    assert!(notice.body.contains("Browser: Firefox on Linux"), "{}", notice.body);

    // Single use.
    let (status, page) = follow(&app, &link).await;
    assert_eq!(status, 410);
    assert!(page.contains("This link no longer works"), "{page}");

    // The new address signs in, and the claims say it, verified.
    let pkce = crate::helpers::pkce();
    let request = AuthRequest::portal(&pkce);
    let other = firefox();
    let login_url = app.open_login_page(&other, &request).await;
    let response = app.submit_password(&other, &login_url, NEW, PASSWORD).await;
    let code = redirect_params(&response, PORTAL_REDIRECT)["code"].clone();
    let tokens: serde_json::Value =
        app.exchange_portal_code(&code, &pkce.verifier).await.json().await.unwrap();
    let userinfo: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/userinfo", app.issuer))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(userinfo["email"], NEW, "{userinfo}");
    assert_eq!(userinfo["email_verified"], true, "{userinfo}");

    // Audited: asked, then changed; no address in the detail.
    let tenant = tessera::admin::tenant(&app.state, "acme").await.unwrap();
    let events = tessera::store::audit_events::list_for_tenant(&app.state.db, tenant.id()).await.unwrap();
    let events: Vec<_> = events.into_iter().filter(|e| e.user_id.as_deref() == Some(&after.id)).collect();
    let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert!(names.contains(&"email.change_requested") && names.contains(&"email.changed"), "{names:?}");
    assert!(events.iter().all(|e| !e.detail.contains(NEW)), "{events:?}");
}
both_backends!(the_address_changes_only_when_the_link_is_followed);

async fn changing_the_address_needs_a_fresh_sign_in(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = spawn_app_mailing_to(backend, sink.url()).await else { return };
    let browser = signed_in(&app).await;
    app.clock.advance(tessera::account::FRESH_SECONDS + 1);
    let url = format!("{}/account/email/change", app.issuer);
    let response = browser.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert!(location(&response).contains("/login/"), "sign in again first");
    let response = browser.post(&url).form(&[("new_email", NEW), ("csrf_token", "x")]).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert!(location(&response).contains("/login/"));
    assert!(current_user(&app, EMAIL).await.is_some());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(sink.received().is_empty(), "no link without a fresh sign-in");
}
both_backends!(changing_the_address_needs_a_fresh_sign_in);

async fn a_second_request_replaces_the_first_link_and_links_expire(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = spawn_app_mailing_to(backend, sink.url()).await else { return };
    let browser = signed_in(&app).await;
    ask_for_change(&app, &browser, "first.new@example.org").await;
    let first = sink.wait_for(1, 15).await.remove(0).link_with("/email/change/");
    ask_for_change(&app, &browser, NEW).await;
    let second = sink.wait_for(2, 15).await.remove(1).link_with("/email/change/");
    let (status, _) = follow(&app, &first).await;
    assert_eq!(status, 410, "replaced");
    assert!(current_user(&app, "first.new@example.org").await.is_none());

    // The same address is refused on the form, and asks nothing of anybody.
    let url = format!("{}/account/email/change", app.issuer);
    let (_, html) = app.get_html(&browser, &url).await;
    let response = app.post_form(&browser, &url, &csrf_token(&html), &[("new_email", EMAIL)]).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("This is your email address already."));
    let response =
        app.post_form(&browser, &url, &csrf_token(&html), &[("new_email", "not an address")]).await;
    assert_eq!(response.status(), 400);

    app.clock.advance(24 * 3600 + 1);
    let (status, _) = follow(&app, &second).await;
    assert_eq!(status, 410, "expired after 24 hours");
    assert!(current_user(&app, EMAIL).await.is_some());
    assert_eq!(sink.received().len(), 2, "no notice: nothing changed");
}
both_backends!(a_second_request_replaces_the_first_link_and_links_expire);

/// The person asking cannot tell a taken address from a free one; the address's owner is told,
/// and no link exists that could move anybody onto it.
async fn an_address_another_account_uses_is_not_revealed_and_not_taken(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = spawn_app_mailing_to(backend, sink.url()).await else { return };
    let tenant = tessera::admin::tenant(&app.state, "acme").await.unwrap();
    let other = "someone.else@example.org";
    tessera::admin::create_user(&app.state, &tenant, other, None, secrecy::SecretString::from(PASSWORD))
        .await
        .unwrap();
    let browser = signed_in(&app).await;
    ask_for_change(&app, &browser, other).await;
    let mail = sink.wait_for(1, 15).await.remove(0);
    assert_eq!(mail.to, vec![other.to_string()]);
    assert_eq!(mail.header("Subject").unwrap(), "Acme Clinic: a request for your email address");
    assert!(mail.body.contains("another account already uses it"), "{}", mail.body);
    assert!(!mail.body.contains("/email/change/"), "no link: {}", mail.body);
    assert!(!mail.body.contains("An Patient"), "the asker stays unnamed: {}", mail.body);
    assert!(current_user(&app, EMAIL).await.is_some());

    // A free address when asked, then a taken one: the second request ends the first link too.
    ask_for_change(&app, &browser, "free.one@example.org").await;
    let first = sink.wait_for(2, 15).await.remove(1).link_with("/email/change/");
    ask_for_change(&app, &browser, other).await;
    sink.wait_for(3, 15).await;
    let (status, _) = follow(&app, &first).await;
    assert_eq!(status, 410, "replaced by the later request");

    // A free address when asked, taken before the link is followed: refused, nothing changes.
    ask_for_change(&app, &browser, NEW).await;
    let link = sink.wait_for(4, 15).await.remove(3).link_with("/email/change/");
    tessera::admin::create_user(&app.state, &tenant, NEW, None, secrecy::SecretString::from(PASSWORD))
        .await
        .unwrap();
    let (status, page) = follow(&app, &link).await;
    assert_eq!(status, 409);
    assert!(page.contains("already used by another account"), "{page}");
    assert!(current_user(&app, EMAIL).await.is_some());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(sink.received().len(), 4, "no notice: nothing changed");
}
both_backends!(an_address_another_account_uses_is_not_revealed_and_not_taken);

async fn a_link_works_only_at_its_tenant_and_for_an_active_person(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = spawn_app_mailing_to(backend, sink.url()).await else { return };
    tessera::admin::create_tenant(&app.state, "beta", "Beta Clinic").await.unwrap();
    let browser = signed_in(&app).await;
    ask_for_change(&app, &browser, NEW).await;
    let link = sink.wait_for(1, 15).await.remove(0).link_with("/email/change/");
    let elsewhere = link.replace("/t/acme/", "/t/beta/");
    assert_ne!(elsewhere, link);
    let (status, _) = follow(&app, &elsewhere).await;
    assert_eq!(status, 410, "another tenant's link");

    // Disabled meanwhile: refused; enabled again, the link still works (it was not used).
    let tenant = tessera::admin::tenant(&app.state, "acme").await.unwrap();
    tessera::admin::disable_user(&app.state, &tenant, EMAIL, &Actor::CLI).await.unwrap();
    let (status, _) = follow(&app, &link).await;
    assert_eq!(status, 410, "a disabled person's link");
    tessera::admin::enable_user(&app.state, &tenant, EMAIL, &Actor::CLI).await.unwrap();
    ask_for_change(&app, &signed_in(&app).await, NEW).await;
    let link = sink.wait_for(2, 15).await.remove(1).link_with("/email/change/");
    tessera::admin::delete_user(&app.state, &tenant, EMAIL, &Actor::CLI).await.unwrap();
    let (status, _) = follow(&app, &link).await;
    assert_eq!(status, 410, "an erased person's link");
    assert!(current_user(&app, NEW).await.is_none());
}
both_backends!(a_link_works_only_at_its_tenant_and_for_an_active_person);

/// A signed-in person cannot flood inboxes: five requests an hour (refused ones count too), three
/// per new address.
async fn requests_are_throttled_per_person_and_per_address(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = spawn_app_mailing_to(backend, sink.url()).await else { return };
    let browser = signed_in(&app).await;
    let url = format!("{}/account/email/change", app.issuer);
    let ask = |new: &'static str| {
        let (app, browser, url) = (&app, &browser, &url);
        async move {
            let (_, html) = app.get_html(browser, url).await;
            let response = app.post_form(browser, url, &csrf_token(&html), &[("new_email", new)]).await;
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    for _ in 0..3 {
        assert_eq!(ask(NEW).await.0, 303);
    }
    let (status, page) = ask(NEW).await;
    assert_eq!(status, 429, "a fourth link to one address");
    assert!(page.contains("You asked for too many links."), "{page}");
    // The refused request counted as the person's fourth: one more, then the sixth is refused.
    assert_eq!(ask("second.new@example.org").await.0, 303);
    assert_eq!(ask("third.new@example.org").await.0, 429, "a sixth request of the person");
    sink.wait_for(4, 15).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(sink.received().len(), 4);
    // An hour later the person may ask again.
    app.clock.advance(3601);
    let browser = signed_in(&app).await;
    let (_, html) = app.get_html(&browser, &url).await;
    let response = app.post_form(&browser, &url, &csrf_token(&html), &[("new_email", NEW)]).await;
    assert_eq!(response.status(), 303);
}
both_backends!(requests_are_throttled_per_person_and_per_address);
