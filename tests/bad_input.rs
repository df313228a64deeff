//! Bad input to the binary: every file is read with a size cap (an
//! oversized file is exit 2 and nothing is written), and no error quotes a
//! file's content (a key file passed where a policy goes does not print
//! the key) or a private key given where a path, vkey or policy goes.
//! Directories, devices, dangling links and non-UTF-8 names as inputs are
//! input errors (exit 2), never a panic or a hang; keygen does not write
//! through a planted link; a damaged database is an integrity failure
//! (exit 3, with a hint) for every command that reads the ledger.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::{ok, run};

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

/// The private key text of `keys/acme.example.key`, without its line feed.
fn key_text(dir: &Path) -> String {
    fs::read_to_string(dir.join("keys/acme.example.key"))
        .unwrap()
        .trim_end()
        .to_string()
}

/// Standard output and standard error together.
fn everything(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(out))
}

#[test]
fn a_private_key_given_as_an_argument_is_never_echoed() {
    // The key's text pasted where a path, a vkey or a policy goes:
    // `--key "$(cat acme.key)"`, with or without stray spaces.
    let tmp = ledger();
    let d = tmp.path();
    let key = key_text(d);
    let secret = key_secret(d);
    fs::write(d.join("n.txt"), "hello\n").unwrap();
    let before = fingerprint(d);
    let spaced = format!("  {key}");
    let zero_case = "00000000000000000000000000000000";
    let cases: Vec<Vec<&str>> = vec![
        vec!["audit", "--policy", key.as_str()],
        vec!["report", "summary", "--policy", key.as_str()],
        vec!["note", "verify", "--vkey", spaced.as_str(), "n.txt"],
        vec!["note", "sign", "--key", key.as_str(), "n.txt"],
        vec!["fix", "ready", "--key", key.as_str(), "--case", zero_case],
        vec![
            "party",
            "register",
            "--key",
            key.as_str(),
            "--name",
            "X",
            "--class",
            "other",
        ],
        vec![
            "party",
            "add-key",
            "--key",
            "keys/acme.example.key",
            "--new-key",
            key.as_str(),
        ],
    ];
    for args in cases {
        let out = run(d, &args);
        let all = everything(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {all}");
        assert!(
            !all.contains(&secret),
            "{:?} echoed the key: {all}",
            args[0]
        );
        assert!(all.contains("a private key"), "says what it was: {all}");
    }
    assert_eq!(fingerprint(d), before);
}

#[test]
fn a_policy_field_named_with_expected_is_not_quoted() {
    // The message is cut at "expected"; one inside the input's own quoted
    // text must not end the part that is hidden.
    let tmp = ledger();
    let d = tmp.path();
    fs::write(d.join("p.toml"), "my_expected_hunter2 = 1\n").unwrap();
    let out = run(d, &["audit", "--policy", "p.toml"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(!err.contains("hunter2"), "{err}");
    assert!(
        err.contains("p.toml is not a valid policy: line 1"),
        "{err}"
    );
    assert!(err.contains("expected"), "the schema is still named: {err}");
}

#[cfg(unix)]
#[test]
fn directories_devices_and_dangling_links_are_input_errors() {
    let tmp = ledger();
    let d = tmp.path();
    fs::create_dir(d.join("adir")).unwrap();
    std::os::unix::fs::symlink("nowhere", d.join("dangling")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", d.join("zeros")).unwrap();
    fs::write(d.join("n.txt"), "hello\n").unwrap();
    let before = fingerprint(d);
    let vkey = "keys/acme.example.vkey";
    let log_vkey = "forewarn-data/log.vkey";
    for input in ["adir", "dangling", "zeros", "/dev/null"] {
        let cases: Vec<Vec<&str>> = vec![
            vec!["append", input],
            vec![
                "party", "register", "--key", input, "--name", "X", "--class", "other",
            ],
            vec![
                "party",
                "add-key",
                "--key",
                "keys/acme.example.key",
                "--new-key",
                input,
            ],
            vec!["audit", "--policy", input],
            vec!["note", "verify", "--vkey", input, "n.txt"],
            vec!["note", "verify", "--vkey", vkey, input],
            vec!["note", "sign", "--key", input, "n.txt"],
            vec!["proof", "verify", "--vkey", log_vkey, input],
            vec![
                "proof",
                "verify",
                "--vkey",
                log_vkey,
                "--policy",
                input,
                "forewarn-data/receipts/0.tlog-proof",
            ],
            vec![
                "proof",
                "verify",
                "--vkey",
                log_vkey,
                "--leaf",
                input,
                "forewarn-data/receipts/0.tlog-proof",
            ],
        ];
        for args in cases {
            let out = run(d, &args);
            let err = stderr(&out);
            // /dev/null is an empty file: an empty TOML policy is the
            // default policy (so the audit runs, clean), and a leaf of no
            // bytes a valid, if wrong, entry (a failed verification).
            let want = match input {
                "/dev/null" if args[0] == "audit" => 0,
                "/dev/null" if args.contains(&"--leaf") => 1,
                _ => 2,
            };
            assert_eq!(out.status.code(), Some(want), "{args:?}: {err}");
            if want != 0 {
                assert!(err.starts_with("forewarn: "), "{args:?}: {err}");
            }
            assert!(!err.contains("panicked"), "{args:?}: {err}");
        }
    }
    assert_eq!(fingerprint(d), before);
    // A link to a key file is read like the file.
    std::os::unix::fs::symlink("keys/acme.example.key", d.join("linked.key")).unwrap();
    ok(d, &["note", "sign", "--key", "linked.key", "n.txt"]);
}

#[cfg(unix)]
#[test]
fn keygen_does_not_write_through_a_planted_link() {
    // Someone who can write the --out directory plants NAME.key as a link
    // to a file of theirs to read (or one of the victim's to clobber).
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    fs::create_dir(d.join("out")).unwrap();
    std::os::unix::fs::symlink("../stolen", d.join("out/x.example.key")).unwrap();
    let out = run(d, &["keygen", "--name", "x.example", "--out", "out"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        !d.join("stolen").exists(),
        "the key was written through the link"
    );
    assert!(!d.join("out/x.example.vkey").exists());
    // And a link to an existing file is not overwritten either.
    fs::write(d.join("victim"), "precious\n").unwrap();
    std::os::unix::fs::symlink("../victim", d.join("out/y.example.vkey")).unwrap();
    let out = run(d, &["keygen", "--name", "y.example", "--out", "out"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(fs::read_to_string(d.join("victim")).unwrap(), "precious\n");
}

#[cfg(unix)]
#[test]
fn non_utf8_paths_are_read_and_named() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let tmp = ledger();
    let d = tmp.path();
    let run_os = |args: &[&OsStr]| {
        Command::new(env!("CARGO_BIN_EXE_forewarn"))
            .args(args)
            .current_dir(d)
            .output()
            .unwrap()
    };
    let os = |s: &'static str| OsStr::new(s);
    // A statement signed to a file whose name is not UTF-8, then appended.
    let name = OsStr::from_bytes(b"reg\xff.statement");
    ok(d, &["keygen", "--name", "b.example", "--out", "keys"]);
    let out = run_os(&[
        os("statement"),
        os("sign"),
        os("--out"),
        name,
        os("party"),
        os("register"),
        os("--key"),
        os("keys/b.example.key"),
        os("--name"),
        os("B"),
        os("--class"),
        os("other"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run_os(&[os("append"), name]);
    assert!(out.status.success(), "{}", stderr(&out));
    // A bad file under such a name is named, lossily.
    let bad = OsStr::from_bytes(b"bad\xfe.statement");
    fs::write(d.join(bad), "not a statement\n").unwrap();
    let out = run_os(&[os("append"), bad]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("bad\u{fffd}.statement is not a signed statement file"),
        "{}",
        stderr(&out)
    );
    // Where a vkey or policy may be text, a non-UTF-8 argument is a usage
    // error.
    let weird = OsStr::from_bytes(b"log\xff.vkey");
    for args in [
        vec![os("note"), os("verify"), os("--vkey"), weird, os("x")],
        vec![os("audit"), os("--policy"), weird],
    ] {
        let out = run_os(&args);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    }
}

#[test]
fn a_damaged_salt_file_is_reported_without_its_salts() {
    let tmp = ledger();
    let d = tmp.path();
    ok(
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
        ],
    );
    let path = d.join("forewarn-data/salts");
    let text = fs::read_to_string(&path).unwrap();
    let salts: Vec<String> = text
        .lines()
        .map(|l| l.split(' ').nth(2).unwrap().to_string())
        .collect();
    assert!(!salts.is_empty() && salts.iter().all(|s| s.len() == 64));
    for damaged in [
        text.to_uppercase(),
        text.replace(' ', "  "),
        text.trim_end().to_string(),
        text.replacen('\n', "\r\n", 1),
    ] {
        fs::write(&path, &damaged).unwrap();
        let out = run(
            d,
            &["reveal", "--key", "keys/acme.example.key", "--record", "1"],
        );
        let all = everything(&out);
        assert_eq!(out.status.code(), Some(2), "{all}");
        assert!(all.contains("salts is damaged: line "), "{all}");
        for s in &salts {
            assert!(
                !all.contains(s.as_str()) && !all.contains(&s.to_uppercase()),
                "{all}"
            );
        }
    }
}

/// Runs `forewarn ARGS` and checks that it reports an integrity failure:
/// exit 3, and the hint to check and restore.
fn integrity_failure(dir: &Path, what: &str, args: &[&str]) {
    let out = run(dir, args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{what}, {args:?}: {err}");
    assert!(err.starts_with("forewarn: "), "{what}, {args:?}: {err}");
    assert!(err.contains("\nhint: "), "{what}, {args:?}: no hint: {err}");
    assert!(!err.contains("panicked"), "{what}, {args:?}: {err}");
}

/// The sled files of the ledger in `dir`, by name prefix.
fn sled_file(dir: &Path, prefix: &str) -> std::path::PathBuf {
    fs::read_dir(dir.join("forewarn-data/db"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .unwrap_or_else(|| panic!("sled wrote no {prefix} file"))
}

#[test]
fn every_command_reports_a_damaged_database_as_an_integrity_failure() {
    let pristine = ledger();
    let p = pristine.path();
    ok(
        p,
        &[
            "statement",
            "sign",
            "--out",
            "reg.statement",
            "party",
            "register",
            "--key",
            "keys/acme.example.key",
            "--name",
            "Again",
            "--class",
            "other",
        ],
    );
    fs::write(p.join("n.txt"), "hello\n").unwrap();
    type Damage = fn(&Path);
    let damages: [(&str, Damage); 3] = [
        ("db emptied", |d| {
            fs::OpenOptions::new()
                .write(true)
                .open(sled_file(d, "db"))
                .unwrap()
                .set_len(0)
                .unwrap()
        }),
        ("db garbled", |d| {
            let f = sled_file(d, "db");
            let mut bytes = fs::read(&f).unwrap();
            for i in (0..bytes.len()).step_by(97) {
                bytes[i] ^= 0x5a;
            }
            fs::write(&f, bytes).unwrap();
        }),
        ("conf garbled", |d| {
            let f = sled_file(d, "conf");
            let mut bytes = fs::read(&f).unwrap();
            for i in (0..bytes.len()).step_by(3) {
                bytes[i] ^= 0x5a;
            }
            fs::write(&f, bytes).unwrap();
        }),
    ];
    for (what, damage) in damages {
        let work = tempfile::tempdir().unwrap();
        copy_dir(p, work.path());
        let d = work.path();
        damage(d);
        for args in [
            &["check"][..],
            &["audit"][..],
            &["audit", "--dir", "forewarn-data"][..],
            &["report", "summary"][..],
            &["report", "case", "--all"][..],
            &["export", "--to", "public"][..],
            &["append", "reg.statement"][..],
            &[
                "case",
                "open",
                "--key",
                "keys/acme.example.key",
                "--summary",
                "s",
                "--product",
                "p",
            ][..],
        ] {
            integrity_failure(d, what, args);
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            fs::create_dir_all(&target).unwrap();
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Runs `forewarn ARGS`, killing it if it has not finished within a
/// minute (a read that never ends must fail the test, not hang it).
fn run_within_a_minute(dir: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_forewarn"))
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run forewarn");
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("forewarn {args:?} did not finish within a minute");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[cfg(unix)]
#[test]
fn an_export_with_endless_or_oversized_files_is_refused_at_a_cap() {
    // A downloaded export is untrusted: its checkpoint, a bundle or a tile
    // replaced by a link to /dev/zero (or by a huge file) must be refused
    // at the most a file of that kind holds, as an integrity failure.
    let tmp = ledger();
    let d = tmp.path();
    ok(d, &["export", "--to", "public"]);
    let audit = [
        "audit",
        "--tiles",
        "public",
        "--vkey",
        "forewarn-data/log.vkey",
    ];
    ok(d, &audit);
    let bundle = "public/tile/entries/000.p/1";
    let tile = "public/tile/0/000.p/1";
    assert!(d.join(bundle).exists() && d.join(tile).exists());
    for file in ["public/checkpoint", bundle, tile] {
        let saved = fs::read(d.join(file)).unwrap();
        fs::remove_file(d.join(file)).unwrap();
        std::os::unix::fs::symlink("/dev/zero", d.join(file)).unwrap();
        let out = run_within_a_minute(d, &audit);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(3), "{file}: {err}");
        assert!(
            err.contains("bytes, the most a file of its kind holds"),
            "{file}: {err}"
        );
        fs::remove_file(d.join(file)).unwrap();
        fs::write(d.join(file), saved).unwrap();
    }
    ok(d, &audit);
}

#[cfg(unix)]
#[test]
fn a_fifo_is_read_with_the_same_cap() {
    // A named pipe (or a process substitution, `<(…)`) whose writer never
    // stops: read up to the cap, then refused.
    let tmp = ledger();
    let d = tmp.path();
    let before = fingerprint(d);
    let status = Command::new("mkfifo")
        .arg(d.join("pipe"))
        .status()
        .expect("mkfifo");
    assert!(status.success());
    let path = d.join("pipe");
    let writer = std::thread::spawn(move || {
        use std::io::Write as _;
        let mut f = fs::OpenOptions::new().write(true).open(path).unwrap();
        let chunk = [b'A'; 4096];
        // Until the reader closes its end (a broken pipe).
        let mut written = 0usize;
        while f.write_all(&chunk).is_ok() {
            written += chunk.len();
        }
        written
    });
    let out = run_within_a_minute(d, &["append", "pipe"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("pipe is larger than 87496 bytes"),
        "{}",
        stderr(&out)
    );
    let written = writer.join().unwrap();
    // The reader took the cap plus one byte before closing (the chunk in
    // flight when the pipe broke is not counted).
    assert!(
        written + 4096 > 87_496,
        "the writer was stopped after {written} bytes"
    );
    assert_eq!(fingerprint(d), before);
}

#[test]
fn a_damaged_or_replaced_log_key_is_an_integrity_failure() {
    // log.key is part of the ledger directory: a garbled, non-text or
    // swapped key file is damage (exit 3, with what to do), not a usage
    // error; the records themselves still audit clean, and no message
    // shows the key file's content.
    let pristine = ledger();
    let p = pristine.path();
    ok(p, &["keygen", "--name", "other.example", "--out", "keys"]);
    let genuine = fs::read_to_string(p.join("forewarn-data/log.key")).unwrap();
    let secret = genuine.trim().rsplit('+').next().unwrap().to_string();
    let other = fs::read_to_string(p.join("keys/other.example.key")).unwrap();
    let mut garbled = genuine.clone().into_bytes();
    let at = garbled.len() - 5;
    garbled[at] ^= 0x01;
    let mut not_text = genuine.clone().into_bytes();
    not_text[3] = 0xff;
    for (what, bytes) in [
        ("garbled", garbled),
        ("not text", not_text),
        ("another key", other.into_bytes()),
        ("empty", Vec::new()),
    ] {
        let work = tempfile::tempdir().unwrap();
        copy_dir(p, work.path());
        let d = work.path();
        fs::write(d.join("forewarn-data/log.key"), &bytes).unwrap();
        for args in [
            &["check"][..],
            &["export", "--to", "public"][..],
            &[
                "case",
                "open",
                "--key",
                "keys/acme.example.key",
                "--summary",
                "s",
                "--product",
                "p",
            ][..],
        ] {
            integrity_failure(d, what, args);
            let out = run(d, args);
            let all = everything(&out);
            assert!(
                all.contains("hint: restore log.key from a backup"),
                "{what}: {all}"
            );
            assert!(!all.contains(&secret), "{what}: {all}");
        }
        ok(d, &["audit"]);
    }
}

#[test]
fn a_ledger_signed_by_another_key_than_the_pinned_one_is_an_integrity_failure() {
    let tmp = ledger();
    let d = tmp.path();
    let out = run(
        d,
        &[
            "audit",
            "--dir",
            "forewarn-data",
            "--vkey",
            "keys/acme.example.vkey",
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("not the pinned key"), "{err}");
    assert!(err.contains("\nhint: "), "no hint: {err}");
    ok(
        d,
        &[
            "audit",
            "--dir",
            "forewarn-data",
            "--vkey",
            "forewarn-data/log.vkey",
        ],
    );
}

#[test]
fn a_closed_standard_output_ends_a_command_quietly_without_claiming_success() {
    // `forewarn demo | head -1`: the reader goes away; the command must not
    // panic (exit 101 with a backtrace hint) and must not exit 0, since what
    // it would have said was not seen.
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_forewarn"))
        .args(["demo", "--dir", "demo"])
        .current_dir(tmp.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run forewarn");
    drop(child.stdout.take()); // the reader is gone before the first line
    let out = child.wait_with_output().expect("forewarn ends");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// `audit --scratch`: a directory the audit cannot use fails with exit 2,
/// says it is the scratch directory (not the ledger) and how to fix it,
/// and changes nothing; a usable one gets the same report as the default
/// and is left empty again.
#[test]
fn the_audit_scratch_directory() {
    let tmp = ledger();
    let d = tmp.path();
    let before = fingerprint(d);
    let file = d.join("not-a-directory");
    fs::write(&file, b"x").unwrap();
    for bad in ["no/such/directory", "not-a-directory"] {
        for json in [false, true] {
            let mut args = vec!["audit", "--scratch", bad];
            if json {
                args.push("--json");
            }
            let out = run(d, &args);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
            let err = stderr(&out);
            assert!(err.contains("scratch"), "{err}");
            assert!(err.contains("hint:") && err.contains("--scratch"), "{err}");
            assert!(
                out.stdout.is_empty(),
                "no report: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
    }
    assert_eq!(fingerprint(d), before);
    let room = tempfile::tempdir().unwrap();
    let room_arg = room.path().to_str().unwrap();
    for extra in [&[][..], &["--json"][..]] {
        let mut plain = vec!["audit", "--as-of", "2030-01-01T00:00:00Z"];
        plain.extend_from_slice(extra);
        let mut scratch = plain.clone();
        scratch.extend_from_slice(&["--scratch", room_arg]);
        let (a, b) = (run(d, &plain), run(d, &scratch));
        assert_eq!(a.status.code(), b.status.code(), "{}", stderr(&b));
        assert!(matches!(b.status.code(), Some(0 | 1)), "{}", stderr(&b));
        assert_eq!(a.stdout, b.stdout);
        assert_eq!(fs::read_dir(room.path()).unwrap().count(), 0, "left behind");
    }
}
