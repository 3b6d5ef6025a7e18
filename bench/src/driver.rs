//! Multi-step load that wrk cannot do: whole interactive logins (authorize, password, TOTP,
//! redirect, code exchange) with a cookie jar per virtual user, the peer's sign-in by redirects,
//! and refresh-token chains where each request needs the token the previous one returned.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::redirect::Policy;
use sha2::{Digest, Sha256};

use crate::seed::Users;
use crate::server::{Client, REDIRECT_URI};
use crate::{Fallible, Measured};

/// Where the load goes: an issuer and one of its clients.
#[derive(Clone)]
pub struct Target {
    pub base_url: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
}

impl Target {
    pub fn new(base_url: &str, issuer: &str, client: &Client) -> Self {
        Self {
            base_url: base_url.to_string(),
            issuer: issuer.to_string(),
            client_id: client.id.clone(),
            client_secret: client.secret.clone(),
        }
    }
}

pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
}

/// The people of the login scenario: the first `pool` people with an authenticator app, taken in
/// turn. tessera accepts a code of the current and of the previous 30-s step, each step once per
/// person, so each person can sign in twice per step (the previous step's code first): a pool of
/// N people serves 2N logins every 30 s, and the scenario never runs out of people however long
/// it runs (the refresh chains take theirs from the other end of the list).
pub struct LoginPeople {
    pool: usize,
    /// The next person to try, and each person's last step used.
    turns: Mutex<(usize, Vec<i64>)>,
}

impl LoginPeople {
    pub fn new(pool: usize) -> Self {
        Self { pool, turns: Mutex::new((0, vec![i64::MIN; pool])) }
    }

    /// A person and the time whose code they type; `None` while everyone has used both steps.
    fn take(&self, now: i64) -> Option<(usize, i64)> {
        let step = now / 30;
        // Near the end of a step the previous step's code would be two steps old on arrival.
        let previous_is_safe = now % 30 < 25;
        let mut turns = self.turns.lock().ok()?;
        let (cursor, last) = &mut *turns;
        for _ in 0..self.pool {
            let index = *cursor;
            *cursor = (index + 1) % self.pool;
            if previous_is_safe && last[index] < step - 1 {
                last[index] = step - 1;
                return Some((index, (step - 1) * 30));
            }
            if last[index] < step {
                last[index] = step;
                return Some((index, step * 30));
            }
        }
        None
    }
}

/// One person signing in, in a browser of their own: seven requests.
pub async fn login(target: &Target, users: &Users, index: usize) -> Fallible<Tokens> {
    login_at(target, users, index, unix_now()).await
}

/// `login` typing the authenticator code of the step that contains `code_time`.
async fn login_at(target: &Target, users: &Users, index: usize, code_time: i64) -> Fallible<Tokens> {
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let verifier = format!("bench-verifier-{}-{index}", uuid::Uuid::new_v4().simple());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let mut url = url::Url::parse(&format!("{}/authorize", target.issuer)).map_err(|e| e.to_string())?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &target.client_id)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("scope", "openid email offline_access")
        .append_pair("state", "bench-state")
        .append_pair("nonce", "bench-nonce")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let response = browser.get(url).send().await.map_err(|e| e.to_string())?;
    let login_url = absolute(&target.base_url, &expect_redirect(response, "authorize")?);

    let html = expect_page(browser.get(&login_url).send().await, "login page").await?;
    let form = [
        ("email", users.email(index)),
        ("password", users.password().to_string()),
        ("csrf_token", csrf(&html)?),
    ];
    let response = browser.post(&login_url).form(&form).send().await.map_err(|e| e.to_string())?;
    let next = absolute(&target.base_url, &expect_redirect(response, "password")?);
    if next != login_url {
        return Err(format!("the password step went to {next}, not to the second factor"));
    }

    let html = expect_page(browser.get(&login_url).send().await, "second-factor page").await?;
    let code = users.totp_code(index, code_time)?;
    let form = [("code", code), ("csrf_token", csrf(&html)?)];
    let response =
        browser.post(format!("{login_url}/code")).form(&form).send().await.map_err(|e| e.to_string())?;
    let redirect = expect_redirect(response, "verification code")?;
    let redirect = url::Url::parse(&redirect).map_err(|e| format!("{redirect}: {e}"))?;
    let code = redirect
        .query_pairs()
        .find(|(name, _)| name == "code")
        .map(|(_, value)| value.into_owned())
        .ok_or_else(|| format!("no code in the redirect {redirect}"))?;

    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", &verifier),
    ];
    token_request(&browser, target, &form).await
}

