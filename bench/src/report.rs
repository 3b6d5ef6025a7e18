//! The Markdown report: the machine, the ceilings, every scenario with its ratio to its ceiling,
//! and each target of issue 8 met or missed.

use std::fmt::Write as _;
use std::time::Duration;

use crate::server::Backend;
use crate::{Cores, Measured};

pub struct Ceilings {
    pub argon2: f64,
    pub rs256: f64,
    pub es256: f64,
    pub eddsa: f64,
    pub trivial: Measured,
}

pub struct Scenario {
    pub name: &'static str,
    pub measured: Measured,
}

pub struct Configuration {
    pub backend: Backend,
    pub users: usize,
    pub import_seconds: f64,
    pub scenarios: Vec<Scenario>,
    pub error: Option<String>,
}

impl Configuration {
    pub fn failed(backend: Backend, users: usize, error: String) -> Self {
        Self { backend, users, import_seconds: 0.0, scenarios: Vec::new(), error: Some(error) }
    }
}

pub struct Report {
    pub smoke: bool,
    pub binary: String,
    pub cores: Cores,
    pub duration: Duration,
    pub connections: usize,
    pub login_users: usize,
    pub ceilings: Ceilings,
    pub configurations: Vec<Configuration>,
}

const RSS_TARGET_MIB: f64 = 32.0;
const P99_TARGET_MS: f64 = 10.0;

/// What a scenario is compared with, and the target for it.
struct Goal {
    ceiling_name: &'static str,
    ceiling: f64,
    min_ratio: Option<f64>,
    min_per_second: Option<f64>,
    p99_bound: bool,
}

impl Report {
    pub fn failed(&self) -> bool {
        self.ceilings.trivial.errors > 0
            || self
                .configurations
                .iter()
                .any(|c| c.error.is_some() || c.scenarios.iter().any(|s| s.measured.errors > 0))
    }

