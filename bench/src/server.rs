//! A fresh tessera for one configuration: its own folder and database (a SQLite file, or a new
//! PostgreSQL database dropped afterwards), seeded through tessera's own CLI, served on a free
//! loopback port and pinned to one core.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;

use crate::Fallible;

pub const TENANT: &str = "bench";
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        }
    }
}

/// A configured, migrated and seeded instance that is not yet serving.
pub struct Instance {
    bin: PathBuf,
    pub dir: PathBuf,
    env: Vec<(String, String)>,
    postgres: Option<(String, String)>,
    pub base_url: String,
    pub issuer: String,
    pub server: Option<Child>,
}

pub struct Client {
    pub id: String,
    pub secret: String,
}

impl Instance {
    pub fn create(bin: &Path, backend: Backend, postgres_url: &str) -> Fallible<Self> {
        let port = free_port()?;
        let dir = std::env::temp_dir().join(format!("tessera-bench-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let base_url = format!("http://127.0.0.1:{port}");
        let mut key = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
        let mut env = vec![
            ("TESSERA_DATA_DIR".to_string(), dir.display().to_string()),
            ("TESSERA_LISTEN".to_string(), format!("127.0.0.1:{port}")),
            ("TESSERA_PUBLIC_URL".to_string(), base_url.clone()),
            // No themes folder: the built-in default theme, nothing read from disk per request.
            ("TESSERA_THEMES_DIR".to_string(), dir.join("no-themes").display().to_string()),
            ("TESSERA_MASTER_KEY".to_string(), base64::engine::general_purpose::STANDARD.encode(key)),
            ("TESSERA_LOG".to_string(), "warn".to_string()),
        ];
        // The SQLite durability setting under comparison (docs/benchmarks.md), when one is given.
        if let Ok(synchronous) = std::env::var("TESSERA_DATABASE__SQLITE_SYNCHRONOUS") {
            env.push(("TESSERA_DATABASE__SQLITE_SYNCHRONOUS".to_string(), synchronous));
        }
        let mut postgres = None;
        if backend == Backend::Postgres {
            let name = format!("tessera_bench_{}", uuid::Uuid::new_v4().simple());
            psql(postgres_url, &format!("CREATE DATABASE {name}"))?;
            env.push(("TESSERA_DATABASE_URL".to_string(), format!("{postgres_url}/{name}")));
            postgres = Some((postgres_url.to_string(), name));
        }
        let issuer = format!("{base_url}/t/{TENANT}");
        let instance = Self { bin: bin.to_path_buf(), dir, env, postgres, base_url, issuer, server: None };
        instance.cli(&["migrate"], None)?;
        instance.cli(&["tenant", "create", TENANT, "--name", "Benchmark"], None)?;
        Ok(instance)
    }

    /// Runs a tessera command with this instance's settings; its standard output.
    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> Fallible<String> {
        let mut command = Command::new(&self.bin);
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|e| format!("cannot run {}: {e}", self.bin.display()))?;
        if let Some(mut input) = child.stdin.take() {
            input.write_all(stdin.unwrap_or("").as_bytes()).map_err(|e| e.to_string())?;
        }
        let output = child.wait_with_output().map_err(|e| e.to_string())?;
        if !output.status.success() {
            return Err(format!(
                "tessera {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// A first-party confidential client (RS256 unless `alg` says otherwise) that may also use
    /// client_credentials for scope `api.read`.
    pub fn create_client(&self, id: &str, alg: Option<&str>) -> Fallible<Client> {
        let mut args = vec![
            "client",
            "create",
            "--tenant",
            TENANT,
            "--client-id",
            id,
            "--redirect-uri",
            REDIRECT_URI,
            "--first-party",
            "--scope",
            "api.read",
        ];
        if let Some(alg) = alg {
            args.extend(["--id-token-alg", alg]);
        }
        let output = self.cli(&args, None)?;
        let marker = "client secret (shown only now, store it safely): ";
        let secret = output
            .lines()
            .find_map(|line| line.strip_prefix(marker))
            .ok_or_else(|| format!("no client secret in: {output}"))?;
        Ok(Client { id: id.to_string(), secret: secret.trim().to_string() })
    }

    /// Starts `tessera serve`, pinned to `core` when given, and waits until /readyz answers.
    pub async fn start(&mut self, core: Option<usize>) -> Fallible<u32> {
        let log = std::fs::File::create(self.dir.join("server.log")).map_err(|e| e.to_string())?;
        let mut command = match core {
            Some(core) => {
                let mut command = Command::new("taskset");
                command.args(["-c", &core.to_string()]).arg(&self.bin);
                command
            }
            None => Command::new(&self.bin),
        };
        command
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        let child = command.spawn().map_err(|e| format!("cannot start tessera: {e}"))?;
        let pid = child.id();
        self.server = Some(child);
        wait_ready(&format!("{}/readyz", self.base_url)).await?;
        Ok(pid)
    }

    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(mut child) = self.server.take() {
            // SAFETY: kill(2) on our own child's pid; SIGTERM lets tessera shut down gracefully.
            unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some((url, name)) = &self.postgres {
            let _ = psql(url, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A child process started under `taskset` (the trivial endpoint), killed on drop.
pub struct Pinned(pub Child);

impl Pinned {
    pub fn spawn(program: &Path, args: &[&str], core: Option<usize>) -> Fallible<Self> {
        let mut command = match core {
            Some(core) => {
                let mut command = Command::new("taskset");
                command.args(["-c", &core.to_string()]).arg(program);
                command
            }
            None => Command::new(program),
        };
        let child = command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
        Ok(Self(child))
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> Fallible<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

pub async fn wait_ready(url: &str) -> Fallible<()> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(response) = client.get(url).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("{url} did not answer within 60 s"))
}

fn psql(url: &str, sql: &str) -> Fallible<()> {
    let output = Command::new("psql")
        .args([&format!("{url}/postgres"), "-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .output()
        .map_err(|e| format!("cannot run psql (PostgreSQL client): {e}"))?;
    if !output.status.success() {
        return Err(format!("psql {sql:?} failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    Ok(())
}

/// Peak resident set size (VmHWM) in KiB since start or the last `reset_peak_rss`.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Writing 5 to clear_refs resets VmHWM to the current RSS (Linux ≥ 4.0).
pub fn reset_peak_rss(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}
