//! One configuration (a backend and a number of users): a fresh, seeded tessera and, with
//! `--peer`, a fresh oidc-provider beside it; every scenario run `runs` times against each, the
//! two servers taking turns run by run so that drift of a shared machine hits both alike.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use base64::Engine;

use crate::peer::{Installation, Peer};
use crate::report::{Configuration, LATENCY_CONNECTIONS, Scenario, is_token_endpoint};
use crate::runs::{Runs, failed};
use crate::server::{Backend, Client, Instance};
use crate::{Cores, Fallible, Measured, driver, seed, server, wrk};

/// What every configuration shares.
pub struct Plan<'a> {
    pub bin: &'a Path,
    pub postgres_url: &'a str,
    pub smoke: bool,
    pub cores: Cores,
    pub duration: Duration,
    pub runs: usize,
    pub connections: usize,
    pub login_users: usize,
    pub password_hash: &'a str,
    pub peer: Option<&'a Installation>,
    /// Only these scenarios (empty: all).
    pub only: &'a [String],
}

impl Plan<'_> {
    fn wanted(&self, scenario: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|name| name == scenario)
    }
}

/// One server under load: its process (for the peak RSS) and where it answers.
struct Side {
    pid: u32,
    issuer: String,
    base_url: String,
}

pub async fn run(plan: &Plan<'_>, backend: Backend, count: usize) -> Fallible<Configuration> {
    let mut instance = Instance::create(plan.bin, backend, plan.postgres_url)?;
    let portal = instance.create_client("portal", None)?;
    let eddsa = instance.create_client("portal-eddsa", Some("EdDSA"))?;
    // Enough people with an app for every login of the run: each may sign in once per 30-s step.
    let with_totp = if plan.smoke { 150 } else { 4_000 };
    let users = Arc::new(seed::Users::new(count, with_totp));
    let file = instance.dir.join("users.jsonl");
    std::fs::write(&file, users.jsonl(plan.password_hash)).map_err(|e| e.to_string())?;
    let began = Instant::now();
    let file_arg = file.display().to_string();
    instance.cli(&["user", "import", "--tenant", server::TENANT, "--file", &file_arg], None)?;
    let import_seconds = began.elapsed().as_secs_f64();
    let pid = instance.start(plan.cores.server).await?;
    let tessera = Side { pid, issuer: instance.issuer.clone(), base_url: instance.base_url.clone() };

    let (peer, peer_error) = match plan.peer {
        Some(installation) => match Peer::start(installation, plan.cores.server, &instance.dir).await {
            Ok(peer) => (Some(peer), None),
            Err(err) => (None, Some(err)),
        },
        None => (None, None),
    };
    let peer_side =
        peer.as_ref().map(|p| Side { pid: p.pid, issuer: p.issuer.clone(), base_url: p.issuer.clone() });
    let bench = Bench { plan, dir: &instance.dir };
    let mut scenarios = Vec::new();

    for (name, path, peer_path) in [
        ("discovery", "/.well-known/openid-configuration", "/.well-known/openid-configuration"),
        ("jwks", "/jwks.json", "/jwks"),
    ] {
        if !plan.wanted(name) {
            continue;
        }
        let url = format!("{}{path}", tessera.issuer);
        let peer_url = peer_side.as_ref().map(|p| format!("{}{peer_path}", p.issuer));
        let peer_request = peer_url.as_deref().map(wrk::Request::get);
        scenarios.push(bench.wrk(
            name,
            &tessera,
            &wrk::Request::get(&url),
            peer_side.as_ref().zip(peer_request.as_ref()),
        ));
    }

    // The refresh chains (RS256 and EdDSA) take people from the end of the list, the login
    // scenario takes turns among the others (`LoginPeople`).
    let next_user = Arc::new(AtomicUsize::new(0));
    let chain_people = 2 * plan.connections;
    let people = Arc::new(driver::LoginPeople::new(users.with_totp().saturating_sub(chain_people).max(1)));
    let rs256 = driver::Target::new(&tessera.base_url, &tessera.issuer, &portal);
    let ed = driver::Target::new(&tessera.base_url, &tessera.issuer, &eddsa);
    let mut login = Runs::new(pid);
    for _ in 0..if plan.wanted("login") { plan.runs } else { 0 } {
        login
            .measure_async(async {
                Ok(driver::login_load(&rs256, &users, &people, plan.login_users, plan.duration).await)
            })
            .await;
    }
    if plan.wanted("login") {
        scenarios.push(Scenario {
            name: "login",
            measured: login.median(),
            at_latency_connections: None,
            peer: None,
        });
    }

    let families = driver::refresh_families(&rs256, &users, &next_user, plan.connections).await;
    let access_token = families.as_ref().ok().and_then(|f| f.first()).map(|t| t.access_token.clone());
    let peer_portal = peer.as_ref().map(|p| driver::Target::new(&p.issuer, &p.issuer, &p.portal));
    let peer_refresh = match (&peer, &peer_portal) {
        (Some(peer), Some(target)) if plan.wanted("refresh_rs256") => Some(Chains {
            pid: peer.pid,
            target,
            families: driver::redirect_families(target, plan.connections).await,
        }),
        _ => None,
    };
    if plan.wanted("refresh_rs256") {
        settle_after_sign_ins().await;
        scenarios.push(bench.refresh("refresh_rs256", pid, &rs256, families, peer_refresh).await);
    }
    if plan.wanted("refresh_eddsa") {
        let families = driver::refresh_families(&ed, &users, &next_user, plan.connections).await;
        settle_after_sign_ins().await;
        scenarios.push(bench.refresh("refresh_eddsa", pid, &ed, families, None).await);
    }

    let form = ("Content-Type", "application/x-www-form-urlencoded".to_string());
    let url = format!("{}/token", tessera.issuer);
    let request = wrk::Request {
        method: "POST",
        url: &url,
        headers: vec![("Authorization", basic(&portal)), form.clone()],
        body: Some("grant_type=client_credentials&scope=api.read".into()),
    };
    let peer_url = peer.as_ref().map(|p| p.url("/token"));
    let peer_request = peer.as_ref().zip(peer_url.as_deref()).map(|(p, url)| wrk::Request {
        method: "POST",
        url,
        headers: vec![("Authorization", basic(&p.service)), form.clone()],
        body: Some("grant_type=client_credentials&scope=api.read".into()),
    });
    if plan.wanted("client_credentials") {
        scenarios.push(bench.wrk(
            "client_credentials",
            &tessera,
            &request,
            peer_side.as_ref().zip(peer_request.as_ref()),
        ));
    }

    // wrk sees only status codes: check once that each token is active and userinfo answers. The
    // peer's token comes from a sign-in made now: its in-memory store keeps only the last few
    // thousand entries and has forgotten the tokens of the refresh set-up by this time.
    let introspect = format!("{}/introspect", tessera.issuer);
    let userinfo = format!("{}/userinfo", tessera.issuer);
    let tessera_token = match access_token {
        Some(token) => token_is_active(&introspect, &userinfo, &portal, &token).await.map(|()| token),
        None => Err("no access token from the refresh set-up".to_string()),
    };
    let token_scenarios = plan.wanted("introspection") || plan.wanted("userinfo");
    let peer_token = match (&peer, &peer_portal) {
        (Some(peer), Some(target)) if token_scenarios => Some(match driver::redirect_login(target).await {
            Ok(tokens) => token_is_active(
                &peer.url("/token/introspection"),
                &peer.url("/me"),
                &peer.portal,
                &tokens.access_token,
            )
            .await
            .map(|()| tokens.access_token),
            Err(err) => Err(err),
        }),
        _ => None,
    };
    for (name, path, peer_path) in
        [("introspection", "/introspect", "/token/introspection"), ("userinfo", "/userinfo", "/me")]
    {
        if !plan.wanted(name) {
            continue;
        }
        let url = format!("{}{path}", tessera.issuer);
        let scenario = match &tessera_token {
            Ok(token) => {
                let request = token_use(name, &url, &portal, token, &form);
                let peer_url = peer.as_ref().map(|p| p.url(peer_path));
                match (&peer, &peer_url, &peer_token, &peer_side) {
                    (Some(p), Some(peer_url), Some(Ok(peer_token)), Some(side)) => {
                        let peer_request = token_use(name, peer_url, &p.portal, peer_token, &form);
                        bench.wrk(name, &tessera, &request, Some((side, &peer_request)))
                    }
                    (_, _, Some(Err(err)), _) => {
                        let mut scenario = bench.wrk(name, &tessera, &request, None);
                        scenario.peer = Some(failed(err.clone()));
                        scenario
                    }
                    _ => bench.wrk(name, &tessera, &request, None),
                }
            }
            Err(err) => Scenario {
                name,
                measured: failed(err.clone()),
                at_latency_connections: None,
                peer: peer_token.as_ref().map(|_| failed("not run: tessera's token check failed".into())),
            },
        };
        scenarios.push(scenario);
    }

    let failed_scenario = |m: &Option<Measured>| m.as_ref().is_some_and(|m| m.errors > 0);
    if scenarios.iter().any(|s| s.measured.errors > 0 || failed_scenario(&s.at_latency_connections)) {
        print_tail("server log", &instance.server_log());
    }
    if let Some(peer) = &peer
        && scenarios.iter().any(|s| failed_scenario(&s.peer))
    {
        print_tail("peer log", &peer.log());
    }
    Ok(Configuration { backend, users: count, import_seconds, scenarios, error: None, peer_error })
}

