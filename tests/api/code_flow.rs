//! The authorization-code flow end to end, verified by the `openidconnect` crate.

use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet};
use openidconnect::{AccessToken, AccessTokenHash, ClientId, ClientSecret, IssuerUrl, Nonce};

use crate::both_backends;
use crate::helpers::*;

async fn verifier_for(app: &TestApp, client_id: &str, secret: Option<&str>) -> CoreIdTokenVerifier<'static> {
    let jwks: CoreJsonWebKeySet = serde_json::from_value(app.get_json("/jwks.json").await).unwrap();
    let issuer = IssuerUrl::new(app.issuer.clone()).unwrap();
    match secret {
        Some(secret) => CoreIdTokenVerifier::new_confidential_client(
            ClientId::new(client_id.into()),
            ClientSecret::new(secret.into()),
            issuer,
            jwks,
        ),
        None => CoreIdTokenVerifier::new_public_client(ClientId::new(client_id.into()), issuer, jwks),
    }
}

async fn confidential_client_signs_in_and_verifies_the_id_token(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let browser = browser();
    let pkce = pkce();
    let request = AuthRequest::portal(&pkce);
    let params = app.sign_in(&browser, &request).await;
    assert_eq!(params["state"], "state-123");
    assert_eq!(params["iss"], app.issuer, "RFC 9207 iss parameter");
    let code = &params["code"];

    let response = app.exchange_portal_code(code, &pkce.verifier).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let tokens: serde_json::Value = response.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "openid email");
    let access_token = tokens["access_token"].as_str().unwrap();

    let verifier = verifier_for(&app, PORTAL, Some(&app.portal_secret)).await;
    let id_token: CoreIdToken = tokens["id_token"].as_str().unwrap().parse().unwrap();
    let claims = id_token.claims(&verifier, &Nonce::new("nonce-456".into())).unwrap();
    assert_eq!(claims.issuer().as_str(), app.issuer);
    assert_eq!(claims.audiences()[0].as_str(), PORTAL);
    let amr: Vec<String> =
        claims.auth_method_refs().unwrap().iter().map(|a| a.as_str().to_string()).collect();
    assert_eq!(amr, vec!["pwd"]);
    assert_eq!(claims.auth_context_ref().unwrap().as_str(), "urn:tessera:acr:1fa");
    assert!(claims.auth_time().is_some());
    assert_eq!(claims.email().unwrap().as_str(), EMAIL);
    let expected_hash = AccessTokenHash::from_token(
        &AccessToken::new(access_token.into()),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected_hash));
    let raw = decode_payload(tokens["id_token"].as_str().unwrap());
    assert!(raw["sid"].as_str().is_some_and(|s| !s.is_empty()));

    // A wrong nonce is rejected by the relying party library: the claim is really checked.
    assert!(id_token.claims(&verifier, &Nonce::new("other".into())).is_err());

    let userinfo: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/userinfo", app.issuer))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(userinfo["sub"], claims.subject().as_str());
    assert_eq!(userinfo["email"], EMAIL);
    assert!(userinfo.get("name").is_none(), "no profile scope, no name");
}
both_backends!(confidential_client_signs_in_and_verifies_the_id_token);

fn decode_payload(jwt: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap())
        .unwrap()
}

async fn sub_is_stable_and_opaque(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let mut subjects = Vec::new();
    for _ in 0..2 {
        let pkce = pkce();
        let params = app.sign_in(&browser(), &AuthRequest::portal(&pkce)).await;
        let tokens: serde_json::Value =
            app.exchange_portal_code(&params["code"], &pkce.verifier).await.json().await.unwrap();
        subjects.push(decode_payload(tokens["id_token"].as_str().unwrap())["sub"].clone());
    }
    assert_eq!(subjects[0], subjects[1]);
    let sub = subjects[0].as_str().unwrap();
    assert!(!sub.contains('@') && !sub.contains("patient"), "sub must not reveal the email: {sub}");
}
both_backends!(sub_is_stable_and_opaque);

