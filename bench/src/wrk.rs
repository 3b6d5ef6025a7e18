//! Fixed-request load with wrk (one thread, N connections, keep-alive) and its output parsed.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::{Fallible, Measured};

/// A request wrk repeats: method, path and query, headers, body.
pub struct Request<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub headers: Vec<(&'a str, String)>,
    pub body: Option<String>,
}

impl<'a> Request<'a> {
    pub fn get(url: &'a str) -> Self {
        Self { method: "GET", url, headers: Vec::new(), body: None }
    }
}

pub fn ensure_installed() -> Fallible<()> {
    if Command::new("wrk").arg("--version").output().is_ok() {
        return Ok(());
    }
    // SAFETY: getuid has no preconditions.
    let root = unsafe { libc::getuid() } == 0;
    if root && Command::new("apt-get").arg("--version").output().is_ok() {
        eprintln!("wrk is missing: installing Debian's wrk");
        let status = Command::new("sh")
            .args(["-c", "apt-get install -y -qq wrk >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null)"])
            .status()
            .map_err(|e| e.to_string())?;
        if status.success() {
            return Ok(());
        }
    }
    Err("wrk is not installed: apt-get install wrk (Debian) and run again".into())
}

pub fn run(request: &Request<'_>, connections: usize, duration: Duration, dir: &Path) -> Fallible<Measured> {
    let script = dir.join(format!("wrk-{}.lua", uuid::Uuid::new_v4()));
    let mut lua = format!("wrk.method = {}\n", lua_string(request.method));
    if let Some(body) = &request.body {
        lua.push_str(&format!("wrk.body = {}\n", lua_string(body)));
    }
    for (name, value) in &request.headers {
        lua.push_str(&format!("wrk.headers[{}] = {}\n", lua_string(name), lua_string(value)));
    }
    std::fs::write(&script, lua).map_err(|e| format!("cannot write {}: {e}", script.display()))?;
    let seconds = duration.as_secs().max(1);
    let output = Command::new("wrk")
        .args([
            "-t1",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--timeout",
            "5s",
            "--latency",
            "-s",
        ])
        .arg(&script)
        .arg(request.url)
        .output()
        .map_err(|e| format!("cannot run wrk: {e}"))?;
    let _ = std::fs::remove_file(&script);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(format!("wrk failed: {text}{}", String::from_utf8_lossy(&output.stderr)));
    }
    parse(&text).ok_or_else(|| format!("cannot read wrk's output:\n{text}"))
}

fn lua_string(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Reads requests, duration, Requests/sec, the 50% and 99% latencies, and every error count.
fn parse(text: &str) -> Option<Measured> {
    let mut measured = Measured::default();
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", value] => measured.p50_ms = duration_ms(value)?,
            ["99%", value] => measured.p99_ms = duration_ms(value)?,
            [count, "requests", "in", elapsed, ..] => {
                measured.requests = count.parse().ok()?;
                measured.seconds = duration_ms(elapsed.trim_end_matches(','))? / 1000.0;
            }
            ["Requests/sec:", value] => measured.per_second = value.parse().ok()?,
            ["Non-2xx", "or", "3xx", "responses:", count] => measured.errors += count.parse::<u64>().ok()?,
            ["Socket", "errors:", rest @ ..] => {
                measured.errors +=
                    rest.iter().filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok()).sum::<u64>();
            }
            _ => {}
        }
    }
    (measured.requests > 0).then_some(measured)
}

/// wrk prints `812.00us`, `1.23ms`, `2.00s`, `1.50m`.
fn duration_ms(value: &str) -> Option<f64> {
    let split = value.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        "m" => number * 60_000.0,
        "h" => number * 3_600_000.0,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_output() {
        let text = "Running 2s test @ http://127.0.0.1:1/\n  1 threads and 8 connections\n  Latency Distribution\n     50%  411.00us\n     75%  600.00us\n     90%    1.00ms\n     99%    2.50ms\n  24000 requests in 2.00s, 3.00MB read\n  Socket errors: connect 0, read 1, write 0, timeout 2\n  Non-2xx or 3xx responses: 4\nRequests/sec:  12000.50\n";
        let m = parse(text).unwrap();
        assert_eq!(m.requests, 24000);
        assert!((m.p50_ms - 0.411).abs() < 1e-9 && (m.p99_ms - 2.5).abs() < 1e-9);
        assert_eq!(m.errors, 7);
        assert!((m.per_second - 12000.5).abs() < 1e-9 && (m.seconds - 2.0).abs() < 1e-9);
    }
}
