//! Findings of the review of the hardening fixes (step-up, pending account sign-ins, known-device
//! cookies): a copied cookie does not gain a step-up, only a genuine form stores a pending
//! sign-in and one link names one attempt, and odd times in links and cookies are refused, not
//! a panic. Each failed before its fix.

use crate::both_backends;
use crate::helpers::*;

async fn trusted_browser(app: &TestApp, setup_key: &str) -> reqwest::Client {
    let browser = firefox();
    let pkce = pkce();
    let login_url = app.password_then_second_factor(&browser, &AuthRequest::portal(&pkce)).await;
    let response = app.submit_code(&browser, &login_url, &totp_code(setup_key, app.clock.now()), true).await;
    assert_eq!(response.status(), 303);
    app.clock.advance(30);
    browser
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("tessera-session-acme="))
        .map(|c| c.split(';').next().unwrap().to_string())
}

fn no_cookie_client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// A session cookie captured while the session was only `2fa-remembered` (e.g. stolen) becomes
/// a `2fa` cookie when its owner steps up, because the step-up keeps the cookie token.
async fn a_cookie_captured_before_a_step_up_does_not_gain_the_step_up(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (_, enrolled) = app.user_with_totp().await;
    let browser = trusted_browser(&app, &enrolled.setup_key).await;
    let pkce0 = pkce();
    let mut request = AuthRequest::portal(&pkce0);
    request.extra.push(("prompt", "login"));
    let login_url = app.open_login_page(&browser, &request).await;
    let response = app.submit_password(&browser, &login_url, EMAIL, PASSWORD).await;
    let captured = session_cookie(&response).expect("a session cookie");
    let params = redirect_params(&response, PORTAL_REDIRECT);
    let claims = app.id_token_claims(&params["code"], &pkce0, "nonce-456").await;
    assert_eq!(claims["acr"], "urn:tessera:acr:2fa-remembered");

    // The thief, with only the captured cookie, cannot get 2fa silently.
    let thief = no_cookie_client();
    let pkce1 = pkce();
    let mut silent = AuthRequest::portal(&pkce1);
    silent.extra.push(("acr_values", "urn:tessera:acr:2fa"));
    silent.extra.push(("prompt", "none"));
    let response = thief.get(app.authorize_url(&silent)).header("cookie", &captured).send().await.unwrap();
    assert_eq!(redirect_params(&response, PORTAL_REDIRECT)["error"], "interaction_required");

    let keys_page = format!("{}/account/security-keys", app.issuer);
    let response = thief.get(&keys_page).header("cookie", &captured).send().await.unwrap();
    assert_eq!(response.status(), 303, "not fresh enough for the security keys page before");

    // The owner steps up in their browser.
    app.clock.advance(60);
    let pkce2 = pkce();
    let mut step_up = AuthRequest::portal(&pkce2);
    step_up.extra.push(("acr_values", "urn:tessera:acr:2fa"));
    let response = browser.get(app.authorize_url(&step_up)).send().await.unwrap();
    let login_url = app.absolute(&location(&response));
    let response =
        app.submit_code(&browser, &login_url, &totp_code(&enrolled.setup_key, app.clock.now()), false).await;
    assert!(redirect_params(&response, PORTAL_REDIRECT).contains_key("code"));

    // The captured cookie should not carry the new level.
    let response = thief.get(&keys_page).header("cookie", &captured).send().await.unwrap();
    assert_eq!(response.status(), 303, "the captured cookie is not fresh after the step-up either");
    let pkce3 = pkce();
    let mut silent = AuthRequest::portal(&pkce3);
    silent.extra.push(("acr_values", "urn:tessera:acr:2fa"));
    silent.extra.push(("prompt", "none"));
    let response = thief.get(app.authorize_url(&silent)).header("cookie", &captured).send().await.unwrap();
    let params = redirect_params(&response, PORTAL_REDIRECT);
    if let Some(code) = params.get("code") {
        let claims = app.id_token_claims(code, &pkce3, "nonce-456").await;
        panic!("the captured pre-step-up cookie got a silent code with acr {}", claims["acr"]);
    }
}
both_backends!(a_cookie_captured_before_a_step_up_does_not_gain_the_step_up);

async fn stored_attempts(app: &TestApp) -> u64 {
    use sea_orm::{EntityTrait, PaginatorTrait};
    entity::login_attempt::Entity::find().count(&app.state.db).await.unwrap()
}

/// A POST without a valid CSRF token (to any login route) should not store a pending sign-in,
/// and one link should not yield several attempts.
async fn a_post_without_the_form_stores_no_pending_attempt(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let browser = firefox();
    let mut stored_by_junk = 0;
    for route in ["", "/consent", "/continue", "/resend", "/webauthn", "/code"] {
        let response = browser.get(format!("{}/account", app.issuer)).send().await.unwrap();
        let login_url = app.absolute(&location(&response));
        let before = stored_attempts(&app).await;
        let response =
            browser.post(format!("{login_url}{route}")).form(&[("csrf_token", "junk")]).send().await.unwrap();
        assert!(response.status().is_client_error(), "{route}: {}", response.status());
        let after = stored_attempts(&app).await;
        stored_by_junk += after - before;
    }
    // One genuine link, its issued_at written differently: not a link at all.
    let response = browser.get(format!("{}/account", app.issuer)).send().await.unwrap();
    let login_url = app.absolute(&location(&response));
    let (base, token) = login_url.rsplit_once('/').unwrap();
    for variant in [format!("+{token}"), format!("0{token}"), format!("00{token}")] {
        let (status, _) = app.get_html(&browser, &format!("{base}/{variant}")).await;
        assert_eq!(status, 400, "{variant}");
    }
    let response = app.submit_password(&browser, &login_url, EMAIL, "wrong").await;
    assert_eq!(response.status(), 401);
    assert_eq!(stored_by_junk, 0, "junk POSTs stored attempts");
    assert_eq!(stored_attempts(&app).await, 1, "the genuine form stored its attempt");
}
both_backends!(a_post_without_the_form_stores_no_pending_attempt);

/// Odd numbers in a pending link or a known-device cookie get a 400 / are ignored, not a panic
/// (i64 overflow in `now - issued_at` panics in builds with overflow checks: dev and test).
async fn extreme_times_in_links_and_cookies_do_not_panic(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let browser = firefox();
    let response = browser.get(format!("{}/account", app.issuer)).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let url = format!("{}/login/-9223372036854775808.a.b.c", app.issuer);
    let answer = browser.get(&url).send().await;
    assert_eq!(answer.expect("an answer, not a dropped connection").status(), 400);
}
both_backends!(extreme_times_in_links_and_cookies_do_not_panic);

async fn an_extreme_known_device_time_does_not_panic(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let client = no_cookie_client();
    let pkce = pkce();
    let response = client.get(app.authorize_url(&AuthRequest::portal(&pkce))).send().await.unwrap();
    let binding = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("tessera-browser="))
        .map(|c| c.split(';').next().unwrap().to_string())
        .expect("a browser binding cookie");
    let login_url = app.absolute(&location(&response));
    let html = client.get(&login_url).header("cookie", &binding).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_token(&html);
    let answer = client
        .post(&login_url)
        .header("cookie", format!("{binding}; tessera-known-acme=-9223372036854775808.a.b"))
        .form(&[("email", EMAIL), ("password", PASSWORD), ("csrf_token", &csrf)])
        .send()
        .await;
    assert_eq!(answer.expect("an answer, not a dropped connection").status(), 303);
}
both_backends!(an_extreme_known_device_time_does_not_panic);
