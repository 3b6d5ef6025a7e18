//! The administrator's recovery and lifecycle services (`tessera user sign-out | reset-2fa |
//! disable | enable | delete | show`), each checked by its effect through real HTTP.

use sea_orm::{ConnectionTrait, Statement};
use secrecy::ExposeSecret;
use tessera::admin::{self, Actor, Disabled, Enabled, FactorKind, NewClientRequest, Status};
use tessera::clock::Clock;

use crate::both_backends;
use crate::helpers::*;

const JWT_APP: &str = "api-app";
const JWT_REDIRECT: &str = "https://api-app.example.org/callback";

async fn acme(app: &TestApp) -> tessera::tenants::Tenant {
    admin::tenant(&app.state, "acme").await.unwrap()
}

async fn user_id(app: &TestApp) -> String {
    admin::show_user(&app.state, &acme(app).await, EMAIL).await.unwrap().id
}

/// Signs in with `offline_access` through `client` and returns (access token, refresh token).
async fn offline_tokens(
    app: &TestApp,
    browser: &reqwest::Client,
    client: (&str, &str, &str),
) -> (String, String) {
    let (client_id, redirect_uri, secret) = client;
    let pkce = crate::helpers::pkce();
    let mut request = AuthRequest { client_id, redirect_uri, ..AuthRequest::portal(&pkce) };
    request.scope = "openid email offline_access";
    let response = browser.get(app.authorize_url(&request)).send().await.unwrap();
    let params = if location(&response).starts_with(redirect_uri) {
        redirect_params(&response, redirect_uri)
    } else {
        app.sign_in(browser, &request).await
    };
    let response = app
        .token_request(
            &[
                ("grant_type", "authorization_code"),
                ("code", &params["code"]),
                ("redirect_uri", redirect_uri),
                ("code_verifier", &pkce.verifier),
            ],
            Some((client_id, secret)),
        )
        .await;
    assert_eq!(response.status(), 200);
    let tokens: serde_json::Value = response.json().await.unwrap();
    (
        tokens["access_token"].as_str().unwrap().to_string(),
        tokens["refresh_token"].as_str().unwrap().to_string(),
    )
}

async fn jwt_client(app: &TestApp) -> String {
    let request = NewClientRequest {
        first_party: true,
        jwt_access_tokens: true,
        ..NewClientRequest::new(JWT_APP, &[JWT_REDIRECT])
    };
    let (_, secret) = admin::create_client(&app.state, &acme(app).await, request).await.unwrap();
    secret.unwrap().expose_secret().to_string()
}

async fn refresh(app: &TestApp, client: (&str, &str), token: &str) -> reqwest::Response {
    app.token_request(&[("grant_type", "refresh_token"), ("refresh_token", token)], Some(client)).await
}

