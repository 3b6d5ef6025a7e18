//! The admin API (`{issuer}/admin/v1`): every endpoint, its authorisation and its bad input, each
//! refused with a problem document and nothing changed. Every answer these tests get is checked
//! against the OpenAPI document the server publishes (status documented, body valid).

use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tessera::admin::{self, NewClientRequest};

use crate::both_backends;
use crate::helpers::{AuthRequest, Backend, EMAIL, PASSWORD, PORTAL, TestApp, browser, pkce, spawn_app};

pub(crate) const ALL: &str = "admin.users.read admin.users.write admin.clients.read admin.clients.write admin.audit.read admin.tenant.read admin.tenant.write";

pub(crate) struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> String {
        self.headers.get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
    }

    /// A problem document of this status and type.
    pub fn assert_problem(&self, status: u16, kind: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.header("content-type"), "application/problem+json");
        assert_eq!(self.body["type"], format!("urn:tessera:problem:{kind}"), "{}", self.body);
        assert_eq!(self.body["status"], status);
        assert!(self.body["title"].is_string() && self.body["detail"].is_string());
    }
}

/// A test's view of the API: the app, the published document, and a token with every scope.
pub(crate) struct Api {
    pub app: TestApp,
    pub doc: Value,
    pub token: String,
}

/// Registers a confidential client with these client_credentials scopes; returns its secret.
pub(crate) async fn register(app: &TestApp, tenant: &str, client_id: &str, scopes: &str) -> String {
    let tenant = admin::tenant(&app.state, tenant).await.unwrap();
    let (_, secret) = admin::create_client(
        &app.state,
        &tenant,
        NewClientRequest {
            allowed_scopes: scopes.split(' ').filter(|s| !s.is_empty()).map(str::to_string).collect(),
            ..NewClientRequest::new(client_id, &["https://backoffice.example.org/cb"])
        },
    )
    .await
    .unwrap();
    secrecy::ExposeSecret::expose_secret(&secret.unwrap()).to_string()
}

pub(crate) async fn client_token(
    app: &TestApp,
    issuer: &str,
    client_id: &str,
    secret: &str,
    scope: Option<&str>,
) -> String {
    let mut form = vec![("grant_type", "client_credentials")];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    let response = reqwest::Client::new()
        .post(format!("{issuer}/token"))
        .basic_auth(client_id, Some(secret))
        .form(&form)
        .send()
        .await
        .unwrap();
    let _ = app;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

async fn api(backend: Backend) -> Option<Api> {
    Some(api_on(spawn_app(backend).await?).await)
}

/// The API of an app spawned with settings of a test's own (an SMTP sink, say).
pub(crate) async fn api_on(app: TestApp) -> Api {
    let secret = register(&app, "acme", "backoffice", ALL).await;
    let token = client_token(&app, &app.issuer, "backoffice", &secret, None).await;
    let doc: Value =
        reqwest::get(format!("{}/admin/v1/openapi.json", app.issuer)).await.unwrap().json().await.unwrap();
    Api { app, doc, token }
}

impl Api {
    /// Calls `method template` (its `{name}`s filled from `params`) and checks the answer against
    /// the OpenAPI document: the status is documented for the operation and the body matches.
    pub async fn call(
        &self,
        method: Method,
        template: &str,
        params: &[(&str, &str)],
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut path = template.to_string();
        for (name, value) in params {
            path = path.replace(&format!("{{{name}}}"), value);
        }
        let mut request =
            reqwest::Client::new().request(method.clone(), format!("{}/admin/v1{path}", self.app.issuer));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() };
        conforms(&self.doc, method.as_str(), template.split('?').next().unwrap(), status, &body);
        Answer { status, headers, body }
    }

    pub async fn get(&self, template: &str, params: &[(&str, &str)]) -> Answer {
        self.call(Method::GET, template, params, Some(&self.token), None, &[]).await
    }

    pub async fn users(&self) -> Vec<entity::user::Model> {
        entity::user::Entity::find().all(&self.app.state.db).await.unwrap()
    }

    pub async fn events(&self, name: &str) -> Vec<entity::audit_event::Model> {
        entity::audit_event::Entity::find()
            .filter(entity::audit_event::Column::Event.eq(name))
            .all(&self.app.state.db)
            .await
            .unwrap()
    }
}

