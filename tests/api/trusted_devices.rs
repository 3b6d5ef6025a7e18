//! "Skip this step for one month on this device", and how acr_values and step-up treat it.

use crate::both_backends;
use crate::helpers::*;

/// Signs in with a code and ticks the box; returns the browser, now a trusted device.
async fn trusted_browser(app: &TestApp, setup_key: &str) -> reqwest::Client {
    let browser = firefox();
    let pkce = pkce();
    let login_url = app.password_then_second_factor(&browser, &AuthRequest::portal(&pkce)).await;
    let response = app.submit_code(&browser, &login_url, &totp_code(setup_key, app.clock.now()), true).await;
    assert_eq!(response.status(), 303);
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("tessera-device-acme="))
        .expect("a trusted-device cookie");
    assert!(cookie.contains("Max-Age=2592000") && cookie.contains("HttpOnly"), "{cookie}");
    app.clock.advance(30);
    browser
}

/// A new authorization request with prompt=login (password again, session ignored).
fn login_again(pkce: &Pkce) -> AuthRequest<'_> {
    let mut request = AuthRequest::portal(pkce);
    request.extra.push(("prompt", "login"));
    request
}

async fn a_trusted_device_skips_the_step_and_says_so(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (_, enrolled) = app.user_with_totp().await;
    let browser = trusted_browser(&app, &enrolled.setup_key).await;
    let pkce = pkce();
    let login_url = app.open_login_page(&browser, &login_again(&pkce)).await;
    let response = app.submit_password(&browser, &login_url, EMAIL, PASSWORD).await;
    let params = redirect_params(&response, PORTAL_REDIRECT);
    let claims = app.id_token_claims(&params["code"], &pkce, "nonce-456").await;
    assert_eq!(claims["amr"], serde_json::json!(["pwd"]));
    assert_eq!(claims["acr"], "urn:tessera:acr:2fa-remembered");

    // The account page lists it.
    let (_, html) = app.get_html(&browser, &format!("{}/account", app.issuer)).await;
    assert!(html.contains("Firefox on Linux"), "{html}");

    // After 30 days the device is no longer trusted.
    app.clock.advance(30 * 86_400 + 1);
    let login_url = app.open_login_page(&browser, &login_again(&pkce)).await;
    let response = app.submit_password(&browser, &login_url, EMAIL, PASSWORD).await;
    assert_eq!(app.absolute(&location(&response)), login_url, "the second factor is asked again");
}
both_backends!(a_trusted_device_skips_the_step_and_says_so);

async fn acr_values_2fa_forces_the_step_on_a_trusted_device(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (_, enrolled) = app.user_with_totp().await;
    let browser = trusted_browser(&app, &enrolled.setup_key).await;
    let pkce = pkce();
    let mut request = login_again(&pkce);
    request.extra.push(("acr_values", "urn:tessera:acr:2fa"));
    let login_url = app.password_then_second_factor(&browser, &request).await;
    let (_, html) = app.get_html(&browser, &login_url).await;
    assert!(!html.contains("Skip this step"), "no trusted-device offer when a real factor is required");
    let response =
        app.submit_code(&browser, &login_url, &totp_code(&enrolled.setup_key, app.clock.now()), false).await;
    let params = redirect_params(&response, PORTAL_REDIRECT);
    let claims = app.id_token_claims(&params["code"], &pkce, "nonce-456").await;
    assert_eq!(claims["acr"], "urn:tessera:acr:2fa");
}
both_backends!(acr_values_2fa_forces_the_step_on_a_trusted_device);

