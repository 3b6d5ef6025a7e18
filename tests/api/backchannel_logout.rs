//! Back-channel logout: a signed logout token to each client of the session, retried on 5xx.

use std::sync::{Arc, Mutex};

use tessera::admin::{self, NewClientRequest};

use crate::both_backends;
use crate::helpers::*;
use crate::refresh_and_tokens::decode_jwt;

const REDIRECT: &str = "https://bcl.example.org/cb";

async fn logout_tokens_reach_the_client_and_are_retried(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    // A receiver that fails once with 503, then accepts.
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = received.clone();
    let receiver = axum::Router::new().route(
        "/backchannel",
        axum::routing::post(move |body: String| {
            let seen = seen.clone();
            async move {
                let mut seen = seen.lock().unwrap();
                seen.push(body);
                if seen.len() == 1 {
                    axum::http::StatusCode::SERVICE_UNAVAILABLE
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://localhost:{}/backchannel", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, receiver).await });

    use secrecy::ExposeSecret;
    let tenant = admin::tenant(&app.state, "acme").await.unwrap();
    let request = NewClientRequest {
        first_party: true,
        backchannel_logout_uri: Some(uri),
        ..NewClientRequest::new("bcl-app", &[REDIRECT])
    };
    let (_, secret) = admin::create_client(&app.state, &tenant, request).await.unwrap();
    let secret = secret.unwrap().expose_secret().to_string();

    let browser = browser();
    let pkce = pkce();
    let params = app
        .sign_in(
            &browser,
            &AuthRequest { client_id: "bcl-app", redirect_uri: REDIRECT, ..AuthRequest::portal(&pkce) },
        )
        .await;
    let tokens: serde_json::Value = app
        .token_request(
            &[
                ("grant_type", "authorization_code"),
                ("code", &params["code"]),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &pkce.verifier),
            ],
            Some(("bcl-app", &secret)),
        )
        .await
        .json()
        .await
        .unwrap();
    let id_token = tokens["id_token"].as_str().unwrap();
    let response =
        browser.get(format!("{}/logout?id_token_hint={id_token}", app.issuer)).send().await.unwrap();
    assert_eq!(response.status(), 200, "signed out without a redirect");

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while received.lock().unwrap().len() < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let bodies = received.lock().unwrap().clone();
    assert_eq!(bodies.len(), 2, "one failed attempt, then a retry: {bodies:?}");
    assert_eq!(bodies[0], bodies[1], "the same token is retried");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let pending =
        tessera::store::logout_deliveries::due(&app.state.db, app.clock.now() + 3600).await.unwrap();
    assert!(pending.is_empty(), "the delivered token leaves the outbox");
    let token: String = url::form_urlencoded::parse(bodies[1].as_bytes())
        .find(|(k, _)| k == "logout_token")
        .map(|(_, v)| v.into_owned())
        .unwrap();

    // Signed by a published key of the tenant, with the claims OIDC Back-Channel Logout requires.
    let (signed, signature) = token.rsplit_once('.').unwrap();
    use base64::Engine;
    let header: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(signed.split('.').next().unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(header["typ"], "logout+jwt");
    let jwks = app.get_json("/jwks.json").await;
    let key = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == header["kid"]).unwrap().clone();
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(signature).unwrap();
    assert!(tessera::keys::verify_with_jwk(tessera::keys::Alg::Rs256, &key, signed.as_bytes(), &signature));
    let claims = decode_jwt(&token);
    let id_claims = decode_jwt(id_token);
    assert_eq!(claims["iss"], app.issuer);
    assert_eq!(claims["aud"], "bcl-app");
    assert_eq!(claims["sub"], id_claims["sub"]);
    assert_eq!(claims["sid"], id_claims["sid"]);
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(claims.get("nonce").is_none());
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
}
both_backends!(logout_tokens_reach_the_client_and_are_retried);

async fn unfinished_deliveries_resume_once(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    // A delivery an earlier instance wrote down and never finished.
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = received.clone();
    let receiver = axum::Router::new().route(
        "/bcl",
        axum::routing::post(move |body: String| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(body);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://127.0.0.1:{}/bcl", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, receiver).await });
    let now = app.clock.now();
    tessera::store::logout_deliveries::insert(
        &app.state.db,
        entity::logout_delivery::Model {
            id: "left-over".into(),
            client_id: "bcl-app".into(),
            uri,
            logout_token: "a.logout.token".into(),
            attempts: 1,
            created_at: now - 30,
            next_attempt_at: now - 1,
        },
    )
    .await
    .unwrap();

    // Two instances look at once: exactly one resumes it.
    let (first, second) = tokio::join!(
        tessera::oidc::backchannel::resume_pending(&app.state, now),
        tessera::oidc::backchannel::resume_pending(&app.state, now)
    );
    assert_eq!(first.unwrap() + second.unwrap(), 1);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while received.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(received.lock().unwrap().as_slice(), ["logout_token=a.logout.token"]);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let left = tessera::store::logout_deliveries::due(&app.state.db, now + 3600).await.unwrap();
    assert!(left.is_empty(), "a settled delivery is removed");
}
both_backends!(unfinished_deliveries_resume_once);
