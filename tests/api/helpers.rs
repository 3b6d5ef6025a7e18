//! `spawn_app()` and the steps of a browser's and a relying party's journey.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::redirect::Policy;
use sea_orm::{ConnectionTrait, Database};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use tempfile::TempDir;
use tessera::admin::{self, NewClientRequest};
pub use tessera::clock::Clock;
use tessera::clock::ManualClock;
use tessera::config::Settings;
use tessera::state::AppState;
use tokio::sync::oneshot;

pub const EMAIL: &str = "an.patient@example.org";
pub const PASSWORD: &str = "correct horse battery";
pub const PORTAL: &str = "portal";
pub const PORTAL_REDIRECT: &str = "https://portal.example.org/callback";
pub const PORTAL_LOGOUT_REDIRECT: &str = "https://portal.example.org/signed-out";
pub const MOBILE: &str = "mobile";
pub const MOBILE_REDIRECT: &str = "org.example.mobile:/callback";

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs an async test body once per backend: `both_backends!(name)` expects `async fn name(Backend)`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::helpers::Backend::Postgres).await
            }
        }
    };
}

pub struct TestApp {
    pub address: String,
    pub issuer: String,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub portal_secret: String,
    _data_dir: TempDir,
    _postgres: Option<PostgresDatabase>,
    _shutdown: oneshot::Sender<()>,
}

/// Starts tessera on 127.0.0.1:0 with a fresh database, seeded with tenant `acme`, a confidential
/// client `portal`, a public client `mobile` and one user. `None` means: PostgreSQL is not
/// reachable here and the test is skipped (CI sets TESSERA_TEST_REQUIRE_POSTGRES=1 to fail instead).
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// `spawn_app` with settings changed first (an SMS sender pointing at a mock, say).
pub async fn spawn_app_with(backend: Backend, configure: impl FnOnce(&mut Settings)) -> Option<TestApp> {
    spawn_app_routed(backend, configure, str::to_string).await
}

/// `spawn_app_with` whose database URL passes through `route` first (to send PostgreSQL traffic
/// through a proxy the test can cut, say).
pub async fn spawn_app_routed(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
    route: impl FnOnce(&str) -> String,
) -> Option<TestApp> {
    let data_dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());

    let mut settings = Settings::defaults().unwrap();
    settings.data_dir = data_dir.path().to_path_buf();
    settings.public_url = address.parse().unwrap();
    settings.set_master_key(tessera::crypto::MasterKey::generate_encoded().unwrap());
    configure(&mut settings);
    // A test may move the public address (to `localhost`, say): requests follow it.
    let address = settings.public_base();
    let postgres = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(PostgresDatabase::create().await?),
    };
    if let Some(pg) = &postgres {
        settings.set_database_url(route(&pg.url));
    }

    let clock = Arc::new(ManualClock::new());
    let state = tessera::startup::build_state(settings, clock.clone()).await.unwrap();
    let (shutdown, stopped) = oneshot::channel::<()>();
    tokio::spawn(tessera::startup::serve(state.clone(), listener, async {
        let _ = stopped.await;
    }));

    let tenant = admin::create_tenant(&state, "acme", "Acme Clinic").await.unwrap();
    let (_, secret) = admin::create_client(
        &state,
        &tenant,
        NewClientRequest {
            first_party: true,
            post_logout_redirect_uris: vec![PORTAL_LOGOUT_REDIRECT.into()],
            allowed_scopes: vec!["records:read".into()],
            ..NewClientRequest::new(PORTAL, &[PORTAL_REDIRECT])
        },
    )
    .await
    .unwrap();
    admin::create_client(
        &state,
        &tenant,
        NewClientRequest {
            public: true,
            first_party: true,
            ..NewClientRequest::new(MOBILE, &[MOBILE_REDIRECT])
        },
    )
    .await
    .unwrap();
    admin::create_user(&state, &tenant, EMAIL, Some("An Patient"), SecretString::from(PASSWORD))
        .await
        .unwrap();

    Some(TestApp {
        issuer: format!("{address}/t/acme"),
        address,
        state,
        clock,
        portal_secret: secret.unwrap().expose_secret().to_string(),
        _data_dir: data_dir,
        _postgres: postgres,
        _shutdown: shutdown,
    })
}

