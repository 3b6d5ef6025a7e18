//! A small relying party (an "app") that signs a person in through tessera with the OpenID
//! Connect authorization code flow, using the `openidconnect` crate on the client side.
//!
//! # Running it
//!
//! ```text
//! # terminal 1: tessera with demo data (tenant `demo`, client `demo-app`,
//! #             user patient@example.org / demo-password)
//! cargo run -- serve --demo
//!
//! # terminal 2: this app
//! cargo run --example relying_party
//! ```
//!
//! Then open <http://localhost:3000> and click "Sign in".
//!
//! # Configuration (environment variables)
//!
//! | variable           | default                            |
//! |--------------------|------------------------------------|
//! | `RP_LISTEN`        | `127.0.0.1:3000`                   |
//! | `RP_ISSUER`        | `http://localhost:8080/t/demo`     |
//! | `RP_CLIENT_ID`     | `demo-app`                         |
//! | `RP_CLIENT_SECRET` | `demo-app-secret-change-me`        |
//! | `RP_REDIRECT_URI`  | `http://localhost:3000/callback`   |
//!
//! # What it does
//!
//! * `/` shows a page with a "Sign in" link.
//! * `/login` discovers the provider (`{issuer}/.well-known/openid-configuration` and its JWKS),
//!   builds an authorization request (scope `openid email`, PKCE S256, random `state` and
//!   `nonce`), remembers `state -> (PKCE verifier, nonce)` in memory, binds the `state` to this
//!   browser with a short-lived cookie, and redirects to tessera.
//! * `/callback` checks `iss` (RFC 9207) and `state`, exchanges the code at the token endpoint
//!   (`client_secret_basic` + PKCE verifier), verifies the ID token (signature against the JWKS,
//!   issuer, audience, expiry, nonce, and `at_hash`), calls the userinfo endpoint with the access
//!   token, and shows the verified claims.
//!
//! `openidconnect` is built with `default-features = false`, so it has no HTTP client of its own:
//! [`OidcHttp`] implements its [`AsyncHttpClient`] trait over `reqwest`, with redirects turned
//! off (an OAuth client must never follow redirects from the token endpoint).
//!
//! This is a demonstration: there is no application session after sign-in, the pending-login
//! map lives in memory, and the demo credentials are public.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClaimName, CoreClaimType,
    CoreClientAuthMethod, CoreErrorResponseType, CoreGenderClaim, CoreGrantType, CoreIdTokenVerifier,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType, CoreRevocableToken,
    CoreRevocationErrorResponse, CoreSubjectIdentifierType, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AccessTokenHash, AdditionalClaims, AdditionalProviderMetadata, AsyncHttpClient, AuthorizationCode,
    Client, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, HttpClientError, HttpRequest, HttpResponse, IdTokenFields, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, ProviderMetadata, RedirectUrl,
    RequestTokenError, Scope, StandardErrorResponse, StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------------
// openidconnect type plumbing
// ---------------------------------------------------------------------------------------------

/// ID token claims tessera sends beyond the standard set the crate knows about: `sid` (the
/// session id, OpenID Connect Front-/Back-Channel Logout).
#[derive(Clone, Debug, Deserialize, Serialize)]
struct TesseraClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
}
impl AdditionalClaims for TesseraClaims {}

/// Discovery fields beyond the core set: whether the provider puts `iss` into authorization
/// responses (RFC 9207 section 3). If it says so, a response without `iss` must be rejected.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct TesseraProviderExtras {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    authorization_response_iss_parameter_supported: Option<bool>,
}
impl AdditionalProviderMetadata for TesseraProviderExtras {}

/// `CoreProviderMetadata`, with [`TesseraProviderExtras`].
type ProviderMeta = ProviderMetadata<
    TesseraProviderExtras,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// `CoreTokenResponse`, with [`TesseraClaims`] in the ID token.
type TesseraTokenResponse = StandardTokenResponse<
    IdTokenFields<
        TesseraClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;

