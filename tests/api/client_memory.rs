//! Clients remembered for `client_memory::SECONDS` (issue 17): a change made by another instance
//! (or the CLI) on the same database is seen within that bound, and nothing a remembered client
//! obtains meanwhile outlives it. (From the review of issue 17.)

use crate::both_backends;
use crate::helpers::*;
use serde_json::Value;

async fn a_token_minted_after_another_instance_deleted_its_client_dies_within_the_bound(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    use secrecy::ExposeSecret;
    let tenant = tessera::admin::tenant(&app.state, "acme").await.unwrap();
    let request = tessera::admin::NewClientRequest {
        resource_server: true,
        ..tessera::admin::NewClientRequest::new("api", &["https://api.example.org/cb"])
    };
    let (_, secret) = tessera::admin::create_client(&app.state, &tenant, request).await.unwrap();
    let api_secret = secret.unwrap().expose_secret().to_string();
    let grant = [("grant_type", "client_credentials")];
    assert_eq!(app.token_request(&grant, Some((PORTAL, &app.portal_secret))).await.status(), 200);

    // Another instance on the same database deletes the client.
    let other = tessera::startup::build_state(app.state.settings.clone(), app.clock.clone()).await.unwrap();
    tessera::admin::delete_client(&other, &tenant, PORTAL, None, tessera::admin::Actor::Cli).await.unwrap();

    // Within the memory's seconds this instance may still authenticate the deleted client.
    app.clock.advance(1);
    let response = app.token_request(&grant, Some((PORTAL, &app.portal_secret))).await;
    let body: Value = response.json().await.unwrap();
    let Some(token) = body["access_token"].as_str() else { return };

    // Past the bound, that token is not active to a resource server.
    app.clock.advance(tessera::oauth::client_memory::SECONDS + 1);
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/introspect", app.issuer))
        .basic_auth("api", Some(&api_secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer, serde_json::json!({ "active": false }), "a deleted client's token is still active");
    // And the client itself no longer authenticates.
    let response = app.token_request(&grant, Some((PORTAL, &app.portal_secret))).await;
    assert_eq!(response.status(), 401);
}
both_backends!(a_token_minted_after_another_instance_deleted_its_client_dies_within_the_bound);