/// A database of its own on the local PostgreSQL, dropped when the test ends.
pub struct PostgresDatabase {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl PostgresDatabase {
    pub async fn create() -> Option<Self> {
        let server = std::env::var("TESSERA_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string());
        let admin_url = format!("{server}/postgres");
        let required = std::env::var("TESSERA_TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
        let connected = tokio::time::timeout(Duration::from_secs(5), Database::connect(&admin_url)).await;
        let admin = match connected {
            Ok(Ok(db)) => db,
            other => {
                let reason = match other {
                    Ok(Err(err)) => err.to_string(),
                    _ => "timed out".to_string(),
                };
                assert!(!required, "PostgreSQL at {server} is required but does not answer: {reason}");
                eprintln!(
                    "SKIPPED: PostgreSQL at {server} does not answer ({reason}); set TESSERA_TEST_POSTGRES_URL to run this test"
                );
                return None;
            }
        };
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
        Some(Self { url: format!("{server}/{name}"), admin_url, name })
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs outside async; a short-lived runtime on its own thread does the cleanup.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                if let Ok(db) = Database::connect(&admin_url).await {
                    let _ =
                        db.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                }
            });
        })
        .join();
    }
}

/// `spawn_app` at `http://localhost:PORT`: WebAuthn needs a domain name as the relying party
/// (an IP address is not a valid RP ID).
pub async fn spawn_app_on_localhost(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |settings| {
        let _ = settings.public_url.set_host(Some("localhost"));
    })
    .await
}

/// A browser: keeps cookies, does not follow redirects (the tests look at each one).
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap()
}

pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

pub fn pkce() -> Pkce {
    let verifier = tessera::crypto::random_token(32);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    Pkce { verifier, challenge }
}

pub struct AuthRequest<'a> {
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub scope: &'a str,
    pub state: &'a str,
    pub nonce: &'a str,
    pub challenge: Option<&'a str>,
    pub extra: Vec<(&'a str, &'a str)>,
}

impl<'a> AuthRequest<'a> {
    pub fn portal(pkce: &'a Pkce) -> Self {
        Self {
            client_id: PORTAL,
            redirect_uri: PORTAL_REDIRECT,
            scope: "openid email",
            state: "state-123",
            nonce: "nonce-456",
            challenge: Some(&pkce.challenge),
            extra: vec![],
        }
    }
}

impl TestApp {
    pub fn authorize_url(&self, request: &AuthRequest<'_>) -> String {
        let mut url = url::Url::parse(&format!("{}/authorize", self.issuer)).unwrap();
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", request.client_id)
                .append_pair("redirect_uri", request.redirect_uri)
                .append_pair("scope", request.scope)
                .append_pair("state", request.state)
                .append_pair("nonce", request.nonce);
            if let Some(challenge) = request.challenge {
                query.append_pair("code_challenge", challenge).append_pair("code_challenge_method", "S256");
            }
            for (name, value) in &request.extra {
                query.append_pair(name, value);
            }
        }
        url.to_string()
    }

    /// Absolute URL for a `Location` header value.
    pub fn absolute(&self, location: &str) -> String {
        if location.starts_with('/') { format!("{}{location}", self.address) } else { location.to_string() }
    }

    /// Opens the authorization URL and returns the login page URL it redirects to.
    pub async fn open_login_page(&self, browser: &reqwest::Client, request: &AuthRequest<'_>) -> String {
        let response = browser.get(self.authorize_url(request)).send().await.unwrap();
        assert_eq!(response.status(), 303, "authorize should redirect to the login page");
        let location = location(&response);
        assert!(location.contains("/t/acme/login/"), "unexpected redirect {location}");
        self.absolute(&location)
    }

    /// Loads the login page and submits the password form; returns the answer to the POST.
    pub async fn submit_password(
        &self,
        browser: &reqwest::Client,
        login_url: &str,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        let page = browser.get(login_url).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        let csrf = csrf_token(&html);
        browser
            .post(login_url)
            .form(&[("email", email), ("password", password), ("csrf_token", &csrf)])
            .send()
            .await
            .unwrap()
    }

    /// The whole browser part: authorize, sign in, and return the redirect's query parameters.
    pub async fn sign_in(
        &self,
        browser: &reqwest::Client,
        request: &AuthRequest<'_>,
    ) -> HashMap<String, String> {
        let login_url = self.open_login_page(browser, request).await;
        let response = self.submit_password(browser, &login_url, EMAIL, PASSWORD).await;
        assert_eq!(response.status(), 303, "a correct password redirects to the client");
        redirect_params(&response, request.redirect_uri)
    }

    pub async fn token_request(
        &self,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> reqwest::Response {
        let client = reqwest::Client::new();
        let mut request = client.post(format!("{}/token", self.issuer)).form(form);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        request.send().await.unwrap()
    }

    /// Exchanges a portal code with client_secret_basic.
    pub async fn exchange_portal_code(&self, code: &str, verifier: &str) -> reqwest::Response {
        self.token_request(
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", PORTAL_REDIRECT),
                ("code_verifier", verifier),
            ],
            Some((PORTAL, &self.portal_secret)),
        )
        .await
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let response = reqwest::get(format!("{}{path}", self.issuer)).await.unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }
}

