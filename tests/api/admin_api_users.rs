//! The admin API's lifecycle of a person (disable, enable, erase, reset the second factor, invite
//! again), their sessions and factors, creating by invitation and listing by status: each through
//! the same services as the CLI, with the calling client in the audit, and each refusal a problem
//! document with nothing changed. Answers are checked against the OpenAPI document (`Api::call`).

use reqwest::Method;
use serde_json::{Value, json};
use tessera::admin;

use crate::admin_api::{ALL, Api, api_on, client_token, register};
use crate::both_backends;
use crate::email::spawn_app_mailing_to;
use crate::helpers::*;
use crate::smtp_sink::SmtpSink;

async fn api(backend: Backend) -> Option<Api> {
    Some(api_on(spawn_app(backend).await?).await)
}

async fn acme(api: &Api) -> tessera::tenants::Tenant {
    admin::tenant(&api.app.state, "acme").await.unwrap()
}

/// The seeded person's id (their `sub`).
async fn patient_id(api: &Api) -> String {
    admin::show_user(&api.app.state, &acme(api).await, EMAIL).await.unwrap().id
}

async fn patient_row(api: &Api) -> Option<entity::user::Model> {
    api.users().await.into_iter().find(|u| u.email == EMAIL)
}

/// The `actor` of each recorded `event`.
async fn actors(api: &Api, event: &str) -> Vec<String> {
    api.events(event)
        .await
        .iter()
        .map(|e| {
            serde_json::from_str::<Value>(&e.detail).unwrap()["actor"].as_str().unwrap_or("").to_string()
        })
        .collect()
}

fn emails(answer: &crate::admin_api::Answer) -> Vec<String> {
    answer.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_string())
        .collect()
}

