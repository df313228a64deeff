//! Refusals through the binary, as an attacker or a careless user meets
//! them: a revoked key backdating a notice, a step that is refused (which
//! must write nothing, not even its salts), a batch with one bad file
//! (appended whole or not at all), a key added without proof of
//! possession, and a statement signed for another ledger. Each refusal
//! exits 1, says why and what to do, and leaves the ledger as it was.

use std::path::Path;
use std::process::Output;

use forewarn_ledger::statement::{Statement, prove_possession};
use forewarn_ledger::{Cite, Event, PublicKey, statement_file};
use forewarn_tlog::note::SignerKey;
use serde_json::Value;

mod common;
use common::{ok, run};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs a command that the ledger must refuse (exit 1); returns its
/// standard error.
fn refused(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "forewarn {args:?} was not refused:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    stderr(&out)
}

/// The ledger's size and root.
fn fingerprint(dir: &Path, ledger: &str) -> (Value, Value) {
    let v: Value = serde_json::from_str(&ok(dir, &["check", "--json", "--dir", ledger])).unwrap();
    (v["records"].clone(), v["root"].clone())
}

/// `t` ms since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (days to civil date
/// after H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
fn utc(t: u64) -> String {
    let (days, secs) = ((t / 1000 / 86_400) as i64, t / 1000 % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// A ledger in `dir/forewarn-data` with Acme (vendor) and CERT-X
/// (coordinator) registered, and keys for both plus a spare in `keys/`.
fn ledger(dir: &Path) {
    ok(dir, &["init", "--origin", "ledger.acme.example"]);
    for name in [
        "acme.example",
        "cert.example",
        "acme-2026.example",
        "spare.example",
    ] {
        ok(dir, &["keygen", "--name", name, "--out", "keys"]);
    }
    for (key, name, class) in [
        ("keys/acme.example.key", "Acme", "vendor"),
        ("keys/cert.example.key", "CERT-X", "coordinator"),
    ] {
        ok(
            dir,
            &[
                "party", "register", "--key", key, "--name", name, "--class", class,
            ],
        );
    }
}

/// Opens a case as Acme; returns its id.
fn open_case(dir: &Path) -> String {
    let out = ok(
        dir,
        &[
            "case",
            "open",
            "--key",
            "keys/acme.example.key",
            "--summary",
            "heap overflow",
            "--product",
            "acme-server",
        ],
    );
    out.split("(case ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .unwrap_or_else(|| panic!("no case id in {out}"))
        .to_string()
}

#[test]
fn a_revoked_key_cannot_backdate_a_notice() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ledger(d);
    let case = open_case(d);
    // Acme adds a second key (proving possession) and revokes the first.
    ok(
        d,
        &[
            "party",
            "add-key",
            "--key",
            "keys/acme.example.key",
            "--new-key",
            "keys/acme-2026.example.key",
        ],
    );
    ok(
        d,
        &[
            "party",
            "revoke-key",
            "--key",
            "keys/acme-2026.example.key",
            "--revoke",
            "keys/acme.example.vkey",
        ],
    );
    let before = fingerprint(d, "forewarn-data");
    // The thief, holding the old key, dates a notice ten minutes back,
    // before the revocation: refused by log position.
    let ten_minutes_ago = utc(now_ms() - 10 * 60_000);
    let err = refused(
        d,
        &[
            "notify",
            "--key",
            "keys/acme.example.key",
            "--case",
            &case,
            "--to",
            "CERT-X",
            "--at",
            &ten_minutes_ago,
        ],
    );
    assert!(err.contains("was revoked by record 4"), "{err}");
    assert!(err.contains("sign with a current key"), "{err}");
    assert_eq!(fingerprint(d, "forewarn-data"), before);
    // The audit has no such record: 5 records, the last the revocation.
    let audit: Value = serde_json::from_str(&ok(d, &["audit", "--json"])).unwrap();
    assert_eq!(audit["integrity"], "ok");
    assert_eq!(audit["report"]["summary"]["records"], 5, "{audit}");
    // The new key signs the same notice.
    ok(
        d,
        &[
            "notify",
            "--key",
            "keys/acme-2026.example.key",
            "--case",
            &case,
            "--to",
            "CERT-X",
        ],
    );
}

#[test]
fn a_refused_step_leaves_the_salt_file_byte_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ledger(d);
    let case = open_case(d);
    let salts = d.join("forewarn-data/salts");
    let before = std::fs::read(&salts).expect("the case's salts were saved");
    let ledger_before = fingerprint(d, "forewarn-data");
    // Sealed steps the ledger refuses: by an unregistered key, and a
    // notice by a party that is not a member of the case.
    let err = refused(
        d,
        &[
            "case",
            "open",
            "--key",
            "keys/spare.example.key",
            "--summary",
            "a secret",
            "--product",
            "p",
        ],
    );
    assert!(err.contains("belongs to no registered party"), "{err}");
    let err = refused(
        d,
        &[
            "notify",
            "--key",
            "keys/cert.example.key",
            "--case",
            &case,
            "--to-class",
            "deployer",
            "--to-name",
            "Big Bank",
        ],
    );
    assert!(
        err.contains("Notified may be signed only by a member of the case"),
        "{err}"
    );
    assert!(err.contains("forewarn notify --to NAME"), "{err}");
    assert_eq!(std::fs::read(&salts).unwrap(), before);
    assert_eq!(fingerprint(d, "forewarn-data"), ledger_before);
    // An accepted step does add its salts.
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
            "Big Bank",
        ],
    );
    assert!(std::fs::read(&salts).unwrap().len() > before.len());
}

