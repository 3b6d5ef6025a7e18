//! The refresh retry grace: the client whose answer to a refresh was lost presents the same token
//! again and gets the same successor; every other second use still revokes the family.

use crate::both_backends;
use crate::helpers::*;
use serde_json::Value;

async fn offline_tokens(app: &TestApp) -> Value {
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

/// A refresh that must succeed; its answer.
async fn refreshed(app: &TestApp, token: &str) -> Value {
    let response = refresh(app, token).await;
    assert_eq!(response.status(), 200, "refresh refused: {}", response.text().await.unwrap());
    response.json().await.unwrap()
}

async fn refused(app: &TestApp, token: &str) {
    let response = refresh(app, token).await;
    assert_eq!(response.status(), 400);
    assert_eq!(response.json::<Value>().await.unwrap()["error"], "invalid_grant");
}

async fn active(app: &TestApp, token: &str) -> bool {
    let response = app.post_client(&format!("{}/introspect", app.issuer), &[("token", token)]).await;
    response.json::<Value>().await.unwrap()["active"].as_bool().unwrap()
}

fn refresh_token(answer: &Value) -> String {
    answer["refresh_token"].as_str().expect("a refresh token").to_string()
}

async fn audit_names(app: &TestApp) -> Vec<String> {
    let tenant = tessera::store::tenants::find_by_slug(&app.state.db, "acme").await.unwrap().unwrap();
    let events = tessera::store::audit_events::list_for_tenant(&app.state.db, &tenant.id).await.unwrap();
    events.into_iter().map(|e| e.event).collect()
}

async fn a_retry_within_the_grace_gets_the_same_successor_and_the_family_lives(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let first = refresh_token(&offline_tokens(&app).await);
    app.clock.advance(60);
    let lost = refreshed(&app, &first).await;

    // The answer never arrived: the client tries again a few seconds later, twice.
    app.clock.advance(3);
    let retried = refreshed(&app, &first).await;
    assert_eq!(refresh_token(&retried), refresh_token(&lost), "the same successor, given again");
    assert_ne!(retried["access_token"], lost["access_token"], "a new access token");
    let claims = crate::refresh_and_tokens::decode_jwt(retried["id_token"].as_str().unwrap());
    assert_eq!(claims["iat"], app.clock.now(), "a new ID token");
    app.clock.advance(3);
    let again = refreshed(&app, &first).await;
    assert_eq!(refresh_token(&again), refresh_token(&lost));

    // The family lives on: the successor rotates once, and every access token works.
    for answer in [&lost, &retried, &again] {
        assert!(active(&app, answer["access_token"].as_str().unwrap()).await);
    }
    let next = refreshed(&app, &refresh_token(&retried)).await;
    assert_ne!(refresh_token(&next), refresh_token(&retried));
    app.clock.advance(60);
    let after = refreshed(&app, &refresh_token(&next)).await;
    assert!(active(&app, after["access_token"].as_str().unwrap()).await);
    let names = audit_names(&app).await;
    assert_eq!(names.iter().filter(|n| *n == "token.refresh_retried").count(), 2, "{names:?}");
    assert!(!names.iter().any(|n| n == "token.refresh_reused"), "{names:?}");
}
both_backends!(a_retry_within_the_grace_gets_the_same_successor_and_the_family_lives);

async fn a_retry_after_the_grace_revokes_the_family(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let first = refresh_token(&offline_tokens(&app).await);
    let lost = refreshed(&app, &first).await;
    let grace = app.state.settings.tokens.refresh_reuse_grace_seconds;
    assert!(grace > 0, "a grace by default");

    app.clock.advance(grace + 1);
    refused(&app, &first).await;
    refused(&app, &refresh_token(&lost)).await;
    assert!(!active(&app, lost["access_token"].as_str().unwrap()).await, "the family is revoked");
    assert!(audit_names(&app).await.iter().any(|n| n == "token.refresh_reused"));
}
both_backends!(a_retry_after_the_grace_revokes_the_family);

async fn without_a_grace_any_second_use_revokes_the_family(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| s.tokens.refresh_reuse_grace_seconds = 0).await else {
        return;
    };
    let first = refresh_token(&offline_tokens(&app).await);
    let lost = refreshed(&app, &first).await;
    refused(&app, &first).await;
    refused(&app, &refresh_token(&lost)).await;
}
both_backends!(without_a_grace_any_second_use_revokes_the_family);