/// The answer of `method template` with `status` is described in the document, and its body
/// validates against the described schema (JSON Schema 2020-12, as OpenAPI 3.1 says).
fn conforms(doc: &Value, method: &str, template: &str, status: u16, body: &Value) {
    let operation = &doc["paths"][template][method.to_lowercase()];
    assert!(operation.is_object(), "{method} {template} is not in the OpenAPI document");
    let response = &operation["responses"][status.to_string()];
    assert!(
        response.is_object(),
        "{method} {template} answered {status}, which the document does not list: {body}"
    );
    let Some(content) = response["content"].as_object() else {
        assert!(body.is_null(), "{method} {template} {status} has a body the document does not describe");
        return;
    };
    let (_, media) = content.iter().next().unwrap();
    let mut root = doc.clone();
    root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    root["$defs"] = json!({ "answer": media["schema"].clone() });
    root["$ref"] = json!("#/$defs/answer");
    let validator = jsonschema::draft202012::new(&root).unwrap();
    let errors: Vec<String> = validator.iter_errors(body).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{method} {template} {status}: {errors:?} in {body}");
}

const OPERATIONS: [(&str, &str); 21] = [
    ("get", "/tenant"),
    ("patch", "/tenant"),
    ("get", "/clients"),
    ("post", "/clients"),
    ("get", "/clients/{client_id}"),
    ("patch", "/clients/{client_id}"),
    ("delete", "/clients/{client_id}"),
    ("post", "/clients/{client_id}/secret"),
    ("get", "/users"),
    ("post", "/users"),
    ("get", "/users/{user_id}"),
    ("patch", "/users/{user_id}"),
    ("delete", "/users/{user_id}"),
    ("post", "/users/{user_id}/disable"),
    ("post", "/users/{user_id}/enable"),
    ("post", "/users/{user_id}/reset-second-factor"),
    ("post", "/users/{user_id}/invitation"),
    ("get", "/users/{user_id}/sessions"),
    ("delete", "/users/{user_id}/sessions"),
    ("delete", "/users/{user_id}/sessions/{sid}"),
    ("get", "/users/{user_id}/factors"),
];

both_backends!(every_route_is_in_the_openapi_document);
async fn every_route_is_in_the_openapi_document(backend: Backend) {
    let Some(api) = api(backend).await else { return };
    let doc = &api.doc;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"][0]["url"], format!("{}/admin/v1", api.app.issuer));
    // The document served is the one made from the code.
    let mut made = serde_json::to_value(tessera::http::admin_openapi()).unwrap();
    made["servers"] = doc["servers"].clone();
    assert_eq!(&made, doc);
    let mut documented: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| item.as_object().unwrap().keys().map(move |m| (m.clone(), path.clone())))
        .collect();
    documented.sort();
    let mut expected: Vec<(String, String)> = OPERATIONS
        .iter()
        .chain([("get", "/audit-events")].iter())
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    expected.sort();
    assert_eq!(documented, expected);
    // Every documented operation is routed (and guarded): without a token it answers 401, never
    // 404 or 405; a path that is not documented is not routed.
    for (method, path) in &documented {
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let answer = api
            .call(method, path, &[("client_id", "portal"), ("user_id", "x"), ("sid", "y")], None, None, &[])
            .await;
        answer.assert_problem(401, "missing-token");
        assert_eq!(answer.header("www-authenticate"), "Bearer realm=\"tessera\"");
    }
    let response = reqwest::Client::new()
        .get(format!("{}/admin/v1/secrets", api.app.issuer))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let response = reqwest::Client::new()
        .put(format!("{}/admin/v1/users", api.app.issuer))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
}

