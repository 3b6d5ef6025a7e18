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
    while received.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // The retry is due a second later.
    app.clock.advance(1);
    while received.lock().unwrap().len() < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let bodies = received.lock().unwrap().clone();
    assert_eq!(bodies.len(), 2, "one failed attempt, then a retry: {bodies:?}");
    let token_of = |body: &str| {
        url::form_urlencoded::parse(body.as_bytes())
            .find(|(k, _)| k == "logout_token")
            .map(|(_, v)| v.into_owned())
            .unwrap()
    };
    assert_eq!(
        decode_jwt(&token_of(&bodies[0]))["jti"],
        decode_jwt(&token_of(&bodies[1]))["jti"],
        "the same logout event is retried"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let pending =
        tessera::store::logout_deliveries::due(&app.state.db, app.clock.now() + 3600, 100).await.unwrap();
    assert!(pending.is_empty(), "the delivered token leaves the outbox");
    let token = token_of(&bodies[1]);

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

/// A client registered with a back-channel logout URI and signed in through `browser`; returns
/// the ID token.
async fn signed_in_client(app: &TestApp, browser: &reqwest::Client, client_id: &str, uri: String) -> String {
    use secrecy::ExposeSecret;
    let tenant = admin::tenant(&app.state, "acme").await.unwrap();
    let request = NewClientRequest {
        first_party: true,
        backchannel_logout_uri: Some(uri),
        ..NewClientRequest::new(client_id, &[REDIRECT])
    };
    let (_, secret) = admin::create_client(&app.state, &tenant, request).await.unwrap();
    let secret = secret.unwrap().expose_secret().to_string();
    let pkce = pkce();
    let request = AuthRequest { client_id, redirect_uri: REDIRECT, ..AuthRequest::portal(&pkce) };
    let params = app.sign_in(browser, &request).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", params["code"].as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", pkce.verifier.as_str()),
    ];
    let tokens: serde_json::Value =
        app.token_request(&form, Some((client_id, &secret))).await.json().await.unwrap();
    tokens["id_token"].as_str().unwrap().to_string()
}

async fn a_retried_logout_token_is_signed_when_it_is_sent(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let server = wiremock::MockServer::start().await;
    use wiremock::matchers::{method, path};
    wiremock::Mock::given(method("POST"))
        .and(path("/bcl"))
        .respond_with(wiremock::ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    wiremock::Mock::given(method("POST"))
        .and(path("/bcl"))
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let browser = browser();
    let uri = format!("{}/bcl", server.uri()).replace("127.0.0.1", "localhost");
    let id_token = signed_in_client(&app, &browser, "late-app", uri).await;
    let response =
        browser.get(format!("{}/logout?id_token_hint={id_token}", app.issuer)).send().await.unwrap();
    assert_eq!(response.status(), 200);

    let received = || async { server.received_requests().await.unwrap() };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while received().await.is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // The receiver is down for ten minutes before the retry (the retry waits 1 s of real time).
    app.clock.advance(600);
    while received().await.len() < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let requests = received().await;
    assert_eq!(requests.len(), 2, "one failed attempt, then a retry");
    let token = url::form_urlencoded::parse(&requests[1].body)
        .find(|(k, _)| k == "logout_token")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let claims = decode_jwt(&token);
    let now = app.clock.now();
    assert_eq!(claims["iat"], now, "signed when sent");
    assert!(claims["exp"].as_i64().unwrap() > now, "not expired when it arrives: {claims}");
    assert_eq!(claims["sid"], decode_jwt(&id_token)["sid"]);
}
both_backends!(a_retried_logout_token_is_signed_when_it_is_sent);

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
            tenant_id: None,
            alg: None,
            claims: None,
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
    let left = tessera::store::logout_deliveries::due(&app.state.db, now + 3600, 100).await.unwrap();
    assert!(left.is_empty(), "a settled delivery is removed");
}
both_backends!(unfinished_deliveries_resume_once);

