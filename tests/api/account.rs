//! The account pages: sign-in first, re-authentication for sensitive changes, backup-code sets.

use crate::both_backends;
use crate::helpers::*;

async fn the_account_page_asks_to_sign_in_first(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let browser = firefox();
    let response = browser.get(format!("{}/account", app.issuer)).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let login_url = app.absolute(&location(&response));
    let response = app.submit_password(&browser, &login_url, EMAIL, PASSWORD).await;
    assert_eq!(location(&response), "/t/acme/account");
    let (status, html) = app.get_html(&browser, &format!("{}/account", app.issuer)).await;
    assert_eq!(status, 200);
    assert!(html.contains(EMAIL) && html.contains("Switch on two-factor authentication"));
}
both_backends!(the_account_page_asks_to_sign_in_first);

async fn stored_attempts(app: &TestApp) -> u64 {
    use sea_orm::{EntityTrait, PaginatorTrait};
    entity::login_attempt::Entity::find().count(&app.state.db).await.unwrap()
}

/// Opening the account page without a session stores nothing until the sign-in form is sent:
/// a script asking for `/account` all day cannot fill the attempts table.
async fn visits_without_a_session_store_nothing_until_the_form_is_sent(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    for _ in 0..20 {
        let response = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(format!("{}/account/password", app.issuer))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
    }
    let browser = firefox();
    let response = browser.get(format!("{}/account/password", app.issuer)).send().await.unwrap();
    let login_url = app.absolute(&location(&response));
    let (status, html) = app.get_html(&browser, &login_url).await;
    assert_eq!(status, 200);
    assert!(html.contains(">Password</label>"), "{html}");
    assert_eq!(stored_attempts(&app).await, 0, "no attempt stored for visits and page views");

    // The link is this browser's and this tenant's, and cannot be altered.
    let (status, _) = app.get_html(&firefox(), &login_url).await;
    assert_eq!(status, 400, "another browser");
    let forged = login_url.replacen("/t/acme/login/", "/t/acme/login/9", 1);
    let (status, _) = app.get_html(&browser, &forged).await;
    assert_eq!(status, 400, "an altered link");

    // The first form stores the attempt, and the sign-in goes back to the page that asked.
    let response = app.submit_password(&browser, &login_url, EMAIL, "wrong password").await;
    assert_eq!(response.status(), 401);
    assert_eq!(stored_attempts(&app).await, 1);
    let response = app.submit_password(&browser, &login_url, EMAIL, PASSWORD).await;
    assert_eq!(location(&response), "/t/acme/account/password");
    assert_eq!(stored_attempts(&app).await, 0, "finished");

    // Like a stored attempt, the link expires.
    let response = browser.get(format!("{}/account", app.issuer)).send().await.unwrap();
    assert_eq!(response.status(), 200, "signed in");
    let other = firefox();
    let response = other.get(format!("{}/account", app.issuer)).send().await.unwrap();
    let login_url = app.absolute(&location(&response));
    app.clock.advance(app.state.settings.sessions.login_attempt_seconds);
    let (status, _) = app.get_html(&other, &login_url).await;
    assert_eq!(status, 400, "expired");
}
both_backends!(visits_without_a_session_store_nothing_until_the_form_is_sent);