both_backends!(tokens_that_are_refused);
async fn tokens_that_are_refused(backend: Backend) {
    let Some(api) = api(backend).await else { return };
    let app = &api.app;
    let new_user = || json!({ "email": "new.patient@example.org", "password": "another long password" });
    let before = api.users().await.len();

    // Not a token at all.
    let answer = api.call(Method::GET, "/users", &[], Some("not-a-token"), None, &[]).await;
    answer.assert_problem(401, "invalid-token");
    assert!(answer.header("www-authenticate").contains("error=\"invalid_token\""));

    // Another tenant's admin token, at this tenant.
    admin::create_tenant(&app.state, "other", "Other Clinic").await.unwrap();
    let other_issuer = format!("{}/t/other", app.address);
    let secret = register(app, "other", "other-admin", ALL).await;
    let other = client_token(app, &other_issuer, "other-admin", &secret, None).await;
    let answer = api.call(Method::POST, "/users", &[], Some(&other), Some(new_user()), &[]).await;
    answer.assert_problem(401, "invalid-token");

    // A person's token (authorization code), even of a client allowed admin scopes: the
    // authorization endpoint grants only OpenID scopes, and the API takes no person's token.
    let browser = browser();
    let pkce = pkce();
    let mut request = AuthRequest::portal(&pkce);
    request.scope = "openid email admin.users.write";
    let params = app.sign_in(&browser, &request).await;
    let tokens: Value = app.exchange_portal_code(&params["code"], &pkce.verifier).await.json().await.unwrap();
    assert!(!tokens["scope"].as_str().unwrap_or_default().contains("admin."), "{tokens}");
    let user_token = tokens["access_token"].as_str().unwrap();
    let answer = api.call(Method::POST, "/users", &[], Some(user_token), Some(new_user()), &[]).await;
    answer.assert_problem(403, "not-a-client-token");

    // A client is granted only the admin scopes it was registered with: none by default.
    let response = app
        .token_request(
            &[("grant_type", "client_credentials"), ("scope", "admin.users.read")],
            Some((PORTAL, &app.portal_secret)),
        )
        .await;
    assert_eq!(response.status(), 400);
    let portal = client_token(app, &app.issuer, PORTAL, &app.portal_secret, None).await;
    let answer = api.call(Method::GET, "/users", &[], Some(&portal), None, &[]).await;
    answer.assert_problem(403, "insufficient-scope");

    // The wrong scope: read only, then a write.
    let secret = register(app, "acme", "reader", "admin.users.read").await;
    let reader = client_token(app, &app.issuer, "reader", &secret, None).await;
    assert_eq!(api.call(Method::GET, "/users", &[], Some(&reader), None, &[]).await.status, 200);
    let answer = api.call(Method::POST, "/users", &[], Some(&reader), Some(new_user()), &[]).await;
    answer.assert_problem(403, "insufficient-scope");
    assert_eq!(
        answer.header("www-authenticate"),
        "Bearer realm=\"tessera\", error=\"insufficient_scope\", scope=\"admin.users.write\""
    );

    // A scope taken from the client stops counting at once, in tokens issued before too.
    let acme = admin::tenant(&app.state, "acme").await.unwrap();
    let change = admin::ClientChange { allowed_scopes: Some(vec![]), ..Default::default() };
    admin::update_client(&app.state, &acme, "reader", change, None, admin::Actor::Cli).await.unwrap();
    api.call(Method::GET, "/users", &[], Some(&reader), None, &[])
        .await
        .assert_problem(403, "insufficient-scope");

    // Revoked (RFC 7009) and expired tokens.
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
    let answer = api.call(Method::POST, "/users", &[], Some(&revoked), Some(new_user()), &[]).await;
    answer.assert_problem(401, "invalid-token");
    app.clock.advance(app.state.settings.tokens.access_token_seconds + 1);
    let answer = api.call(Method::POST, "/users", &[], Some(&api.token), Some(new_user()), &[]).await;
    answer.assert_problem(401, "invalid-token");

    // Nothing was created by any of them, and only calls with a valid token were audited.
    assert_eq!(api.users().await.len(), before);
    let calls = api.events("admin_api.call").await;
    let clients: Vec<String> = calls
        .iter()
        .map(|e| serde_json::from_str::<Value>(&e.detail).unwrap()["client"].as_str().unwrap().to_string())
        .collect();
    assert!(clients.iter().all(|c| ["portal", "reader"].contains(&c.as_str())), "{clients:?}");
    assert!(calls.iter().any(|e| e.detail.contains("\"status\":403")));
}