async fn a_remembered_session_steps_up_without_the_password(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (_, enrolled) = app.user_with_totp().await;
    let browser = trusted_browser(&app, &enrolled.setup_key).await;
    let pkce = pkce();
    // A session of acr 2fa-remembered.
    let login_url = app.open_login_page(&browser, &login_again(&pkce)).await;
    let response = app.submit_password(&browser, &login_url, EMAIL, PASSWORD).await;
    assert!(redirect_params(&response, PORTAL_REDIRECT).contains_key("code"));

    // Without acr_values the session is reused as it is.
    let response = browser.get(app.authorize_url(&AuthRequest::portal(&pkce))).send().await.unwrap();
    assert!(redirect_params(&response, PORTAL_REDIRECT).contains_key("code"));
    // prompt=none cannot step up.
    let mut silent = AuthRequest::portal(&pkce);
    silent.extra.push(("acr_values", "urn:tessera:acr:2fa"));
    silent.extra.push(("prompt", "none"));
    let response = browser.get(app.authorize_url(&silent)).send().await.unwrap();
    assert_eq!(redirect_params(&response, PORTAL_REDIRECT)["error"], "interaction_required");
    // Asking for 2fa, eleven minutes on, goes straight to the second factor: no password, no
    // downgrade.
    app.clock.advance(11 * 60);
    let mut request = AuthRequest::portal(&pkce);
    request.extra.push(("acr_values", "urn:tessera:acr:2fa"));
    let response = browser.get(app.authorize_url(&request)).send().await.unwrap();
    let login_url = app.absolute(&location(&response));
    let (_, html) = app.get_html(&browser, &login_url).await;
    assert!(html.contains(">Verification code</label>") && !html.contains(">Password</label>"));
    let response =
        app.submit_code(&browser, &login_url, &totp_code(&enrolled.setup_key, app.clock.now()), false).await;
    let params = redirect_params(&response, PORTAL_REDIRECT);
    let claims = app.id_token_claims(&params["code"], &pkce, "nonce-456").await;
    assert_eq!(claims["acr"], "urn:tessera:acr:2fa");

    // A step-up proved the factor, not the password: sensitive account changes still ask for it.
    let response = browser.get(format!("{}/account/two-factor/off", app.issuer)).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let login_url = app.absolute(&location(&response));
    let (_, html) = app.get_html(&browser, &login_url).await;
    assert!(html.contains(">Password</label>"), "{html}");
}
both_backends!(a_remembered_session_steps_up_without_the_password);

