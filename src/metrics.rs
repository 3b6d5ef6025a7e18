//! Prometheus counters kept in the app state (no global recorder, so several app instances in one
//! process, as in the tests, count apart). Rendered in the text exposition format at `/metrics`.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// A counter with one label value per variant.
struct Counter<const N: usize> {
    name: &'static str,
    help: &'static str,
    label: &'static str,
    values: [&'static str; N],
    counts: [AtomicU64; N],
}

impl<const N: usize> Counter<N> {
    fn new(name: &'static str, help: &'static str, label: &'static str, values: [&'static str; N]) -> Self {
        Self { name, help, label, values, counts: std::array::from_fn(|_| AtomicU64::new(0)) }
    }

    fn add(&self, value: &str) {
        if let Some(i) = self.values.iter().position(|v| *v == value) {
            self.counts[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    fn render(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        let _ = writeln!(out, "# TYPE {} counter", self.name);
        for (value, count) in self.values.iter().zip(&self.counts) {
            let _ = writeln!(
                out,
                "{}{{{}=\"{}\"}} {}",
                self.name,
                self.label,
                value,
                count.load(Ordering::Relaxed)
            );
        }
    }
}

pub struct Metrics {
    logins: Counter<3>,
    second_factor_failures: Counter<1>,
    sms: Counter<2>,
    tokens: Counter<3>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            logins: Counter::new(
                "tessera_logins_total",
                "Finished sign-ins and failed passwords.",
                "result",
                ["succeeded", "password_failed", "throttled"],
            ),
            second_factor_failures: Counter::new(
                "tessera_second_factor_failures_total",
                "Wrong second-factor codes.",
                "kind",
                ["code"],
            ),
            sms: Counter::new("tessera_sms_total", "Text messages by outcome.", "result", ["sent", "failed"]),
            tokens: Counter::new(
                "tessera_token_grants_total",
                "Successful token endpoint grants.",
                "grant",
                ["authorization_code", "refresh_token", "client_credentials"],
            ),
        }
    }
}

impl Metrics {
    pub fn login(&self, result: &str) {
        self.logins.add(result);
    }

    pub fn second_factor_failure(&self) {
        self.second_factor_failures.add("code");
    }

    pub fn sms(&self, delivered: bool) {
        self.sms.add(if delivered { "sent" } else { "failed" });
    }

    pub fn token_grant(&self, grant: &str) {
        self.tokens.add(grant);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        self.logins.render(&mut out);
        self.second_factor_failures.render(&mut out);
        self.sms.render(&mut out);
        self.tokens.render(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_renders_the_exposition_format() {
        let metrics = Metrics::default();
        metrics.sms(false);
        metrics.sms(false);
        metrics.token_grant("refresh_token");
        metrics.token_grant("unknown grant is ignored");
        let text = metrics.render();
        assert!(text.contains("tessera_sms_total{result=\"failed\"} 2\n"), "{text}");
        assert!(text.contains("tessera_sms_total{result=\"sent\"} 0\n"));
        assert!(text.contains("tessera_token_grants_total{grant=\"refresh_token\"} 1\n"));
        assert!(text.contains("# TYPE tessera_logins_total counter\n"));
    }
}
