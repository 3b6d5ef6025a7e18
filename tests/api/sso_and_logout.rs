//! Single sign-on across a tenant's clients, max_age, and RP-initiated logout.

use tessera::admin::{self, NewClientRequest};

use crate::both_backends;
use crate::helpers::*;
use crate::refresh_and_tokens::decode_jwt;

const CLINIC: &str = "clinic-app";
const CLINIC_REDIRECT: &str = "https://clinic.example.org/cb";

/// A second first-party client of the tenant; returns its secret.
async fn second_client(app: &TestApp) -> String {
    use secrecy::ExposeSecret;
    let tenant = admin::tenant(&app.state, "acme").await.unwrap();
    let request = NewClientRequest { first_party: true, ..NewClientRequest::new(CLINIC, &[CLINIC_REDIRECT]) };
    let (_, secret) = admin::create_client(&app.state, &tenant, request).await.unwrap();
    secret.unwrap().expose_secret().to_string()
}

async fn a_second_client_gets_a_code_without_a_password(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let secret = second_client(&app).await;
    let browser = browser();
    let pkce = pkce();
    let first = app.sign_in(&browser, &AuthRequest::portal(&pkce)).await;
    let portal_tokens: serde_json::Value =
        app.exchange_portal_code(&first["code"], &pkce.verifier).await.json().await.unwrap();

    app.clock.advance(10);
    let request =
        AuthRequest { client_id: CLINIC, redirect_uri: CLINIC_REDIRECT, ..AuthRequest::portal(&pkce) };
    let response = browser.get(app.authorize_url(&request)).send().await.unwrap();
    let params = redirect_params(&response, CLINIC_REDIRECT);
    let response = app
        .token_request(
            &[
                ("grant_type", "authorization_code"),
                ("code", &params["code"]),
                ("redirect_uri", CLINIC_REDIRECT),
                ("code_verifier", &pkce.verifier),
            ],
            Some((CLINIC, &secret)),
        )
        .await;
    let clinic_tokens: serde_json::Value = response.json().await.unwrap();
    let portal = decode_jwt(portal_tokens["id_token"].as_str().unwrap());
    let clinic = decode_jwt(clinic_tokens["id_token"].as_str().unwrap());
    assert_eq!(clinic["aud"], CLINIC);
    assert_eq!(clinic["sub"], portal["sub"]);
    assert_eq!(clinic["sid"], portal["sid"], "one session");
    assert_eq!(clinic["auth_time"], portal["auth_time"]);
}
both_backends!(a_second_client_gets_a_code_without_a_password);

async fn max_age_asks_for_the_password_once_it_has_passed(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let browser = browser();
    let pkce = pkce();
    app.sign_in(&browser, &AuthRequest::portal(&pkce)).await;
    let mut request = AuthRequest::portal(&pkce);
    request.extra.push(("max_age", "1"));
    let response = browser.get(app.authorize_url(&request)).send().await.unwrap();
    assert!(redirect_params(&response, PORTAL_REDIRECT).contains_key("code"), "within max_age");
    app.clock.advance(2);
    let response = browser.get(app.authorize_url(&request)).send().await.unwrap();
    assert!(location(&response).contains("/login/"), "max_age passed: sign in again");
    let mut silent = AuthRequest::portal(&pkce);
    silent.extra.push(("max_age", "1"));
    silent.extra.push(("prompt", "none"));
    let response = browser.get(app.authorize_url(&silent)).send().await.unwrap();
    assert_eq!(redirect_params(&response, PORTAL_REDIRECT)["error"], "login_required");
}
both_backends!(max_age_asks_for_the_password_once_it_has_passed);

