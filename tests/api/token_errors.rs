//! The token endpoint's refusals: each one an RFC 6749 JSON error.

use crate::both_backends;
use crate::helpers::*;

async fn error_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: serde_json::Value = response.json().await.unwrap();
    (status, body["error"].as_str().unwrap().to_string())
}

async fn signed_in_code(app: &TestApp) -> (String, Pkce) {
    let pkce = pkce();
    let params = app.sign_in(&browser(), &AuthRequest::portal(&pkce)).await;
    (params["code"].clone(), pkce)
}

async fn wrong_or_missing_pkce_verifier_is_invalid_grant(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (code, pkce) = signed_in_code(&app).await;
    let wrong = pkce_fixture_other_verifier();
    assert_eq!(error_of(app.exchange_portal_code(&code, &wrong).await).await, (400, "invalid_grant".into()));
    let missing = app
        .token_request(
            &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", PORTAL_REDIRECT)],
            Some((PORTAL, &app.portal_secret)),
        )
        .await;
    assert_eq!(error_of(missing).await, (400, "invalid_grant".into()));
    // The right verifier still works: failed checks do not consume the code.
    assert_eq!(app.exchange_portal_code(&code, &pkce.verifier).await.status(), 200);
}
both_backends!(wrong_or_missing_pkce_verifier_is_invalid_grant);

fn pkce_fixture_other_verifier() -> String {
    pkce().verifier
}

async fn a_reused_code_fails_and_revokes_what_it_issued(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (code, pkce) = signed_in_code(&app).await;
    let first: serde_json::Value =
        app.exchange_portal_code(&code, &pkce.verifier).await.json().await.unwrap();
    let access_token = first["access_token"].as_str().unwrap();
    let userinfo = |token: String| {
        let url = format!("{}/userinfo", app.issuer);
        async move { reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap() }
    };
    assert_eq!(userinfo(access_token.to_string()).await.status(), 200);

    let second = app.exchange_portal_code(&code, &pkce.verifier).await;
    assert_eq!(error_of(second).await, (400, "invalid_grant".into()));
    let revoked = userinfo(access_token.to_string()).await;
    assert_eq!(revoked.status(), 401, "the first exchange's access token is revoked");
    assert!(revoked.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));

    let events = tessera::store::audit_events::list_for_tenant(
        &app.state.db,
        &tessera::store::tenants::find_by_slug(&app.state.db, "acme").await.unwrap().unwrap().id,
    )
    .await
    .unwrap();
    assert!(events.iter().any(|e| e.event == "token.code_replayed"));
}
both_backends!(a_reused_code_fails_and_revokes_what_it_issued);

async fn concurrent_redemptions_of_one_code_yield_exactly_one_token(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (code, pkce) = signed_in_code(&app).await;
    let mut handles = Vec::new();
    for _ in 0..6 {
        let url = format!("{}/token", app.issuer);
        let secret = app.portal_secret.clone();
        let form = [
            ("grant_type", "authorization_code".to_string()),
            ("code", code.clone()),
            ("redirect_uri", PORTAL_REDIRECT.to_string()),
            ("code_verifier", pkce.verifier.clone()),
        ];
        handles.push(tokio::spawn(async move {
            let response = reqwest::Client::new()
                .post(url)
                .basic_auth(PORTAL, Some(secret))
                .form(&form)
                .send()
                .await
                .unwrap();
            response.status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for handle in handles {
        statuses.push(handle.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 400), "{statuses:?}");
}
both_backends!(concurrent_redemptions_of_one_code_yield_exactly_one_token);

async fn wrong_client_secret_is_invalid_client(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (code, pkce) = signed_in_code(&app).await;
    let response = app
        .token_request(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", PORTAL_REDIRECT),
                ("code_verifier", &pkce.verifier),
            ],
            Some((PORTAL, "not-the-secret")),
        )
        .await;
    assert!(response.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    assert_eq!(error_of(response).await, (401, "invalid_client".into()));
    // A confidential client cannot fall back to no authentication.
    let response = app
        .token_request(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", PORTAL_REDIRECT),
                ("code_verifier", &pkce.verifier),
                ("client_id", PORTAL),
            ],
            None,
        )
        .await;
    assert_eq!(error_of(response).await, (401, "invalid_client".into()));
}
both_backends!(wrong_client_secret_is_invalid_client);

async fn an_expired_code_is_invalid_grant(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (code, pkce) = signed_in_code(&app).await;
    app.clock.advance(61);
    assert_eq!(
        error_of(app.exchange_portal_code(&code, &pkce.verifier).await).await,
        (400, "invalid_grant".into())
    );
}
both_backends!(an_expired_code_is_invalid_grant);

async fn a_code_just_inside_its_lifetime_works(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (code, pkce) = signed_in_code(&app).await;
    app.clock.advance(59);
    assert_eq!(app.exchange_portal_code(&code, &pkce.verifier).await.status(), 200);
}
both_backends!(a_code_just_inside_its_lifetime_works);

async fn malformed_token_requests_get_json_errors(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let basic = Some((PORTAL, app.portal_secret.as_str()));
    let unknown_grant = app.token_request(&[("grant_type", "password")], basic).await;
    assert_eq!(error_of(unknown_grant).await, (400, "unsupported_grant_type".into()));
    let no_grant = app.token_request(&[("code", "x")], basic).await;
    assert_eq!(error_of(no_grant).await, (400, "invalid_request".into()));
    let bogus_code = app
        .token_request(
            &[("grant_type", "authorization_code"), ("code", "bogus"), ("redirect_uri", PORTAL_REDIRECT)],
            basic,
        )
        .await;
    assert_eq!(error_of(bogus_code).await, (400, "invalid_grant".into()));
    let json_body = reqwest::Client::new()
        .post(format!("{}/token", app.issuer))
        .json(&serde_json::json!({ "grant_type": "authorization_code" }))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(json_body).await, (400, "invalid_request".into()));
    let duplicated = reqwest::Client::new()
        .post(format!("{}/token", app.issuer))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=authorization_code&grant_type=authorization_code")
        .basic_auth(PORTAL, Some(&app.portal_secret))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(duplicated).await, (400, "invalid_request".into()));
}
both_backends!(malformed_token_requests_get_json_errors);

async fn a_reused_code_also_revokes_its_refresh_tokens(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let pkce = pkce();
    let mut request = AuthRequest::portal(&pkce);
    request.scope = "openid offline_access";
    let params = app.sign_in(&browser(), &request).await;
    let first: serde_json::Value =
        app.exchange_portal_code(&params["code"], &pkce.verifier).await.json().await.unwrap();
    let refresh_token = first["refresh_token"].as_str().unwrap();
    // Rotated once before the replay: the rotation dies with the family.
    let rotated: serde_json::Value = app
        .token_request(
            &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)],
            Some((PORTAL, &app.portal_secret)),
        )
        .await
        .json()
        .await
        .unwrap();
    let newest = rotated["refresh_token"].as_str().unwrap();
    assert_eq!(app.exchange_portal_code(&params["code"], &pkce.verifier).await.status(), 400);
    let response = app
        .token_request(
            &[("grant_type", "refresh_token"), ("refresh_token", newest)],
            Some((PORTAL, &app.portal_secret)),
        )
        .await;
    assert_eq!(response.status(), 400, "the refresh family of a replayed code is revoked");
}
both_backends!(a_reused_code_also_revokes_its_refresh_tokens);
