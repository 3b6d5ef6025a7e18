//! One scenario measured several times against one server: the run of median throughput stands
//! for the scenario (with its own p50 and p99, so they stay consistent), the peak RSS is the
//! highest of the runs, and every run's errors count.

use std::future::Future;

use crate::{Fallible, Measured, server};

pub struct Runs {
    pid: u32,
    results: Vec<Measured>,
}

impl Runs {
    pub fn new(pid: u32) -> Self {
        Self { pid, results: Vec::new() }
    }

    /// One run of load that blocks (wrk), with the server's peak RSS of that run.
    pub fn measure(&mut self, load: impl FnOnce() -> Fallible<Measured>) {
        server::reset_peak_rss(self.pid);
        let result = load();
        self.record(result);
    }

    /// One run of the driver's load.
    pub async fn measure_async(&mut self, load: impl Future<Output = Fallible<Measured>>) {
        server::reset_peak_rss(self.pid);
        let result = load.await;
        self.record(result);
    }

    /// A run that could not start (its set-up failed).
    pub fn fail(&mut self, error: String) {
        self.record(Err(error));
    }

    fn record(&mut self, result: Fallible<Measured>) {
        let mut measured = result.unwrap_or_else(failed);
        measured.peak_rss_kib = server::peak_rss_kib(self.pid);
        self.results.push(measured);
    }

    pub fn median(self) -> Measured {
        median(self.results)
    }
}

pub fn failed(error: String) -> Measured {
    Measured { errors: 1, first_error: Some(error), ..Default::default() }
}

fn median(mut results: Vec<Measured>) -> Measured {
    let errors = results.iter().map(|m| m.errors).sum();
    let first_error = results.iter().find_map(|m| m.first_error.clone());
    let peak_rss_kib = results.iter().filter_map(|m| m.peak_rss_kib).max();
    results.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
    let middle = results.len() / 2;
    let mut median = if results.is_empty() { Measured::default() } else { results.swap_remove(middle) };
    median.errors = errors;
    median.first_error = first_error;
    median.peak_rss_kib = peak_rss_kib;
    median
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(per_second: f64, p99_ms: f64, rss: u64, errors: u64) -> Measured {
        Measured { per_second, p99_ms, peak_rss_kib: Some(rss), errors, ..Default::default() }
    }

    #[test]
    fn the_median_run_keeps_its_latency_and_the_highest_peak_and_all_errors() {
        let m = median(vec![run(300.0, 3.0, 10, 0), run(100.0, 9.0, 30, 1), run(200.0, 5.0, 20, 0)]);
        assert_eq!(m.per_second, 200.0);
        assert_eq!(m.p99_ms, 5.0);
        assert_eq!(m.peak_rss_kib, Some(30));
        assert_eq!(m.errors, 1);
    }
}