async fn introspect(app: &TestApp, client: (&str, &str), token: &str) -> serde_json::Value {
    let response = reqwest::Client::new()
        .post(format!("{}/introspect", app.issuer))
        .basic_auth(client.0, Some(client.1))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn userinfo_status(app: &TestApp, access_token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{}/userinfo", app.issuer))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The refresh token is refused with invalid_grant, the access token is inactive at
/// introspection and refused at userinfo.
async fn assert_tokens_ended(app: &TestApp, client: (&str, &str), access: &str, refresh_token: &str) {
    let response = refresh(app, client, refresh_token).await;
    assert_eq!(response.status(), 400);
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["error"], "invalid_grant");
    assert_eq!(introspect(app, client, access).await["active"], false);
    assert_eq!(userinfo_status(app, access).await, 401);
}

async fn count(app: &TestApp, table: &str, condition: &str) -> i64 {
    let db = &app.state.db;
    let sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE {condition}");
    let row =
        db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

async fn events(app: &TestApp) -> Vec<entity::audit_event::Model> {
    tessera::store::audit_events::list_for_tenant(&app.state.db, acme(app).await.id()).await.unwrap()
}

/// The answer to a wrong password, for comparison: status and message.
async fn wrong_password_answer(app: &TestApp, email: &str, password: &str) -> (u16, String) {
    let browser = browser();
    let pkce = crate::helpers::pkce();
    let login_url = app.open_login_page(&browser, &AuthRequest::portal(&pkce)).await;
    let response = app.submit_password(&browser, &login_url, email, password).await;
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn a_disabled_person_cannot_sign_in_and_their_tokens_end(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let tenant = acme(&app).await;
    let jwt_secret = jwt_client(&app).await;
    let browser = firefox();
    let (access, refresh_token) =
        offline_tokens(&app, &browser, (PORTAL, PORTAL_REDIRECT, &app.portal_secret)).await;
    let (jwt_access, jwt_refresh) =
        offline_tokens(&app, &browser, (JWT_APP, JWT_REDIRECT, &jwt_secret)).await;
    assert_eq!(jwt_access.matches('.').count(), 2, "a JWT access token");
    assert_eq!(introspect(&app, (PORTAL, &app.portal_secret), &access).await["active"], true);
    assert_eq!(introspect(&app, (JWT_APP, &jwt_secret), &jwt_access).await["active"], true);
    assert_eq!(userinfo_status(&app, &jwt_access).await, 200);

    let disabled = admin::disable_user(&app.state, &tenant, EMAIL, &Actor::CLI).await.unwrap();
    let Disabled::Disabled(done) = disabled else { panic!("{disabled:?}") };
    assert_eq!(done.signed_out.sessions, 1);
    assert!(done.signed_out.refresh_tokens >= 2 && done.signed_out.access_tokens >= 2, "{done:?}");
    assert!(matches!(
        admin::disable_user(&app.state, &tenant, EMAIL, &Actor::CLI).await.unwrap(),
        Disabled::AlreadyDisabled { .. }
    ));

    assert_tokens_ended(&app, (PORTAL, &app.portal_secret), &access, &refresh_token).await;
    assert_tokens_ended(&app, (JWT_APP, &jwt_secret), &jwt_access, &jwt_refresh).await;

    // The right password gets the answer of a wrong one.
    let (status, html) = wrong_password_answer(&app, EMAIL, PASSWORD).await;
    let (wrong_status, wrong_html) = wrong_password_answer(&app, EMAIL, "not the password").await;
    assert_eq!(status, 401);
    assert_eq!(status, wrong_status);
    assert!(html.contains("Incorrect email address or password."), "{html}");
    assert!(wrong_html.contains("Incorrect email address or password."));
    // The browser that was signed in gets no single sign-on and no account page.
    let pkce = crate::helpers::pkce();
    let response = browser.get(app.authorize_url(&AuthRequest::portal(&pkce))).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert!(location(&response).contains("/t/acme/login/"), "{}", location(&response));
    let response = browser.get(format!("{}/account", app.issuer)).send().await.unwrap();
    assert_eq!(response.status(), 303, "to the sign-in");
    let failed = events(&app).await.into_iter().rfind(|e| e.event == "login.password_failed").unwrap();
    assert!(failed.detail.contains("\"disabled\":true"), "{}", failed.detail);
    let recorded = events(&app).await.into_iter().find(|e| e.event == "user.disabled").unwrap();
    assert!(recorded.detail.contains("\"actor\":\"cli\""), "{}", recorded.detail);

    // Enabled again, the same password works.
    assert!(matches!(
        admin::enable_user(&app.state, &tenant, EMAIL, &Actor::CLI).await.unwrap(),
        Enabled::Enabled { .. }
    ));
    assert!(matches!(
        admin::enable_user(&app.state, &tenant, EMAIL, &Actor::CLI).await.unwrap(),
        Enabled::AlreadyActive { .. }
    ));
    let pkce = crate::helpers::pkce();
    let params = app.sign_in(&firefox(), &AuthRequest::portal(&pkce)).await;
    assert!(params.contains_key("code"));
}
both_backends!(a_disabled_person_cannot_sign_in_and_their_tokens_end);

async fn a_code_issued_before_disabling_is_refused(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let pkce = crate::helpers::pkce();
    let params = app.sign_in(&browser(), &AuthRequest::portal(&pkce)).await;
    admin::disable_user(&app.state, &acme(&app).await, EMAIL, &Actor::CLI).await.unwrap();
    let response = app.exchange_portal_code(&params["code"], &pkce.verifier).await;
    assert_eq!(response.status(), 400);
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["error"], "invalid_grant");
}
both_backends!(a_code_issued_before_disabling_is_refused);

async fn reset_2fa_removes_every_factor_and_the_next_sign_in_sets_one_up_again(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let tenant = acme(&app).await;
    let (browser, enrolled) = app.user_with_totp().await;
    // A sign-in with the app that remembers the browser, and an offline refresh token.
    let pkce = crate::helpers::pkce();
    let mut request = AuthRequest::portal(&pkce);
    request.scope = "openid email offline_access";
    request.extra = vec![("prompt", "login")];
    let login_url = app.password_then_second_factor(&browser, &request).await;
    let code = totp_code(&enrolled.setup_key, app.clock.now());
    let response = app.submit_code(&browser, &login_url, &code, true).await;
    let params = redirect_params(&response, PORTAL_REDIRECT);
    let tokens: serde_json::Value =
        app.exchange_portal_code(&params["code"], &pkce.verifier).await.json().await.unwrap();
    let id = user_id(&app).await;
    let of_user = format!("user_id = '{id}'");
    assert_eq!(count(&app, "trusted_devices", &of_user).await, 1);
    assert_eq!(count(&app, "backup_codes", &of_user).await, 10);
    admin::update_tenant_policy(&app.state, &tenant, Some(true), None).await.unwrap();

    let reset = admin::reset_two_factor(&app.state, &tenant, EMAIL, &Actor::CLI).await.unwrap();
    assert_eq!(reset.previous_method, Some(entity::two_factor_method::TwoFactorMethod::Totp));
    assert!(reset.signed_out.sessions >= 1);
    for table in ["totp_credentials", "backup_codes", "trusted_devices", "security_keys", "sessions"] {
        assert_eq!(count(&app, table, &of_user).await, 0, "{table}");
    }
    let overview = admin::show_user(&app.state, &tenant, EMAIL).await.unwrap();
    assert_eq!(overview.two_factor_method, None);
    assert!(overview.factors.is_empty() && overview.backup_codes_left == 0 && overview.trusted_devices == 0);
    assert_tokens_ended(
        &app,
        (PORTAL, &app.portal_secret),
        tokens["access_token"].as_str().unwrap(),
        tokens["refresh_token"].as_str().unwrap(),
    )
    .await;

    // The same browser (still holding the trusted-device cookie) signs in: the tenant requires a
    // second factor and the person has none, so they set one up.
    let pkce = crate::helpers::pkce();
    let login_url = app.password_then_second_factor(&browser, &AuthRequest::portal(&pkce)).await;
    let (_, html) = app.get_html(&browser, &login_url).await;
    assert!(html.contains("Your organisation requires two-factor authentication"), "{html}");
    let recorded = events(&app).await.into_iter().find(|e| e.event == "user.two_factor_reset").unwrap();
    assert!(recorded.detail.contains("\"method\":\"totp\"") && recorded.detail.contains("\"actor\":\"cli\""));
}
both_backends!(reset_2fa_removes_every_factor_and_the_next_sign_in_sets_one_up_again);

async fn sign_out_ends_every_session_and_token(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let browser = firefox();
    let (access, refresh_token) =
        offline_tokens(&app, &browser, (PORTAL, PORTAL_REDIRECT, &app.portal_secret)).await;
    let other_browser = firefox();
    let pkce = crate::helpers::pkce();
    app.sign_in(&other_browser, &AuthRequest::portal(&pkce)).await;
    let done = admin::sign_out(&app.state, &acme(&app).await, EMAIL, &Actor::CLI).await.unwrap();
    assert_eq!(done.signed_out.sessions, 2);
    assert_tokens_ended(&app, (PORTAL, &app.portal_secret), &access, &refresh_token).await;
    for browser in [&browser, &other_browser] {
        let response = browser.get(format!("{}/account", app.issuer)).send().await.unwrap();
        assert_eq!(response.status(), 303, "signed out");
    }
    // Not disabled: they sign in again.
    let pkce = crate::helpers::pkce();
    assert!(app.sign_in(&browser, &AuthRequest::portal(&pkce)).await.contains_key("code"));
    assert!(events(&app).await.iter().any(|e| e.event == "user.signed_out"));
}
both_backends!(sign_out_ends_every_session_and_token);

async fn delete_leaves_no_personal_data(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let tenant = acme(&app).await;
    let (browser, enrolled) = app.user_with_totp().await;
    let pkce = crate::helpers::pkce();
    let mut request = AuthRequest::portal(&pkce);
    request.scope = "openid email offline_access";
    request.extra = vec![("prompt", "login")];
    let login_url = app.password_then_second_factor(&browser, &request).await;
    let code = totp_code(&enrolled.setup_key, app.clock.now());
    let response = app.submit_code(&browser, &login_url, &code, true).await;
    let params = redirect_params(&response, PORTAL_REDIRECT);
    let tokens: serde_json::Value =
        app.exchange_portal_code(&params["code"], &pkce.verifier).await.json().await.unwrap();
    // A wrong password leaves throttle counters named after the address.
    wrong_password_answer(&app, EMAIL, "not the password").await;
    let id = user_id(&app).await;
    let of_user = format!("user_id = '{id}'");
    let email_hash = tessera::crypto::sha256_hex(EMAIL);
    assert!(count(&app, "login_throttles", &format!("key LIKE '%{email_hash}%'")).await > 0);
    assert!(count(&app, "audit_events", &format!("{of_user} AND ip IS NOT NULL")).await > 0);
    assert!(count(&app, "audit_events", &format!("{of_user} AND detail LIKE '%browser%'")).await > 0);

    let erased = admin::delete_user(&app.state, &tenant, EMAIL, &Actor::CLI).await.unwrap();
    assert_eq!(erased, id);
    assert_eq!(count(&app, "users", &format!("id = '{id}' OR email = '{EMAIL}'")).await, 0);
    for table in [
        "totp_credentials",
        "backup_codes",
        "trusted_devices",
        "security_keys",
        "sessions",
        "session_clients",
        "refresh_tokens",
        "access_tokens",
        "authorization_codes",
        "consents",
        "sms_codes",
        "login_attempts",
    ] {
        assert_eq!(count(&app, table, &of_user).await, 0, "{table}");
    }
    assert_eq!(
        count(&app, "login_throttles", &format!("key LIKE '%{email_hash}%' OR key LIKE '%{id}%'")).await,
        0
    );
    // The audit log keeps the pseudonymous id, without the client address or a browser label;
    // the email address is nowhere in it.
    assert!(count(&app, "audit_events", &of_user).await > 0);
    assert_eq!(count(&app, "audit_events", &format!("{of_user} AND ip IS NOT NULL")).await, 0);
    assert_eq!(count(&app, "audit_events", &format!("detail LIKE '%browser%' AND {of_user}")).await, 0);
    assert_eq!(count(&app, "audit_events", &format!("detail LIKE '%{EMAIL}%'")).await, 0);
    let deleted = events(&app).await.into_iter().find(|e| e.event == "user.deleted").unwrap();
    assert_eq!(deleted.user_id.as_deref(), Some(id.as_str()));

    // Their tokens are dead and the address signs in no one.
    assert_tokens_ended(
        &app,
        (PORTAL, &app.portal_secret),
        tokens["access_token"].as_str().unwrap(),
        tokens["refresh_token"].as_str().unwrap(),
    )
    .await;
    let (status, html) = wrong_password_answer(&app, EMAIL, PASSWORD).await;
    assert_eq!(status, 401);
    assert!(html.contains("Incorrect email address or password."));
    assert!(matches!(
        admin::show_user(&app.state, &tenant, EMAIL).await,
        Err(admin::LifecycleError::UnknownUser { .. })
    ));
}
both_backends!(delete_leaves_no_personal_data);

async fn only_the_named_tenants_person_is_affected(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let other = admin::create_tenant(&app.state, "other", "Other Clinic").await.unwrap();
    admin::create_user(&app.state, &other, EMAIL, None, secrecy::SecretString::from(PASSWORD)).await.unwrap();
    let browser = firefox();
    let (access, refresh_token) =
        offline_tokens(&app, &browser, (PORTAL, PORTAL_REDIRECT, &app.portal_secret)).await;

    admin::sign_out(&app.state, &other, EMAIL, &Actor::CLI).await.unwrap();
    admin::reset_two_factor(&app.state, &other, EMAIL, &Actor::CLI).await.unwrap();
    admin::disable_user(&app.state, &other, EMAIL, &Actor::CLI).await.unwrap();
    assert_eq!(admin::show_user(&app.state, &other, EMAIL).await.unwrap().status, Status::Disabled);
    admin::delete_user(&app.state, &other, EMAIL, &Actor::CLI).await.unwrap();

    // Acme's person with the same address is untouched: tokens live, session lives, signs in.
    assert_eq!(introspect(&app, (PORTAL, &app.portal_secret), &access).await["active"], true);
    assert_eq!(refresh(&app, (PORTAL, &app.portal_secret), &refresh_token).await.status(), 200);
    let (status, _) = app.get_html(&browser, &format!("{}/account", app.issuer)).await;
    assert_eq!(status, 200);
    let pkce = crate::helpers::pkce();
    assert!(app.sign_in(&firefox(), &AuthRequest::portal(&pkce)).await.contains_key("code"));
    assert_eq!(admin::show_user(&app.state, &acme(&app).await, EMAIL).await.unwrap().status, Status::Active);
}
both_backends!(only_the_named_tenants_person_is_affected);

async fn show_reports_status_factors_sessions_and_last_sign_in(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let tenant = acme(&app).await;
    let before = admin::show_user(&app.state, &tenant, EMAIL).await.unwrap();
    assert_eq!(before.status, Status::Active);
    assert!(!before.email_verified && before.last_sign_in.is_none() && before.sessions.is_empty());
    let (_browser, _enrolled) = app.user_with_totp().await;
    let after = admin::show_user(&app.state, &tenant, EMAIL).await.unwrap();
    assert_eq!(after.factors.len(), 1);
    assert_eq!(after.factors[0].kind, FactorKind::AuthenticatorApp);
    assert!(after.factors[0].added_at.is_some() && after.factors[0].last_used_at.is_some());
    assert_eq!(after.backup_codes_left, 10);
    assert_eq!(after.sessions.len(), 1);
    assert_eq!(after.sessions[0].amr, vec!["pwd".to_string()]);
    assert!(after.last_sign_in.is_some());
    // Never a secret: the JSON form holds no seed and no code hash.
    let json = serde_json::to_string(&after).unwrap();
    assert!(!json.contains("secret") && !json.contains("hash"), "{json}");
    admin::disable_user(&app.state, &tenant, EMAIL, &Actor::CLI).await.unwrap();
    let disabled = admin::show_user(&app.state, &tenant, EMAIL).await.unwrap();
    assert_eq!(disabled.status, Status::Disabled);
    assert!(disabled.disabled_at.is_some() && disabled.sessions.is_empty());
    assert!(matches!(
        admin::show_user(&app.state, &tenant, "nobody@example.org").await,
        Err(admin::LifecycleError::UnknownUser { .. })
    ));
}
both_backends!(show_reports_status_factors_sessions_and_last_sign_in);

/// A session or token that outlived the change (a sign-in that finished while the person was being
/// disabled) still gets nothing: every check reads the person's status too.
async fn a_session_or_token_that_escaped_the_change_still_gets_nothing(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let browser = firefox();
    let (access, refresh_token) =
        offline_tokens(&app, &browser, (PORTAL, PORTAL_REDIRECT, &app.portal_secret)).await;
    let pkce = crate::helpers::pkce();
    let response = browser.get(app.authorize_url(&AuthRequest::portal(&pkce))).send().await.unwrap();
    let code = redirect_params(&response, PORTAL_REDIRECT);
    // Disabled behind the service's back: sessions, codes and tokens are all still there. What the
    // disable's transaction does record is the person in the list of revocations, which covers
    // self-contained access tokens stored just after it (`store::token_revocations::record_user`).
    let id = user_id(&app).await;
    let db = &app.state.db;
    let sql = format!("UPDATE users SET disabled_at = 1 WHERE id = '{id}'");
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
    let now = app.clock.now();
    let tenant = acme(&app).await;
    tessera::store::token_revocations::record_user(db, tenant.id(), &id, now, now + 600).await.unwrap();

    let response = app.exchange_portal_code(&code["code"], &pkce.verifier).await;
    assert_eq!(response.status(), 400, "the code");
    assert_tokens_ended(&app, (PORTAL, &app.portal_secret), &access, &refresh_token).await;
    let pkce = crate::helpers::pkce();
    let response = browser.get(app.authorize_url(&AuthRequest::portal(&pkce))).send().await.unwrap();
    assert!(location(&response).contains("/t/acme/login/"), "no single sign-on: {}", location(&response));
    let response = browser.get(format!("{}/account", app.issuer)).send().await.unwrap();
    assert_eq!(response.status(), 303, "no account page");
}
both_backends!(a_session_or_token_that_escaped_the_change_still_gets_nothing);

async fn disabling_tells_the_apps_by_back_channel_logout(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let received: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let seen = received.clone();
    let receiver = axum::Router::new().route(
        "/backchannel",
        axum::routing::post(move |body: String| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(body);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://localhost:{}/backchannel", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, receiver).await });
    let tenant = acme(&app).await;
    let request = NewClientRequest {
        first_party: true,
        backchannel_logout_uri: Some(uri),
        ..NewClientRequest::new("bcl-app", &["https://bcl.example.org/cb"])
    };
    admin::create_client(&app.state, &tenant, request).await.unwrap();
    let pkce = crate::helpers::pkce();
    let request = AuthRequest {
        client_id: "bcl-app",
        redirect_uri: "https://bcl.example.org/cb",
        ..AuthRequest::portal(&pkce)
    };
    app.sign_in(&browser(), &request).await;

    admin::disable_user(&app.state, &tenant, EMAIL, &Actor::CLI).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while received.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let bodies = received.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let token = bodies[0].strip_prefix("logout_token=").unwrap();
    let claims = crate::refresh_and_tokens::decode_jwt(token);
    assert_eq!(claims["sub"], user_id(&app).await.as_str());
    assert_eq!(claims["aud"], "bcl-app");
}
both_backends!(disabling_tells_the_apps_by_back_channel_logout);

/// The last step of every sign-in checks too: someone disabled between the password and the code
/// (here behind the service's back, so the attempt survives) gets no session.
async fn a_sign_in_under_way_gets_no_session_once_disabled(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (browser, enrolled) = app.user_with_totp().await;
    let pkce = crate::helpers::pkce();
    let mut request = AuthRequest::portal(&pkce);
    request.extra = vec![("prompt", "login")];
    let login_url = app.password_then_second_factor(&browser, &request).await;
    let id = user_id(&app).await;
    let db = &app.state.db;
    let sql = format!("UPDATE users SET disabled_at = 1 WHERE id = '{id}'");
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
    let sessions_before = count(&app, "sessions", &format!("user_id = '{id}'")).await;
    let code = totp_code(&enrolled.setup_key, app.clock.now());
    let response = app.submit_code(&browser, &login_url, &code, false).await;
    assert_ne!(response.status(), 303, "not signed in");
    assert_eq!(count(&app, "sessions", &format!("user_id = '{id}'")).await, sessions_before);
    assert!(!events(&app).await.iter().rev().take(1).any(|e| e.event == "login.succeeded"));
}
both_backends!(a_sign_in_under_way_gets_no_session_once_disabled);

/// A session or refresh token that escaped a disable (made in
/// the window between a sign-in's or grant's `disabled_at` check and its insert, after the
/// disable's transaction ended every sign-in; simulated here as in the test above) is only
/// shut out while the person stays disabled: enabling them revives it.
async fn what_escaped_a_disable_stays_ended_after_enable(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let browser = firefox();
    let (_access, refresh_token) =
        offline_tokens(&app, &browser, (PORTAL, PORTAL_REDIRECT, &app.portal_secret)).await;
    let id = user_id(&app).await;
    let db = &app.state.db;
    let sql = format!("UPDATE users SET disabled_at = 1 WHERE id = '{id}'");
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
    let response = refresh(&app, (PORTAL, &app.portal_secret), &refresh_token).await;
    assert_eq!(response.status(), 400, "shut out while disabled");

    let enabled = admin::enable_user(&app.state, &acme(&app).await, EMAIL, &Actor::CLI).await.unwrap();
    assert!(matches!(enabled, Enabled::Enabled { .. }));
    let pkce = crate::helpers::pkce();
    let response = browser.get(app.authorize_url(&AuthRequest::portal(&pkce))).send().await.unwrap();
    let sso = !location(&response).contains("/t/acme/login/");
    let response = refresh(&app, (PORTAL, &app.portal_secret), &refresh_token).await;
    let refreshed = response.status() == 200;
    assert!(!sso && !refreshed, "revived by enable: single sign-on {sso}, refresh {refreshed}");
}
both_backends!(what_escaped_a_disable_stays_ended_after_enable);
