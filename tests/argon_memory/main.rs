//! The hashing threads give their Argon2 memory back after an idle spell, every spell (issue 17's
//! memory target; the review found the process growing ~19 MiB per spell). A test binary of its
//! own: it reads its own process's resident memory, which other tests running beside it in one
//! process would move.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use secrecy::SecretString;
use tessera::authn::password::PasswordHasher;

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<f64>().unwrap() / 1024.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_argon2_memory_is_given_back_after_every_idle_spell() {
    let hasher = PasswordHasher::new().unwrap();
    let baseline = rss_mib();
    for spell in 1..=4 {
        // A burst of sign-ins: every hashing thread busy at once.
        let password = || SecretString::from("correct horse battery".to_string());
        let (a, b, c, d) = tokio::join!(
            hasher.hash(password()),
            hasher.hash(password()),
            hasher.hash(password()),
            hasher.hash(password())
        );
        for hash in [a, b, c, d] {
            hash.unwrap();
        }
        let busy = rss_mib();
        tokio::time::sleep(Duration::from_secs(4)).await;
        let idle = rss_mib();
        eprintln!("spell {spell}: baseline {baseline:.1} MiB, busy {busy:.1} MiB, idle {idle:.1} MiB");
        assert!(busy - baseline > 15.0, "a hash holds its 19 MiB while busy ({busy:.1} vs {baseline:.1})");
        assert!(
            idle - baseline < 6.0,
            "spell {spell}: the memory stayed ({idle:.1} MiB idle vs {baseline:.1})"
        );
    }
}