/// `CoreClient`, with [`TesseraClaims`], in the endpoint state `from_provider_metadata` yields:
/// authorization URL set, token and userinfo URLs "maybe set" (checked when used).
type TesseraClient = Client<
    TesseraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TesseraTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,      // authorization endpoint
    EndpointNotSet,   // device authorization endpoint
    EndpointNotSet,   // introspection endpoint
    EndpointNotSet,   // revocation endpoint
    EndpointMaybeSet, // token endpoint
    EndpointMaybeSet, // userinfo endpoint
>;

/// The HTTP client `openidconnect` uses (discovery, JWKS, token endpoint): `reqwest`, built by
/// [`main`] with redirects disabled and a timeout.
#[derive(Clone)]
struct OidcHttp(reqwest::Client);

impl<'c> AsyncHttpClient<'c> for OidcHttp {
    type Error = HttpClientError<reqwest::Error>;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            // `http::Request<Vec<u8>>` -> `reqwest::Request`, send, and back again.
            let request = reqwest::Request::try_from(request).map_err(Box::new)?;
            let response = self.0.execute(request).await.map_err(Box::new)?;
            let mut builder = openidconnect::http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            let body = response.bytes().await.map_err(Box::new)?;
            builder.body(body.to_vec()).map_err(HttpClientError::Http)
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Application state
// ---------------------------------------------------------------------------------------------

/// How long a started login may take before its `state` is forgotten.
const LOGIN_TTL: Duration = Duration::from_secs(600);
/// How long discovery (metadata and JWKS) is reused before being fetched again, so a signing
/// key rotated at the provider is picked up without restarting this app.
const DISCOVERY_TTL: Duration = Duration::from_secs(300);
/// Binds a login's `state` to the browser that started it (login CSRF defence). Note that
/// cookies are not isolated by port, so tessera on :8080 sees it too; the name avoids clashes.
const STATE_COOKIE: &str = "rp-demo-state";

struct Config {
    listen: String,
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: ClientSecret,
    redirect_uri: RedirectUrl,
}

impl Config {
    fn from_env() -> Result<Self, Box<dyn StdError>> {
        let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_string());
        Ok(Self {
            listen: var("RP_LISTEN", "127.0.0.1:3000"),
            issuer: IssuerUrl::new(var("RP_ISSUER", "http://localhost:8080/t/demo"))
                .map_err(|e| format!("RP_ISSUER: {e}"))?,
            client_id: ClientId::new(var("RP_CLIENT_ID", "demo-app")),
            client_secret: ClientSecret::new(var("RP_CLIENT_SECRET", "demo-app-secret-change-me")),
            redirect_uri: RedirectUrl::new(var("RP_REDIRECT_URI", "http://localhost:3000/callback"))
                .map_err(|e| format!("RP_REDIRECT_URI: {e}"))?,
        })
    }
}

/// What `/login` remembers for `/callback`, keyed by `state`.
struct PendingLogin {
    pkce_verifier: PkceCodeVerifier,
    nonce: Nonce,
    started: Instant,
}

struct App {
    config: Config,
    http: OidcHttp,
    pending: Mutex<HashMap<String, PendingLogin>>,
    discovery: Mutex<Option<(Instant, Arc<ProviderMeta>)>>,
}

type Shared = Arc<App>;

impl App {
    /// Provider metadata and JWKS, from cache or fetched (`discover_async` fetches the discovery
    /// document, checks that its `issuer` is exactly ours, then fetches `jwks_uri`).
    async fn provider(&self) -> Result<Arc<ProviderMeta>, PageError> {
        {
            let cached = self.discovery.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((fetched, meta)) = cached.as_ref()
                && fetched.elapsed() < DISCOVERY_TTL
            {
                return Ok(Arc::clone(meta));
            }
        }
        let meta =
            ProviderMeta::discover_async(self.config.issuer.clone(), &self.http).await.map_err(|e| {
                PageError::upstream(
                    "Could not reach the identity provider",
                    format!("Discovery of {} failed: {}", self.config.issuer.as_str(), describe(&e)),
                )
            })?;
        let meta = Arc::new(meta);
        *self.discovery.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((Instant::now(), Arc::clone(&meta)));
        Ok(meta)
    }