pub fn location(response: &reqwest::Response) -> String {
    response.headers().get("location").expect("a Location header").to_str().unwrap().to_string()
}

/// The query parameters of a redirect to `redirect_uri`.
pub fn redirect_params(response: &reqwest::Response, redirect_uri: &str) -> HashMap<String, String> {
    let location = location(response);
    assert!(location.starts_with(redirect_uri), "redirected to {location}, not to {redirect_uri}");
    url::Url::parse(&location).unwrap().query_pairs().into_owned().collect()
}

pub fn csrf_token(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("a CSRF token in the form") + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

/// A browser with a recognisable User-Agent (trusted devices show it on the account page).
pub fn firefox() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .user_agent("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0")
        .build()
        .unwrap()
}

/// The authenticator app of the test: RFC 6238 with the setup key read from the page.
pub fn totp_code(setup_key: &str, unix_seconds: i64) -> String {
    let compact: String = setup_key.chars().filter(|c| !c.is_whitespace()).collect();
    let secret = totp_rs::Secret::try_from_base32(&compact).unwrap();
    let totp = totp_rs::Builder::new().with_secret(secret).build().unwrap();
    totp.generate(unix_seconds as u64).to_string()
}

/// The text between `start` and the next `end` in `html`.
pub fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html.find(start).unwrap_or_else(|| panic!("{start:?} not found in {html}")) + start.len();
    &html[from..from + html[from..].find(end).unwrap()]
}

pub struct Enrolled {
    pub setup_key: String,
    pub backup_codes: Vec<String>,
}

impl TestApp {
    pub async fn get_html(&self, browser: &reqwest::Client, url: &str) -> (u16, String) {
        let response = browser.get(url).send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// Posts a form carrying the page's CSRF token.
    pub async fn post_form(
        &self,
        browser: &reqwest::Client,
        url: &str,
        csrf: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf_token", csrf));
        browser.post(url).form(&form).send().await.unwrap()
    }

    /// With a signed-in browser: switch on the authenticator app through the account pages.
    pub async fn enable_totp(&self, browser: &reqwest::Client) -> Enrolled {
        let (status, html) =
            self.get_html(browser, &format!("{}/account/two-factor/method", self.issuer)).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains(">Authenticator app</label>"));
        let response = self
            .post_form(
                browser,
                &format!("{}/account/two-factor/method", self.issuer),
                &csrf_token(&html),
                &[("method", "totp")],
            )
            .await;
        assert_eq!(response.status(), 303);
        let (status, html) = self.get_html(browser, &format!("{}/account/two-factor/app", self.issuer)).await;
        assert_eq!(status, 200);
        assert!(html.contains("alt=\"QR code\""));
        let setup_key = between(&html, "role=\"textbox\" aria-readonly=\"true\">", "</code>").to_string();
        let unescaped = html.replace("&#x2f;", "/").replace("&amp;", "&");
        let otpauth = between(&unescaped, "href=\"otpauth://", "\"");
        assert!(otpauth.contains(&format!("secret={}", setup_key.replace(' ', ""))), "{otpauth}");
        let code = totp_code(&setup_key, self.clock.now());
        let response = self
            .post_form(
                browser,
                &format!("{}/account/two-factor/app", self.issuer),
                &csrf_token(&html),
                &[("code", &code)],
            )
            .await;
        assert_eq!(response.status(), 200);
        let html = response.text().await.unwrap();
        let list = between(&html, "aria-label=\"Backup codes\">", "</ul>");
        let backup_codes: Vec<String> = list
            .split("<code>")
            .skip(1)
            .map(|part| part.split("</code>").next().unwrap().to_string())
            .collect();
        assert_eq!(backup_codes.len(), 10);
        // The enrolment code used this time step: move on so the next code is a new one.
        self.clock.advance(30);
        Enrolled { setup_key, backup_codes }
    }

