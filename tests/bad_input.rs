//! Bad input to the binary: every file is read with a size cap (an
//! oversized file is exit 2 and nothing is written), and no error quotes a
//! file's content (a key file passed where a policy goes does not print
//! the key).

use std::fs;
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
        "forewarn {args:?} failed ({:?}):\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A ledger with one registered party; returns the directory.
fn ledger() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(d, &["init", "--origin", "ledger.acme.example"]);
    ok(d, &["keygen", "--name", "acme.example", "--out", "keys"]);
    ok(
        d,
        &[
            "party",
            "register",
            "--key",
            "keys/acme.example.key",
            "--name",
            "Acme",
            "--class",
            "vendor",
        ],
    );
    tmp
}

/// The ledger's size and root.
fn fingerprint(dir: &Path) -> String {
    ok(dir, &["check", "--json"])
}

/// The base64 key material of a `.key` file (the secret part).
fn key_secret(dir: &Path) -> String {
    let text = fs::read_to_string(dir.join("keys/acme.example.key")).unwrap();
    let secret = text.trim().splitn(5, '+').nth(4).unwrap().to_string();
    assert!(secret.len() > 40, "{text}");
    secret
}

#[test]
fn an_oversized_statement_file_is_refused_before_anything_is_written() {
    let tmp = ledger();
    let d = tmp.path();
    let before = fingerprint(d);
    // A valid header followed by far more than a statement can hold.
    let mut big = b"forewarn-statement@v1\n".to_vec();
    big.resize(1024 * 1024, b'A');
    fs::write(d.join("big.statement"), &big).unwrap();
    let out = run(d, &["append", "big.statement"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "big.statement is larger than 87496 bytes, the limit for a signed statement file"
        ),
        "the error names the file and the limit: {err}"
    );
    assert_eq!(fingerprint(d), before, "nothing was appended");
    assert!(!d.join("forewarn-data/receipts/1.tlog-proof").exists());
}

#[cfg(unix)]
#[test]
fn an_endless_statement_file_is_refused_at_the_limit() {
    // `forewarn append /dev/zero` read until memory ran out.
    let tmp = ledger();
    let d = tmp.path();
    let before = fingerprint(d);
    let out = run(d, &["append", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("/dev/zero is larger than 87496 bytes"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fingerprint(d), before);
}

#[test]
fn a_key_file_passed_as_a_policy_is_not_printed() {
    let tmp = ledger();
    let d = tmp.path();
    let secret = key_secret(d);
    for args in [
        &["audit", "--policy", "keys/acme.example.key"][..],
        &["report", "summary", "--policy", "keys/acme.example.key"][..],
        &[
            "proof",
            "verify",
            "--vkey",
            "forewarn-data/log.vkey",
            "--policy",
            "keys/acme.example.key",
            "forewarn-data/receipts/0.tlog-proof",
        ][..],
    ] {
        let out = run(d, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        assert!(
            !all.contains(&secret) && !all.contains("PRIVATE+KEY"),
            "{args:?} printed the key: {all}"
        );
        assert!(
            all.contains("keys/acme.example.key"),
            "names the file: {all}"
        );
    }
    // The TOML policy error says where and what was expected.
    let out = run(d, &["audit", "--policy", "keys/acme.example.key"]);
    let err = stderr(&out);
    assert!(err.contains("line 1, column "), "{err}");
    assert!(err.contains("expected"), "{err}");
}

#[test]
fn values_from_a_bad_policy_file_are_not_quoted() {
    let tmp = ledger();
    let d = tmp.path();
    fs::write(d.join("typo.toml"), "nmae = \"hunter2-secret\"\n").unwrap();
    fs::write(
        d.join("type.toml"),
        "max_embargo_days = \"hunter2-secret\"\n",
    )
    .unwrap();
    for file in ["typo.toml", "type.toml"] {
        let out = run(d, &["audit", "--policy", file]);
        assert_eq!(out.status.code(), Some(2));
        let err = stderr(&out);
        assert!(!err.contains("hunter2"), "{err}");
        assert!(
            err.contains(&format!("{file} is not a valid policy: line 1")),
            "{err}"
        );
    }
    // What the schema expects is still said.
    let err = stderr(&run(d, &["audit", "--policy", "typo.toml"]));
    assert!(err.contains("`max_embargo_days`"), "{err}");
}

#[test]
fn a_private_key_passed_as_a_vkey_is_not_echoed() {
    let tmp = ledger();
    let d = tmp.path();
    let key = fs::read_to_string(d.join("keys/acme.example.key")).unwrap();
    let secret = key_secret(d);
    fs::write(d.join("n.txt"), "hello\n").unwrap();
    let out = run(d, &["note", "verify", "--vkey", key.trim(), "n.txt"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!stderr(&out).contains(&secret), "{}", stderr(&out));
    let out = run(
        d,
        &["note", "verify", "--vkey", "keys/acme.example.key", "n.txt"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(!stderr(&out).contains(&secret), "{}", stderr(&out));
}

#[test]
fn oversized_key_and_note_files_are_refused() {
    let tmp = ledger();
    let d = tmp.path();
    let before = fingerprint(d);
    fs::write(d.join("huge.key"), vec![b'A'; 64 * 1024]).unwrap();
    let out = run(
        d,
        &[
            "party", "register", "--key", "huge.key", "--name", "X", "--class", "other",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("huge.key is larger than 4 KiB"),
        "{}",
        stderr(&out)
    );
    fs::write(d.join("huge.note"), vec![b'a'; 5 * 1024 * 1024]).unwrap();
    let out = run(
        d,
        &[
            "note",
            "verify",
            "--vkey",
            "keys/acme.example.vkey",
            "huge.note",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("huge.note is larger than 4 MiB"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fingerprint(d), before);
}