async fn public_client_uses_pkce_without_a_secret(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let pkce = pkce();
    let request = AuthRequest {
        client_id: MOBILE,
        redirect_uri: MOBILE_REDIRECT,
        scope: "openid",
        state: "s",
        nonce: "n",
        challenge: Some(&pkce.challenge),
        extra: vec![],
    };
    let params = app.sign_in(&browser(), &request).await;
    let form = |verifier: &'static str| {
        vec![
            ("grant_type", "authorization_code"),
            ("code", params["code"].as_str()),
            ("redirect_uri", MOBILE_REDIRECT),
            ("client_id", MOBILE),
            ("code_verifier", verifier),
        ]
    };
    let wrong = app.token_request(&form("wrong-verifier-wrong-verifier-wrong-verifier-x"), None).await;
    assert_eq!(wrong.status(), 400);
    assert_eq!(wrong.json::<serde_json::Value>().await.unwrap()["error"], "invalid_grant");

    let verifier: &'static str = Box::leak(pkce.verifier.clone().into_boxed_str());
    let response = app.token_request(&form(verifier), None).await;
    assert_eq!(response.status(), 200, "a failed verifier does not burn the code");
    let tokens: serde_json::Value = response.json().await.unwrap();
    let verifier = verifier_for(&app, MOBILE, None).await;
    let id_token: CoreIdToken = tokens["id_token"].as_str().unwrap().parse().unwrap();
    id_token.claims(&verifier, &Nonce::new("n".into())).unwrap();
    assert!(tokens.get("refresh_token").is_none());
}
both_backends!(public_client_uses_pkce_without_a_secret);