async fn token_request(http: &reqwest::Client, target: &Target, form: &[(&str, &str)]) -> Fallible<Tokens> {
    let response = http
        .post(format!("{}/token", target.issuer))
        .basic_auth(&target.client_id, Some(&target.client_secret))
        .form(form)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.map_err(|e| e.to_string())?;
    if !status.is_success() || body["id_token"].as_str().is_none() {
        return Err(format!("token endpoint answered {status}: {body}"));
    }
    let field =
        |name: &str| body[name].as_str().map(str::to_string).ok_or_else(|| format!("no {name} in {body}"));
    Ok(Tokens { access_token: field("access_token")?, refresh_token: field("refresh_token")? })
}

/// Logins by `concurrency` virtual users, each a new browser, for `duration`.
pub async fn login_load(
    target: &Target,
    users: &Arc<Users>,
    people: &Arc<LoginPeople>,
    concurrency: usize,
    duration: Duration,
) -> Measured {
    let deadline = Instant::now() + duration;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (target, users, people) = (target.clone(), users.clone(), people.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = Vec::new();
            while Instant::now() < deadline {
                // Everyone has signed in twice this step: the next step brings new codes.
                let Some((index, code_time)) = people.take(unix_now()) else {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                let began = Instant::now();
                match login_at(&target, &users, index, code_time).await {
                    Ok(_) => latencies.push(began.elapsed()),
                    Err(err) => errors.push(err),
                }
            }
            (latencies, errors)
        }));
    }
    collect(tasks, start).await
}

/// Sets up `chains` refresh-token families (one login each), concurrently.
pub async fn refresh_families(
    target: &Target,
    users: &Arc<Users>,
    next_user: &Arc<AtomicUsize>,
    chains: usize,
) -> Fallible<Vec<Tokens>> {
    let mut tasks = Vec::new();
    for _ in 0..chains {
        let (target, users, next_user) = (target.clone(), users.clone(), next_user.clone());
        tasks.push(tokio::spawn(async move {
            // From the end of the list: the login scenario's people are at its start.
            let taken = next_user.fetch_add(1, Ordering::Relaxed);
            let Some(index) = users.with_totp().checked_sub(taken + 1) else {
                return Err("ran out of users with an authenticator app".to_string());
            };
            login(&target, &users, index).await
        }));
    }
    let mut families = Vec::new();
    for task in tasks {
        families.push(task.await.map_err(|e| e.to_string())??);
    }
    Ok(families)
}

/// Each family refreshes in a loop, always with the token the previous answer returned; the
/// families that are still usable afterwards are left in `families` for the next run.
pub async fn refresh_load(target: &Target, families: &mut Vec<Tokens>, duration: Duration) -> Measured {
    let http = reqwest::Client::builder().pool_max_idle_per_host(families.len()).build().unwrap_or_default();
    let deadline = Instant::now() + duration;
    let start = Instant::now();
    let mut tasks = Vec::new();
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
    for family in families.drain(..) {
        let (target, http, sender) = (target.clone(), http.clone(), sender.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = Vec::new();
            let mut tokens = family;
            while Instant::now() < deadline {
                let began = Instant::now();
                let form =
                    [("grant_type", "refresh_token"), ("refresh_token", tokens.refresh_token.as_str())];
                match token_request(&http, &target, &form).await {
                    Ok(next) => {
                        latencies.push(began.elapsed());
                        tokens = next;
                    }
                    Err(err) => {
                        errors.push(err);
                        return (latencies, errors); // the family is unusable now
                    }
                }
            }
            let _ = sender.send(tokens);
            (latencies, errors)
        }));
    }
    drop(sender);
    let measured = collect(tasks, start).await;
    while let Some(tokens) = receiver.recv().await {
        families.push(tokens);
    }
    measured
}

