//! Client authentication with private_key_jwt: a registered JWK Set (inline or by URL) and
//! single-use assertions.

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tessera::admin::{self, NewClientRequest};
use tessera::keys::{Alg, SigningKey};

use crate::both_backends;
use crate::helpers::*;

const REDIRECT: &str = "https://keys.example.org/cb";

struct ClientKey {
    signer: SigningKey,
    jwks: serde_json::Value,
}

fn client_key(kid: &str) -> ClientKey {
    let pair = Ed25519KeyPair::generate().unwrap();
    let der = pair.to_pkcs8().unwrap();
    let x = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
    let jwks = serde_json::json!({ "keys": [{ "kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig" }] });
    ClientKey { signer: SigningKey::from_pkcs8(kid, Alg::EdDsa, der.as_ref()).unwrap(), jwks }
}

impl ClientKey {
    fn assertion(&self, client_id: &str, aud: &str, jti: &str, exp: i64) -> String {
        let header = serde_json::json!({ "alg": "EdDSA", "kid": self.signer.kid, "typ": "JWT" });
        let claims =
            serde_json::json!({ "iss": client_id, "sub": client_id, "aud": aud, "jti": jti, "exp": exp });
        self.signer.sign_jws(&header, &claims).unwrap()
    }
}

async fn code_for(app: &TestApp, client_id: &str, pkce: &Pkce) -> String {
    let request = AuthRequest { client_id, redirect_uri: REDIRECT, ..AuthRequest::portal(pkce) };
    app.sign_in(&browser(), &request).await["code"].clone()
}

async fn exchange(
    app: &TestApp,
    client_id: &str,
    code: &str,
    pkce: &Pkce,
    assertion: &str,
) -> reqwest::Response {
    app.token_request(
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &pkce.verifier),
            ("client_id", client_id),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", assertion),
        ],
        None,
    )
    .await
}

async fn private_key_jwt_with_a_registered_jwks(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let key = client_key("k1");
    let tenant = admin::tenant(&app.state, "acme").await.unwrap();
    let request = NewClientRequest {
        first_party: true,
        jwks: Some(key.jwks.to_string()),
        ..NewClientRequest::new("signed-app", &[REDIRECT])
    };
    let (_, secret) = admin::create_client(&app.state, &tenant, request).await.unwrap();
    assert!(secret.is_none(), "no secret for a client with keys");
    let token_endpoint = format!("{}/token", app.issuer);
    let exp = app.clock.now() + 60;

    let pkce = pkce();
    let code = code_for(&app, "signed-app", &pkce).await;
    // Refusals first (they do not consume the code).
    let other = client_key("k1");
    for (why, assertion) in [
        ("another key", other.assertion("signed-app", &token_endpoint, "j0", exp)),
        ("wrong audience", key.assertion("signed-app", "https://elsewhere.example/token", "j1", exp)),
        ("expired", key.assertion("signed-app", &token_endpoint, "j2", app.clock.now() - 1)),
        ("too long-lived", key.assertion("signed-app", &token_endpoint, "j3", app.clock.now() + 3600)),
    ] {
        let response = exchange(&app, "signed-app", &code, &pkce, &assertion).await;
        assert_eq!(response.status(), 401, "{why}");
        assert_eq!(response.json::<serde_json::Value>().await.unwrap()["error"], "invalid_client", "{why}");
    }
    let good = key.assertion("signed-app", &token_endpoint, "j4", exp);
    let response = exchange(&app, "signed-app", &code, &pkce, &good).await;
    assert_eq!(response.status(), 200);

    // The same assertion a second time is a replay.
    let pkce = crate::helpers::pkce();
    let code = code_for(&app, "signed-app", &pkce).await;
    let response = exchange(&app, "signed-app", &code, &pkce, &good).await;
    assert_eq!(response.status(), 401, "assertions work once");
    // A secret cannot stand in for the key.
    let response = app
        .token_request(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &pkce.verifier),
            ],
            Some(("signed-app", "guess")),
        )
        .await;
    assert_eq!(response.status(), 401);
    let fresh = key.assertion("signed-app", &app.issuer, "j5", exp);
    assert_eq!(
        exchange(&app, "signed-app", &code, &pkce, &fresh).await.status(),
        200,
        "the issuer is a valid audience"
    );
}
both_backends!(private_key_jwt_with_a_registered_jwks);

