//! Refresh tokens (rotation, reuse detection), client_credentials, revocation and introspection.

use crate::both_backends;
use crate::helpers::*;

async fn tokens_with_offline_access(app: &TestApp) -> serde_json::Value {
    let pkce = pkce();
    let mut request = AuthRequest::portal(&pkce);
    request.scope = "openid email offline_access";
    let params = app.sign_in(&browser(), &request).await;
    let response = app.exchange_portal_code(&params["code"], &pkce.verifier).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.token_request(
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
        Some((PORTAL, &app.portal_secret)),
    )
    .await
}

async fn introspect(app: &TestApp, token: &str) -> serde_json::Value {
    let response = app.post_client(&format!("{}/introspect", app.issuer), &[("token", token)]).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn refresh_tokens_rotate_and_a_reused_one_kills_the_family(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let first = tokens_with_offline_access(&app).await;
    let refresh_1 =
        first["refresh_token"].as_str().expect("offline_access gives a refresh token").to_string();

    app.clock.advance(60);
    let response = refresh(&app, &refresh_1).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let second: serde_json::Value = response.json().await.unwrap();
    let refresh_2 = second["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(refresh_1, refresh_2, "rotated");
    let id_token = second["id_token"].as_str().expect("an ID token on refresh");
    let claims = decode_jwt(id_token);
    let original = decode_jwt(first["id_token"].as_str().unwrap());
    assert_eq!(claims["auth_time"], original["auth_time"], "auth_time stays the real sign-in");
    assert_eq!(claims["sub"], original["sub"]);
    assert_eq!(claims["amr"], original["amr"]);
    assert!(claims.get("nonce").is_none());

    // The old one again, after the retry grace: reuse. The whole family dies, including the
    // newest tokens.
    app.clock.advance(app.state.settings.tokens.refresh_reuse_grace_seconds + 1);
    let response = refresh(&app, &refresh_1).await;
    assert_eq!(response.status(), 400);
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["error"], "invalid_grant");
    assert_eq!(refresh(&app, &refresh_2).await.status(), 400, "the family is revoked");
    assert_eq!(introspect(&app, second["access_token"].as_str().unwrap()).await["active"], false);
    assert_eq!(introspect(&app, first["access_token"].as_str().unwrap()).await["active"], false);
}
both_backends!(refresh_tokens_rotate_and_a_reused_one_kills_the_family);

async fn refresh_tokens_only_with_offline_access_and_not_for_other_clients(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let pkce = pkce();
    let params = app.sign_in(&browser(), &AuthRequest::portal(&pkce)).await;
    let tokens: serde_json::Value =
        app.exchange_portal_code(&params["code"], &pkce.verifier).await.json().await.unwrap();
    assert!(tokens.get("refresh_token").is_none(), "no offline_access, no refresh token");

    let tokens = tokens_with_offline_access(&app).await;
    let stolen = tokens["refresh_token"].as_str().unwrap();
    let response = app
        .token_request(
            &[("grant_type", "refresh_token"), ("refresh_token", stolen), ("client_id", MOBILE)],
            None,
        )
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["error"], "invalid_grant");
    // Narrowing the scope works; widening it does not.
    let response = app
        .token_request(
            &[("grant_type", "refresh_token"), ("refresh_token", stolen), ("scope", "openid profile")],
            Some((PORTAL, &app.portal_secret)),
        )
        .await;
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["error"], "invalid_scope");
    let response = app
        .token_request(
            &[("grant_type", "refresh_token"), ("refresh_token", stolen), ("scope", "openid")],
            Some((PORTAL, &app.portal_secret)),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["scope"], "openid");
}
both_backends!(refresh_tokens_only_with_offline_access_and_not_for_other_clients);

async fn refresh_tokens_expire_when_idle(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let tokens = tokens_with_offline_access(&app).await;
    app.clock.advance(14 * 86_400 + 1);
    let response = refresh(&app, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(response.status(), 400);
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["error"], "invalid_grant");
}
both_backends!(refresh_tokens_expire_when_idle);

