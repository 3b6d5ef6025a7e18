//! tessera-bench: starts a release build of tessera on loopback with a fresh, seeded database,
//! loads it scenario by scenario, and reports throughput, p50/p99 latency and the server's peak
//! RSS, each as a ratio to this machine's ceiling measured in the same run and, with `--peer`,
//! beside panva's oidc-provider measured the same way. See docs/benchmarks.md.

mod ceilings;
mod configuration;
mod driver;
mod peer;
mod report;
mod runs;
mod seed;
mod server;
mod wrk;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::report::{Ceilings, Configuration, PeerInfo, Report};
use crate::server::{Backend, Pinned};

pub type Fallible<T> = Result<T, String>;

/// What one scenario measured.
#[derive(Debug, Default, Clone)]
pub struct Measured {
    pub requests: u64,
    pub seconds: f64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub peak_rss_kib: Option<u64>,
}

#[derive(Parser)]
#[command(name = "tessera-bench", about = "Benchmarks tessera against this machine's ceilings")]
struct Args {
    #[command(subcommand)]
    internal: Option<Internal>,
    /// The tessera binary (default: target/release/tessera, or target/debug/tessera with --smoke).
    #[arg(long, value_name = "FILE")]
    bin: Option<PathBuf>,
    /// A few seconds per scenario with few users: checks that every scenario works, not the numbers.
    #[arg(long)]
    smoke: bool,
    /// sqlite, postgres or both.
    #[arg(long, default_value = "both")]
    backend: String,
    /// Users seeded, comma-separated (default 1000,100000; 300 with --smoke).
    #[arg(long, value_delimiter = ',')]
    users: Vec<usize>,
    /// Seconds per run of a scenario (default 10; 2 with --smoke).
    #[arg(long)]
    seconds: Option<u64>,
    /// Runs per scenario; the report takes the median (default 3; 1 with --smoke).
    #[arg(long)]
    runs: Option<usize>,
    /// Also measure panva's oidc-provider (installed from the npm registry into a temporary
    /// folder) with the same scenarios, pinning and load, beside each configuration.
    #[arg(long)]
    peer: bool,
    /// Connections (and refresh chains) for the request-level scenarios.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Virtual users signing in at once in the login scenario.
    #[arg(long, default_value_t = 8)]
    login_users: usize,
    /// PostgreSQL server (a database is created per configuration and dropped afterwards).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432", env = "TESSERA_BENCH_POSTGRES_URL")]
    postgres_url: String,
    /// Only these scenarios, comma-separated (default: all): to profile one scenario alone, e.g.
    /// `--only refresh_rs256` under `perf record -a -C 0` (the server's core).
    #[arg(long, value_delimiter = ',', value_name = "SCENARIOS")]
    only: Vec<String>,
    /// Also write the Markdown report to this file.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Internal {
    /// The trivial endpoint of the ceilings (started by the benchmark itself).
    #[command(hide = true)]
    TrivialServer { listen: std::net::SocketAddr },
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(Internal::TrivialServer { listen }) = args.internal {
        return match ceilings::serve_trivial(listen) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => fail(&err),
        };
    }
    let cores = Cores::pin();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => return fail(&err.to_string()),
    };
    match runtime.block_on(run(args, cores)) {
        Ok(report) if report.failed() => fail("some scenarios failed (see the report)"),
        Ok(_) => ExitCode::SUCCESS,
        Err(err) => fail(&err),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

/// The server gets the first core and the load (this process, wrk) the last one, so every
/// figure is "per core" and the ceilings are measured on a core of the same kind.
#[derive(Clone, Copy)]
pub struct Cores {
    pub total: usize,
    pub server: Option<usize>,
}

impl Cores {
    fn pin() -> Self {
        let total = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        if total < 2 || std::process::Command::new("taskset").arg("-V").output().is_err() {
            eprintln!("note: fewer than 2 cores or no taskset: server and load share the machine");
            return Self { total, server: None };
        }
        // SAFETY: a zeroed cpu_set_t is a valid empty set; the call only reads it. Threads made
        // after this (tokio's, wrk's) inherit the affinity.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(total - 1, &mut set);
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
        }
        Self { total, server: Some(0) }
    }
}