async fn private_key_jwt_with_a_jwks_uri(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let key = client_key("uri-key");
    let jwks = key.jwks.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let jwks_uri = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let server =
        axum::Router::new().route("/jwks.json", axum::routing::get(move || async move { axum::Json(jwks) }));
    tokio::spawn(async move { axum::serve(listener, server).await });

    let tenant = admin::tenant(&app.state, "acme").await.unwrap();
    let request = NewClientRequest {
        first_party: true,
        jwks_uri: Some(jwks_uri.replace("127.0.0.1", "localhost")),
        ..NewClientRequest::new("uri-app", &[REDIRECT])
    };
    admin::create_client(&app.state, &tenant, request).await.unwrap();
    let pkce = pkce();
    let code = code_for(&app, "uri-app", &pkce).await;
    let assertion = key.assertion("uri-app", &format!("{}/token", app.issuer), "u1", app.clock.now() + 60);
    let response = exchange(&app, "uri-app", &code, &pkce, &assertion).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
}
both_backends!(private_key_jwt_with_a_jwks_uri);

/// A client of the tenant authenticating with the JWK Set at `jwks_uri` (client_credentials).
async fn jwks_uri_client(app: &TestApp, client_id: &str, jwks_uri: &str) {
    let tenant = admin::tenant(&app.state, "acme").await.unwrap();
    let request = NewClientRequest {
        jwks_uri: Some(jwks_uri.replace("127.0.0.1", "localhost")),
        allowed_scopes: vec!["records:read".into()],
        ..NewClientRequest::new(client_id, &[REDIRECT])
    };
    admin::create_client(&app.state, &tenant, request).await.unwrap();
}

async fn client_credentials(app: &TestApp, client_id: &str, assertion: &str) -> reqwest::StatusCode {
    app.token_request(
        &[
            ("grant_type", "client_credentials"),
            ("scope", "records:read"),
            ("client_id", client_id),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", assertion),
        ],
        None,
    )
    .await
    .status()
}