/// The peer's refresh chains and where they go.
struct Chains<'a> {
    pid: u32,
    target: &'a driver::Target,
    families: Fallible<Vec<driver::Tokens>>,
}

struct Bench<'a> {
    plan: &'a Plan<'a>,
    dir: &'a Path,
}

impl Bench<'_> {
    /// Separate runs at `LATENCY_CONNECTIONS` only for the token endpoints (and the EdDSA refresh,
    /// without a target: beside RS256 it shows what the signatures add to the tail), and only when
    /// the main runs use more connections than that.
    fn latency_runs(&self, name: &str) -> bool {
        (is_token_endpoint(name) || name == "refresh_eddsa") && self.plan.connections > LATENCY_CONNECTIONS
    }

    /// A wrk scenario against tessera and, when given, the peer with its own request.
    fn wrk(
        &self,
        name: &'static str,
        tessera: &Side,
        request: &wrk::Request<'_>,
        peer: Option<(&Side, &wrk::Request<'_>)>,
    ) -> Scenario {
        let (connections, duration, dir) = (self.plan.connections, self.plan.duration, self.dir);
        let mut main = Runs::new(tessera.pid);
        let mut latency = Runs::new(tessera.pid);
        let mut other = peer.map(|(side, _)| Runs::new(side.pid));
        for _ in 0..self.plan.runs {
            main.measure(|| wrk::run(request, connections, duration, dir));
            if let (Some(runs), Some((_, request))) = (other.as_mut(), peer) {
                runs.measure(|| wrk::run(request, connections, duration, dir));
            }
            if self.latency_runs(name) {
                latency.measure(|| wrk::run(request, LATENCY_CONNECTIONS, duration, dir));
            }
        }
        Scenario {
            name,
            measured: main.median(),
            at_latency_connections: self.latency_runs(name).then(|| latency.median()),
            peer: other.map(Runs::median),
        }
    }

    /// Refresh chains against tessera and, when given, the peer; the same chains go on from run
    /// to run, and the latency runs use the first `LATENCY_CONNECTIONS` of them.
    async fn refresh(
        &self,
        name: &'static str,
        pid: u32,
        target: &driver::Target,
        families: Fallible<Vec<driver::Tokens>>,
        peer: Option<Chains<'_>>,
    ) -> Scenario {
        let duration = self.plan.duration;
        let mut main = Runs::new(pid);
        let mut latency = Runs::new(pid);
        let (mut other, mut peer_families, peer_target) = match peer {
            Some(chains) => (Some(Runs::new(chains.pid)), Some(chains.families), Some(chains.target)),
            None => (None, None, None),
        };
        let mut families = families;
        for _ in 0..self.plan.runs {
            match &mut families {
                Ok(families) => {
                    main.measure_async(async { Ok(driver::refresh_load(target, families, duration).await) })
                        .await
                }
                Err(err) => main.fail(err.clone()),
            }
            if let (Some(runs), Some(families), Some(target)) =
                (other.as_mut(), peer_families.as_mut(), peer_target)
            {
                match families {
                    Ok(families) => {
                        runs.measure_async(async {
                            Ok(driver::refresh_load(target, families, duration).await)
                        })
                        .await
                    }
                    Err(err) => runs.fail(err.clone()),
                }
            }
            if self.latency_runs(name) {
                match &mut families {
                    Ok(families) => {
                        let mut few: Vec<driver::Tokens> =
                            families.drain(..LATENCY_CONNECTIONS.min(families.len())).collect();
                        latency
                            .measure_async(async {
                                Ok(driver::refresh_load(target, &mut few, duration).await)
                            })
                            .await;
                        families.extend(few);
                    }
                    Err(err) => latency.fail(err.clone()),
                }
            }
        }
        Scenario {
            name,
            measured: main.median(),
            at_latency_connections: self.latency_runs(name).then(|| latency.median()),
            peer: other.map(Runs::median),
        }
    }
}