async fn an_older_token_than_the_last_rotated_one_revokes_the_family_within_the_grace(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let first = refresh_token(&offline_tokens(&app).await);
    let second = refresh_token(&refreshed(&app, &first).await);
    let third = refreshed(&app, &second).await;

    // `first` is within the grace, but its successor was used: a copy of an old token.
    app.clock.advance(1);
    refused(&app, &first).await;
    refused(&app, &refresh_token(&third)).await;
    assert!(!active(&app, third["access_token"].as_str().unwrap()).await);
}
both_backends!(an_older_token_than_the_last_rotated_one_revokes_the_family_within_the_grace);

async fn another_client_presenting_a_rotated_token_revokes_the_family_within_the_grace(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let first = refresh_token(&offline_tokens(&app).await);
    let lost = refreshed(&app, &first).await;

    // Within the grace, but the public client `mobile` presents the portal's rotated token.
    let response = app
        .token_request(
            &[("grant_type", "refresh_token"), ("refresh_token", &first), ("client_id", MOBILE)],
            None,
        )
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(response.json::<Value>().await.unwrap()["error"], "invalid_grant");
    refused(&app, &first).await;
    refused(&app, &refresh_token(&lost)).await;
    assert!(!active(&app, lost["access_token"].as_str().unwrap()).await);
}
both_backends!(another_client_presenting_a_rotated_token_revokes_the_family_within_the_grace);

/// Sends `count` refreshes of `token` at once (each on its own task); their statuses and answers.
async fn at_once(app: &TestApp, token: &str, count: usize) -> Vec<(u16, Value)> {
    let handles: Vec<_> = (0..count)
        .map(|_| {
            let url = format!("{}/token", app.issuer);
            let secret = app.portal_secret.clone();
            let form = [("grant_type", "refresh_token".to_string()), ("refresh_token", token.to_string())];
            tokio::spawn(async move {
                let response = reqwest::Client::new()
                    .post(url)
                    .basic_auth(PORTAL, Some(secret))
                    .form(&form)
                    .send()
                    .await
                    .unwrap();
                (response.status().as_u16(), response.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for handle in handles {
        answers.push(handle.await.unwrap());
    }
    answers
}

async fn racing_refreshes_and_retries_yield_one_successor(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    // Racing first uses: one rotation; the others are retries of it and get its successor.
    let first = refresh_token(&offline_tokens(&app).await);
    let answers = at_once(&app, &first, 8).await;
    let successors: std::collections::BTreeSet<String> = answers
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, 200, "{body}");
            refresh_token(body)
        })
        .collect();
    assert_eq!(successors.len(), 1, "one successor for every answer: {successors:?}");
    let successor = successors.into_iter().next().unwrap();

    // Racing retries after a lost answer, while the client also uses the successor: whatever the
    // order, at most one live token comes out, and the family is never split.
    let next = refreshed(&app, &successor).await;
    let retries = at_once(&app, &successor, 8).await;
    for (status, body) in &retries {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(refresh_token(body), refresh_token(&next));
    }
    let last = refreshed(&app, &refresh_token(&next)).await;
    assert!(active(&app, last["access_token"].as_str().unwrap()).await, "the family lives");
    // Only one member of the family is unused: the newest.
    let rows = tessera::store::refresh_tokens::find(
        &app.state.db,
        &tessera::store::tenants::find_by_slug(&app.state.db, "acme").await.unwrap().unwrap().id,
        &tessera::crypto::sha256_hex(&refresh_token(&last)),
    )
    .await
    .unwrap()
    .unwrap();
    let live =
        family_members(&app, &rows.family_id).await.into_iter().filter(|r| r.used_at.is_none()).count();
    assert_eq!(live, 1, "one live refresh token in the family");
}
both_backends!(racing_refreshes_and_retries_yield_one_successor);

async fn family_members(app: &TestApp, family_id: &str) -> Vec<entity::refresh_token::Model> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    entity::refresh_token::Entity::find()
        .filter(entity::refresh_token::Column::FamilyId.eq(family_id))
        .all(&app.state.db)
        .await
        .unwrap()
}