    /// An `openidconnect` client for the provider: confidential, so the token request uses
    /// `client_secret_basic` (the crate's default auth type).
    fn client(&self, meta: &ProviderMeta) -> TesseraClient {
        TesseraClient::from_provider_metadata(
            meta.clone(),
            self.config.client_id.clone(),
            Some(self.config.client_secret.clone()),
        )
        .set_redirect_uri(self.config.redirect_uri.clone())
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------

#[tokio::main]
async fn main() -> Result<(), Box<dyn StdError>> {
    let config = Config::from_env()?;
    let http = reqwest::Client::builder()
        // Never follow redirects: a token endpoint answering with a redirect is an error, and
        // following it could send the code and client credentials somewhere else.
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()?;
    let listen = config.listen.clone();
    println!(
        "relying party: issuer {}, client id {}, redirect URI {}",
        config.issuer.as_str(),
        config.client_id.as_str(),
        config.redirect_uri.as_str()
    );
    let app: Shared = Arc::new(App {
        config,
        http: OidcHttp(http),
        pending: Mutex::new(HashMap::new()),
        discovery: Mutex::new(None),
    });
    let router = Router::new()
        .route("/", get(home))
        .route("/login", get(login))
        .route("/callback", get(callback))
        .with_state(app);
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("relying party: listening on http://{listen} (open http://localhost:3000 for the defaults)");
    axum::serve(listener, router).await?;
    Ok(())
}

async fn home(State(app): State<Shared>) -> Html<String> {
    page(
        "Relying party demo",
        &format!(
            "<p>This app signs you in with <code>{}</code>.</p>\n<p><a href=\"/login\">Sign in</a></p>",
            escape(app.config.issuer.as_str())
        ),
    )
}

/// Starts a login: builds the authorization URL and redirects the browser to it.
async fn login(State(app): State<Shared>) -> Result<Response, PageError> {
    let meta = app.provider().await?;
    let client = app.client(&meta);
    let (pkce_challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
    // `openid` is always included by the crate; `email` asks for the email claims.
    let (auth_url, state, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("email".to_string()))
        .set_pkce_challenge(pkce_challenge)
        .url();
    {
        let mut pending = app.pending.lock().unwrap_or_else(PoisonError::into_inner);
        // Forget abandoned logins so the map cannot grow without bound.
        pending.retain(|_, login| login.started.elapsed() < LOGIN_TTL);
        pending
            .insert(state.secret().clone(), PendingLogin { pkce_verifier, nonce, started: Instant::now() });
    }
    // `state` is base64url (cookie-safe). Lax cookies are sent on the top-level redirect back.
    let cookie = format!(
        "{STATE_COOKIE}={}; Path=/callback; HttpOnly; SameSite=Lax; Max-Age={}",
        state.secret(),
        LOGIN_TTL.as_secs()
    );
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to(auth_url.as_str())).into_response())
}

/// The authorization response's query parameters (RFC 6749 4.1.2 and 4.1.2.1, RFC 9207).
#[derive(Deserialize)]
struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// Finishes a login: validates the response, redeems the code, verifies the ID token, fetches
/// userinfo and shows what was learned.
async fn callback(
    State(app): State<Shared>,
    headers: HeaderMap,
    params: Result<Query<CallbackParams>, QueryRejection>,
) -> Result<Response, PageError> {
    let Query(params) =
        params.map_err(|e| PageError::bad("Malformed authorization response", e.body_text()))?;
    let meta = app.provider().await?;

    // RFC 9207: the response must come from our issuer (mix-up attack defence). If discovery
    // promises `iss`, a response without it is rejected too.
    match params.iss.as_deref() {
        Some(iss) if iss != app.config.issuer.as_str() => {
            return Err(PageError::bad(
                "Wrong issuer",
                format!(
                    "The authorization response came from issuer {iss}, expected {}.",
                    app.config.issuer.as_str()
                ),
            ));
        }
        Some(_) => {}
        None if meta.additional_metadata().authorization_response_iss_parameter_supported == Some(true) => {
            return Err(PageError::bad(
                "Missing issuer",
                "The provider advertises the iss parameter (RFC 9207) but the response has none.",
            ));
        }
        None => {}
    }

    // `state`: must be one we issued, to this browser, and is single-use.
    let state = params.state.ok_or_else(|| {
        PageError::bad("Missing state", "The authorization response has no state parameter.")
    })?;
    if cookie(&headers, STATE_COOKIE).as_deref() != Some(state.as_str()) {
        return Err(PageError::bad(
            "State mismatch",
            "This response does not belong to a login started in this browser. Please sign in again.",
        ));
    }
    let login = app
        .pending
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(&state)
        .filter(|login| login.started.elapsed() < LOGIN_TTL)
        .ok_or_else(|| {
            PageError::bad(
                "Unknown or expired state",
                "This login is unknown, was already completed, or took too long. Please sign in again.",
            )
        })?;

    // An error response (e.g. `access_denied` when the person cancels).
    if let Some(error) = params.error {
        let description = params.error_description.unwrap_or_default();
        return Err(PageError::bad(
            "Sign-in was not completed",
            format!("The provider answered {error}: {description}"),
        ));
    }
    let code = params
        .code
        .ok_or_else(|| PageError::bad("Missing code", "The authorization response has no code."))?;

    // Redeem the code: POST to the token endpoint with client_secret_basic and the PKCE verifier.
    let client = app.client(&meta);
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| PageError::bad("Provider has no token endpoint", describe(&e)))?
        .set_pkce_verifier(login.pkce_verifier)
        .request_async(&app.http)
        .await
        .map_err(|e| match e {
            RequestTokenError::ServerResponse(response) => PageError::bad(
                "The token request was refused",
                format!(
                    "{}: {}",
                    response.error().as_ref(),
                    response.error_description().map(String::as_str).unwrap_or("")
                ),
            ),
            other => PageError::bad("The token request failed", describe(&other)),
        })?;

