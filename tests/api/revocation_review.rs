//! Review of issue 17's self-contained access tokens (commit e4c08b3): revocations that the
//! row-based check honoured at once on every instance, and that the in-memory list of
//! revocations (`oauth::revoked`) did not. Each test failed on e4c08b3 and passes since the fix
//! that followed (rows read by the database clock from the last successful read, deleted clients
//! recorded).

use crate::both_backends;
use crate::helpers::*;
use serde_json::{Value, json};
use tessera::admin::{self, Actor};

/// A second instance on the same database, settings and clock, as behind a load balancer (or
/// the first instance again after a restart); returns its issuer for tenant `acme`.
async fn second_instance(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let state = tessera::startup::build_state(app.state.settings.clone(), app.clock.clone()).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(tessera::startup::serve(state, listener, async {
        let _ = stopped.await;
    }));
    // Keeps serving until the test's runtime ends.
    std::mem::forget(stop);
    format!("{address}/t/acme")
}

async fn client_token(app: &TestApp) -> String {
    let response =
        app.token_request(&[("grant_type", "client_credentials")], Some((PORTAL, &app.portal_secret))).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

async fn person_token(app: &TestApp) -> String {
    let pkce = pkce();
    let params = app.sign_in(&browser(), &AuthRequest::portal(&pkce)).await;
    let answer: Value = app.exchange_portal_code(&params["code"], &pkce.verifier).await.json().await.unwrap();
    answer["access_token"].as_str().unwrap().to_string()
}

async fn introspect_at(issuer: &str, client: (&str, &str), token: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{issuer}/introspect"))
        .basic_auth(client.0, Some(client.1))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn userinfo_status_at(issuer: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{issuer}/userinfo"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn revoke(app: &TestApp, token: &str) {
    let response = reqwest::Client::new()
        .post(format!("{}/revoke", app.issuer))
        .basic_auth(PORTAL, Some(&app.portal_secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// RFC 7009: a token revoked 31 s before an instance starts (a restart, a deploy, a scale-out)
/// is active at that instance. Its first check reads only the revocations of the last 30 s
/// (`Read::IfNeeded`), and the first full read comes 60 s after start.
async fn review_a_fresh_instance_honours_a_revocation_older_than_30_s(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let token = client_token(&app).await;
    revoke(&app, &token).await;
    let portal = (PORTAL, app.portal_secret.as_str());
    assert_eq!(introspect_at(&app.issuer, portal, &token).await, json!({ "active": false }));

    app.clock.advance(31);
    let second = second_instance(&app).await;
    assert_eq!(
        introspect_at(&second, portal, &token).await,
        json!({ "active": false }),
        "a fresh instance takes a token revoked 31 s ago for active"
    );
}
both_backends!(review_a_fresh_instance_honours_a_revocation_older_than_30_s);

/// Sign-out everywhere (`tessera user sign-out`): userinfo on a fresh instance still accepts the
/// person's access token 31 s later (same cause).
async fn review_a_fresh_instance_honours_a_sign_out_older_than_30_s(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let tenant = admin::tenant(&app.state, "acme").await.unwrap();
    let token = person_token(&app).await;
    admin::sign_out(&app.state, &tenant, EMAIL, &Actor::CLI).await.unwrap();
    assert_eq!(userinfo_status_at(&app.issuer, &token).await, 401);

    app.clock.advance(31);
    let second = second_instance(&app).await;
    assert_eq!(
        userinfo_status_at(&second, &token).await,
        401,
        "a fresh instance serves userinfo for a token ended by a sign-out 31 s ago"
    );
}
both_backends!(review_a_fresh_instance_honours_a_sign_out_older_than_30_s);

/// Disabling a person: introspection on a fresh instance calls their token active (with their
/// `sub`) 31 s later. The row-based check read the person's state at each introspection.
async fn review_a_fresh_instance_honours_a_disable_older_than_30_s(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let tenant = admin::tenant(&app.state, "acme").await.unwrap();
    let token = person_token(&app).await;
    admin::disable_user(&app.state, &tenant, EMAIL, &Actor::CLI).await.unwrap();
    let portal = (PORTAL, app.portal_secret.as_str());
    assert_eq!(introspect_at(&app.issuer, portal, &token).await, json!({ "active": false }));

    app.clock.advance(31);
    let second = second_instance(&app).await;
    assert_eq!(
        introspect_at(&second, portal, &token).await,
        json!({ "active": false }),
        "a fresh instance takes a disabled person's token for active"
    );
}
both_backends!(review_a_fresh_instance_honours_a_disable_older_than_30_s);

/// Deleting a client revoked its client_credentials tokens' rows in the same transaction, so a
/// resource server's introspection on any instance said inactive at once. Those tokens now have
/// no row: another instance that remembers the client (`client_memory`, 5 s) calls the token of
/// the deleted client active.
async fn review_a_deleted_clients_own_token_is_inactive_at_once_on_every_instance(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    use secrecy::ExposeSecret;
    let tenant = admin::tenant(&app.state, "acme").await.unwrap();
    let request = admin::NewClientRequest {
        resource_server: true,
        ..admin::NewClientRequest::new("api", &["https://api.example.org/cb"])
    };
    let (_, secret) = admin::create_client(&app.state, &tenant, request).await.unwrap();
    let api_secret = secret.unwrap().expose_secret().to_string();
    let api = ("api", api_secret.as_str());
    let token = client_token(&app).await;
    assert_eq!(introspect_at(&app.issuer, api, &token).await["active"], json!(true));

    // Another instance (or the CLI) deletes the client.
    let other = tessera::startup::build_state(app.state.settings.clone(), app.clock.clone()).await.unwrap();
    admin::delete_client(&other, &tenant, PORTAL, None, Actor::Cli).await.unwrap();

    app.clock.advance(1);
    assert_eq!(
        introspect_at(&app.issuer, api, &token).await,
        json!({ "active": false }),
        "the token of a client deleted a second ago is active"
    );
}
both_backends!(review_a_deleted_clients_own_token_is_inactive_at_once_on_every_instance);

/// Instances whose clocks differ by more than 30 s: a revocation made on the instance that is
/// behind is never read by the poll of the instance that is ahead (it reads the rows stamped in
/// its own last 30 s), only by its full read each minute. The row-based check did not depend on
/// the instances' clocks.
async fn review_a_revocation_reaches_an_instance_whose_clock_is_31_s_ahead(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ahead = format!("http://{}/t/acme", listener.local_addr().unwrap());
    let clock = std::sync::Arc::new(tessera::clock::ManualClock::new());
    clock.advance(app.clock.now() - clock.now() + 31);
    let state = tessera::startup::build_state(app.state.settings.clone(), clock).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(tessera::startup::serve(state, listener, async {
        let _ = stopped.await;
    }));
    std::mem::forget(stop);

    let token = client_token(&app).await;
    let portal = (PORTAL, app.portal_secret.as_str());
    assert_eq!(introspect_at(&ahead, portal, &token).await["active"], json!(true));
    revoke(&app, &token).await;
    // Past the stated bound (one poll, about a second).
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(
        introspect_at(&ahead, portal, &token).await,
        json!({ "active": false }),
        "an instance 31 s ahead takes a token revoked 2.5 s ago for active"
    );
}
both_backends!(review_a_revocation_reaches_an_instance_whose_clock_is_31_s_ahead);
