//! Self-contained access tokens (issue 17, `oauth::sealed_token`): a client_credentials grant
//! stores nothing, the token is checked without a database read, and revocation still holds, on
//! this instance at once and on every instance within the poll of `oauth::revoked`.

use std::time::{Duration, Instant};

use crate::both_backends;
use crate::helpers::*;
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use tessera::clock::Clock;
use tessera::crypto::sha256_hex;

async fn client_token(app: &TestApp) -> String {
    let response =
        app.token_request(&[("grant_type", "client_credentials")], Some((PORTAL, &app.portal_secret))).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

async fn introspect(app: &TestApp, token: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{}/introspect", app.issuer))
        .basic_auth(PORTAL, Some(&app.portal_secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn a_client_token_is_stored_nowhere_and_still_revocable(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let rows_before = entity::access_token::Entity::find().count(&app.state.db).await.unwrap();
    let token = client_token(&app).await;
    let other = client_token(&app).await;
    assert!(token.starts_with("at1."), "not a self-contained token: {token}");
    assert_eq!(entity::access_token::Entity::find().count(&app.state.db).await.unwrap(), rows_before);

    let answer = introspect(&app, &token).await;
    assert_eq!(answer["active"], json!(true), "{answer}");
    assert_eq!(answer["client_id"], json!(PORTAL));
    assert!(answer.get("sub").is_none(), "a client's own token names no person: {answer}");

    // A changed character, a token of the format that was never issued, the prefix alone.
    let mut changed = token.clone().into_bytes();
    let last = changed.len() - 1;
    changed[last] = if changed[last] == b'A' { b'B' } else { b'A' };
    for forged in [
        String::from_utf8(changed).unwrap(),
        "at1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
        "at1.".into(),
    ] {
        assert_eq!(introspect(&app, &forged).await, json!({ "active": false }), "{forged}");
    }

    let revoked = reqwest::Client::new()
        .post(format!("{}/revoke", app.issuer))
        .basic_auth(PORTAL, Some(&app.portal_secret))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    // At once on this instance, and only that token.
    assert_eq!(introspect(&app, &token).await, json!({ "active": false }));
    assert_eq!(introspect(&app, &other).await["active"], json!(true));

    // Expired: not active, whatever the memory says.
    app.clock.advance(app.state.settings.tokens.access_token_seconds + 1);
    assert_eq!(introspect(&app, &other).await, json!({ "active": false }));
}
both_backends!(a_client_token_is_stored_nowhere_and_still_revocable);

async fn another_tenants_token_is_unknown_here(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    use secrecy::ExposeSecret;
    let token = client_token(&app).await;
    let other = tessera::admin::create_tenant(&app.state, "other", "Other Clinic").await.unwrap();
    let request = tessera::admin::NewClientRequest {
        resource_server: true,
        ..tessera::admin::NewClientRequest::new("api", &["https://api.example.org/cb"])
    };
    let (_, secret) = tessera::admin::create_client(&app.state, &other, request).await.unwrap();
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/t/other/introspect", app.address))
        .basic_auth("api", Some(secret.unwrap().expose_secret()))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer, json!({ "active": false }));
}
both_backends!(another_tenants_token_is_unknown_here);

/// A revocation row written by another process (here: by SQL, which this process's counter does
/// not see) is read by the poll within about a second.
async fn a_revocation_recorded_elsewhere_is_seen_within_the_poll(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let token = client_token(&app).await;
    assert_eq!(introspect(&app, &token).await["active"], json!(true));
    let tenant = tessera::store::tenants::find_by_slug(&app.state.db, "acme").await.unwrap().unwrap();
    let now = app.clock.now();
    let recorded = tessera::store::token_revocations::database_now(&app.state.db).await.unwrap();
    app.state
        .db
        .execute_unprepared(&format!(
            "INSERT INTO token_revocations (kind, subject, tenant_id, revoked_at, expires_at, recorded_at) \
             VALUES ('token', '{}', '{}', {now}, {}, {recorded})",
            sha256_hex(&token),
            tenant.id,
            now + 300
        ))
        .await
        .unwrap();
    let started = Instant::now();
    loop {
        if introspect(&app, &token).await == json!({ "active": false }) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(4), "still active after {:?}", started.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
both_backends!(a_revocation_recorded_elsewhere_is_seen_within_the_poll);

async fn person_token(app: &TestApp) -> String {
    let pkce = pkce();
    let params = app.sign_in(&browser(), &AuthRequest::portal(&pkce)).await;
    let answer: Value = app.exchange_portal_code(&params["code"], &pkce.verifier).await.json().await.unwrap();
    answer["access_token"].as_str().unwrap().to_string()
}

/// Disabling a person revokes their tokens as a whole, including any stored just after the change
/// (a grant that checked the person just before it). Re-enabled, they get working tokens again
/// once that margin has passed; within it, a new token is refused too.
async fn a_disabled_persons_tokens_end_and_new_ones_work_after_re_enabling(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    use tessera::admin::{self, Actor};
    let tenant = admin::tenant(&app.state, "acme").await.unwrap();
    let token = person_token(&app).await;
    assert!(token.starts_with("at1."));
    assert_eq!(introspect(&app, &token).await["active"], json!(true));

    admin::disable_user(&app.state, &tenant, EMAIL, &Actor::CLI).await.unwrap();
    assert_eq!(introspect(&app, &token).await, json!({ "active": false }));
    // A token stored in the moment after the change, stamped with the change's own second.
    let claims = tessera::oauth::sealed_token::Claims {
        issued_at: app.clock.now(),
        ..app.state.sealed_tokens.open(tenant.id(), &token).unwrap()
    };
    assert!(claims.user_id.is_some());
    let escaped = app.state.sealed_tokens.seal(tenant.id(), &claims).unwrap();
    assert_eq!(introspect(&app, &escaped).await, json!({ "active": false }));

    admin::enable_user(&app.state, &tenant, EMAIL, &Actor::CLI).await.unwrap();
    app.clock.advance(31);
    let fresh = person_token(&app).await;
    assert_eq!(introspect(&app, &fresh).await["active"], json!(true), "a new token after re-enabling");
    assert_eq!(introspect(&app, &token).await, json!({ "active": false }), "the old token stays revoked");
}
both_backends!(a_disabled_persons_tokens_end_and_new_ones_work_after_re_enabling);