both_backends!(a_person_is_disabled_enabled_and_erased);
async fn a_person_is_disabled_enabled_and_erased(backend: Backend) {
    let Some(api) = api(backend).await else { return };
    let token = Some(api.token.as_str());
    let id = patient_id(&api).await;
    let user = [("user_id", id.as_str())];
    let browser = browser();
    let pkce = crate::helpers::pkce();
    api.app.sign_in(&browser, &AuthRequest::portal(&pkce)).await;

    let read = api.get("/users/{user_id}", &user).await;
    assert_eq!(read.body["status"], "active");
    assert!(read.body["disabled_at"].is_null());
    let etag = read.header("etag");
    assert_eq!(api.get("/users/{user_id}/sessions", &user).await.body["items"].as_array().unwrap().len(), 1);

    // A stale If-Match changes nothing.
    let before = patient_row(&api).await;
    api.call(Method::POST, "/users/{user_id}/disable", &user, token, None, &[("if-match", "\"stale\"")])
        .await
        .assert_problem(412, "precondition-failed");
    api.call(Method::POST, "/users/{user_id}/disable", &user, token, None, &[("if-match", "W/\"weak\"")])
        .await
        .assert_problem(412, "precondition-failed");
    assert_eq!(patient_row(&api).await, before);
    assert_eq!(api.get("/users/{user_id}/sessions", &user).await.body["items"].as_array().unwrap().len(), 1);

    let disabled =
        api.call(Method::POST, "/users/{user_id}/disable", &user, token, None, &[("if-match", &etag)]).await;
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    assert_eq!(disabled.body["status"], "disabled");
    assert!(disabled.body["disabled_at"].is_string());
    assert_ne!(disabled.header("etag"), etag, "disabling changes the revision");
    assert_eq!(api.get("/users/{user_id}/sessions", &user).await.body["items"], json!([]));
    let response = browser.get(format!("{}/account", api.app.issuer)).send().await.unwrap();
    assert_eq!(response.status(), 303, "their session ended");
    // The ETag of before the disable is stale for a change of the name.
    api.call(
        Method::PATCH,
        "/users/{user_id}",
        &user,
        token,
        Some(json!({ "name": "X" })),
        &[("if-match", &etag)],
    )
    .await
    .assert_problem(412, "precondition-failed");
    // Again: nothing changes, nothing more is recorded.
    let again = api.call(Method::POST, "/users/{user_id}/disable", &user, token, None, &[]).await;
    assert_eq!((again.status, again.header("etag")), (200, disabled.header("etag")));
    assert_eq!(actors(&api, "user.disabled").await, ["client:backoffice"]);

    // Listed by status.
    let listed = api.call(Method::GET, "/users?status=disabled", &[], token, None, &[]).await;
    assert_eq!(emails(&listed), [EMAIL]);
    let listed = api.call(Method::GET, "/users?status=active", &[], token, None, &[]).await;
    assert!(!emails(&listed).contains(&EMAIL.to_string()));
    api.call(Method::GET, "/users?status=asleep", &[], token, None, &[])
        .await
        .assert_problem(400, "invalid-query");

    let enabled = api.call(Method::POST, "/users/{user_id}/enable", &user, token, None, &[]).await;
    assert_eq!(enabled.status, 200);
    assert_eq!(enabled.body["status"], "active");
    assert_eq!(actors(&api, "user.enabled").await, ["client:backoffice"]);
    let pkce = crate::helpers::pkce();
    api.app.sign_in(&firefox(), &AuthRequest::portal(&pkce)).await;

    // Erasure: If-Match optional and checked; afterwards the person is gone.
    let before = patient_row(&api).await;
    // (The ETag of the disabled person: enabling, in the same second, gave back the first one.)
    api.call(
        Method::DELETE,
        "/users/{user_id}",
        &user,
        token,
        None,
        &[("if-match", &disabled.header("etag"))],
    )
    .await
    .assert_problem(412, "precondition-failed");
    assert_eq!(patient_row(&api).await, before);
    let erased = api
        .call(
            Method::DELETE,
            "/users/{user_id}",
            &user,
            token,
            None,
            &[("if-match", &enabled.header("etag"))],
        )
        .await;
    assert_eq!(erased.status, 204, "{}", erased.body);
    assert!(patient_row(&api).await.is_none());
    api.get("/users/{user_id}", &user).await.assert_problem(404, "not-found");
    api.call(Method::DELETE, "/users/{user_id}", &user, token, None, &[])
        .await
        .assert_problem(404, "not-found");
    for path in
        ["/users/{user_id}/disable", "/users/{user_id}/enable", "/users/{user_id}/reset-second-factor"]
    {
        api.call(Method::POST, path, &user, token, None, &[]).await.assert_problem(404, "not-found");
    }
    assert_eq!(actors(&api, "user.deleted").await, ["client:backoffice"]);
}