    // Verify the ID token: RS256 signature against the JWKS, `iss`, `aud` (and `azp`), `exp`,
    // `iat`, and that `nonce` is the one this login sent.
    let id_token = tokens
        .id_token()
        .ok_or_else(|| PageError::bad("No ID token", "The token response has no id_token."))?;
    let verifier: CoreIdTokenVerifier<'_> = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &login.nonce)
        .map_err(|e| PageError::bad("The ID token did not verify", describe(&e)))?;

    // `at_hash` binds the access token to the ID token (OIDC Core 3.1.3.8).
    if let Some(expected) = claims.access_token_hash() {
        let actual = id_token
            .signing_alg()
            .map_err(|e| describe(&e))
            .and_then(|alg| {
                let key = id_token.signing_key(&verifier).map_err(|e| describe(&e))?;
                AccessTokenHash::from_token(tokens.access_token(), alg, key).map_err(|e| describe(&e))
            })
            .map_err(|e| PageError::bad("Could not check at_hash", e))?;
        if actual != *expected {
            return Err(PageError::bad(
                "The ID token did not verify",
                "at_hash does not match the access token.",
            ));
        }
    }

    // Userinfo with the access token; its `sub` must equal the ID token's (OIDC Core 5.3.2).
    let userinfo_url = meta.userinfo_endpoint().ok_or_else(|| {
        PageError::bad("No userinfo endpoint", "The provider does not advertise a userinfo endpoint.")
    })?;
    let userinfo = fetch_userinfo(&app.http.0, userinfo_url.as_str(), tokens.access_token().secret())
        .await
        .map_err(|e| PageError::bad("The userinfo request failed", e))?;
    if userinfo.get("sub").and_then(|v| v.as_str()) != Some(claims.subject().as_str()) {
        return Err(PageError::bad(
            "Userinfo does not match",
            "The userinfo sub differs from the ID token sub.",
        ));
    }

