use crate::both_backends;
use crate::helpers::*;

async fn discovery_lists_exactly_what_is_supported(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let doc = app.get_json("/.well-known/openid-configuration").await;
    assert_eq!(doc["issuer"], app.issuer);
    assert_eq!(doc["authorization_endpoint"], format!("{}/authorize", app.issuer));
    assert_eq!(doc["token_endpoint"], format!("{}/token", app.issuer));
    assert_eq!(doc["userinfo_endpoint"], format!("{}/userinfo", app.issuer));
    assert_eq!(doc["jwks_uri"], format!("{}/jwks.json", app.issuer));
    assert_eq!(doc["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "client_secret_post", "private_key_jwt", "none"])
    );
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    // `prompt=consent` works; requested claims of the `claims` parameter (beyond an essential
    // `acr`) do not, so the parameter is not advertised.
    assert_eq!(doc["prompt_values_supported"], serde_json::json!(["none", "login", "consent"]));
    assert_eq!(doc["claims_parameter_supported"], false);
    // The crate a relying party would use accepts the document.
    let _: openidconnect::core::CoreProviderMetadata = serde_json::from_value(doc).unwrap();
}
both_backends!(discovery_lists_exactly_what_is_supported);

async fn jwks_publishes_one_key_per_algorithm(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let jwks = app.get_json("/jwks.json").await;
    let keys = jwks["keys"].as_array().unwrap();
    let algs: Vec<&str> = keys.iter().map(|k| k["alg"].as_str().unwrap()).collect();
    assert_eq!(keys.len(), 3, "{algs:?}");
    for (alg, kty) in [("RS256", "RSA"), ("ES256", "EC"), ("EdDSA", "OKP")] {
        let key = keys.iter().find(|k| k["alg"] == alg).unwrap();
        assert_eq!(key["kty"], kty);
        assert_eq!(key["use"], "sig");
        assert!(key["kid"].as_str().unwrap().len() >= 43);
        assert!(key.get("d").is_none(), "no private parts");
    }
    let _: openidconnect::core::CoreJsonWebKeySet = serde_json::from_value(jwks).unwrap();
}
both_backends!(jwks_publishes_one_key_per_algorithm);

async fn unknown_tenant_is_a_404_page(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let response =
        reqwest::get(format!("{}/t/nope/.well-known/openid-configuration", app.address)).await.unwrap();
    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("There is no login space at this address."));
}
both_backends!(unknown_tenant_is_a_404_page);

async fn protocol_endpoints_answer_browser_apps_cors_preflights(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let response = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("{}/token", app.issuer))
        .header("origin", "https://spa.example.org")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    // The hosted pages are not for other origins.
    let response = reqwest::Client::new()
        .get(format!("{}/authorize", app.issuer))
        .header("origin", "https://spa.example.org")
        .send()
        .await
        .unwrap();
    assert!(response.headers().get("access-control-allow-origin").is_none());
}
both_backends!(protocol_endpoints_answer_browser_apps_cors_preflights);

async fn metrics_count_grants_and_sign_ins_on_the_operators_listener_only(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let pkce = pkce();
    let params = app.sign_in(&browser(), &AuthRequest::portal(&pkce)).await;
    assert_eq!(app.exchange_portal_code(&params["code"], &pkce.verifier).await.status(), 200);
    // Not on the public listener, on no host name: tenants' own hosts reach it too.
    let acme = tessera::admin::tenant(&app.state, "acme").await.unwrap();
    tessera::admin::update_tenant_branding(&app.state, &acme, None, Some("login.acme.example"))
        .await
        .unwrap();
    let address: std::net::SocketAddr = app.address.trim_start_matches("http://").parse().unwrap();
    let client = reqwest::Client::builder().resolve("login.acme.example", address).build().unwrap();
    for origin in [app.address.clone(), format!("http://login.acme.example:{}", address.port())] {
        let response = client.get(format!("{origin}/metrics")).send().await.unwrap();
        assert_eq!(response.status(), 404, "{origin}");
        assert!(!response.text().await.unwrap().contains("tessera_"), "{origin}");
    }
    // On the operators' listener (`metrics_listen`, bound by `tessera serve`).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics = format!("http://{}/metrics", listener.local_addr().unwrap());
    tokio::spawn(tessera::startup::serve_metrics(app.state.clone(), listener));
    let text = reqwest::get(metrics).await.unwrap().text().await.unwrap();
    assert!(text.contains("tessera_logins_total{result=\"succeeded\"} 1"), "{text}");
    assert!(text.contains("tessera_token_grants_total{grant=\"authorization_code\"} 1"), "{text}");
}
both_backends!(metrics_count_grants_and_sign_ins_on_the_operators_listener_only);

/// The second request of each is answered from memory before the router
/// (`http::documents_from_memory`): the same headers and body as the router's first answer.
async fn documents_from_memory_are_the_routers_answers(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let client = reqwest::Client::new();
    for path in ["/.well-known/openid-configuration", "/jwks.json"] {
        let mut answers = Vec::new();
        for _ in 0..3 {
            let response = client.get(format!("{}{path}", app.issuer)).send().await.unwrap();
            let status = response.status();
            let mut headers = response.headers().clone();
            headers.remove("date");
            answers.push((status, headers, response.bytes().await.unwrap()));
        }
        assert_eq!(answers[0].0, 200, "{path}");
        assert!(answers[0].1.contains_key("content-security-policy"), "{path}");
        assert_eq!(answers[0].1["access-control-allow-origin"], "*", "{path}");
        assert_eq!(answers[0], answers[1], "{path}");
        assert_eq!(answers[1], answers[2], "{path}");
        // A request the memory does not answer still gets all the router does (here the
        // language cookie of `?lang=`).
        let response = client.get(format!("{}{path}?lang=nl", app.issuer)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(response.headers()["set-cookie"].to_str().unwrap().starts_with("tessera-lang=nl"), "{path}");
    }
}
both_backends!(documents_from_memory_are_the_routers_answers);