/// A step-up raises the session it started from (under a new cookie token): the same end, the same
/// `auth_time` (the password was typed then, not now), and no second session beside it.
async fn a_step_up_neither_lengthens_the_session_nor_moves_the_password(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (_, enrolled) = app.user_with_totp().await;
    let browser = trusted_browser(&app, &enrolled.setup_key).await;
    let pkce = pkce();
    let login_url = app.open_login_page(&browser, &login_again(&pkce)).await;
    let response = app.submit_password(&browser, &login_url, EMAIL, PASSWORD).await;
    let params = redirect_params(&response, PORTAL_REDIRECT);
    let signed_in = app.id_token_claims(&params["code"], &pkce, "nonce-456").await;
    assert_eq!(signed_in["acr"], "urn:tessera:acr:2fa-remembered");
    let lifetime = app.state.settings.sessions.lifetime_seconds;

    // Most of the session's life later, a client asks for a real second factor.
    app.clock.advance(lifetime - 600);
    let pkce = crate::helpers::pkce();
    let mut request = AuthRequest::portal(&pkce);
    request.extra.push(("acr_values", "urn:tessera:acr:2fa"));
    let response = browser.get(app.authorize_url(&request)).send().await.unwrap();
    let login_url = app.absolute(&location(&response));
    let response =
        app.submit_code(&browser, &login_url, &totp_code(&enrolled.setup_key, app.clock.now()), false).await;
    let new_session_cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|c| c.to_str().unwrap().starts_with("tessera-session"));
    assert!(new_session_cookie, "the raised session gets a new cookie token");
    let params = redirect_params(&response, PORTAL_REDIRECT);
    let stepped_up = app.id_token_claims(&params["code"], &pkce, "nonce-456").await;
    assert_eq!(stepped_up["acr"], "urn:tessera:acr:2fa");
    assert_eq!(stepped_up["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
    assert_eq!(stepped_up["auth_time"], signed_in["auth_time"], "the password was typed then, not now");

    // The session still ends when it always would have: 2fa now asks for the password again.
    app.clock.advance(601);
    let pkce = crate::helpers::pkce();
    let mut request = AuthRequest::portal(&pkce);
    request.extra.push(("acr_values", "urn:tessera:acr:2fa"));
    let login_url = app.open_login_page(&browser, &request).await;
    let (_, html) = app.get_html(&browser, &login_url).await;
    assert!(html.contains(">Password</label>"), "the session ended on time: {html}");
}
both_backends!(a_step_up_neither_lengthens_the_session_nor_moves_the_password);

async fn forgetting_devices_and_changing_the_password_end_the_trust(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (_, enrolled) = app.user_with_totp().await;
    let browser = trusted_browser(&app, &enrolled.setup_key).await;

    // "Forget this device" on the account page.
    let (_, html) = app.get_html(&browser, &format!("{}/account", app.issuer)).await;
    let forget = between(&html, "<form method=\"post\" action=\"", "\"").replace("&#x2f;", "/");
    assert!(forget.ends_with("/forget"), "{forget}");
    let response =
        app.post_form(&browser, &format!("{}{forget}", app.address), &csrf_token(&html), &[]).await;
    assert_eq!(response.status(), 303);
    let (_, html) = app.get_html(&browser, &app.absolute(&location(&response))).await;
    assert!(html.contains("The device was forgotten") && html.contains("You have no trusted devices"));
    let pkce = pkce();
    let login_url = app.open_login_page(&browser, &login_again(&pkce)).await;
    let response = app.submit_password(&browser, &login_url, EMAIL, PASSWORD).await;
    assert_eq!(app.absolute(&location(&response)), login_url, "asked for the second factor again");

    // Trusted again, then the password changes: the trust ends.
    app.clock.advance(30);
    let browser = trusted_browser(&app, &enrolled.setup_key).await;
    let (_, html) = app.get_html(&browser, &format!("{}/account/password", app.issuer)).await;
    let response = app
        .post_form(
            &browser,
            &format!("{}/account/password", app.issuer),
            &csrf_token(&html),
            &[("current_password", PASSWORD), ("new_password", "a brand new passphrase")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let login_url = app.open_login_page(&browser, &login_again(&pkce)).await;
    let response = app.submit_password(&browser, &login_url, EMAIL, "a brand new passphrase").await;
    assert_eq!(
        app.absolute(&location(&response)),
        login_url,
        "the device was forgotten with the password change"
    );
}
both_backends!(forgetting_devices_and_changing_the_password_end_the_trust);

async fn an_essential_acr_claim_forces_the_step_like_acr_values(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (_, enrolled) = app.user_with_totp().await;
    let browser = trusted_browser(&app, &enrolled.setup_key).await;
    let pkce = pkce();
    let mut request = login_again(&pkce);
    let claims = r#"{"id_token":{"acr":{"essential":true,"values":["urn:tessera:acr:2fa"]}}}"#;
    request.extra.push(("claims", claims));
    let login_url = app.password_then_second_factor(&browser, &request).await;
    let response =
        app.submit_code(&browser, &login_url, &totp_code(&enrolled.setup_key, app.clock.now()), false).await;
    let params = redirect_params(&response, PORTAL_REDIRECT);
    let claims = app.id_token_claims(&params["code"], &pkce, "nonce-456").await;
    assert_eq!(claims["acr"], "urn:tessera:acr:2fa");

    let mut broken = AuthRequest::portal(&pkce);
    broken.extra.push(("claims", "{not json"));
    let response = browser.get(app.authorize_url(&broken)).send().await.unwrap();
    assert_eq!(redirect_params(&response, PORTAL_REDIRECT)["error"], "invalid_request");
}
both_backends!(an_essential_acr_claim_forces_the_step_like_acr_values);

/// The account page's per-row button keeps the page word as its accessible name; the browser and
/// dates of its row are its description.
async fn the_forget_button_is_named_by_the_page_word(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (_, enrolled) = app.user_with_totp().await;
    let browser = trusted_browser(&app, &enrolled.setup_key).await;
    let (_, html) = app.get_html(&browser, &format!("{}/account", app.issuer)).await;
    let button =
        html.split("<button").find(|b| b.contains(">Forget this device</button>")).expect("the button");
    assert!(!button.contains("aria-label"), "the accessible name is the button's text: {button}");
    let about = between(button, "aria-describedby=\"", "\"");
    let description = between(&html, &format!("id=\"{about}\""), "</");
    assert!(description.contains("Firefox"), "the row's browser describes the button: {description}");
    assert!(description.contains("first used") && description.contains("expires"), "{description}");
}
both_backends!(the_forget_button_is_named_by_the_page_word);