    /// Signs in through the portal and turns the authenticator app on; returns the browser.
    pub async fn user_with_totp(&self) -> (reqwest::Client, Enrolled) {
        let browser = firefox();
        let pkce = pkce();
        self.sign_in(&browser, &AuthRequest::portal(&pkce)).await;
        let enrolled = self.enable_totp(&browser).await;
        (browser, enrolled)
    }

    /// Password step of a fresh authorization request; returns the login URL (now at the second
    /// factor) after checking the password was accepted.
    pub async fn password_then_second_factor(
        &self,
        browser: &reqwest::Client,
        request: &AuthRequest<'_>,
    ) -> String {
        let login_url = self.open_login_page(browser, request).await;
        let response = self.submit_password(browser, &login_url, EMAIL, PASSWORD).await;
        assert_eq!(response.status(), 303);
        assert_eq!(self.absolute(&location(&response)), login_url, "back to the same attempt, next stage");
        login_url
    }

    /// Submits a verification code on the second-factor page.
    pub async fn submit_code(
        &self,
        browser: &reqwest::Client,
        login_url: &str,
        code: &str,
        remember: bool,
    ) -> reqwest::Response {
        let (status, html) = self.get_html(browser, login_url).await;
        assert_eq!(status, 200);
        assert!(html.contains(">Verification code</label>"), "{html}");
        let mut fields = vec![("code", code)];
        if remember {
            fields.push(("remember_device", "yes"));
        }
        self.post_form(browser, &format!("{login_url}/code"), &csrf_token(&html), &fields).await
    }

    pub async fn submit_backup_code(
        &self,
        browser: &reqwest::Client,
        login_url: &str,
        code: &str,
    ) -> reqwest::Response {
        let (status, html) = self.get_html(browser, &format!("{login_url}/backup")).await;
        assert_eq!(status, 200);
        assert!(html.contains(">Backup code</label>"));
        self.post_form(browser, &format!("{login_url}/backup"), &csrf_token(&html), &[("backup_code", code)])
            .await
    }

    /// Exchanges a portal code and returns the ID token's claims (verified by `openidconnect`).
    pub async fn id_token_claims(&self, code: &str, pkce: &Pkce, nonce: &str) -> serde_json::Value {
        use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet};
        let response = self.exchange_portal_code(code, &pkce.verifier).await;
        assert_eq!(response.status(), 200);
        let tokens: serde_json::Value = response.json().await.unwrap();
        let jwks: CoreJsonWebKeySet = serde_json::from_value(self.get_json("/jwks.json").await).unwrap();
        let verifier = CoreIdTokenVerifier::new_confidential_client(
            openidconnect::ClientId::new(PORTAL.into()),
            openidconnect::ClientSecret::new(self.portal_secret.clone()),
            openidconnect::IssuerUrl::new(self.issuer.clone()).unwrap(),
            jwks,
        )
        // The server's clock may have been moved forward; verify against the same time.
        .set_time_fn({
            let now = self.clock.now();
            move || chrono::DateTime::from_timestamp(now, 0).unwrap()
        });
        let raw = tokens["id_token"].as_str().unwrap();
        let id_token: CoreIdToken = raw.parse().unwrap();
        let claims = id_token.claims(&verifier, &openidconnect::Nonce::new(nonce.into())).unwrap();
        let amr: Vec<String> =
            claims.auth_method_refs().unwrap_or(&vec![]).iter().map(|a| a.as_str().to_string()).collect();
        serde_json::json!({
            "amr": amr,
            "acr": claims.auth_context_ref().map(|a| a.as_str().to_string()),
            "auth_time": claims.auth_time().map(|t| t.timestamp()),
        })
    }
}

impl TestApp {
    /// A form POST authenticated as the portal client (client_secret_basic).
    pub async fn post_client(&self, url: &str, form: &[(&str, &str)]) -> reqwest::Response {
        reqwest::Client::new()
            .post(url)
            .basic_auth(PORTAL, Some(&self.portal_secret))
            .form(form)
            .send()
            .await
            .unwrap()
    }
}
