//! The peer measured beside tessera (issue 17): panva's oidc-provider at a pinned version, installed
//! from the npm registry into a temporary folder and served by bench/peer/server.mjs, configured
//! like the tessera of the benchmark and pinned to the server's core.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Fallible;
use crate::server::{Client, REDIRECT_URI, free_port, wait_ready};

/// The version the issue measured; changing it changes every comparison.
pub const PACKAGE: &str = "oidc-provider@9.13.3";
const SERVER_SCRIPT: &str = include_str!("../peer/server.mjs");

/// oidc-provider installed in a folder of its own, removed on drop.
pub struct Installation {
    dir: PathBuf,
    pub node_version: String,
}

impl Installation {
    /// `npm install --prefix <tmp> oidc-provider@9.13.3`, and the server script beside it (ESM
    /// resolves `oidc-provider` from the script's folder).
    pub fn install() -> Fallible<Self> {
        let node_version = version("node")?;
        version("npm")?;
        let dir = std::env::temp_dir().join(format!("tessera-bench-peer-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let installation = Self { dir, node_version };
        let output = Command::new("npm")
            .args(["install", "--prefix"])
            .arg(&installation.dir)
            .args([PACKAGE, "--no-audit", "--no-fund", "--no-package-lock", "--loglevel", "error"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run npm: {e}"))?;
        if !output.status.success() {
            return Err(format!("npm install {PACKAGE} failed: {}", String::from_utf8_lossy(&output.stderr)));
        }
        std::fs::write(installation.script(), SERVER_SCRIPT).map_err(|e| e.to_string())?;
        Ok(installation)
    }

    fn script(&self) -> PathBuf {
        self.dir.join("server.mjs")
    }
}

impl Drop for Installation {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn version(program: &str) -> Fallible<String> {
    let output = Command::new(program)
        .arg("--version")
        .output()
        .map_err(|e| format!("--peer needs {program} (Node.js and npm): {e}"))?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// A running peer with fresh, empty in-memory state: its two clients and where it answers.
pub struct Peer {
    child: Child,
    log: PathBuf,
    pub pid: u32,
    pub issuer: String,
    /// client_credentials for scope api.read.
    pub service: Client,
    /// The confidential code-flow client (rotated refresh tokens, RS256 ID tokens).
    pub portal: Client,
}

impl Peer {
    /// `node server.mjs` with NODE_ENV=production, pinned to `core` when given.
    pub async fn start(installation: &Installation, core: Option<usize>, log_dir: &Path) -> Fallible<Self> {
        let port = free_port()?;
        let service = Client { id: "service".into(), secret: uuid::Uuid::new_v4().simple().to_string() };
        let portal = Client { id: "portal".into(), secret: uuid::Uuid::new_v4().simple().to_string() };
        let log = log_dir.join(format!("peer-{port}.log"));
        let log_file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let mut command = match core {
            Some(core) => {
                let mut command = Command::new("taskset");
                command.args(["-c", &core.to_string(), "node"]);
                command
            }
            None => Command::new("node"),
        };
        command
            .arg(installation.script())
            .env("NODE_ENV", "production")
            .env("PEER_PORT", port.to_string())
            .env("PEER_REDIRECT_URI", REDIRECT_URI)
            .env("PEER_SERVICE_SECRET", &service.secret)
            .env("PEER_PORTAL_SECRET", &portal.secret)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
            .stderr(log_file);
        let child = command.spawn().map_err(|e| format!("cannot start node: {e}"))?;
        let pid = child.id();
        let issuer = format!("http://127.0.0.1:{port}");
        let peer = Self { child, log, pid, issuer, service, portal };
        wait_ready(&format!("{}/.well-known/openid-configuration", peer.issuer)).await?;
        Ok(peer)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}