both_backends!(users_are_listed_created_read_and_changed);
async fn users_are_listed_created_read_and_changed(backend: Backend) {
    let Some(api) = api(backend).await else { return };
    let token = Some(api.token.as_str());
    let created = api
        .call(
            Method::POST,
            "/users",
            &[],
            token,
            Some(json!({ "email": "Bea.Patient@Example.org", "name": "Bea", "password": "a long enough password" })),
            &[],
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["email"], "bea.patient@example.org");
    let id = created.body["id"].as_str().unwrap().to_string();
    assert!(created.header("location").ends_with(&format!("/admin/v1/users/{id}")));
    assert!(api.events("user.created").await.iter().any(|e| e.user_id.as_deref() == Some(&id)));

    // Refused input, each with nothing changed.
    let before = api.users().await;
    let cases = [
        (
            json!({ "email": "c@example.org", "password": "a long enough password", "role": "admin" }),
            422,
            "invalid-body",
        ),
        (json!({ "email": 42, "password": "a long enough password" }), 422, "invalid-body"),
        (json!({ "email": "c@example.org" }), 422, "invalid-value"),
        (json!({ "email": "c@example.org", "invite": "yes" }), 422, "invalid-body"),
        (
            json!({ "email": "c@example.org", "password": "a long enough password", "invite": true }),
            422,
            "invalid-value",
        ),
        (json!({ "email": "c@example.org", "password": "short" }), 422, "invalid-value"),
        (json!({ "email": "not an address", "password": "a long enough password" }), 422, "invalid-value"),
        (json!({ "email": EMAIL, "password": "a long enough password" }), 409, "conflict"),
        (
            json!({ "email": "c@example.org", "name": "x".repeat(20_000), "password": "a long enough password" }),
            413,
            "body-too-large",
        ),
    ];
    for (body, status, kind) in cases {
        api.call(Method::POST, "/users", &[], token, Some(body), &[]).await.assert_problem(status, kind);
    }
    let response = reqwest::Client::new()
        .post(format!("{}/admin/v1/users", api.app.issuer))
        .bearer_auth(&api.token)
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(api.users().await, before);

    // Read, list with a prefix and pages.
    let read = api.get("/users/{user_id}", &[("user_id", &id)]).await;
    assert_eq!(read.status, 200);
    let etag = read.header("etag");
    assert!(etag.starts_with('"'));
    api.get("/users/{user_id}", &[("user_id", "no-such-user")]).await.assert_problem(404, "not-found");
    let page = api.call(Method::GET, "/users?email_prefix=BEA", &[], token, None, &[]).await;
    assert_eq!(page.body["items"].as_array().unwrap().len(), 1);
    let first = api.call(Method::GET, "/users?limit=1", &[], token, None, &[]).await;
    assert_eq!(first.body["items"][0]["email"], EMAIL);
    let cursor = first.body["next_cursor"].as_str().unwrap().to_string();
    let second =
        api.call(Method::GET, &format!("/users?limit=1&cursor={cursor}"), &[], token, None, &[]).await;
    assert_eq!(second.body["items"][0]["email"], "bea.patient@example.org");
    assert!(second.body["next_cursor"].is_null());
    for query in ["/users?limit=0", "/users?limit=abc", "/users?colour=red", "/users?cursor=bm9wZQ"] {
        let answer = api.call(Method::GET, query, &[], token, None, &[]).await;
        assert_eq!(answer.status, 400, "{query}");
    }

    // Change the name with If-Match; the same ETag a second time is stale.
    let patch = json!({ "name": "Bea Patient", "email": "bea@example.org" });
    let missing = api
        .call(Method::PATCH, "/users/{user_id}", &[("user_id", &id)], token, Some(patch.clone()), &[])
        .await;
    missing.assert_problem(428, "precondition-required");
    let changed = api
        .call(
            Method::PATCH,
            "/users/{user_id}",
            &[("user_id", &id)],
            token,
            Some(patch.clone()),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.body["name"], "Bea Patient");
    assert_eq!(changed.body["email_verified"], false);
    assert_ne!(changed.header("etag"), etag);
    let after = api.users().await;
    let stale = api
        .call(
            Method::PATCH,
            "/users/{user_id}",
            &[("user_id", &id)],
            token,
            Some(json!({ "name": "Someone Else" })),
            &[("if-match", &etag)],
        )
        .await;
    stale.assert_problem(412, "precondition-failed");
    let unknown = api
        .call(
            Method::PATCH,
            "/users/{user_id}",
            &[("user_id", &id)],
            token,
            Some(json!({ "password_hash": "x" })),
            &[("if-match", &changed.header("etag"))],
        )
        .await;
    unknown.assert_problem(422, "invalid-body");
    let taken = api
        .call(
            Method::PATCH,
            "/users/{user_id}",
            &[("user_id", &id)],
            token,
            Some(json!({ "email": EMAIL })),
            &[("if-match", &changed.header("etag"))],
        )
        .await;
    taken.assert_problem(409, "conflict");
    assert_eq!(api.users().await, after);
    // Another tenant's user is not found here, and cannot be changed from here.
    let other = admin::create_tenant(&api.app.state, "other", "Other Clinic").await.unwrap();
    let stranger = admin::create_user(
        &api.app.state,
        &other,
        "stranger@example.org",
        None,
        secrecy::SecretString::from(PASSWORD),
    )
    .await
    .unwrap();
    api.get("/users/{user_id}", &[("user_id", &stranger.id)]).await.assert_problem(404, "not-found");
    api.call(
        Method::PATCH,
        "/users/{user_id}",
        &[("user_id", &stranger.id)],
        token,
        Some(json!({ "name": "Taken Over" })),
        &[("if-match", "*")],
    )
    .await
    .assert_problem(404, "not-found");
    let listed = api.call(Method::GET, "/users?email_prefix=stranger", &[], token, None, &[]).await;
    assert_eq!(listed.body["items"], json!([]));
    assert_eq!(admin::user(&api.app.state, &other, &stranger.id).await.unwrap(), stranger);
    let updates = api.events("user.updated").await;
    assert_eq!(updates.len(), 1);
    assert!(updates[0].detail.contains("client:backoffice"));
}