async fn run(args: Args, cores: Cores) -> Fallible<Report> {
    wrk::ensure_installed()?;
    let smoke = args.smoke;
    let bin = match args.bin.clone() {
        Some(bin) => bin,
        None => default_binary(smoke)?,
    };
    if !bin.is_file() {
        return Err(format!(
            "{} not found: build it first (cargo build --release --bin tessera) or pass --bin",
            bin.display()
        ));
    }
    if let Some(unknown) = args.only.iter().find(|name| !report::SCENARIOS.contains(&name.as_str())) {
        return Err(format!("--only {unknown:?}: one of {}", report::SCENARIOS.join(", ")));
    }
    let backends = match args.backend.as_str() {
        "sqlite" => vec![Backend::Sqlite],
        "postgres" => vec![Backend::Postgres],
        "both" => vec![Backend::Sqlite, Backend::Postgres],
        other => return Err(format!("--backend {other:?}: sqlite, postgres or both")),
    };
    let sizes = if !args.users.is_empty() {
        args.users.clone()
    } else if smoke {
        vec![300]
    } else {
        vec![1_000, 100_000]
    };
    let duration = Duration::from_secs(args.seconds.unwrap_or(if smoke { 2 } else { 10 }));
    let connections = if smoke { args.connections.min(8) } else { args.connections };
    let work_dir = std::env::temp_dir().join(format!("tessera-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&work_dir).map_err(|e| e.to_string())?;

    eprintln!("measuring this machine's ceilings (one core each)...");
    let ceiling_time = if smoke { Duration::from_millis(300) } else { Duration::from_secs(3) };
    let mut ceilings = Ceilings {
        argon2: ceilings::argon2_per_second(ceiling_time)?,
        rs256: ceilings::rs256_per_second(ceiling_time)?,
        es256: ceilings::es256_per_second(ceiling_time)?,
        eddsa: ceilings::eddsa_per_second(ceiling_time)?,
        trivial: Measured::default(),
    };
    {
        let port = server::free_port()?;
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let listen = format!("127.0.0.1:{port}");
        let _trivial = Pinned::spawn(&exe, &["trivial-server", &listen], cores.server)?;
        let url = format!("http://{listen}/");
        server::wait_ready(&url).await?;
        ceilings.trivial = wrk::run(&wrk::Request::get(&url), connections, duration, &work_dir)?;
    }

    let peer = if args.peer {
        eprintln!("installing {} from the npm registry...", peer::PACKAGE);
        Some(peer::Installation::install()?)
    } else {
        None
    };
    let password_hash = ceilings::hash_password(seed::Users::new(0, 0).password())?;
    let runs = args.runs.unwrap_or(if smoke { 1 } else { 3 }).max(1);
    let plan = configuration::Plan {
        bin: &bin,
        postgres_url: &args.postgres_url,
        smoke,
        cores,
        duration,
        runs,
        connections,
        login_users: args.login_users,
        password_hash: &password_hash,
        peer: peer.as_ref(),
        only: &args.only,
    };
    let mut configurations = Vec::new();
    for &backend in &backends {
        for &count in &sizes {
            eprintln!("{} with {count} users...", backend.name());
            let configuration = configuration::run(&plan, backend, count)
                .await
                .unwrap_or_else(|err| Configuration::failed(backend, count, err));
            configurations.push(configuration);
        }
    }
    let _ = std::fs::remove_dir_all(&work_dir);
    let report = Report {
        smoke,
        binary: bin.display().to_string(),
        cores,
        duration,
        runs,
        connections,
        login_users: args.login_users,
        ceilings,
        peer: peer
            .as_ref()
            .map(|p| PeerInfo { package: peer::PACKAGE, node_version: p.node_version.clone() }),
        configurations,
    };
    let markdown = report.markdown();
    println!("{markdown}");
    if let Some(out) = &args.out {
        std::fs::write(out, &markdown).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    }
    Ok(report)
}

fn default_binary(smoke: bool) -> Fallible<PathBuf> {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
    };
    Ok(target.join(if smoke { "debug" } else { "release" }).join("tessera"))
}