/// The request of the introspection scenario (the client introspects its own token) or of
/// userinfo (the token as a bearer).
fn token_use<'a>(
    name: &str,
    url: &'a str,
    client: &Client,
    token: &str,
    form: &(&'static str, String),
) -> wrk::Request<'a> {
    if name == "introspection" {
        wrk::Request {
            method: "POST",
            url,
            headers: vec![("Authorization", basic(client)), form.clone()],
            body: Some(format!("token={token}")),
        }
    } else {
        wrk::Request {
            method: "GET",
            url,
            headers: vec![("Authorization", format!("Bearer {token}"))],
            body: None,
        }
    }
}

fn basic(client: &Client) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", client.id, client.secret))
    )
}

fn print_tail(what: &str, log: &str) {
    let tail: Vec<&str> = log.lines().rev().take(20).collect();
    eprintln!("{what} (last lines):\n{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
}

async fn token_is_active(introspect: &str, userinfo: &str, client: &Client, token: &str) -> Fallible<()> {
    let http = reqwest::Client::new();
    let introspected: serde_json::Value = http
        .post(introspect)
        .basic_auth(&client.id, Some(&client.secret))
        .form(&[("token", token)])
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    if introspected["active"] != serde_json::json!(true) {
        return Err(format!("introspection of the benchmark's access token: {introspected}"));
    }
    let answer = http.get(userinfo).bearer_auth(token).send().await.map_err(|e| e.to_string())?;
    if !answer.status().is_success() {
        return Err(format!("userinfo with the benchmark's access token: {}", answer.status()));
    }
    Ok(())
}

/// tessera gives its hashing threads' Argon2 memory back after 2 s without a sign-in
/// (`src/authn/password.rs`, `IDLE`): a token scenario measured right after the sign-ins of its
/// set-up would count that memory, which a server busy with tokens alone does not hold.
async fn settle_after_sign_ins() {
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
}