    // Everything checked: show it. Every value is escaped before it goes into HTML.
    let amr: Vec<&str> =
        claims.auth_method_refs().map(|amr| amr.iter().map(|m| m.as_str()).collect()).unwrap_or_default();
    let rows = [
        ("iss", claims.issuer().as_str().to_string()),
        ("sub", claims.subject().as_str().to_string()),
        ("email", claims.email().map(|e| e.as_str().to_string()).unwrap_or_default()),
        ("email_verified", claims.email_verified().map(|v| v.to_string()).unwrap_or_default()),
        ("amr", serde_json::to_string(&amr).unwrap_or_default()),
        ("acr", claims.auth_context_ref().map(|acr| acr.as_str().to_string()).unwrap_or_default()),
        (
            "auth_time",
            claims.auth_time().map(|t| format!("{} ({})", t.timestamp(), t.to_rfc3339())).unwrap_or_default(),
        ),
        ("sid", claims.additional_claims().sid.clone().unwrap_or_default()),
        ("exp", format!("{} ({})", claims.expiration().timestamp(), claims.expiration().to_rfc3339())),
    ];
    let mut body = String::from("<p>Signed in. The ID token verified; its claims:</p>\n<table>\n");
    for (name, value) in rows {
        let _ = writeln!(body, "<tr><th>{}</th><td><code>{}</code></td></tr>", escape(name), escape(&value));
    }
    body.push_str("</table>\n<h2>Userinfo</h2>\n");
    let userinfo_json = serde_json::to_string_pretty(&userinfo).unwrap_or_default();
    let _ = writeln!(body, "<pre>{}</pre>", escape(&userinfo_json));
    body.push_str("<p><a href=\"/\">Home</a> · <a href=\"/login\">Sign in again</a></p>");

    // The login is finished: drop the state cookie.
    let clear = format!("{STATE_COOKIE}=; Path=/callback; HttpOnly; SameSite=Lax; Max-Age=0");
    Ok(([(header::SET_COOKIE, clear)], page("Signed in", &body)).into_response())
}

/// GET the userinfo endpoint with a bearer token; returns the JSON object.
async fn fetch_userinfo(
    http: &reqwest::Client,
    url: &str,
    access_token: &str,
) -> Result<serde_json::Value, String> {
    let response = http
        .get(url)
        .bearer_auth(access_token)
        .header(header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| describe(&e))?;
    let status = response.status();
    if !status.is_success() {
        let challenge = response
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = response.text().await.unwrap_or_default();
        return Err(format!("HTTP {status} {challenge} {body}"));
    }
    let value: serde_json::Value = response.json().await.map_err(|e| describe(&e))?;
    if !value.is_object() {
        return Err("the userinfo response is not a JSON object".to_string());
    }
    Ok(value)
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// An error shown to the person as an HTML page.
struct PageError {
    status: StatusCode,
    title: String,
    detail: String,
}

impl PageError {
    /// Something wrong with the response or tokens: 400.
    fn bad(title: impl Into<String>, detail: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, title: title.into(), detail: detail.into() }
    }

    /// The provider could not be reached: 502.
    fn upstream(title: impl Into<String>, detail: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_GATEWAY, title: title.into(), detail: detail.into() }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        eprintln!("relying party: {}: {}", self.title, self.detail);
        let body = format!(
            "<p>{}</p>\n<p><a href=\"/\">Home</a> · <a href=\"/login\">Try again</a></p>",
            escape(&self.detail)
        );
        (self.status, page(&self.title, &body)).into_response()
    }
}

/// A whole HTML page; `title` is escaped here, `body` must already be safe HTML.
fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>body{{font-family:sans-serif;max-width:48rem;margin:2rem auto}}\
         th{{text-align:left;padding-right:1rem}}pre{{background:#f4f4f4;padding:1rem}}</style></head>\n\
         <body>\n<h1>{title}</h1>\n{body}\n</body>\n</html>\n",
        title = escape(title),
    ))
}

/// Escapes text for HTML element content and quoted attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An error and its causes, e.g. "Request failed: client error: error sending request ...".
fn describe(err: &dyn StdError) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text
}

/// A cookie's value from the request headers.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}