async fn logout_with_id_token_hint_ends_sso_and_returns_to_the_client(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let browser = browser();
    let pkce = pkce();
    let mut request = AuthRequest::portal(&pkce);
    request.scope = "openid offline_access";
    let params = app.sign_in(&browser, &request).await;
    let tokens: serde_json::Value =
        app.exchange_portal_code(&params["code"], &pkce.verifier).await.json().await.unwrap();
    let id_token = tokens["id_token"].as_str().unwrap();

    let url = format!(
        "{}/logout?id_token_hint={id_token}&post_logout_redirect_uri={}&state=bye",
        app.issuer,
        url::form_urlencoded::byte_serialize(PORTAL_LOGOUT_REDIRECT.as_bytes()).collect::<String>()
    );
    let response = browser.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), format!("{PORTAL_LOGOUT_REDIRECT}?state=bye"));

    // SSO has ended: prompt=none now answers login_required.
    let mut silent = AuthRequest::portal(&pkce);
    silent.extra.push(("prompt", "none"));
    let response = browser.get(app.authorize_url(&silent)).send().await.unwrap();
    assert_eq!(redirect_params(&response, PORTAL_REDIRECT)["error"], "login_required");
    // offline_access grants survive logout, as OIDC intends.
    let response = app
        .token_request(
            &[("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap())],
            Some((PORTAL, &app.portal_secret)),
        )
        .await;
    assert_eq!(response.status(), 200);
}
both_backends!(logout_with_id_token_hint_ends_sso_and_returns_to_the_client);

async fn logout_without_proof_asks_for_confirmation_and_checks_redirects(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let browser = browser();
    let pkce = pkce();
    app.sign_in(&browser, &AuthRequest::portal(&pkce)).await;

    // An unregistered post-logout redirect is refused and nothing happens.
    let evil =
        format!("{}/logout?client_id={PORTAL}&post_logout_redirect_uri=https://evil.example/", app.issuer);
    let response = browser.get(&evil).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
    // A forged hint too.
    let forged = format!("{}/logout?id_token_hint=eyJhbGciOiJSUzI1NiJ9.e30.c2ln", app.issuer);
    assert_eq!(browser.get(&forged).send().await.unwrap().status(), 400);

    // A bare link asks first; the session lives until the person confirms.
    let response =
        browser.get(format!("{}/logout?client_id={PORTAL}&state=s1", app.issuer)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Do you want to sign out?"));
    let still_in = browser.get(app.authorize_url(&AuthRequest::portal(&pkce))).send().await.unwrap();
    assert!(redirect_params(&still_in, PORTAL_REDIRECT).contains_key("code"));
    let response = app
        .post_form(
            &browser,
            &format!("{}/logout/confirm", app.issuer),
            &csrf_token(&html),
            &[("client_id", PORTAL)],
        )
        .await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("You are signed out."));
    let response = browser.get(app.authorize_url(&AuthRequest::portal(&pkce))).send().await.unwrap();
    assert!(location(&response).contains("/login/"), "signed out");
}
both_backends!(logout_without_proof_asks_for_confirmation_and_checks_redirects);

async fn id_token_hint_names_who_the_client_means(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let browser = browser();
    let pkce = pkce();
    let params = app.sign_in(&browser, &AuthRequest::portal(&pkce)).await;
    let tokens: serde_json::Value =
        app.exchange_portal_code(&params["code"], &pkce.verifier).await.json().await.unwrap();
    let hint = tokens["id_token"].as_str().unwrap().to_string();

    // The session's own person: answered silently.
    let mut same = AuthRequest::portal(&pkce);
    same.extra.push(("prompt", "none"));
    same.extra.push(("id_token_hint", &hint));
    let response = browser.get(app.authorize_url(&same)).send().await.unwrap();
    assert!(redirect_params(&response, PORTAL_REDIRECT).contains_key("code"));

    // Someone else's token: not this session.
    let tenant = admin::tenant(&app.state, "acme").await.unwrap();
    admin::create_user(
        &app.state,
        &tenant,
        "other@example.org",
        None,
        secrecy::SecretString::from("another password"),
    )
    .await
    .unwrap();
    let other_browser = crate::helpers::browser();
    let login_url = app.open_login_page(&other_browser, &AuthRequest::portal(&pkce)).await;
    let response =
        app.submit_password(&other_browser, &login_url, "other@example.org", "another password").await;
    assert!(redirect_params(&response, PORTAL_REDIRECT).contains_key("code"));
    let response = other_browser.get(app.authorize_url(&same)).send().await.unwrap();
    assert_eq!(redirect_params(&response, PORTAL_REDIRECT)["error"], "login_required");

    // A forged hint is refused.
    let mut forged = AuthRequest::portal(&pkce);
    forged.extra.push(("id_token_hint", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"));
    let response = browser.get(app.authorize_url(&forged)).send().await.unwrap();
    assert_eq!(redirect_params(&response, PORTAL_REDIRECT)["error"], "invalid_request");
}
both_backends!(id_token_hint_names_who_the_client_means);

async fn max_age_zero_always_asks_again(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let browser = browser();
    let pkce = pkce();
    app.sign_in(&browser, &AuthRequest::portal(&pkce)).await;
    app.clock.advance(1);
    let mut request = AuthRequest::portal(&pkce);
    request.extra.push(("max_age", "0"));
    let response = browser.get(app.authorize_url(&request)).send().await.unwrap();
    assert!(location(&response).contains("/login/"));
}
both_backends!(max_age_zero_always_asks_again);

/// `max_age=0` asks for the password even when the last sign-in was in this very second.
async fn max_age_zero_asks_again_in_the_same_second(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let browser = browser();
    let pkce = pkce();
    app.sign_in(&browser, &AuthRequest::portal(&pkce)).await;
    let mut request = AuthRequest::portal(&pkce);
    request.extra.push(("max_age", "0"));
    let response = browser.get(app.authorize_url(&request)).send().await.unwrap();
    assert!(location(&response).contains("/login/"), "went to {}", location(&response));
}
both_backends!(max_age_zero_asks_again_in_the_same_second);

async fn housekeeping_removes_what_can_no_longer_matter(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let browser = browser();
    let pkce = pkce();
    let params = app.sign_in(&browser, &AuthRequest::portal(&pkce)).await;
    assert_eq!(app.exchange_portal_code(&params["code"], &pkce.verifier).await.status(), 200);
    let failing = crate::helpers::browser();
    let login_url = app.open_login_page(&failing, &AuthRequest::portal(&pkce)).await;
    app.submit_password(&failing, &login_url, "nobody@example.org", "wrong password!").await;
    let settings = &app.state.settings;
    let purge = |now| {
        tessera::store::housekeeping::purge(
            &app.state.db,
            now,
            settings.sessions.lifetime_seconds,
            settings.throttle.forget_after_seconds,
        )
    };
    // Nothing live goes.
    let nothing = purge(app.clock.now()).await.unwrap();
    assert_eq!(nothing, tessera::store::housekeeping::Purged::default());
    // Two days later the session, the code, the token, the attempt and the throttle are gone.
    app.clock.advance(2 * 86_400 + 1);
    let purged = purge(app.clock.now()).await.unwrap();
    assert_eq!(purged.sessions, 1);
    assert_eq!(purged.authorization_codes, 1);
    assert_eq!(purged.access_tokens, 1);
    assert_eq!(purged.login_attempts, 1);
    assert_eq!(purged.throttles, 3, "the address, account-at-address and account counters");
    // And signing in works as before.
    let params = app.sign_in(&crate::helpers::browser(), &AuthRequest::portal(&pkce)).await;
    assert!(params.contains_key("code"));
}
both_backends!(housekeeping_removes_what_can_no_longer_matter);
