//! Crash safety: a child process (`forewarn-bench load`) appends under concurrent load (4
//! submitters, group commit) and is killed with SIGKILL at random moments —
//! mostly mid-stream, sometimes while it is still opening the ledger. After
//! every kill the ledger must reopen, hold every statement whose receipt was
//! returned, check clean, and carry a checkpoint consistent with the one
//! before the crash. 20 kills by default; `FOREWARN_CRASH_KILLS=200` for the
//! long mode (docs/RELIABILITY.md).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use forewarn_ledger::AuditConfig;
use forewarn_ledger::statement::Record;
use forewarn_store::{Store, StoreConfig};
use forewarn_tlog::checkpoint::SignedCheckpoint;
use forewarn_tlog::hash::Hash;
use sha2::{Digest, Sha256};

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

#[test]
fn sigkill_loses_nothing_acknowledged_and_leaves_nothing_half_written() {
    let kills: usize = std::env::var("FOREWARN_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
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
    eprintln!("crash test: {kills} kills, FOREWARN_CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let tmp = tempfile::tempdir().unwrap();
    let ledger = tmp.path().join("ledger");
    let mut receipted: Vec<(u64, String)> = Vec::new();
    let mut last: Option<(u64, Hash)> = None;
    let mut mid_stream = 0;
    for k in 0..kills {
        let mut child = Command::new(env!("CARGO_BIN_EXE_forewarn-bench"))
            .args(["load", "--dir", ledger.to_str().unwrap(), "--threads", "4"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the writer");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut lines = Vec::new();
        // Every fifth run is killed while starting up (opening, replaying,
        // registering); the others once the load runs.
        if k % 5 == 4 && k > 0 {
            std::thread::sleep(Duration::from_millis(rng.next() % 80));
        } else {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                    Ok(l) if l == "ready" => break,
                    Ok(l) => lines.push(l),
                    Err(e) => panic!("run {k}: the writer never became ready: {e:?}"),
                }
            }
            std::thread::sleep(Duration::from_millis(20 + rng.next() % 280));
            mid_stream += 1;
        }
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        reader.join().unwrap();
        lines.extend(rx.try_iter());
        for l in lines.iter().filter(|l| *l != "ready") {
            let (i, h) = l
                .split_once(' ')
                .unwrap_or_else(|| panic!("bad line {l:?}"));
            receipted.push((i.parse().unwrap(), h.to_string()));
        }
        if !ledger.join("db").exists() {
            continue; // killed before the ledger was created
        }
        // Reopen: nothing acknowledged is lost, nothing half-written shows.
        let store = match Store::open(&ledger, StoreConfig::default()) {
            Ok(s) => s,
            Err(e) if !ledger.join("log.key").exists() || e.to_string().contains("holds no") => {
                continue;
            }
            Err(e) => {
                let kept = tmp.keep();
                panic!(
                    "run {k}: the ledger does not reopen after SIGKILL: {e} (kept for inspection in {})",
                    kept.display()
                )
            }
        };
        for (i, h) in &receipted {
            let record = store.record(*i).unwrap().unwrap_or_else(|| {
                panic!(
                    "run {k}: receipted record {i} is gone (size {})",
                    store.size()
                )
            });
            let statement = Record::from_bytes(&record).unwrap().statement;
            assert_eq!(
                &base16ct::lower::encode_string(&Sha256::digest(&statement)),
                h,
                "run {k}: record {i} is not the receipted statement"
            );
        }
        store
            .check()
            .unwrap_or_else(|e| panic!("run {k}: the reopened ledger does not check: {e}"));
        let cp = SignedCheckpoint::open(store.checkpoint(), store.vkey(), None, &[])
            .unwrap()
            .checkpoint;
        if let Some((m, old_root)) = last {
            assert!(
                cp.size() >= m,
                "run {k}: the log shrank from {m} to {}",
                cp.size()
            );
            let proof = store.consistency_proof(m).unwrap();
            forewarn_tlog::tree::verify_consistency(m, cp.size(), &old_root, cp.root(), &proof)
                .unwrap_or_else(|e| {
                    panic!(
                        "run {k}: checkpoint {} is not consistent with {m}: {e:?}",
                        cp.size()
                    )
                });
        }
        last = Some((cp.size(), *cp.root()));
    }
    assert!(mid_stream >= kills * 3 / 4);
    assert!(!receipted.is_empty(), "no receipt was ever returned");
    let (size, _) = last.expect("a ledger was built");
    eprintln!(
        "{kills} SIGKILLs ({mid_stream} mid-stream): {} receipts returned, all present; final size {size}",
        receipted.len()
    );
    // A full audit of what survived: integrity holds (findings are allowed).
    let store = Store::open(&ledger, StoreConfig::default()).expect("the ledger reopens");
    let audited = store
        .audit(AuditConfig::default(), &|_, _| {})
        .unwrap_or_else(|e| panic!("audit after the crashes: integrity failure: {e}"));
    assert_eq!(audited.size(), size);
}