/// One sign-in at the peer: its login completes with redirects only (bench/peer/server.mjs signs
/// the fixed account in and grants the scopes), so the browser follows them to the client's
/// redirect URI and the code is exchanged. `prompt=consent` because oidc-provider drops
/// `offline_access` (no refresh token) without it, as OpenID Connect Core 11 allows.
pub async fn redirect_login(target: &Target) -> Fallible<Tokens> {
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let verifier = format!("bench-verifier-{}", uuid::Uuid::new_v4().simple());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let mut url = url::Url::parse(&format!("{}/auth", target.issuer)).map_err(|e| e.to_string())?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &target.client_id)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("scope", "openid email offline_access")
        .append_pair("prompt", "consent")
        .append_pair("state", "bench-state")
        .append_pair("nonce", "bench-nonce")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let mut next = url.to_string();
    // authorize -> interaction -> authorize (resumed) -> redirect URI: a few hops, never a loop.
    for _ in 0..6 {
        let response = browser.get(&next).send().await.map_err(|e| format!("{next}: {e}"))?;
        next = absolute(&target.base_url, &expect_redirect(response, "peer sign-in")?);
        if next.starts_with(REDIRECT_URI) {
            let redirect = url::Url::parse(&next).map_err(|e| format!("{next}: {e}"))?;
            let code = redirect
                .query_pairs()
                .find(|(name, _)| name == "code")
                .map(|(_, value)| value.into_owned())
                .ok_or_else(|| format!("no code in the redirect {redirect}"))?;
            let form = [
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", &verifier),
            ];
            return token_request(&browser, target, &form).await;
        }
    }
    Err(format!("the peer's sign-in did not reach the redirect URI (last at {next})"))
}

/// `chains` refresh-token families at the peer, one sign-in each.
pub async fn redirect_families(target: &Target, chains: usize) -> Fallible<Vec<Tokens>> {
    let mut tasks = Vec::new();
    for _ in 0..chains {
        let target = target.clone();
        tasks.push(tokio::spawn(async move { redirect_login(&target).await }));
    }
    let mut families = Vec::new();
    for task in tasks {
        families.push(task.await.map_err(|e| e.to_string())??);
    }
    Ok(families)
}

type Outcome = (Vec<Duration>, Vec<String>);

async fn collect(tasks: Vec<tokio::task::JoinHandle<Outcome>>, start: Instant) -> Measured {
    let mut latencies = Vec::new();
    let mut errors = Vec::new();
    for task in tasks {
        match task.await {
            Ok((l, e)) => {
                latencies.extend(l);
                errors.extend(e);
            }
            Err(err) => errors.push(err.to_string()),
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    latencies.sort();
    let percentile = |p: f64| {
        if latencies.is_empty() {
            return 0.0;
        }
        let rank = ((p * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len());
        latencies[rank - 1].as_secs_f64() * 1000.0
    };
    Measured {
        requests: latencies.len() as u64,
        seconds,
        per_second: latencies.len() as f64 / seconds,
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
        errors: errors.len() as u64,
        first_error: errors.into_iter().next(),
        peak_rss_kib: None,
    }
}

fn expect_redirect(response: reqwest::Response, step: &str) -> Fallible<String> {
    if response.status() != reqwest::StatusCode::SEE_OTHER && response.status() != reqwest::StatusCode::FOUND
    {
        return Err(format!("{step}: expected a redirect, got {}", response.status()));
    }
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .ok_or_else(|| format!("{step}: a redirect without Location"))
}

async fn expect_page(response: reqwest::Result<reqwest::Response>, what: &str) -> Fallible<String> {
    let response = response.map_err(|e| format!("{what}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("{what}: {}", response.status()));
    }
    response.text().await.map_err(|e| format!("{what}: {e}"))
}

fn csrf(html: &str) -> Fallible<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).ok_or("no CSRF token in the form")? + marker.len();
    Ok(html[start..].split('"').next().unwrap_or_default().to_string())
}

fn absolute(base: &str, location: &str) -> String {
    if location.starts_with('/') { format!("{base}{location}") } else { location.to_string() }
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