    fn goal(&self, scenario: &str) -> Goal {
        let c = &self.ceilings;
        let goal = |ceiling_name, ceiling, min_ratio, min_per_second, p99_bound| Goal {
            ceiling_name,
            ceiling,
            min_ratio,
            min_per_second,
            p99_bound,
        };
        match scenario {
            "discovery" | "jwks" => goal("trivial endpoint", c.trivial.per_second, Some(0.80), None, false),
            "login" => goal("Argon2id", c.argon2, Some(0.85), None, false),
            "refresh_rs256" => goal("RS256 signing", c.rs256, Some(0.70), None, true),
            "refresh_eddsa" => goal("EdDSA signing", c.eddsa, None, Some(5_000.0), true),
            "client_credentials" => goal("trivial endpoint", c.trivial.per_second, None, Some(5_000.0), true),
            _ => goal("trivial endpoint", c.trivial.per_second, None, None, false),
        }
    }

    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let c = &self.ceilings;
        let _ = writeln!(
            out,
            "# tessera benchmark report{}\n",
            if self.smoke { " (smoke mode: figures not meaningful)" } else { "" }
        );
        let _ = writeln!(out, "- taken: {}", command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]));
        let _ = writeln!(out, "- command: `{}`", std::env::args().collect::<Vec<_>>().join(" "));
        let _ = writeln!(out, "- tessera binary: `{}`", self.binary);
        let _ = writeln!(
            out,
            "- machine: {} ({} cores), {} RAM, Linux {}",
            cpu_model(),
            self.cores.total,
            mem_total(),
            kernel()
        );
        match self.cores.server {
            Some(core) => {
                let _ = writeln!(
                    out,
                    "- server pinned to core {core} (1 core: every figure is per core); load generator and ceilings on core {}",
                    self.cores.total - 1
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "- server and load generator share all {} cores (no pinning)",
                    self.cores.total
                );
            }
        }
        let _ = writeln!(
            out,
            "- {} s per scenario; wrk and the refresh driver with {} connections; {} virtual users signing in at once\n",
            self.duration.as_secs(),
            self.connections,
            self.login_users
        );
        let _ = writeln!(out, "## Ceilings (one core, same libraries and parameters as tessera)\n");
        let _ = writeln!(out, "| ceiling | per second |\n|---|---:|");
        let _ = writeln!(out, "| Argon2id m=19456 KiB, t=2, p=1 (hashes) | {:.1} |", c.argon2);
        let _ = writeln!(out, "| RS256 (RSA-2048, aws-lc-rs, parsed key) signatures | {:.0} |", c.rs256);
        let _ = writeln!(out, "| ES256 (P-256) signatures | {:.0} |", c.es256);
        let _ = writeln!(out, "| EdDSA (Ed25519) signatures | {:.0} |", c.eddsa);
        let _ = writeln!(
            out,
            "| trivial axum endpoint (wrk, p50 {:.2} ms, p99 {:.2} ms) | {:.0} |\n",
            c.trivial.p50_ms, c.trivial.p99_ms, c.trivial.per_second
        );
        let mut missed = Vec::new();
        for configuration in &self.configurations {
            let _ = writeln!(out, "## {}, {} users\n", configuration.backend.name(), configuration.users);
            if let Some(error) = &configuration.error {
                let _ = writeln!(out, "FAILED: {error}\n");
                missed.push(format!(
                    "{} {} users: did not run",
                    configuration.backend.name(),
                    configuration.users
                ));
                continue;
            }
            let _ = writeln!(
                out,
                "Seeded with `tessera user import` in {:.1} s.\n",
                configuration.import_seconds
            );
            let _ = writeln!(
                out,
                "| scenario | per second | p50 ms | p99 ms | peak RSS MiB | ratio to ceiling | target | result |\n|---|---:|---:|---:|---:|---|---|---|"
            );
            for scenario in &configuration.scenarios {
                let m = &scenario.measured;
                let goal = self.goal(scenario.name);
                let ratio = if goal.ceiling > 0.0 { m.per_second / goal.ceiling } else { 0.0 };
                let rss = m.peak_rss_kib.map(|k| k as f64 / 1024.0);
                let mut targets = Vec::new();
                let mut misses = Vec::new();
                if let Some(min) = goal.min_ratio {
                    targets.push(format!("≥ {:.0}% of ceiling", min * 100.0));
                    if ratio < min {
                        misses.push(format!("{:.0}% of ceiling, not {:.0}%", ratio * 100.0, min * 100.0));
                    }
                }
                if let Some(min) = goal.min_per_second {
                    targets.push(format!("≥ {min:.0}/s"));
                    if m.per_second < min {
                        misses.push(format!(
                            "{:.0}/s, {:.0}% short of {min:.0}/s",
                            m.per_second,
                            (1.0 - m.per_second / min) * 100.0
                        ));
                    }
                }
                if goal.p99_bound {
                    targets.push(format!("p99 < {P99_TARGET_MS:.0} ms"));
                    if m.p99_ms >= P99_TARGET_MS {
                        misses.push(format!("p99 {:.1} ms", m.p99_ms));
                    }
                }
                targets.push(format!("RSS < {RSS_TARGET_MIB:.0} MiB"));
                if let Some(rss) = rss
                    && rss >= RSS_TARGET_MIB
                {
                    misses.push(format!("peak RSS {rss:.1} MiB"));
                }
                let result = if m.errors > 0 {
                    format!(
                        "FAILED: {} errors ({})",
                        m.errors,
                        m.first_error.clone().unwrap_or_default().replace('|', "/").replace('\n', " ")
                    )
                } else if misses.is_empty() {
                    "met".to_string()
                } else {
                    format!("missed: {}", misses.join("; "))
                };
                if m.errors > 0 || !misses.is_empty() {
                    missed.push(format!(
                        "{} {} users, {}: {result}",
                        configuration.backend.name(),
                        configuration.users,
                        scenario.name
                    ));
                }
                let _ = writeln!(
                    out,
                    "| {} | {:.1} | {:.2} | {:.2} | {} | {:.1}% of {} | {} | {result} |",
                    scenario.name,
                    m.per_second,
                    m.p50_ms,
                    m.p99_ms,
                    rss.map(|r| format!("{r:.1}")).unwrap_or_else(|| "-".into()),
                    ratio * 100.0,
                    goal.ceiling_name,
                    targets.join(", "),
                );
            }
            out.push('\n');
        }
        self.scaling(&mut out, &mut missed);
        let _ = writeln!(out, "## Targets\n");
        if missed.is_empty() {
            let _ = writeln!(out, "Every target is met.");
        } else {
            let _ = writeln!(out, "Missed or failed:\n");
            for line in missed {
                let _ = writeln!(out, "- {line}");
            }
        }
        out
    }

    /// Throughput with the most users against the fewest, per backend (target: at most 10% less).
    fn scaling(&self, out: &mut String, missed: &mut Vec<String>) {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            let mut runs: Vec<&Configuration> =
                self.configurations.iter().filter(|c| c.backend == backend && c.error.is_none()).collect();
            runs.sort_by_key(|c| c.users);
            let (Some(small), Some(large)) = (runs.first(), runs.last()) else { continue };
            if small.users == large.users {
                continue;
            }
            let _ = writeln!(
                out,
                "## {}: {} users against {} users (target: at most 10% less throughput)\n",
                backend.name(),
                large.users,
                small.users
            );
            let _ = writeln!(
                out,
                "| scenario | {} users /s | {} users /s | ratio | result |\n|---|---:|---:|---:|---|",
                small.users, large.users
            );
            for scenario in &small.scenarios {
                let Some(other) = large.scenarios.iter().find(|s| s.name == scenario.name) else { continue };
                let ratio = if scenario.measured.per_second > 0.0 {
                    other.measured.per_second / scenario.measured.per_second
                } else {
                    0.0
                };
                let result = if ratio >= 0.90 {
                    "met".to_string()
                } else {
                    format!("missed: {:.0}% less", (1.0 - ratio) * 100.0)
                };
                if ratio < 0.90 {
                    missed.push(format!("{} scaling, {}: {result}", backend.name(), scenario.name));
                }
                let _ = writeln!(
                    out,
                    "| {} | {:.1} | {:.1} | {:.2} | {result} |",
                    scenario.name, scenario.measured.per_second, other.measured.per_second, ratio
                );
            }
            out.push('\n');
        }
    }
}

fn command_output(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|line| {
                line.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn mem_total() -> String {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map(|kib| format!("{:.0} GiB", kib / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown".into())
}

fn kernel() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string()).unwrap_or_default()
}