async fn switching_off_requires_a_fresh_password_and_second_factor(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (browser, enrolled) = app.user_with_totp().await;
    let off = format!("{}/account/two-factor/off", app.issuer);
    // The session came from a password-only sign-in: not enough to switch the factor off.
    let response = browser.get(&off).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let login_url = app.absolute(&location(&response));
    assert!(login_url.contains("/login/"));
    let response = app.submit_password(&browser, &login_url, EMAIL, PASSWORD).await;
    assert_eq!(app.absolute(&location(&response)), login_url, "second factor next");
    let response =
        app.submit_code(&browser, &login_url, &totp_code(&enrolled.setup_key, app.clock.now()), false).await;
    assert_eq!(location(&response), "/t/acme/account/two-factor/off");

    let (status, html) = app.get_html(&browser, &off).await;
    assert_eq!(status, 200);
    assert!(html.contains("Switch off two-factor authentication"));
    // A forged form (no CSRF token) changes nothing.
    let forged = browser.post(&off).form(&[("csrf_token", "forged")]).send().await.unwrap();
    assert_eq!(forged.status(), 400);
    let response = app.post_form(&browser, &off, &csrf_token(&html), &[]).await;
    assert_eq!(response.status(), 303);
    let (_, html) = app.get_html(&browser, &app.absolute(&location(&response))).await;
    assert!(html.contains("Two-factor authentication is now off"), "{html}");

    // Ten minutes later the same session is no longer fresh enough for sensitive pages.
    app.clock.advance(601);
    let response = browser.get(format!("{}/account/password", app.issuer)).send().await.unwrap();
    assert_eq!(response.status(), 200, "changing the password asks for the current one itself");
    let pkce = pkce();
    let login_url = app
        .open_login_page(&browser, &{
            let mut r = AuthRequest::portal(&pkce);
            r.extra.push(("prompt", "login"));
            r
        })
        .await;
    let response = app.submit_password(&browser, &login_url, EMAIL, PASSWORD).await;
    assert!(redirect_params(&response, PORTAL_REDIRECT).contains_key("code"), "no second factor any more");
}
both_backends!(switching_off_requires_a_fresh_password_and_second_factor);

async fn a_new_set_of_backup_codes_replaces_the_old_one(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (browser, enrolled) = app.user_with_totp().await;
    let new = format!("{}/account/backup-codes/new", app.issuer);
    // Re-authenticate with password and code (the enrolment session was password-only).
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
    assert_eq!(fresh.len(), 10);

    let pkce = pkce();
    let other = firefox();
    let login_url = app.password_then_second_factor(&other, &AuthRequest::portal(&pkce)).await;
    let response = app.submit_backup_code(&other, &login_url, &enrolled.backup_codes[5]).await;
    assert_eq!(response.status(), 401, "old codes stopped working at once");
    let response = app.submit_backup_code(&other, &login_url, &fresh[5]).await;
    assert_eq!(response.status(), 303);
}
both_backends!(a_new_set_of_backup_codes_replaces_the_old_one);

async fn changing_the_app_keeps_the_old_one_until_the_new_one_is_confirmed(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (browser, enrolled) = app.user_with_totp().await;
    let page = format!("{}/account/two-factor/app", app.issuer);
    let response = browser.get(&page).send().await.unwrap();
    let login_url = app.absolute(&location(&response));
    app.submit_password(&browser, &login_url, EMAIL, PASSWORD).await;
    app.submit_code(&browser, &login_url, &totp_code(&enrolled.setup_key, app.clock.now()), false).await;
    app.clock.advance(30);
    let (_, html) = app.get_html(&browser, &page).await;
    let new_key = between(&html, "role=\"textbox\" aria-readonly=\"true\">", "</code>").to_string();
    assert_ne!(new_key, enrolled.setup_key);

    // Not confirmed yet: the old app still works.
    let pkce = pkce();
    let other = firefox();
    let login_url = app.password_then_second_factor(&other, &AuthRequest::portal(&pkce)).await;
    assert_eq!(
        app.submit_code(&other, &login_url, &totp_code(&enrolled.setup_key, app.clock.now()), false)
            .await
            .status(),
        303
    );

    app.clock.advance(30);
    let response = app
        .post_form(&browser, &page, &csrf_token(&html), &[("code", &totp_code(&new_key, app.clock.now()))])
        .await;
    assert_eq!(location(&response), "/t/acme/account?done=app-changed");
    app.clock.advance(30);
    let other = firefox();
    let login_url = app.password_then_second_factor(&other, &AuthRequest::portal(&pkce)).await;
    assert_eq!(
        app.submit_code(&other, &login_url, &totp_code(&enrolled.setup_key, app.clock.now()), false)
            .await
            .status(),
        401
    );
    assert_eq!(
        app.submit_code(&other, &login_url, &totp_code(&new_key, app.clock.now()), false).await.status(),
        303
    );
}
both_backends!(changing_the_app_keeps_the_old_one_until_the_new_one_is_confirmed);
