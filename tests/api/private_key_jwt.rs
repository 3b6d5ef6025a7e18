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
