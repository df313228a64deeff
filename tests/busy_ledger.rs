//! A ledger held by another process: a command says that it waits, waits
//! (up to 10 s), and then does its work; it neither fails at once nor
//! waits in silence.

use std::time::{Duration, Instant};

use forewarn_store::{Store, StoreConfig};

mod common;
use common::{ok, run};

#[test]
fn a_command_on_a_busy_ledger_says_it_waits_and_then_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(d, &["init", "--origin", "ledger.acme.example"]);
    ok(d, &["keygen", "--name", "acme.example", "--out", "keys"]);
    let register = [
        "party",
        "register",
        "--key",
        "keys/acme.example.key",
        "--name",
        "Acme",
        "--class",
        "vendor",
    ];
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
