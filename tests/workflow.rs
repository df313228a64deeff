//! The whole workflow through the binary, as a vendor, a coordinator and a
//! watchdog would run it: init, register, open, embargo, notify, ack
//! (appended, and signed elsewhere then appended), fix, disclose, reveal,
//! annotate, audit, report, export, audit of the export, check — with the
//! reports' contents, exit codes and `--json` output checked. Plus bad input
//! that must leave the ledger unchanged, and the demo.

use std::path::Path;
use std::process::{Command, Output};

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_forewarn"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run forewarn")
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "forewarn {args:?} failed ({:?}):\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// The record number in "appended record N: …".
fn record_of(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("appended record "))
        .and_then(|l| l.split(':').next())
        .unwrap_or_else(|| panic!("no record in {stdout:?}"))
        .to_string()
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// What identifies the ledger's state: its size and checkpoint.
fn fingerprint(dir: &Path) -> String {
    let v = json(&ok(dir, &["check", "--json"]));
    format!("{} {}", v["records"], v["root"])
}

#[test]
fn a_disclosure_through_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let vkey = ok(d, &["init", "--origin", "ledger.acme.example"]);
    assert!(vkey.starts_with("ledger.acme.example+"), "{vkey}");
    for name in [
        "acme.example",
        "cert.example",
        "agency.example",
        "bank.example",
    ] {
        ok(d, &["keygen", "--name", name, "--out", "keys"]);
    }
    let at = |t: &str| format!("2026-0{t}Z");
    let reg = |key: &str, name: &str, class: &str| {
        record_of(&ok(
            d,
            &[
                "party",
                "register",
                "--key",
                key,
                "--name",
                name,
                "--class",
                class,
                "--at",
                &at("1-05T09:00:00"),
            ],
        ))
    };
    reg("keys/acme.example.key", "Acme", "vendor");
    reg("keys/cert.example.key", "CERT-X", "coordinator");
    reg("keys/agency.example.key", "Agency", "government");
    reg("keys/bank.example.key", "Bank", "deployer");

    let out = ok(
        d,
        &[
            "case",
            "open",
            "--key",
            "keys/acme.example.key",
            "--summary",
            "heap overflow",
            "--product",
            "acme-server",
            "--at",
            &at("1-10T10:00:00"),
        ],
    );
    let case = out
        .split("(case ")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(case.len(), 32);
    let case_record = record_of(&out);
    let embargo = record_of(&ok(
        d,
        &[
            "embargo",
            "propose",
            "--key",
            "keys/acme.example.key",
            "--case",
            &case,
            "--ends",
            "30d",
            "--at",
            &at("1-10T11:00:00"),
        ],
    ));
    ok(
        d,
        &[
            "embargo",
            "accept",
            "--key",
            "keys/cert.example.key",
            "--embargo",
            &embargo,
            "--at",
            &at("1-10T12:00:00"),
        ],
    );
    let n_cert = record_of(&ok(
        d,
        &[
            "notify",
            "--key",
            "keys/acme.example.key",
            "--case",
            &case,
            "--to",
            "CERT-X",
            "--level",
            "details",
            "--embargo",
            &embargo,
            "--at",
            &at("1-11T09:00:00"),
        ],
    ));
    ok(
        d,
        &[
            "ack",
            "--key",
            "keys/cert.example.key",
            "--notice",
            &n_cert,
            "--at",
            &at("1-11T10:00:00"),
        ],
    );
    // The agency is told early; it signs its acknowledgement elsewhere and
    // hands the file over.
    let n_agency = record_of(&ok(
        d,
        &[
            "notify",
            "--key",
            "keys/acme.example.key",
            "--case",
            &case,
            "--to",
            "Agency",
            "--level",
            "exploit",
            "--at",
            &at("1-12T09:00:00"),
        ],
    ));
    ok(
        d,
        &[
            "statement",
            "sign",
            "--out",
            "ack.statement",
            "ack",
            "--key",
            "keys/agency.example.key",
            "--notice",
            &n_agency,
            "--at",
            &at("1-12T11:00:00"),
        ],
    );
    let appended = json(&ok(d, &["append", "ack.statement", "--json"]));
    assert_eq!(appended[0]["event"], "Acknowledged");
    // An unregistered customer, sealed.
    ok(
        d,
        &[
            "notify",
            "--key",
            "keys/acme.example.key",
            "--case",
            &case,
            "--to-class",
            "deployer",
            "--to-name",
            "Hospital",
            "--level",
            "existence",
            "--at",
            &at("1-20T09:00:00"),
        ],
    );
    ok(
        d,
        &[
            "fix",
            "ready",
            "--key",
            "keys/acme.example.key",
            "--case",
            &case,
            "--at",
            &at("2-01T09:00:00"),
        ],
    );
    ok(
        d,
        &[
            "fix",
            "released",
            "--key",
            "keys/acme.example.key",
            "--case",
            &case,
            "--at",
            &at("2-05T09:00:00"),
        ],
    );
    std::fs::write(d.join("advisory.json"), b"{\"document\":{}}").unwrap();
    ok(
        d,
        &[
            "disclose",
            "--key",
            "keys/acme.example.key",
            "--case",
            &case,
            "--url",
            "https://acme.example/sa-1",
            "--advisory",
            "advisory.json",
            "--at",
            &at("2-09T12:00:00"),
        ],
    );
    let revealed = ok(
        d,
        &[
            "reveal",
            "--key",
            "keys/acme.example.key",
            "--record",
            &case_record,
            "--at",
            &at("2-09T13:00:00"),
        ],
    );
    assert_eq!(revealed.matches("Opening").count(), 2, "{revealed}");
    ok(
        d,
        &[
            "annotate",
            "--key",
            "keys/cert.example.key",
            "--record",
            &n_cert,
            "--text",
            "received via PGP",
            "--at",
            &at("2-10T10:00:00"),
        ],
    );

    // Every receipt verifies offline.
    let receipt = d
        .join("forewarn-data/receipts")
        .join(format!("{n_cert}.tlog-proof"));
    let v = json(&ok(
        d,
        &[
            "proof",
            "verify",
            "--vkey",
            "forewarn-data/log.vkey",
            "--json",
            receipt.to_str().unwrap(),
        ],
    ));
    assert_eq!(v["verified"], true);
    assert_eq!(v["event"], "Notified");

    // The report: who knew, and when.
    let r = json(&ok(
        d,
        &["report", "case", &case, "--json", "--as-of", "2026-03-01"],
    ));
    let rows = r[0]["who_knew"].as_array().unwrap();
    let row = |name: &str| {
        rows.iter()
            .find(|w| w["name"]["clear"] == name)
            .unwrap_or_else(|| panic!("{name} missing from {rows:?}"))
    };
    assert_eq!(row("Agency")["how"], "notified");
    assert_eq!(row("Agency")["level"], "exploit");
    assert_eq!(
        row("Agency")["lead_before_public_ms"],
        (28 * 24 + 3) * 3_600_000i64
    );
    assert!(row("Agency")["acknowledged_at"].is_number());
    assert_eq!(row("CERT-X")["how"], "acted"); // accepted the embargo before the notice
    assert_eq!(r[0]["summary"]["opened"], "heap overflow");
    assert!(
        rows.iter()
            .any(|w| w["class"] == "deployer" && w["name"]["sealed"].is_string())
    );
    let text = ok(d, &["report", "case", &case, "--as-of", "2026-03-01"]);
    assert!(
        text.contains("who knew, and when") && text.contains("Agency"),
        "{text}"
    );
    let party = json(&ok(d, &["report", "party", "Agency", "--json"]));
    assert_eq!(party["cases"].as_array().unwrap().len(), 1);

    // Audit: integrity ok; findings (the agency was told before the fix) → exit 1.
    let audit = run(
        d,
        &[
            "audit",
            "--policy",
            "cert-cc",
            "--json",
            "--as-of",
            "2026-03-01",
        ],
    );
    assert_eq!(
        code(&audit),
        1,
        "{}",
        String::from_utf8_lossy(&audit.stderr)
    );
    let a = json(&String::from_utf8(audit.stdout).unwrap());
    assert_eq!(a["integrity"], "ok");
    let kinds: Vec<&str> = a["report"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"privileged-before-fix"), "{kinds:?}");
    // A policy with no thresholds: clean, exit 0.
    std::fs::write(d.join("lenient.toml"), "name = \"lenient\"\nmax_log_delay_hours = 100000\nack_within_days = 1000\nopen_within_days = 1000\n").unwrap();
    let clean = run(
        d,
        &["audit", "--policy", "lenient.toml", "--as-of", "2026-03-01"],
    );
    assert_eq!(
        code(&clean),
        0,
        "{}",
        String::from_utf8_lossy(&clean.stdout)
    );
    // A bad policy file is bad input.
    std::fs::write(d.join("bad.toml"), "max_embargo_days = \"long\"\n").unwrap();
    assert_eq!(code(&run(d, &["audit", "--policy", "bad.toml"])), 2);

    // Export; the export audits to the same verdict; tampering is caught.
    ok(d, &["export", "--to", "public"]);
    let tiles = json(&ok(
        d,
        &[
            "audit",
            "--tiles",
            "public",
            "--vkey",
            "forewarn-data/log.vkey",
            "--policy",
            "lenient.toml",
            "--json",
            "--as-of",
            "2026-03-01",
        ],
    ));
    let dir = json(&ok(
        d,
        &[
            "audit",
            "--policy",
            "lenient.toml",
            "--json",
            "--as-of",
            "2026-03-01",
        ],
    ));
    assert_eq!(tiles["report"]["summary"], dir["report"]["summary"]);
    assert_eq!(tiles["report"]["cases"], dir["report"]["cases"]);
    let bundle = std::fs::read_dir(d.join("public/tile/entries/000.p"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&bundle).unwrap_or_else(|e| panic!("{}: {e}", bundle.display()));
    bytes[100] ^= 1;
    std::fs::write(&bundle, &bytes).unwrap();
    assert_eq!(
        code(&run(
            d,
            &[
                "audit",
                "--tiles",
                "public",
                "--vkey",
                "forewarn-data/log.vkey"
            ]
        )),
        3
    );
    // Without a pinned key, the export is not audited.
    assert_eq!(code(&run(d, &["audit", "--tiles", "public"])), 2);

    // Bad input is refused with a clear error and changes nothing.
    let before = fingerprint(d);
    let refused: Vec<(Vec<&str>, i32, &str)> = vec![
        (
            vec![
                "fix",
                "ready",
                "--key",
                "keys/acme.example.key",
                "--case",
                "00000000000000000000000000000000",
            ],
            1,
            "never opened",
        ),
        (
            vec![
                "notify",
                "--key",
                "keys/acme.example.key",
                "--case",
                &case,
                "--to",
                "Nobody",
            ],
            2,
            "no registered party",
        ),
        (
            vec![
                "embargo",
                "accept",
                "--key",
                "keys/bank.example.key",
                "--embargo",
                &n_cert,
            ],
            1,
            "EmbargoProposed",
        ),
        (
            vec!["ack", "--key", "keys/bank.example.key", "--notice", &n_cert],
            1,
            "recipient",
        ),
        (
            vec![
                "party",
                "register",
                "--key",
                "keys/acme.example.key",
                "--name",
                "Acme",
                "--class",
                "vendor",
            ],
            1,
            "already belongs",
        ),
        (
            vec![
                "fix",
                "ready",
                "--key",
                "keys/acme.example.key",
                "--case",
                &case,
                "--at",
                "2099-01-01",
            ],
            1,
            "after the log time",
        ),
        (
            vec![
                "fix",
                "ready",
                "--key",
                "keys/acme.example.key",
                "--case",
                "xyz",
            ],
            2,
            "not a case id",
        ),
        (
            vec![
                "party",
                "register",
                "--key",
                "keys/acme.example.key",
                "--name",
                "A",
                "--class",
                "wizard",
            ],
            2,
            "invalid value",
        ),
    ];
    for (args, want, says) in refused {
        let out = run(d, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(code(&out), want, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?} should say {says:?}: {err}");
        assert_eq!(fingerprint(d), before, "{args:?} changed the ledger");
    }
    // Replaying a signed statement is refused.
    let replay = run(d, &["append", "ack.statement"]);
    assert_eq!(code(&replay), 1);
    assert!(String::from_utf8_lossy(&replay.stderr).contains("replay"));
    assert_eq!(fingerprint(d), before);
}

#[test]
fn demo_builds_audits_and_explains() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let out = ok(d, &["demo"]);
    for needle in [
        "AUDIT: integrity ok",
        "who knew, and when",
        "Nordland Ministry of Interior",
        "too-many-extensions",
        "logged-late",
        "privileged-before-fix",
        "Next:",
    ] {
        assert!(out.contains(needle), "demo output lacks {needle:?}");
    }
    // Its ledger audits from the command line too, and re-running replaces it.
    let audit = run(
        d,
        &[
            "audit",
            "--dir",
            "forewarn-demo",
            "--policy",
            "cert-cc",
            "--json",
        ],
    );
    assert_eq!(code(&audit), 1);
    ok(d, &["demo"]);
    ok(d, &["check", "--dir", "forewarn-demo"]);
    // It never replaces a directory that is not a demo.
    std::fs::create_dir(d.join("precious")).unwrap();
    assert_eq!(code(&run(d, &["demo", "--dir", "precious"])), 2);
}