async fn client_secret_post_is_accepted(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let pkce = pkce();
    let params = app.sign_in(&browser(), &AuthRequest::portal(&pkce)).await;
    let response = app
        .token_request(
            &[
                ("grant_type", "authorization_code"),
                ("code", &params["code"]),
                ("redirect_uri", PORTAL_REDIRECT),
                ("code_verifier", &pkce.verifier),
                ("client_id", PORTAL),
                ("client_secret", &app.portal_secret),
            ],
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
}
both_backends!(client_secret_post_is_accepted);

async fn a_session_signs_in_to_a_second_request_without_a_password(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let browser = browser();
    let pkce = pkce();
    let first = app.sign_in(&browser, &AuthRequest::portal(&pkce)).await;
    app.clock.advance(5);
    let response = browser.get(app.authorize_url(&AuthRequest::portal(&pkce))).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let second = redirect_params(&response, PORTAL_REDIRECT);
    assert_ne!(first["code"], second["code"]);
    let tokens: serde_json::Value =
        app.exchange_portal_code(&second["code"], &pkce.verifier).await.json().await.unwrap();
    let claims = decode_payload(tokens["id_token"].as_str().unwrap());
    assert_eq!(
        claims["auth_time"].as_i64().unwrap() + 5,
        claims["iat"].as_i64().unwrap(),
        "auth_time is the real sign-in, not the second redirect"
    );

    // prompt=login asks for the password again.
    let mut request = AuthRequest::portal(&pkce);
    request.extra.push(("prompt", "login"));
    let response = browser.get(app.authorize_url(&request)).send().await.unwrap();
    assert!(location(&response).contains("/login/"));
}
both_backends!(a_session_signs_in_to_a_second_request_without_a_password);

async fn prompt_none_without_a_session_returns_login_required(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let pkce = pkce();
    let mut request = AuthRequest::portal(&pkce);
    request.extra.push(("prompt", "none"));
    let response = browser().get(app.authorize_url(&request)).send().await.unwrap();
    let params = redirect_params(&response, PORTAL_REDIRECT);
    assert_eq!(params["error"], "login_required");
    assert_eq!(params["state"], "state-123");
    assert_eq!(params["iss"], app.issuer);
}
both_backends!(prompt_none_without_a_session_returns_login_required);

async fn the_profile_scope_adds_the_name(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let pkce = pkce();
    let mut request = AuthRequest::portal(&pkce);
    request.scope = "openid profile";
    let params = app.sign_in(&browser(), &request).await;
    let tokens: serde_json::Value =
        app.exchange_portal_code(&params["code"], &pkce.verifier).await.json().await.unwrap();
    assert_eq!(decode_payload(tokens["id_token"].as_str().unwrap())["name"], "An Patient");
    assert!(decode_payload(tokens["id_token"].as_str().unwrap()).get("email").is_none());
    let userinfo: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/userinfo", app.issuer))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(userinfo["name"], "An Patient");
}
both_backends!(the_profile_scope_adds_the_name);

async fn exchange_cli_code(
    app: &TestApp,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> reqwest::Response {
    app.token_request(
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", "cli"),
            ("code_verifier", verifier),
        ],
        None,
    )
    .await
}

/// RFC 8252 7.3: a native app registers `http://127.0.0.1/cb` and listens on whatever port is
/// free; the token request must repeat the URI with that port.
async fn a_loopback_redirect_uri_accepts_any_port(backend: Backend) {
    use tessera::admin::{self, NewClientRequest};
    let Some(app) = spawn_app(backend).await else { return };
    let tenant = admin::tenant(&app.state, "acme").await.unwrap();
    let registered = ["http://127.0.0.1/cb", "http://[::1]/cb", "http://localhost/cb"];
    let request =
        NewClientRequest { public: true, first_party: true, ..NewClientRequest::new("cli", &registered) };
    admin::create_client(&app.state, &tenant, request).await.unwrap();

    for (used, other_port) in [
        ("http://127.0.0.1:51234/cb", "http://127.0.0.1:51235/cb"),
        ("http://[::1]:40000/cb", "http://[::1]:40001/cb"),
    ] {
        let pkce = pkce();
        let request = AuthRequest { client_id: "cli", redirect_uri: used, ..AuthRequest::portal(&pkce) };
        let params = app.sign_in(&browser(), &request).await;
        let wrong = exchange_cli_code(&app, &params["code"], other_port, &pkce.verifier).await;
        assert_eq!(wrong.status(), 400, "the port used at /authorize must be repeated");
        assert_eq!(wrong.json::<serde_json::Value>().await.unwrap()["error"], "invalid_grant");
        assert_eq!(exchange_cli_code(&app, &params["code"], used, &pkce.verifier).await.status(), 200);
    }

    // `localhost` and other paths keep exact matching: an error page, never a redirect.
    for refused in ["http://localhost:51234/cb", "http://127.0.0.1:51234/other"] {
        let pkce = pkce();
        let request = AuthRequest { client_id: "cli", redirect_uri: refused, ..AuthRequest::portal(&pkce) };
        let response = browser().get(app.authorize_url(&request)).send().await.unwrap();
        assert_eq!(response.status(), 400, "{refused}");
        assert!(response.headers().get("location").is_none());
    }

    // A confidential client is a server with its own port: its loopback URIs match exactly.
    let request = NewClientRequest { first_party: true, ..NewClientRequest::new("local-web", &registered) };
    admin::create_client(&app.state, &tenant, request).await.unwrap();
    let pkce = pkce();
    let request = AuthRequest {
        client_id: "local-web",
        redirect_uri: "http://127.0.0.1:51234/cb",
        ..AuthRequest::portal(&pkce)
    };
    let response = browser().get(app.authorize_url(&request)).send().await.unwrap();
    assert_eq!(response.status(), 400, "any port only for native (public) clients");
    assert!(response.headers().get("location").is_none());
}
both_backends!(a_loopback_redirect_uri_accepts_any_port);

/// RFC 6750: no token gets the challenge without an error code (3.1); a POST form body may carry
/// the token (2.2); two ways at once is a malformed request.
async fn userinfo_follows_rfc_6750_for_missing_and_form_tokens(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let pkce = pkce();
    let params = app.sign_in(&browser(), &AuthRequest::portal(&pkce)).await;
    let tokens: serde_json::Value =
        app.exchange_portal_code(&params["code"], &pkce.verifier).await.json().await.unwrap();
    let access_token = tokens["access_token"].as_str().unwrap();
    let url = format!("{}/userinfo", app.issuer);
    let client = reqwest::Client::new();

    for bare in [client.get(&url), client.post(&url).form(&[("other", "x")])] {
        let response = bare.send().await.unwrap();
        assert_eq!(response.status(), 401);
        let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_string();
        assert_eq!(challenge, "Bearer realm=\"tessera\"");
        assert!(response.text().await.unwrap().is_empty(), "no error information");
    }

    let response = client.post(&url).form(&[("access_token", access_token)]).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["email"], EMAIL);

    let wrong = client.post(&url).form(&[("access_token", "not-a-token")]).send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers()["www-authenticate"].to_str().unwrap().contains("error=\"invalid_token\""));

    let both = client.post(&url).bearer_auth(access_token).form(&[("access_token", access_token)]);
    let response = both.send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["error"], "invalid_request");
}
both_backends!(userinfo_follows_rfc_6750_for_missing_and_form_tokens);
