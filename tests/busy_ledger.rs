//! A ledger held by another process: a command says that it waits, waits
//! (up to 10 s), and then does its work; it neither fails at once nor
//! waits in silence.

use std::time::{Duration, Instant};

use forewarn_store::{Store, StoreConfig};

mod common;
use common::{ok, register_vendor, run};

#[test]
fn a_command_on_a_busy_ledger_says_it_waits_and_then_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(d, &["init", "--origin", "ledger.acme.example"]);
    ok(d, &["keygen", "--name", "acme.example", "--out", "keys"]);
    let register = register_vendor("keys/acme.example.key", "Acme");
    for args in [&register[..], &["report", "summary"][..]] {
        // Another holder (this test process) keeps the database for a while.
        let held = Store::open(&d.join("forewarn-data"), StoreConfig::default()).unwrap();
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(1500));
            held.close().unwrap();
        });
        let started = Instant::now();
        let out = run(d, args);
        release.join().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "forewarn {args:?}: {stderr}");
        assert!(
            stderr.contains("is in use by another forewarn process; waiting up to 10 s"),
            "forewarn {args:?} waited in silence: {stderr}"
        );
        assert!(
            started.elapsed() >= Duration::from_millis(1000),
            "forewarn {args:?} cannot have run while the ledger was held"
        );
    }
}

/// A command that writes ends by leaving sled's lock and memory to its
/// exit (`Store::close_at_exit`): the next command, started the moment it
/// exits, finds the ledger free at once, and the ledger it left checks
/// clean, after steps, a rebuild and the steps after it.
#[test]
fn a_writer_leaves_the_ledger_free_and_whole_at_its_exit() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(d, &["init", "--origin", "ledger.acme.example"]);
    let mut next = 0;
    let mut step = |d: &std::path::Path| {
        let name = format!("party{next}.example");
        ok(d, &["keygen", "--name", &name, "--out", "keys"]);
        let key = format!("keys/{name}.key");
        let shown = format!("Party {next}");
        next += 1;
        ok(d, &register_vendor(&key, &shown));
    };
    for round in 0..2 {
        for _ in 0..4 {
            step(d);
            // Started as the step exits: no wait for its lock.
            let out = run(d, &["report", "summary"]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "round {round}: {stderr}");
            assert!(!stderr.contains("is in use"), "round {round}: {stderr}");
        }
        let out = run(d, &["check"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "round {round}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        ok(d, &["rebuild"]);
    }
    let summary: serde_json::Value =
        serde_json::from_str(&ok(d, &["report", "summary", "--json"])).unwrap();
    assert_eq!(summary["summary"]["records"], 8, "{summary}");
    assert_eq!(summary["summary"]["parties"], 8, "{summary}");
}

/// A report whose reader has stopped reading (its output stalled in a
/// full pipe) does not keep the ledger from a writer: it lets the store go
/// before it prints (`Store::close_in_background`).
#[test]
fn a_stalled_report_does_not_hold_the_ledger() {
    use std::process::{Command, Stdio};
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    {
        // Enough parties that `report summary --json` is far larger than
        // a pipe's buffer (64 KiB on Linux).
        let config = StoreConfig {
            clock: std::sync::Arc::new(|| forewarn_ledger::testkit::START + 1_000_000),
            ..StoreConfig::default()
        };
        // The origin the test kit's statements are signed for.
        let mut store = Store::init(
            &d.join("forewarn-data"),
            forewarn_ledger::testkit::ORIGIN,
            &[7; 32],
            config,
        )
        .unwrap();
        let parties: Vec<_> = (0..3000)
            .map(|i| forewarn_ledger::testkit::registration(&format!("Party number {i}")))
            .collect();
        for chunk in parties.chunks(500) {
            assert!(store.append(chunk).unwrap().iter().all(Result::is_ok));
        }
        store.close().unwrap();
    }
    // Nobody reads its output.
    let mut stalled = Command::new(env!("CARGO_BIN_EXE_forewarn"))
        .args(["report", "summary", "--json"])
        .current_dir(d)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        stalled.try_wait().unwrap().is_none(),
        "the report finished: its output fits the pipe, so this test shows nothing"
    );
    ok(d, &["keygen", "--name", "acme.example", "--out", "keys"]);
    let started = Instant::now();
    let out = run(d, &register_vendor("keys/acme.example.key", "Acme"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        !stderr.contains("is in use"),
        "the stalled report held the ledger: {stderr}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // The report then finishes once it is read.
    let mut text = String::new();
    std::io::Read::read_to_string(stalled.stdout.as_mut().unwrap(), &mut text).unwrap();
    assert!(stalled.wait().unwrap().success());
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["summary"]["parties"], 3000);
}