async fn jwks_fetches(server: &wiremock::MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

fn serve_jwks(jwks: &serde_json::Value, priority: u8) -> wiremock::Mock {
    use wiremock::matchers::{method, path};
    wiremock::Mock::given(method("GET"))
        .and(path("/jwks.json"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(jwks))
        .with_priority(priority)
}

async fn a_jwks_uri_is_remembered_and_garbage_never_fetches_it(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let server = wiremock::MockServer::start().await;
    let key = client_key("k1");
    serve_jwks(&key.jwks, 5).mount(&server).await;
    jwks_uri_client(&app, "api-client", &format!("{}/jwks.json", server.uri())).await;
    let aud = format!("{}/token", app.issuer);
    let exp = app.clock.now() + 60;
    let encode = |json: serde_json::Value| URL_SAFE_NO_PAD.encode(json.to_string());
    let claims = |jti: &str| {
        encode(
            serde_json::json!({ "iss": "api-client", "sub": "api-client", "aud": aud, "jti": jti, "exp": exp }),
        )
    };

    // Assertions that could never pass are refused without a look at the client's keys.
    let mut garbage = vec![
        "garbage".to_string(),
        "a.b.c".to_string(),
        format!("{}.{}.", encode(serde_json::json!({ "alg": "none" })), claims("g1")),
        format!("{}.{}.c2ln", encode(serde_json::json!({ "alg": "HS256", "kid": "k1" })), claims("g2")),
        key.assertion("api-client", "https://elsewhere.example/token", "g3", exp),
        key.assertion("api-client", &aud, "g4", app.clock.now() - 1),
        key.assertion("another-client", &aud, "g5", exp),
    ];
    for n in 0..13 {
        garbage.push(format!("{}.{}.c2ln", encode(serde_json::json!({ "alg": "EdDSA", "kid": "k1" })), n));
    }
    for assertion in &garbage {
        assert_eq!(client_credentials(&app, "api-client", assertion).await, 401, "{assertion}");
    }
    assert_eq!(jwks_fetches(&server).await, 0, "garbage fetched the client's JWK Set");

    // Forged signatures under a known kid: one fetch, then the remembered set.
    let forger = client_key("k1");
    for n in 0..5 {
        let forged = forger.assertion("api-client", &aud, &format!("f{n}"), exp);
        assert_eq!(client_credentials(&app, "api-client", &forged).await, 401);
    }
    assert_eq!(jwks_fetches(&server).await, 1);
    for n in 0..3 {
        let good = key.assertion("api-client", &aud, &format!("ok{n}"), exp);
        assert_eq!(client_credentials(&app, "api-client", &good).await, 200);
    }
    assert_eq!(jwks_fetches(&server).await, 1, "the set is remembered");

    // An unknown kid fetches again, at most once a minute.
    app.clock.advance(61);
    let exp = app.clock.now() + 60;
    let stranger = client_key("k2");
    for n in 0..5 {
        let forged = stranger.assertion("api-client", &aud, &format!("s{n}"), exp);
        assert_eq!(client_credentials(&app, "api-client", &forged).await, 401);
    }
    assert_eq!(jwks_fetches(&server).await, 2, "one fetch for the unknown kid");

    // The client rotates to k2: usable once the minute is over.
    let rotated = client_key("k2");
    serve_jwks(&rotated.jwks, 1).mount(&server).await;
    let early = rotated.assertion("api-client", &aud, "r0", exp);
    assert_eq!(client_credentials(&app, "api-client", &early).await, 401, "within the minute");
    assert_eq!(jwks_fetches(&server).await, 2);
    app.clock.advance(61);
    let exp = app.clock.now() + 60;
    let good = rotated.assertion("api-client", &aud, "r1", exp);
    assert_eq!(client_credentials(&app, "api-client", &good).await, 200);
    assert_eq!(jwks_fetches(&server).await, 3);
    let old = key.assertion("api-client", &aud, "r2", exp);
    assert_eq!(client_credentials(&app, "api-client", &old).await, 401, "k1 was withdrawn");
    assert_eq!(jwks_fetches(&server).await, 3, "k1 was asked for within the minute");
    // A remembered set grows old: after five minutes it is fetched again.
    app.clock.advance(300);
    let good = rotated.assertion("api-client", &aud, "r3", app.clock.now() + 60);
    assert_eq!(client_credentials(&app, "api-client", &good).await, 200);
    assert_eq!(jwks_fetches(&server).await, 4);
}
both_backends!(a_jwks_uri_is_remembered_and_garbage_never_fetches_it);

async fn an_oversized_jwks_is_refused(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let server = wiremock::MockServer::start().await;
    let key = client_key("big");
    let mut jwks = key.jwks.clone();
    jwks["padding"] = serde_json::json!("x".repeat(100 * 1024));
    serve_jwks(&jwks, 5).mount(&server).await;
    jwks_uri_client(&app, "big-client", &format!("{}/jwks.json", server.uri())).await;
    let assertion = key.assertion("big-client", &format!("{}/token", app.issuer), "b1", app.clock.now() + 60);
    assert_eq!(client_credentials(&app, "big-client", &assertion).await, 401);
    assert_eq!(jwks_fetches(&server).await, 1);
}
both_backends!(an_oversized_jwks_is_refused);

/// A client's server down for a while keeps its sign-ins going with the set fetched before; down
/// for an hour, its assertions stop working (a key withdrawn meanwhile must not live forever).
async fn a_remembered_jwks_outlives_a_failing_uri_for_an_hour_only(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let server = wiremock::MockServer::start().await;
    let key = client_key("k1");
    serve_jwks(&key.jwks, 5).mount(&server).await;
    jwks_uri_client(&app, "api-client", &format!("{}/jwks.json", server.uri())).await;
    let aud = format!("{}/token", app.issuer);
    let good = |app: &TestApp, jti: &str| key.assertion("api-client", &aud, jti, app.clock.now() + 60);
    assert_eq!(client_credentials(&app, "api-client", &good(&app, "a0")).await, 200);

    // The client's server fails from now on.
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .respond_with(wiremock::ResponseTemplate::new(503))
        .with_priority(1)
        .mount(&server)
        .await;
    app.clock.advance(1800);
    assert_eq!(client_credentials(&app, "api-client", &good(&app, "a1")).await, 200, "half an hour");
    assert_eq!(jwks_fetches(&server).await, 2, "it was asked again, and failed");
    app.clock.advance(1800);
    assert_eq!(client_credentials(&app, "api-client", &good(&app, "a2")).await, 401, "an hour");
}
both_backends!(a_remembered_jwks_outlives_a_failing_uri_for_an_hour_only);