async fn client_credentials_and_introspection(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let response = app
        .token_request(
            &[("grant_type", "client_credentials"), ("scope", "records:read")],
            Some((PORTAL, &app.portal_secret)),
        )
        .await;
    assert_eq!(response.status(), 200);
    let tokens: serde_json::Value = response.json().await.unwrap();
    assert!(tokens.get("id_token").is_none() && tokens.get("refresh_token").is_none());
    assert_eq!(tokens["scope"], "records:read");
    let answer = introspect(&app, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["client_id"], PORTAL);
    assert_eq!(answer["scope"], "records:read");
    assert!(answer.get("sub").is_none());

    let response = app
        .token_request(
            &[("grant_type", "client_credentials"), ("scope", "records:write")],
            Some((PORTAL, &app.portal_secret)),
        )
        .await;
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["error"], "invalid_scope");
    let response =
        app.token_request(&[("grant_type", "client_credentials"), ("client_id", MOBILE)], None).await;
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["error"], "unauthorized_client");
    // Introspection needs client authentication.
    let anonymous = reqwest::Client::new()
        .post(format!("{}/introspect", app.issuer))
        .form(&[("token", tokens["access_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(introspect(&app, "not-a-token").await, serde_json::json!({ "active": false }));
}
both_backends!(client_credentials_and_introspection);

async fn revocation_then_introspection_says_inactive(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let tokens = tokens_with_offline_access(&app).await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(introspect(&app, access).await["active"], true);
    let answer = introspect(&app, refresh_token).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["token_type"], "refresh_token");

    let response = app.post_client(&format!("{}/revoke", app.issuer), &[("token", refresh_token)]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(introspect(&app, refresh_token).await["active"], false);
    assert_eq!(introspect(&app, access).await["active"], false, "revoking the refresh token ends its grant");
    assert_eq!(refresh(&app, refresh_token).await.status(), 400);
    // Unknown tokens are "revoked" too, without telling anything.
    let response = app.post_client(&format!("{}/revoke", app.issuer), &[("token", "unknown")]).await;
    assert_eq!(response.status(), 200);
}
both_backends!(revocation_then_introspection_says_inactive);

async fn introspect_as(app: &TestApp, client: &(String, String), token: &str) -> serde_json::Value {
    let response = reqwest::Client::new()
        .post(format!("{}/introspect", app.issuer))
        .basic_auth(&client.0, Some(&client.1))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn another_client(app: &TestApp, client_id: &str, resource_server: bool) -> (String, String) {
    use secrecy::ExposeSecret;
    let tenant = tessera::admin::tenant(&app.state, "acme").await.unwrap();
    let request = tessera::admin::NewClientRequest {
        resource_server,
        allowed_scopes: vec!["records:read".into()],
        ..tessera::admin::NewClientRequest::new(client_id, &["https://other.example.org/cb"])
    };
    let (_, secret) = tessera::admin::create_client(&app.state, &tenant, request).await.unwrap();
    (client_id.to_string(), secret.unwrap().expose_secret().to_string())
}

async fn only_the_tokens_client_and_resource_servers_may_introspect_it(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let tokens = tokens_with_offline_access(&app).await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let other = another_client(&app, "other-app", false).await;
    let api = another_client(&app, "records-api", true).await;

    // Another confidential client learns nothing, not even that the token exists.
    assert_eq!(introspect_as(&app, &other, access).await, serde_json::json!({ "active": false }));
    assert_eq!(introspect_as(&app, &other, refresh_token).await, serde_json::json!({ "active": false }));
    // A resource server sees the access token, never the refresh token.
    let answer = introspect_as(&app, &api, access).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["client_id"], PORTAL);
    assert!(answer["sub"].is_string());
    assert_eq!(introspect_as(&app, &api, refresh_token).await, serde_json::json!({ "active": false }));
    // The token's own client still sees it, and the other client sees its own tokens.
    assert_eq!(introspect(&app, access).await["active"], true);
    let response = app
        .token_request(
            &[("grant_type", "client_credentials"), ("scope", "records:read")],
            Some((&other.0, &other.1)),
        )
        .await;
    let own: serde_json::Value = response.json().await.unwrap();
    let own = own["access_token"].as_str().unwrap();
    assert_eq!(introspect_as(&app, &other, own).await["client_id"], "other-app");
    assert_eq!(introspect(&app, own).await, serde_json::json!({ "active": false }));
}
both_backends!(only_the_tokens_client_and_resource_servers_may_introspect_it);

pub fn decode_jwt(jwt: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap())
        .unwrap()
}

/// An offline refresh token of `browser`'s session (SSO or a fresh sign-in), after one rotation
/// that shows it works.
async fn offline_refresh_token_of(app: &TestApp, browser: &reqwest::Client) -> (String, String) {
    let pkce = pkce();
    let mut request = AuthRequest::portal(&pkce);
    request.scope = "openid email offline_access";
    let response = browser.get(app.authorize_url(&request)).send().await.unwrap();
    let params = if location(&response).starts_with(PORTAL_REDIRECT) {
        redirect_params(&response, PORTAL_REDIRECT)
    } else {
        app.sign_in(browser, &request).await
    };
    let tokens: serde_json::Value =
        app.exchange_portal_code(&params["code"], &pkce.verifier).await.json().await.unwrap();
    let rotated: serde_json::Value =
        refresh(app, tokens["refresh_token"].as_str().unwrap()).await.json().await.unwrap();
    let refresh_token = rotated["refresh_token"].as_str().expect("a rotated refresh token").to_string();
    (refresh_token, rotated["access_token"].as_str().unwrap().to_string())
}

async fn assert_ended(app: &TestApp, refresh_token: &str, access_token: &str) {
    let response = refresh(app, refresh_token).await;
    assert_eq!(response.status(), 400);
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["error"], "invalid_grant");
    assert_eq!(introspect(app, access_token).await["active"], false);
}

async fn a_password_change_ends_offline_refresh_tokens(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let browser = firefox();
    let (refresh_token, access_token) = offline_refresh_token_of(&app, &browser).await;
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
    assert_ended(&app, &refresh_token, &access_token).await;
}
both_backends!(a_password_change_ends_offline_refresh_tokens);

async fn switching_two_factor_off_ends_offline_refresh_tokens(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (browser, enrolled) = app.user_with_totp().await;
    let (refresh_token, access_token) = offline_refresh_token_of(&app, &browser).await;
    let off = format!("{}/account/two-factor/off", app.issuer);
    let response = browser.get(&off).send().await.unwrap();
    let login_url = app.absolute(&location(&response));
    app.submit_password(&browser, &login_url, EMAIL, PASSWORD).await;
    let code = totp_code(&enrolled.setup_key, app.clock.now());
    let response = app.submit_code(&browser, &login_url, &code, false).await;
    assert_eq!(location(&response), "/t/acme/account/two-factor/off");
    let (_, html) = app.get_html(&browser, &off).await;
    let response = app.post_form(&browser, &off, &csrf_token(&html), &[]).await;
    assert_eq!(response.status(), 303);
    assert_ended(&app, &refresh_token, &access_token).await;
}
both_backends!(switching_two_factor_off_ends_offline_refresh_tokens);