/// A receiver at `/bcl` on a free port that answers 503 while `down` is true; it keeps every body.
async fn receiver(down: Arc<std::sync::atomic::AtomicBool>) -> (String, Arc<Mutex<Vec<String>>>) {
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = received.clone();
    let router = axum::Router::new().route(
        "/bcl",
        axum::routing::post(move |body: String| {
            let (seen, down) = (seen.clone(), down.clone());
            async move {
                seen.lock().unwrap().push(body);
                if down.load(std::sync::atomic::Ordering::SeqCst) {
                    axum::http::StatusCode::SERVICE_UNAVAILABLE
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://localhost:{}/bcl", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (uri, received)
}

/// Waits (real time, at most `seconds`) until `received` holds `count` bodies.
async fn wait_for(received: &Mutex<Vec<String>>, count: usize, seconds: u64) -> usize {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while received.lock().unwrap().len() < count && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    received.lock().unwrap().len()
}

async fn an_app_down_for_half_an_hour_gets_its_logout_when_it_comes_back(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let down = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let (uri, received) = receiver(down.clone()).await;
    let browser = browser();
    let id_token = signed_in_client(&app, &browser, "down-app", uri).await;
    let response =
        browser.get(format!("{}/logout?id_token_hint={id_token}", app.issuer)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(wait_for(&received, 1, 10).await, 1, "the first attempt at once");

    // Down for 30 minutes of the clock: every retry that comes due fails.
    for step in 1..=3 {
        app.clock.advance(600);
        assert_eq!(wait_for(&received, 1 + step, 10).await, 1 + step, "a retry after {} s", step * 600);
    }
    down.store(false, std::sync::atomic::Ordering::SeqCst);
    app.clock.advance(300);
    assert_eq!(wait_for(&received, 5, 10).await, 5, "delivered once the app is back");
    let token = url::form_urlencoded::parse(received.lock().unwrap()[4].as_bytes())
        .find(|(k, _)| k == "logout_token")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let claims = decode_jwt(&token);
    assert_eq!(claims["iat"], app.clock.now(), "signed when sent, 35 minutes after the logout");
    assert_eq!(claims["sid"], decode_jwt(&id_token)["sid"]);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let left =
        tessera::store::logout_deliveries::due(&app.state.db, app.clock.now() + 86_400, 100).await.unwrap();
    assert!(left.is_empty(), "a delivered logout leaves the outbox");
}
both_backends!(an_app_down_for_half_an_hour_gets_its_logout_when_it_comes_back);

async fn a_logout_is_given_up_after_an_hour(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let down = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let (uri, received) = receiver(down.clone()).await;
    let browser = browser();
    let id_token = signed_in_client(&app, &browser, "gone-app", uri).await;
    browser.get(format!("{}/logout?id_token_hint={id_token}", app.issuer)).send().await.unwrap();
    assert_eq!(wait_for(&received, 1, 10).await, 1);
    let outbox = || async {
        tessera::store::logout_deliveries::due(&app.state.db, app.clock.now() + 86_400, 100).await.unwrap()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while outbox().await.first().is_none_or(|row| row.attempts < 1) && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(outbox().await.len(), 1, "kept for a retry");

    app.clock.advance(tessera::oidc::backchannel::DELIVERY_WINDOW_SECONDS + 1);
    while !outbox().await.is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(outbox().await.is_empty(), "given up after the window");
    assert_eq!(received.lock().unwrap().len(), 1, "no attempt after the window");
}
both_backends!(a_logout_is_given_up_after_an_hour);

async fn a_delivery_held_by_a_dead_instance_is_taken_over_within_seconds(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (uri, received) = receiver(Arc::default()).await;
    // An instance wrote this delivery down as held for its first attempt, then died.
    let now = app.clock.now();
    let lease = tessera::oidc::backchannel::LEASE_SECONDS;
    tessera::store::logout_deliveries::insert(
        &app.state.db,
        entity::logout_delivery::Model {
            id: "held-by-the-dead".into(),
            client_id: "bcl-app".into(),
            uri,
            logout_token: "a.logout.token".into(),
            tenant_id: None,
            alg: None,
            claims: None,
            attempts: 0,
            created_at: now,
            next_attempt_at: now + lease,
        },
    )
    .await
    .unwrap();
    let poll = tessera::oidc::backchannel::POLL_SECONDS;
    assert_eq!(wait_for(&received, 1, poll + 1).await, 0, "not while the lease runs");

    // Its lease runs out: this instance, looking every few seconds, takes it over.
    app.clock.advance(lease);
    let started = std::time::Instant::now();
    assert_eq!(wait_for(&received, 1, 10).await, 1);
    assert!(started.elapsed() <= std::time::Duration::from_secs(poll + 2), "{:?}", started.elapsed());
    assert_eq!(received.lock().unwrap().as_slice(), ["logout_token=a.logout.token"]);
}
both_backends!(a_delivery_held_by_a_dead_instance_is_taken_over_within_seconds);