both_backends!(a_second_factor_is_listed_and_reset_and_sessions_end);
async fn a_second_factor_is_listed_and_reset_and_sessions_end(backend: Backend) {
    let Some(api) = api(backend).await else { return };
    let token = Some(api.token.as_str());
    let (browser, enrolled) = api.app.user_with_totp().await;
    let other = firefox();
    let pkce = crate::helpers::pkce();
    let login_url = api.app.password_then_second_factor(&other, &AuthRequest::portal(&pkce)).await;
    let code = totp_code(&enrolled.setup_key, api.app.clock.now());
    api.app.submit_code(&other, &login_url, &code, false).await;
    let id = patient_id(&api).await;
    let user = [("user_id", id.as_str())];

    let factors = api.get("/users/{user_id}/factors", &user).await;
    assert_eq!(factors.status, 200, "{}", factors.body);
    assert_eq!(factors.body["two_factor_method"], "totp");
    assert_eq!(factors.body["items"][0]["kind"], "authenticator_app");
    assert!(factors.body["items"][0]["added_at"].is_string());
    assert_eq!(factors.body["backup_codes_left"], 10);
    let text = factors.body.to_string();
    assert!(!text.contains(&enrolled.setup_key) && !text.contains(&enrolled.backup_codes[0]), "no secrets");

    // One session ends; the other stays.
    let sessions = api.get("/users/{user_id}/sessions", &user).await;
    let items = sessions.body["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2, "{}", sessions.body);
    assert!(items[0]["amr"].as_array().unwrap().contains(&json!("otp")));
    let newest = items[0]["sid"].as_str().unwrap();
    let one = [("user_id", id.as_str()), ("sid", newest)];
    let unknown = [("user_id", id.as_str()), ("sid", "no-such-sid")];
    api.call(Method::DELETE, "/users/{user_id}/sessions/{sid}", &unknown, token, None, &[])
        .await
        .assert_problem(404, "not-found");
    let ended = api.call(Method::DELETE, "/users/{user_id}/sessions/{sid}", &one, token, None, &[]).await;
    assert_eq!(ended.status, 204, "{}", ended.body);
    let left = api.get("/users/{user_id}/sessions", &user).await;
    assert_eq!(left.body["items"].as_array().unwrap().len(), 1);
    assert_ne!(left.body["items"][0]["sid"], newest);
    let response = other.get(format!("{}/account", api.app.issuer)).send().await.unwrap();
    assert_eq!(response.status(), 303, "the newest sign-in (the second browser) ended");
    let response = browser.get(format!("{}/account", api.app.issuer)).send().await.unwrap();
    assert_eq!(response.status(), 200, "the other did not");
    api.call(Method::DELETE, "/users/{user_id}/sessions/{sid}", &one, token, None, &[])
        .await
        .assert_problem(404, "not-found");

    // Reset: a read-only token may not; then every factor goes and every sign-in ends.
    let secret = register(&api.app, "acme", "reader", "admin.users.read").await;
    let reader = client_token(&api.app, &api.app.issuer, "reader", &secret, None).await;
    api.call(Method::POST, "/users/{user_id}/reset-second-factor", &user, Some(&reader), None, &[])
        .await
        .assert_problem(403, "insufficient-scope");
    assert_eq!(api.get("/users/{user_id}/factors", &user).await.body, factors.body);
    let etag = api.get("/users/{user_id}", &user).await.header("etag");
    let reset = api
        .call(
            Method::POST,
            "/users/{user_id}/reset-second-factor",
            &user,
            token,
            None,
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    assert_eq!(reset.body["previous_method"], "totp");
    assert_eq!(reset.body["signed_out"]["sessions"], 1);
    let after = api.get("/users/{user_id}/factors", &user).await;
    assert_eq!(
        after.body,
        json!({ "two_factor_method": null, "items": [], "backup_codes_left": 0, "trusted_devices": 0 })
    );
    assert_ne!(api.get("/users/{user_id}", &user).await.header("etag"), etag);
    assert_eq!(actors(&api, "user.two_factor_reset").await, ["client:backoffice"]);
    let audit = api
        .call(
            Method::GET,
            &format!("/audit-events?user={id}&event=user.two_factor_reset"),
            &[],
            token,
            None,
            &[],
        )
        .await;
    assert_eq!(audit.body["items"][0]["detail"]["method"], "totp", "{}", audit.body);

    // Everywhere: a new sign-in, then every session ends.
    let pkce = crate::helpers::pkce();
    api.app.sign_in(&firefox(), &AuthRequest::portal(&pkce)).await;
    let all = api.call(Method::DELETE, "/users/{user_id}/sessions", &user, token, None, &[]).await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(all.body["sessions"], 1);
    assert_eq!(api.get("/users/{user_id}/sessions", &user).await.body["items"], json!([]));
    assert_eq!(actors(&api, "user.signed_out").await, ["client:backoffice", "client:backoffice"]);
}

both_backends!(people_are_invited_and_listed_by_status);
async fn people_are_invited_and_listed_by_status(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = spawn_app_mailing_to(backend, sink.url()).await else { return };
    let api = api_on(app).await;
    let token = Some(api.token.as_str());
    let invite = json!({ "email": "New.Patient@example.org", "name": "New Patient", "invite": true });
    let created = api.call(Method::POST, "/users", &[], token, Some(invite), &[]).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["status"], "invited");
    let id = created.body["id"].as_str().unwrap().to_string();
    let first = sink.wait_for(1, 15).await.remove(0);
    assert_eq!(first.header("Subject").unwrap(), "Acme Clinic: you are invited");
    assert!(api.events("user.created").await.iter().any(|e| e.detail.contains("client:backoffice")));

    // Refused: the address taken, by invitation too; nothing created, nothing sent.
    let before = api.users().await;
    let taken = json!({ "email": EMAIL, "invite": true });
    api.call(Method::POST, "/users", &[], token, Some(taken), &[]).await.assert_problem(409, "conflict");
    assert_eq!(api.users().await, before);

    let invited = api.call(Method::GET, "/users?status=invited", &[], token, None, &[]).await;
    assert_eq!(emails(&invited), ["new.patient@example.org"]);
    let active = api.call(Method::GET, "/users?status=active", &[], token, None, &[]).await;
    assert_eq!(emails(&active), [EMAIL]);

    // Inviting again sends a new link; someone with a password is not invited.
    let user = [("user_id", id.as_str())];
    let again = api.call(Method::POST, "/users/{user_id}/invitation", &user, token, None, &[]).await;
    assert_eq!(again.status, 202, "{}", again.body);
    let link = sink.wait_for(2, 15).await.remove(1).link_with("/invitation/");

    // Accepting the invitation makes them active.
    let browser = firefox();
    let (status, page) = api.app.get_html(&browser, &link).await;
    assert_eq!(status, 200, "{page}");
    let response = api
        .app
        .post_form(&browser, &link, &csrf_token(&page), &[("new_password", "my first password")])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(api.get("/users/{user_id}", &user).await.body["status"], "active");
    api.call(Method::POST, "/users/{user_id}/invitation", &user, token, None, &[])
        .await
        .assert_problem(409, "invalid-state");
    // A disabled person is not invited either (disabling removed their links).
    let seeded = patient_id(&api).await;
    let patient = [("user_id", seeded.as_str())];
    api.call(Method::POST, "/users/{user_id}/disable", &patient, token, None, &[]).await;
    api.call(Method::POST, "/users/{user_id}/invitation", &patient, token, None, &[])
        .await
        .assert_problem(409, "invalid-state");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(sink.received().len(), 2, "no third mail");
}

both_backends!(lifecycle_calls_need_the_right_token_and_change_nothing_otherwise);
async fn lifecycle_calls_need_the_right_token_and_change_nothing_otherwise(backend: Backend) {
    let Some(api) = api(backend).await else { return };
    let app = &api.app;
    let pkce = crate::helpers::pkce();
    let browser = browser();
    let params = app.sign_in(&browser, &AuthRequest::portal(&pkce)).await;
    let tokens: Value = app.exchange_portal_code(&params["code"], &pkce.verifier).await.json().await.unwrap();
    let user_token = tokens["access_token"].as_str().unwrap().to_string();
    let id = patient_id(&api).await;
    let sid = api.get("/users/{user_id}/sessions", &[("user_id", &id)]).await.body["items"][0]["sid"]
        .as_str()
        .unwrap()
        .to_string();
    let params = [("user_id", id.as_str()), ("sid", sid.as_str())];

    let secret = register(app, "acme", "auditor", "admin.audit.read admin.users.read").await;
    let reader = client_token(app, &app.issuer, "auditor", &secret, None).await;
    let secret = register(app, "acme", "writer-without-read", "admin.users.write").await;
    let no_read = client_token(app, &app.issuer, "writer-without-read", &secret, None).await;
    admin::create_tenant(&app.state, "other", "Other Clinic").await.unwrap();
    let secret = register(app, "other", "other-admin", ALL).await;
    let other = client_token(app, &format!("{}/t/other", app.address), "other-admin", &secret, None).await;
    let secret = register(app, "acme", "revoked", ALL).await;
    let revoked = client_token(app, &app.issuer, "revoked", &secret, None).await;
    let response = reqwest::Client::new()
        .post(format!("{}/revoke", app.issuer))
        .basic_auth("revoked", Some(&secret))
        .form(&[("token", revoked.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let writes = [
        (Method::POST, "/users/{user_id}/disable"),
        (Method::POST, "/users/{user_id}/enable"),
        (Method::POST, "/users/{user_id}/reset-second-factor"),
        (Method::POST, "/users/{user_id}/invitation"),
        (Method::DELETE, "/users/{user_id}/sessions"),
        (Method::DELETE, "/users/{user_id}/sessions/{sid}"),
        (Method::DELETE, "/users/{user_id}"),
    ];
    let reads = [(Method::GET, "/users/{user_id}/sessions"), (Method::GET, "/users/{user_id}/factors")];
    let before = (api.users().await, api.get("/users/{user_id}/sessions", &params).await.body);
    for (method, path) in writes.iter().chain(reads.iter()) {
        let write = *method != Method::GET;
        for (token, status, kind) in [
            ("not-a-token", 401, "invalid-token"),
            (other.as_str(), 401, "invalid-token"),
            (revoked.as_str(), 401, "invalid-token"),
            (user_token.as_str(), 403, "not-a-client-token"),
        ] {
            let answer = api.call(method.clone(), path, &params, Some(token), None, &[]).await;
            answer.assert_problem(status, kind);
        }
        let wrong = if write { &reader } else { &no_read };
        let answer = api.call(method.clone(), path, &params, Some(wrong), None, &[]).await;
        answer.assert_problem(403, "insufficient-scope");
        let scope = if write { "admin.users.write" } else { "admin.users.read" };
        assert!(answer.header("www-authenticate").contains(scope), "{path}");
    }
    // Another tenant's admin, with a valid token there, does not find this person.
    let response = reqwest::Client::new()
        .post(format!("{}/t/other/admin/v1/users/{id}/disable", app.address))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    // And this tenant's admin does not find a person of the other tenant.
    let other_tenant = admin::tenant(&app.state, "other").await.unwrap();
    let stranger =
        admin::create_user(&app.state, &other_tenant, EMAIL, None, secrecy::SecretString::from(PASSWORD))
            .await
            .unwrap();
    let theirs = [("user_id", stranger.id.as_str()), ("sid", sid.as_str())];
    for (method, path) in writes.iter().chain(reads.iter()) {
        let answer = api.call(method.clone(), path, &theirs, Some(&api.token), None, &[]).await;
        answer.assert_problem(404, "not-found");
    }
    assert_eq!(admin::user(&app.state, &other_tenant, &stranger.id).await.unwrap(), stranger);
    let mut everyone: Vec<_> = before.0.into_iter().chain([stranger]).collect();
    everyone.sort_by(|a, b| a.id.cmp(&b.id));
    let before = (everyone, before.1);
    let mut now = api.users().await;
    now.sort_by(|a, b| a.id.cmp(&b.id));
    let after = (now, api.get("/users/{user_id}/sessions", &params).await.body);
    assert_eq!(after, before, "nothing changed");
    for event in ["user.disabled", "user.enabled", "user.two_factor_reset", "user.signed_out", "user.deleted"]
    {
        assert!(api.events(event).await.is_empty(), "{event}");
    }
}

both_backends!(a_client_is_registered_with_an_inline_jwks);
async fn a_client_is_registered_with_an_inline_jwks(backend: Backend) {
    let Some(api) = api(backend).await else { return };
    let token = Some(api.token.as_str());
    let key = json!({ "kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0" });
    let create = |jwks: Value| json!({ "client_id": "kiosk", "redirect_uris": ["https://kiosk.example.org/cb"], "jwks": jwks });
    let before = entity::client::Entity::find().all(&api.app.state.db).await.unwrap();
    let mut private = key.clone();
    private["d"] = json!("jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI");
    let both = json!({ "client_id": "kiosk", "redirect_uris": ["https://kiosk.example.org/cb"],
        "jwks": { "keys": [key.clone()] }, "jwks_uri": "https://kiosk.example.org/jwks" });
    for body in
        [create(json!({ "keys": [private] })), create(json!({ "keys": [] })), create(json!("keys")), both]
    {
        api.call(Method::POST, "/clients", &[], token, Some(body), &[])
            .await
            .assert_problem(422, "invalid-value");
    }
    use sea_orm::EntityTrait;
    assert_eq!(entity::client::Entity::find().all(&api.app.state.db).await.unwrap(), before);
    let created = api
        .call(Method::POST, "/clients", &[], token, Some(create(json!({ "keys": [key.clone()] }))), &[])
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(created.body["client_secret"].is_null());
    assert_eq!(created.body["client"]["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(created.body["client"]["jwks"], json!({ "keys": [key] }));
}
