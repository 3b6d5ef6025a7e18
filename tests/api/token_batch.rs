//! The group commit of grants (`store::tokens::issue_many`): many grants in one transaction decide
//! their uses exactly as one by one would. Driven at the store, with tokens a real sign-in made,
//! because racing HTTP requests land in one batch only by chance.

use crate::both_backends;
use crate::helpers::*;
use serde_json::Value;
use tessera::crypto::sha256_hex;
use tessera::store::tokens::{GrantWrite, OwnedConsume, issue_many};

/// A signed-in person's token answer (with a refresh token) and the stored row of that token.
async fn signed_in(app: &TestApp) -> (Value, entity::refresh_token::Model) {
    let pkce = pkce();
    let mut request = AuthRequest::portal(&pkce);
    request.scope = "openid email offline_access";
    let params = app.sign_in(&browser(), &request).await;
    let answer: Value = app.exchange_portal_code(&params["code"], &pkce.verifier).await.json().await.unwrap();
    let hash = sha256_hex(answer["refresh_token"].as_str().unwrap());
    let tenant = tessera::store::tenants::find_by_slug(&app.state.db, "acme").await.unwrap().unwrap();
    let row = tessera::store::refresh_tokens::find(&app.state.db, &tenant.id, &hash).await.unwrap().unwrap();
    (answer, row)
}

/// A grant's writes: a new access token and, from `parent`, a new member of its family.
fn grant(consume: OwnedConsume, parent: &entity::refresh_token::Model, now: i64) -> GrantWrite {
    let access = entity::access_token::Model {
        token_hash: sha256_hex(&uuid::Uuid::new_v4().to_string()),
        tenant_id: parent.tenant_id.clone(),
        client_id: parent.client_id.clone(),
        user_id: Some(parent.user_id.clone()),
        scope: parent.scope.clone(),
        code_hash: None,
        created_at: now,
        expires_at: now + 300,
        revoked_at: None,
        family_id: Some(parent.family_id.clone()),
    };
    let refresh = entity::refresh_token::Model {
        token_hash: sha256_hex(&uuid::Uuid::new_v4().to_string()),
        created_at: now,
        used_at: None,
        ..parent.clone()
    };
    GrantWrite { consume, access, refresh: Some(refresh), now }
}

async fn stored(app: &TestApp, write: &GrantWrite) -> (bool, bool) {
    let access =
        tessera::store::access_tokens::find(&app.state.db, &write.access.tenant_id, &write.access.token_hash)
            .await
            .unwrap()
            .is_some();
    let refresh = write.refresh.as_ref().unwrap();
    let refresh =
        tessera::store::refresh_tokens::find(&app.state.db, &refresh.tenant_id, &refresh.token_hash)
            .await
            .unwrap()
            .is_some();
    (access, refresh)
}

async fn one_batch_uses_a_refresh_token_once(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (_, row) = signed_in(&app).await;
    let now = app.clock.now();
    let uses = OwnedConsume::RefreshToken(row.token_hash.clone());
    let writes = vec![grant(uses.clone(), &row, now), grant(uses.clone(), &row, now), grant(uses, &row, now)];
    let won = issue_many(&app.state.db, &writes).await.unwrap();
    assert_eq!(won, vec![true, false, false], "the first grant naming the token wins, alone");
    assert_eq!(stored(&app, &writes[0]).await, (true, true));
    assert_eq!(stored(&app, &writes[1]).await, (false, false), "a losing grant stores nothing");
    assert_eq!(stored(&app, &writes[2]).await, (false, false));

    // A later batch finds it used.
    let again = grant(OwnedConsume::RefreshToken(row.token_hash.clone()), &row, now);
    assert_eq!(issue_many(&app.state.db, &[again]).await.unwrap(), vec![false]);
}
both_backends!(one_batch_uses_a_refresh_token_once);

async fn retries_hold_before_uses_within_one_batch(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (_, row) = signed_in(&app).await;
    let now = app.clock.now();
    // In one batch: a retry given this unused token again, and the token's own use. Holds come
    // first (a valid serial order), so both succeed; a hold after the use would fail.
    let writes = vec![
        grant(OwnedConsume::RefreshToken(row.token_hash.clone()), &row, now),
        grant(OwnedConsume::Unused(row.token_hash.clone()), &row, now),
        grant(OwnedConsume::Nothing, &row, now),
    ];
    assert_eq!(issue_many(&app.state.db, &writes).await.unwrap(), vec![true, true, true]);
    let late = grant(OwnedConsume::Unused(row.token_hash.clone()), &row, now);
    assert_eq!(issue_many(&app.state.db, &[late]).await.unwrap(), vec![false], "used by now");
}
both_backends!(retries_hold_before_uses_within_one_batch);

async fn a_revoked_refresh_token_is_not_used_in_a_batch(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let (_, row) = signed_in(&app).await;
    let now = app.clock.now();
    tessera::store::refresh_tokens::revoke_family(&app.state.db, &row.family_id, now).await.unwrap();
    let writes = vec![
        grant(OwnedConsume::RefreshToken(row.token_hash.clone()), &row, now),
        grant(OwnedConsume::Unused(row.token_hash.clone()), &row, now),
        grant(OwnedConsume::Nothing, &row, now),
    ];
    assert_eq!(issue_many(&app.state.db, &writes).await.unwrap(), vec![false, false, true]);
    assert_eq!(stored(&app, &writes[2]).await, (true, true), "the grant with nothing to use is stored");
}
both_backends!(a_revoked_refresh_token_is_not_used_in_a_batch);

/// Many concurrent client_credentials requests: every answer's token is distinct and active
/// (self-contained tokens are stored nowhere, `sealed_tokens.rs`).
async fn concurrent_client_credentials_tokens_are_all_active(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let handles: Vec<_> = (0..40)
        .map(|_| {
            let url = format!("{}/token", app.issuer);
            let secret = app.portal_secret.clone();
            tokio::spawn(async move {
                let response = reqwest::Client::new()
                    .post(url)
                    .basic_auth(PORTAL, Some(secret))
                    .form(&[("grant_type", "client_credentials")])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
                response.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string()
            })
        })
        .collect();
    let mut tokens = std::collections::BTreeSet::new();
    for handle in handles {
        tokens.insert(handle.await.unwrap());
    }
    assert_eq!(tokens.len(), 40);
    for token in &tokens {
        let response = app.post_client(&format!("{}/introspect", app.issuer), &[("token", token)]).await;
        assert_eq!(response.json::<Value>().await.unwrap()["active"], true);
    }
}
both_backends!(concurrent_client_credentials_tokens_are_all_active);