both_backends!(clients_are_registered_changed_rotated_and_deleted);
async fn clients_are_registered_changed_rotated_and_deleted(backend: Backend) {
    let Some(api) = api(backend).await else { return };
    let app = &api.app;
    let token = Some(api.token.as_str());
    let created = api
        .call(
            Method::POST,
            "/clients",
            &[],
            token,
            Some(json!({
                "client_id": "reports",
                "redirect_uris": ["https://reports.example.org/cb"],
                "allowed_scopes": ["admin.audit.read"],
            })),
            &[],
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let secret = created.body["client_secret"].as_str().unwrap().to_string();
    assert_eq!(created.body["client"]["allowed_scopes"], json!(["admin.audit.read"]));
    // The secret is shown once: a read never has it.
    let read = api.get("/clients/{client_id}", &[("client_id", "reports")]).await;
    assert!(read.body.get("client_secret").is_none());
    let reports = client_token(app, &app.issuer, "reports", &secret, None).await;
    assert_eq!(api.call(Method::GET, "/audit-events", &[], Some(&reports), None, &[]).await.status, 200);

    // Bad input changes nothing.
    let before = entity::client::Entity::find().all(&app.state.db).await.unwrap();
    let cases = [
        (
            json!({ "client_id": "x", "redirect_uris": ["https://x.example.org/cb"], "secret": "mine" }),
            422,
            "invalid-body",
        ),
        (json!({ "client_id": "x", "redirect_uris": "https://x.example.org/cb" }), 422, "invalid-body"),
        (json!({ "client_id": "x", "redirect_uris": [] }), 422, "invalid-value"),
        (
            json!({ "client_id": "x", "redirect_uris": ["https://x.example.org/cb"], "public": true, "allowed_scopes": ["admin.users.read"] }),
            422,
            "invalid-value",
        ),
        (json!({ "client_id": "portal", "redirect_uris": ["https://x.example.org/cb"] }), 409, "conflict"),
    ];
    for (body, status, kind) in cases {
        api.call(Method::POST, "/clients", &[], token, Some(body), &[]).await.assert_problem(status, kind);
    }
    assert_eq!(entity::client::Entity::find().all(&app.state.db).await.unwrap(), before);

    // List in pages.
    let first = api.call(Method::GET, "/clients?limit=2", &[], token, None, &[]).await;
    let names: Vec<&str> =
        first.body["items"].as_array().unwrap().iter().map(|c| c["client_id"].as_str().unwrap()).collect();
    assert_eq!(names, ["backoffice", "mobile"]);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let rest =
        api.call(Method::GET, &format!("/clients?limit=2&cursor={cursor}"), &[], token, None, &[]).await;
    let names: Vec<&str> =
        rest.body["items"].as_array().unwrap().iter().map(|c| c["client_id"].as_str().unwrap()).collect();
    assert_eq!(names, ["portal", "reports"]);

    // Change with If-Match; the old ETag is stale afterwards, and a bad value changes nothing.
    let etag = read.header("etag");
    let patch =
        json!({ "redirect_uris": ["https://reports.example.org/callback"], "refresh_idle_seconds": 7200 });
    let changed = api
        .call(
            Method::PATCH,
            "/clients/{client_id}",
            &[("client_id", "reports")],
            token,
            Some(patch),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.body["redirect_uris"], json!(["https://reports.example.org/callback"]));
    let row = admin::client(&app.state, &admin::tenant(&app.state, "acme").await.unwrap(), "reports")
        .await
        .unwrap();
    let stale = api
        .call(
            Method::PATCH,
            "/clients/{client_id}",
            &[("client_id", "reports")],
            token,
            Some(json!({ "allowed_scopes": [] })),
            &[("if-match", &etag)],
        )
        .await;
    stale.assert_problem(412, "precondition-failed");
    let bad = api
        .call(
            Method::PATCH,
            "/clients/{client_id}",
            &[("client_id", "reports")],
            token,
            Some(json!({ "allowed_scopes": [], "redirect_uris": ["not a uri"] })),
            &[("if-match", &changed.header("etag"))],
        )
        .await;
    bad.assert_problem(422, "invalid-value");
    let now = admin::client(&app.state, &admin::tenant(&app.state, "acme").await.unwrap(), "reports")
        .await
        .unwrap();
    assert_eq!(now, row);

    // Rotate: the new secret works, the old one for the grace period only.
    let rotated = api
        .call(Method::POST, "/clients/{client_id}/secret", &[("client_id", "reports")], token, None, &[])
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new_secret = rotated.body["client_secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, secret);
    client_token(app, &app.issuer, "reports", &new_secret, None).await;
    client_token(app, &app.issuer, "reports", &secret, None).await;
    api.call(Method::POST, "/clients/{client_id}/secret", &[("client_id", "mobile")], token, None, &[])
        .await
        .assert_problem(422, "invalid-value");
    app.clock.advance(admin::SECRET_GRACE_SECONDS + 1);
    let token = client_token(app, &app.issuer, "backoffice", &backoffice_secret(&api).await, None).await;
    let token = Some(token.as_str());
    let old = app.token_request(&[("grant_type", "client_credentials")], Some(("reports", &secret))).await;
    assert_eq!(old.status(), 401);
    let reports = client_token(app, &app.issuer, "reports", &new_secret, None).await;

    // Delete: its tokens stop being active at once.
    api.call(
        Method::DELETE,
        "/clients/{client_id}",
        &[("client_id", "reports")],
        token,
        None,
        &[("if-match", "\"stale\"")],
    )
    .await
    .assert_problem(412, "precondition-failed");
    let deleted =
        api.call(Method::DELETE, "/clients/{client_id}", &[("client_id", "reports")], token, None, &[]).await;
    assert_eq!(deleted.status, 204);
    api.call(Method::GET, "/audit-events", &[], Some(&reports), None, &[])
        .await
        .assert_problem(401, "invalid-token");
    api.call(Method::GET, "/clients/{client_id}", &[("client_id", "reports")], token, None, &[])
        .await
        .assert_problem(404, "not-found");
    let live = entity::access_token::Entity::find()
        .filter(entity::access_token::Column::RevokedAt.is_null())
        .filter(entity::access_token::Column::ClientId.eq(row.id.as_str()))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(live, 0);
    for event in ["client.updated", "client.secret_rotated", "client.deleted"] {
        let by_api =
            api.events(event).await.into_iter().filter(|e| e.detail.contains("client:backoffice")).count();
        assert_eq!(by_api, 1, "{event}");
    }
}

/// The backoffice client's secret, rotated by the store so a test can take a fresh token.
async fn backoffice_secret(api: &Api) -> String {
    let tenant = admin::tenant(&api.app.state, "acme").await.unwrap();
    let (_, secret) =
        admin::rotate_client_secret(&api.app.state, &tenant, "backoffice", admin::Actor::Cli).await.unwrap();
    secrecy::ExposeSecret::expose_secret(&secret).to_string()
}

both_backends!(the_tenant_policy_is_read_and_changed_in_one_write);
async fn the_tenant_policy_is_read_and_changed_in_one_write(backend: Backend) {
    let Some(api) = api(backend).await else { return };
    let token = Some(api.token.as_str());
    let read = api.get("/tenant", &[]).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["issuer"], api.app.issuer);
    assert_eq!(read.body["require_2fa"], false);
    let etag = read.header("etag");
    let tenant_row = || async {
        entity::tenant::Entity::find()
            .filter(entity::tenant::Column::Slug.eq("acme"))
            .one(&api.app.state.db)
            .await
            .unwrap()
            .unwrap()
    };
    let before = tenant_row().await;
    // A valid change beside an invalid one: nothing is written.
    let bad = api
        .call(
            Method::PATCH,
            "/tenant",
            &[],
            token,
            Some(json!({ "require_2fa": true, "trusted_device_days": 999 })),
            &[("if-match", &etag)],
        )
        .await;
    bad.assert_problem(422, "invalid-value");
    for body in [json!({ "require_2fa": "yes" }), json!({ "require_two_factor": true })] {
        api.call(Method::PATCH, "/tenant", &[], token, Some(body), &[("if-match", &etag)])
            .await
            .assert_problem(422, "invalid-body");
    }
    assert_eq!(tenant_row().await, before);

    let changed = api
        .call(
            Method::PATCH,
            "/tenant",
            &[],
            token,
            Some(json!({
                "require_2fa": true,
                "trusted_device_days": 7,
                "sms_countries": ["nl", "BE"],
                "sms_daily_cap": 100,
                "host": "login.acme.example",
            })),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.body["sms_countries"], json!(["NL", "BE"]));
    assert_eq!(changed.body["host"], "login.acme.example");
    let stale = api
        .call(
            Method::PATCH,
            "/tenant",
            &[],
            token,
            Some(json!({ "require_2fa": false })),
            &[("if-match", &etag)],
        )
        .await;
    stale.assert_problem(412, "precondition-failed");
    let row = tenant_row().await;
    assert!(row.require_2fa && row.trusted_device_days == 7 && row.sms_daily_cap == 100);
    // The same API at the root of the tenant's own host.
    let own_host = reqwest::Client::new()
        .get(format!("{}/admin/v1/tenant", api.app.address))
        .header("host", "login.acme.example")
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(own_host.status(), 200);
    let body: Value = own_host.json().await.unwrap();
    assert_eq!(body["slug"], "acme");
    assert!(body["issuer"].as_str().unwrap().starts_with("http://login.acme.example"), "{body}");
    // `null` removes the host.
    let removed = api
        .call(
            Method::PATCH,
            "/tenant",
            &[],
            token,
            Some(json!({ "host": null })),
            &[("if-match", &changed.header("etag"))],
        )
        .await;
    assert_eq!(removed.status, 200);
    assert!(removed.body["host"].is_null());
    let events = api.events("tenant.settings_changed").await;
    assert_eq!(events.len(), 2);
    assert!(events.iter().any(|e| e.detail.contains("\"host\"") && e.detail.contains("require_2fa")));
}

both_backends!(the_audit_log_is_read_newest_first_with_filters);
async fn the_audit_log_is_read_newest_first_with_filters(backend: Backend) {
    let Some(api) = api(backend).await else { return };
    let app = &api.app;
    let token = Some(api.token.as_str());
    // A sign-in of the seeded user, two minutes later.
    app.clock.advance(120);
    let browser = browser();
    let pkce = pkce();
    app.sign_in(&browser, &AuthRequest::portal(&pkce)).await;
    let all = api.call(Method::GET, "/audit-events", &[], token, None, &[]).await;
    let items = all.body["items"].as_array().unwrap();
    let times: Vec<&str> = items.iter().map(|e| e["time"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "newest first");
    let login = api
        .call(
            Method::GET,
            &format!("/audit-events?user={EMAIL}&event=login.succeeded"),
            &[],
            token,
            None,
            &[],
        )
        .await;
    let logins = login.body["items"].as_array().unwrap();
    assert_eq!(logins.len(), 1, "{}", login.body);
    assert_eq!(logins[0]["detail"]["client"], PORTAL);
    let since =
        api.call(Method::GET, "/audit-events?since=30s&event=user.created", &[], token, None, &[]).await;
    assert_eq!(since.status, 422);
    let recent =
        api.call(Method::GET, "/audit-events?since=1m&event=user.created", &[], token, None, &[]).await;
    assert_eq!(
        recent.body["items"].as_array().unwrap().len(),
        0,
        "the user was created more than a minute ago"
    );
    let older =
        api.call(Method::GET, "/audit-events?since=1d&event=user.created", &[], token, None, &[]).await;
    assert_eq!(older.body["items"].as_array().unwrap().len(), 1);
    // Pages of one, all the way through, see every event once.
    let total = entity::audit_event::Entity::find().count(&app.state.db).await.unwrap();
    let mut seen = std::collections::HashSet::new();
    let mut cursor = String::new();
    loop {
        let path = if cursor.is_empty() {
            "/audit-events?limit=1".to_string()
        } else {
            format!("/audit-events?limit=1&cursor={cursor}")
        };
        let page = api.call(Method::GET, &path, &[], token, None, &[]).await;
        for item in page.body["items"].as_array().unwrap() {
            assert!(seen.insert(item["id"].as_str().unwrap().to_string()));
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => break,
        }
    }
    // Each page call added its own admin_api.call after it was read: at least every earlier one.
    assert!(seen.len() as u64 >= total, "{} of {total}", seen.len());
    for bad in ["/audit-events?event=no.such", "/audit-events?since=yesterday"] {
        api.call(Method::GET, bad, &[], token, None, &[]).await.assert_problem(422, "invalid-value");
    }
    // Every call so far is in the log, with the calling client.
    let calls = api.events("admin_api.call").await;
    assert!(calls.len() >= 8);
    assert!(calls.iter().all(|e| e.detail.contains("\"client\":\"backoffice\"")));
    assert!(calls.iter().all(|e| e.ip.as_deref() == Some("127.0.0.1")), "the caller's address is kept");
}

both_backends!(two_updates_from_one_etag_at_once_one_wins);
async fn two_updates_from_one_etag_at_once_one_wins(backend: Backend) {
    let Some(api) = api(backend).await else { return };
    let token = Some(api.token.as_str());
    for round in 0..3 {
        let read = api.get("/clients/{client_id}", &[("client_id", PORTAL)]).await;
        let etag = read.header("etag");
        let patch = |uri: &str| json!({ "redirect_uris": [uri] });
        let first = format!("https://portal.example.org/first-{round}");
        let second = format!("https://portal.example.org/second-{round}");
        let (body_a, body_b) = (patch(&first), patch(&second));
        let if_match = [("if-match", etag.as_str())];
        let path = [("client_id", PORTAL)];
        let (a, b) = tokio::join!(
            api.call(Method::PATCH, "/clients/{client_id}", &path, token, Some(body_a), &if_match),
            api.call(Method::PATCH, "/clients/{client_id}", &path, token, Some(body_b), &if_match),
        );
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, [200, 412], "round {round}: {} {}", a.body, b.body);
        let winner = if a.status == 200 { &first } else { &second };
        let now = api.get("/clients/{client_id}", &[("client_id", PORTAL)]).await;
        assert_eq!(now.body["redirect_uris"], json!([winner]));
    }
}