#[test]
fn append_is_all_or_nothing_and_names_the_refused_file() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ledger(d);
    let case = open_case(d);
    // A good statement, and one the coordinator may not sign (only a
    // vendor of the case marks a fix ready).
    for (out, key) in [
        ("good.statement", "keys/acme.example.key"),
        ("bad.statement", "keys/cert.example.key"),
    ] {
        ok(
            d,
            &[
                "statement",
                "sign",
                "--out",
                out,
                "fix",
                "ready",
                "--key",
                key,
                "--case",
                &case,
            ],
        );
    }
    let before = fingerprint(d, "forewarn-data");
    // A record number the ledger does not hold cannot be cited: refused
    // before anything is signed.
    let out = run(
        d,
        &["ack", "--key", "keys/cert.example.key", "--notice", "99"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--notice 99: the ledger has no record 99 (it holds 3 records)"),
        "{}",
        stderr(&out)
    );
    let err = refused(d, &["append", "good.statement", "bad.statement"]);
    assert!(
        err.contains(
            "the ledger refused bad.statement: FixReady may be signed only by a vendor that is a member of the case"
        ),
        "{err}"
    );
    assert!(err.contains("nothing was appended"), "{err}");
    assert_eq!(fingerprint(d, "forewarn-data"), before);
    // The same as JSON: one row naming the file.
    let out = run(d, &["append", "good.statement", "bad.statement", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{rows}");
    assert_eq!(rows[0]["file"], "bad.statement");
    assert!(
        rows[0]["rejected"]
            .as_str()
            .unwrap()
            .contains("FixReady may be signed only by")
    );
    assert_eq!(fingerprint(d, "forewarn-data"), before);
    // Without the bad file, the good one is appended.
    let rows: Value =
        serde_json::from_str(&ok(d, &["append", "good.statement", "--json"])).unwrap();
    assert_eq!(rows[0]["record"], 3);
    assert_eq!(rows[0]["file"], "good.statement");
}

#[test]
fn a_key_is_added_only_with_proof_of_possession() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ledger(d);
    let before = fingerprint(d, "forewarn-data");
    // A public key alone proves nothing: the new key's secret is needed.
    let out = run(
        d,
        &[
            "party",
            "add-key",
            "--key",
            "keys/acme.example.key",
            "--new-key",
            "keys/spare.example.vkey",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a signer key"),
        "{}",
        stderr(&out)
    );
    // Another party's key cannot be claimed.
    let err = refused(
        d,
        &[
            "party",
            "add-key",
            "--key",
            "keys/acme.example.key",
            "--new-key",
            "keys/cert.example.key",
        ],
    );
    assert!(err.contains("already belongs to party 1"), "{err}");
    // A KeyAdded whose proof is signed by another key than the one added
    // (made here with the library, signed with Acme's current key).
    let acme = signer(d, "keys/acme.example.key");
    let spare = signer(d, "keys/spare.example.key");
    let victim = signer(d, "keys/acme-2026.example.key");
    // Acme's registration, cited by its leaf hash (from its receipt).
    let receipt = std::fs::read(d.join("forewarn-data/receipts/0.tlog-proof")).unwrap();
    let record = forewarn_tlog::proof::TlogProof::parse(&receipt)
        .unwrap()
        .extra
        .expect("the receipt carries the record");
    let leaf = forewarn_ledger::statement::leaf_hash(&record);
    let party = Cite::new(0, leaf);
    let statement = Statement::new(
        "ledger.acme.example",
        Event::KeyAdded {
            party,
            key: PublicKey(victim.verifying_key().to_bytes()),
            possession: prove_possession("ledger.acme.example", &party, &spare),
        },
        now_ms(),
        PublicKey(acme.verifying_key().to_bytes()),
    );
    let signed = statement.sign(&acme).unwrap();
    std::fs::write(d.join("claim.statement"), statement_file::encode(&signed)).unwrap();
    let err = refused(d, &["append", "claim.statement"]);
    assert!(err.contains("proof of possession does not verify"), "{err}");
    assert!(err.contains("--new-key"), "{err}");
    assert_eq!(fingerprint(d, "forewarn-data"), before);
}

#[test]
fn a_statement_signed_for_another_ledger_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ledger(d);
    ok(
        d,
        &["init", "--origin", "ledger.other.example", "--dir", "other"],
    );
    // Signed against ledger.acme.example, handed to the other ledger.
    ok(
        d,
        &[
            "statement",
            "sign",
            "--out",
            "reg.statement",
            "party",
            "register",
            "--key",
            "keys/spare.example.key",
            "--name",
            "Spare",
            "--class",
            "other",
        ],
    );
    let before = fingerprint(d, "other");
    let err = refused(d, &["append", "--dir", "other", "reg.statement"]);
    assert!(
        err.contains(
            "statement is for the log \"ledger.acme.example\", not this log \"ledger.other.example\""
        ),
        "{err}"
    );
    assert!(
        err.contains("sign the step again against this one"),
        "{err}"
    );
    assert_eq!(fingerprint(d, "other"), before);
    // In its own ledger it is appended.
    ok(d, &["append", "reg.statement"]);
}

/// The Ed25519 key in a `.key` file.
fn signer(dir: &Path, path: &str) -> ed25519_dalek::SigningKey {
    let text = std::fs::read_to_string(dir.join(path)).unwrap();
    SignerKey::parse(text.trim_end()).unwrap().ed25519().clone()
}
