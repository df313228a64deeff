//! `forewarn compact` killed with SIGKILL at random moments: after every
//! kill the ledger opens, checks clean at the same size and root, and
//! nothing the compaction was building is left beside it.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{ok, run};

/// xorshift64*, seeded per run and printed, so a failing schedule can be replayed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// `forewarn check --json`: the records and root it vouches for.
fn checked(dir: &Path) -> serde_json::Value {
    let out = ok(dir, &["check", "--dir", "demo", "--json"]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["consistent"], true, "{out}");
    serde_json::json!({"records": v["records"], "root": v["root"]})
}

/// Names beside the database that a compaction made.
fn leftovers(ledger: &Path) -> Vec<String> {
    std::fs::read_dir(ledger)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("db.compacting"))
        .collect()
}

#[test]
fn a_compaction_killed_at_any_moment_leaves_the_ledger_whole() {
    let seed = std::env::var("FOREWARN_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("compaction crash test: FOREWARN_CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(d, &["demo", "--dir", "demo"]);
    let ledger = d.join("demo");
    let expected = checked(d);

    // How long a whole compaction takes here, to spread the kills over it.
    let start = Instant::now();
    ok(d, &["compact", "--dir", "demo", "--json"]);
    let whole = start.elapsed();
    assert_eq!(checked(d), expected);

    let mut cut_short = 0;
    for _ in 0..12 {
        let wait = Duration::from_micros(rng.next() % (whole.as_micros() as u64 + 1));
        let mut child = Command::new(env!("CARGO_BIN_EXE_forewarn"))
            .args(["compact", "--dir", "demo"])
            .current_dir(d)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(wait);
        if child.try_wait().unwrap().is_none() {
            cut_short += 1;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        // The next open removes what was left, and finds the ledger whole.
        assert_eq!(checked(d), expected, "after a kill {wait:?} in");
        assert_eq!(leftovers(&ledger), Vec::<String>::new());
    }
    assert!(
        cut_short > 0,
        "no kill landed before the compaction ended (seed {seed})"
    );

    // Reports still read it.
    let out = run(d, &["report", "summary", "--dir", "demo", "--json"]);
    assert!(out.status.success());
}
