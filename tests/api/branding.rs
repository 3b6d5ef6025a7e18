//! Tenant themes on one server, and tenants on a host name of their own.

use tessera::admin;

use crate::both_backends;
use crate::helpers::*;

async fn two_tenants_show_their_own_branding(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let west = admin::create_tenant(&app.state, "west", "Kliniek West").await.unwrap();
    admin::update_tenant_branding(&app.state, &west, Some("kliniek-west"), None).await.unwrap();
    assert!(admin::update_tenant_branding(&app.state, &west, Some("no-such-theme"), None).await.is_err());
    let request = tessera::admin::NewClientRequest {
        first_party: true,
        ..admin::NewClientRequest::new(PORTAL, &[PORTAL_REDIRECT])
    };
    admin::create_client(&app.state, &west, request).await.unwrap();

    let pkce = pkce();
    let acme_browser = browser();
    let default_page = app.open_login_page(&acme_browser, &AuthRequest::portal(&pkce)).await;
    let (_, acme_html) = app.get_html(&acme_browser, &default_page).await;
    let west_browser = browser();
    let west_authorize = app.authorize_url(&AuthRequest::portal(&pkce)).replace("/t/acme/", "/t/west/");
    let response = west_browser.get(west_authorize).send().await.unwrap();
    let (_, west_html) = app.get_html(&west_browser, &app.absolute(&location(&response))).await;

    let unescape = |html: &str| html.replace("&#x2f;", "/");
    let (acme_html, west_html) = (unescape(&acme_html), unescape(&west_html));
    assert!(acme_html.contains("<span class=\"brand-name\">Acme Clinic</span>"));
    assert!(!acme_html.contains("brand-logo"));
    assert!(west_html.contains("class=\"brand-logo\""), "{west_html}");
    assert!(west_html.contains("Welcome to the patient portal of Kliniek West"), "the theme's own wording");
    let colours = between(&west_html, "<link rel=\"stylesheet\" href=\"/static/kliniek-west/colours.", "\"");
    let response =
        reqwest::get(format!("{}/static/kliniek-west/colours.{colours}", app.address)).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/css; charset=utf-8");
    assert!(response.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    assert!(response.text().await.unwrap().contains("--brand: #7a1f5c;"));
    let logo = between(&west_html, "<img class=\"brand-logo\" src=\"", "\"");
    let response = reqwest::get(format!("{}{logo}", app.address)).await.unwrap();
    assert_eq!(response.headers()["content-type"], "image/svg+xml");
    let missing = reqwest::get(format!("{}/static/kliniek-west/nothing.css", app.address)).await.unwrap();
    assert_eq!(missing.status(), 404);
}
both_backends!(two_tenants_show_their_own_branding);

async fn a_tenant_on_its_own_host_name_has_its_own_issuer(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let tenant = admin::tenant(&app.state, "acme").await.unwrap();
    admin::update_tenant_branding(&app.state, &tenant, None, Some("login.acme.example")).await.unwrap();
    let other = admin::create_tenant(&app.state, "other", "Other").await.unwrap();
    let taken = admin::update_tenant_branding(&app.state, &other, None, Some("login.acme.example")).await;
    assert!(taken.is_err(), "one host, one tenant");

    let address: std::net::SocketAddr = app.address.trim_start_matches("http://").parse().unwrap();
    let origin = format!("http://login.acme.example:{}", address.port());
    let client = |jar: bool| {
        reqwest::Client::builder()
            .resolve("login.acme.example", address)
            .cookie_store(jar)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    };
    let doc: serde_json::Value = client(false)
        .get(format!("{origin}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], origin);
    assert_eq!(doc["token_endpoint"], format!("{origin}/token"));
    // The path form keeps working with its own issuer.
    assert_eq!(app.get_json("/.well-known/openid-configuration").await["issuer"], app.issuer);
    // An unknown host has no login space at the root.
    let unknown = reqwest::get(format!("{}/.well-known/openid-configuration", app.address)).await.unwrap();
    assert_eq!(unknown.status(), 404);

    // A whole sign-in at the root of the tenant's host.
    let browser = client(true);
    let pkce = pkce();
    let authorize = app.authorize_url(&AuthRequest::portal(&pkce)).replace(&app.issuer, &origin);
    let response = browser.get(authorize).send().await.unwrap();
    let login_path = location(&response);
    assert!(login_path.starts_with("/login/"), "{login_path}");
    let login_url = format!("{origin}{login_path}");
    let html = browser.get(&login_url).send().await.unwrap().text().await.unwrap();
    let response = browser
        .post(&login_url)
        .form(&[("email", EMAIL), ("password", PASSWORD), ("csrf_token", &csrf_token(&html))])
        .send()
        .await
        .unwrap();
    let params = redirect_params(&response, PORTAL_REDIRECT);
    assert_eq!(params["iss"], origin);
    let tokens: serde_json::Value = client(false)
        .post(format!("{origin}/token"))
        .basic_auth(PORTAL, Some(&app.portal_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", params["code"].as_str()),
            ("redirect_uri", PORTAL_REDIRECT),
            ("code_verifier", pkce.verifier.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let claims = crate::refresh_and_tokens::decode_jwt(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["iss"], origin);
}
both_backends!(a_tenant_on_its_own_host_name_has_its_own_issuer);

async fn tenants_on_their_own_hosts_publish_their_own_keys(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let acme = admin::tenant(&app.state, "acme").await.unwrap();
    admin::update_tenant_branding(&app.state, &acme, None, Some("login.acme.example")).await.unwrap();
    let other = admin::create_tenant(&app.state, "other", "Other").await.unwrap();
    admin::update_tenant_branding(&app.state, &other, None, Some("login.other.example")).await.unwrap();
    let address: std::net::SocketAddr = app.address.trim_start_matches("http://").parse().unwrap();
    let client = reqwest::Client::builder()
        .resolve("login.acme.example", address)
        .resolve("login.other.example", address)
        .build()
        .unwrap();
    // Both hosts serve the JWKS at the same path; each must get its own tenant's keys, also when
    // the set was just served (and remembered) for the other host.
    let mut kids = Vec::new();
    for host in ["login.acme.example", "login.other.example", "login.acme.example"] {
        let jwks: serde_json::Value = client
            .get(format!("http://{host}:{}/jwks.json", address.port()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut set: Vec<String> =
            jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_string()).collect();
        set.sort();
        kids.push(set);
    }
    assert_ne!(kids[0], kids[1], "another tenant's keys were served");
    assert_eq!(kids[0], kids[2]);
}
both_backends!(tenants_on_their_own_hosts_publish_their_own_keys);

async fn a_tenants_own_host_serves_that_tenant_alone(backend: Backend) {
    let Some(app) = spawn_app(backend).await else { return };
    let acme = admin::tenant(&app.state, "acme").await.unwrap();
    admin::update_tenant_branding(&app.state, &acme, None, Some("login.acme.example")).await.unwrap();
    let beta = admin::create_tenant(&app.state, "beta", "Beta").await.unwrap();
    let request = admin::NewClientRequest {
        first_party: true,
        ..admin::NewClientRequest::new(PORTAL, &[PORTAL_REDIRECT])
    };
    admin::create_client(&app.state, &beta, request).await.unwrap();
    // No tenant can take the public URL's host, which serves every tenant below /t/{slug}.
    let public_host = url::Url::parse(&app.address).unwrap().host_str().unwrap().to_string();
    assert!(admin::update_tenant_branding(&app.state, &beta, None, Some(&public_host)).await.is_err());

    let address: std::net::SocketAddr = app.address.trim_start_matches("http://").parse().unwrap();
    let origin = format!("http://login.acme.example:{}", address.port());
    let browser = reqwest::Client::builder()
        .resolve("login.acme.example", address)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let pkce = pkce();
    let beta_authorize = app.authorize_url(&AuthRequest::portal(&pkce)).replace("/t/acme/", "/t/beta/");
    // On the public URL's host beta's login starts ...
    let response = browser.get(&beta_authorize).send().await.unwrap();
    assert_eq!(response.status(), 303, "{beta_authorize}");
    // ... on acme's own host neither beta's nor acme's path form is served, and no cookie is set.
    for slug in ["beta", "acme"] {
        let on_acme_host =
            beta_authorize.replace(&app.address, &origin).replace("/t/beta/", &format!("/t/{slug}/"));
        let response = browser.get(&on_acme_host).send().await.unwrap();
        assert_eq!(response.status(), 404, "{on_acme_host}");
        assert!(response.headers().get("set-cookie").is_none(), "{on_acme_host}");
        let discovery = format!("{origin}/t/{slug}/.well-known/openid-configuration");
        assert_eq!(browser.get(&discovery).send().await.unwrap().status(), 404, "{discovery}");
    }
    // The same host with the root's trailing dot is the same host.
    let on_acme = beta_authorize.replace(&app.address, &origin);
    let dotted = format!("login.acme.example.:{}", address.port());
    let response = browser.get(&on_acme).header("host", &dotted).send().await.unwrap();
    assert_eq!(response.status(), 404, "{dotted}");
    // A discovery document remembered from the public host is not served on acme's host either.
    let public = format!("{}/t/beta/.well-known/openid-configuration", app.address);
    assert_eq!(browser.get(&public).send().await.unwrap().status(), 200);
    let discovery = format!("{origin}/t/beta/.well-known/openid-configuration");
    assert_eq!(browser.get(&discovery).send().await.unwrap().status(), 404, "{discovery}");

    // The issuer comes from the configured host, not from the port a client wrote in `Host`.
    let doc: serde_json::Value = browser
        .get(format!("{origin}/.well-known/openid-configuration"))
        .header("host", "login.acme.example:6666")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], origin);
    assert_eq!(doc["authorization_endpoint"], format!("{origin}/authorize"));
}
both_backends!(a_tenants_own_host_serves_that_tenant_alone);

/// A theme folder `<dir>/<name>/templates/message.html` with `source`.
pub fn theme_with_message_page(name: &str, source: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join(name).join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(templates.join("message.html"), source).unwrap();
    dir
}

async fn a_page_over_its_budget_gets_the_built_in_error_page(backend: Backend) {
    // Ten thousand copies of a kilobyte: 10 MB of page in 40 000 instructions, well within the
    // fuel. Fuel counts instructions, not bytes; the page cap does.
    let kilobyte = "x".repeat(1024);
    let source = format!("{{% for i in range(10000) %}}<p>{kilobyte}</p>{{% endfor %}}");
    let themes = theme_with_message_page("huge", &source);
    let themes_dir = themes.path().to_path_buf();
    let Some(app) = spawn_app_with(backend, |settings| settings.themes_dir = themes_dir).await else {
        return;
    };
    let huge = admin::create_tenant(&app.state, "huge", "Huge Pages").await.unwrap();
    admin::update_tenant_branding(&app.state, &huge, Some("huge"), None).await.unwrap();

    let response = reqwest::get(format!("{}/t/huge/logout", app.address)).await.unwrap();
    assert_eq!(response.status(), 500);
    let html = response.text().await.unwrap();
    assert!(html.len() < 100_000, "{} bytes came out", html.len());
    assert!(html.contains("Something went wrong on our side"), "the built-in error page: {html}");
    // The other tenants are served as before.
    assert_eq!(app.get_json("/.well-known/openid-configuration").await["issuer"], app.issuer);
    let acme = reqwest::get(format!("{}/logout", app.issuer)).await.unwrap();
    assert_eq!(acme.status(), 200);
}
both_backends!(a_page_over_its_budget_gets_the_built_in_error_page);

/// The reviewer's templates: each raised the server's memory by gigabytes or held a worker for
/// seconds on one unauthenticated GET. They are refused when the themes load (as the server starts,
/// and in `tessera theme check`), with file and line, so they are never served.
pub const HOSTILE_MESSAGE_PAGES: [(&str, &str); 5] = [
    (
        "{% set a = \"x\" * 100000000 %}{% set b = a ~ a ~ a ~ a ~ a ~ a ~ a ~ a ~ a ~ a %}{{ b|length }}",
        "line 1: the * operator",
    ),
    ("{% for i in range(100) %}{{ (\"x\" * 50000000)|length }}{% endfor %}", "line 1: the * operator"),
    ("<p>\n{% set b = title ~ title %}{{ b }}", "line 2: the ~ operator"),
    ("{% macro twice(x) %}{{ x }}{{ x }}{% endmacro %}{{ twice(twice(title)) }}", "a macro"),
    ("{{ title|center(1000000000) }}", "the filter center"),
];

#[test]
fn the_issue_s_hostile_themes_do_not_load() {
    for (source, refusal) in HOSTILE_MESSAGE_PAGES {
        let themes = theme_with_message_page("evil", source);
        let loaded = tessera::views::Views::with_themes(
            std::sync::Arc::new(tessera::views::I18n::load().unwrap()),
            Some(themes.path().to_path_buf()),
            false,
        );
        let err = match loaded {
            Err(err) => err.to_string(),
            Ok(_) => panic!("a hostile theme loaded: {source}"),
        };
        assert!(err.starts_with("theme evil: templates/message.html line"), "{err}");
        assert!(err.contains(refusal), "{refusal}: {err}");
    }
}
