//! End-to-end tests of the `forewarn` binary: keygen, note sign/verify,
//! proof verify, exit codes and --json output.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use forewarn_tlog::checkpoint::Checkpoint;
use forewarn_tlog::note::SignerKey;
use forewarn_tlog::proof::TlogProof;
use forewarn_tlog::record_hash;
use forewarn_tlog::tree::{InMemoryTree, prove_inclusion};

fn forewarn(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_forewarn"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run forewarn");
    let mut pipe = child.stdin.take().unwrap();
    if let Some(data) = stdin {
        // The binary may exit before reading its input (e.g. on a bad
        // --vkey): a broken pipe then is expected, not a failure.
        if let Err(e) = pipe.write_all(data) {
            assert_eq!(
                e.kind(),
                std::io::ErrorKind::BrokenPipe,
                "writing stdin: {e}"
            );
        }
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn keygen(dir: &Path, name: &str, witness: bool) -> String {
    let mut args = vec!["keygen", "--name", name, "--out", dir.to_str().unwrap()];
    if witness {
        args.push("--witness");
    }
    let out = forewarn(&args, None);
    assert!(out.status.success(), "keygen failed: {}", text(&out.stderr));
    text(&out.stdout).trim().to_string()
}

#[test]
fn keygen_writes_private_key_0600_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let vkey = keygen(dir.path(), "example.com/log", false);
    assert!(vkey.starts_with("example.com/log+"), "{vkey}");
    let key_path = dir.path().join("example.com_log.key");
    let key_text = fs::read_to_string(&key_path).unwrap();
    let signer = SignerKey::parse(key_text.trim()).unwrap();
    assert_eq!(signer.verifier().to_text(), vkey);
    assert_eq!(
        fs::read_to_string(dir.path().join("example.com_log.vkey"))
            .unwrap()
            .trim(),
        vkey
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&key_path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "private key mode {mode:o}");
    }
    let again = forewarn(
        &[
            "keygen",
            "--name",
            "example.com/log",
            "--out",
            dir.path().to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("refusing to overwrite"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(
        fs::read_to_string(&key_path).unwrap(),
        key_text,
        "old key must be untouched"
    );
    let bad = forewarn(&["keygen", "--name", "has space"], None);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("hint:"));
}

#[test]
fn note_sign_then_verify_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let vkey = keygen(dir.path(), "vendor.example/psirt", false);
    let key = dir.path().join("vendor.example_psirt.key");
    let signed = forewarn(
        &["note", "sign", "--key", key.to_str().unwrap()],
        Some(b"We told CERT-X about case 7.\n"),
    );
    assert!(signed.status.success(), "{}", text(&signed.stderr));
    let note_path = dir.path().join("n.note");
    fs::write(&note_path, &signed.stdout).unwrap();
    assert!(
        text(&signed.stdout)
            .starts_with("We told CERT-X about case 7.\n\n\u{2014} vendor.example/psirt ")
    );

    // Verified, by vkey text and by vkey file; text and JSON output.
    let ok = forewarn(
        &[
            "note",
            "verify",
            "--vkey",
            &vkey,
            note_path.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert!(text(&ok.stdout).contains("verified: vendor.example/psirt+"));
    let vkey_file = dir.path().join("vendor.example_psirt.vkey");
    let js = forewarn(
        &[
            "note",
            "verify",
            "--json",
            "--vkey",
            vkey_file.to_str().unwrap(),
        ],
        Some(&signed.stdout),
    );
    assert_eq!(js.status.code(), Some(0));
    let out = text(&js.stdout);
    assert!(
        out.starts_with("{\"verified\":true,\"verified_by\":[\"vendor.example/psirt+"),
        "{out}"
    );
    assert!(
        out.contains("\"text\":\"We told CERT-X about case 7.\\n\""),
        "{out}"
    );

    // Another key: not verified (1). Tampered text: not verified (1).
    let other = keygen(dir.path(), "other.example", false);
    let no = forewarn(&["note", "verify", "--vkey", &other], Some(&signed.stdout));
    assert_eq!(no.status.code(), Some(1));
    assert!(
        text(&no.stderr).contains("no trusted key signed"),
        "{}",
        text(&no.stderr)
    );
    let tampered = text(&signed.stdout).replace("case 7", "case 8");
    let bad = forewarn(
        &["note", "verify", "--json", "--vkey", &vkey],
        Some(tampered.as_bytes()),
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stdout).starts_with("{\"verified\":false,"));

    // Malformed input and bad keys are usage errors (2), with a hint.
    let junk = forewarn(
        &["note", "verify", "--vkey", &vkey],
        Some(b"no signatures here\n"),
    );
    assert_eq!(junk.status.code(), Some(2));
    assert!(text(&junk.stderr).contains("hint:"));
    let badkey = forewarn(
        &["note", "verify", "--vkey", "nonsense"],
        Some(&signed.stdout),
    );
    assert_eq!(badkey.status.code(), Some(2));
    let nokey = forewarn(&["note", "verify"], Some(&signed.stdout));
    assert_eq!(nokey.status.code(), Some(2), "clap usage errors exit 2");

    // Signing a signed note adds a signature; both verify.
    let both = forewarn(
        &[
            "note",
            "sign",
            "--key",
            dir.path().join("other.example.key").to_str().unwrap(),
        ],
        Some(&signed.stdout),
    );
    assert!(both.status.success());
    let v = forewarn(
        &["note", "verify", "--vkey", &vkey, "--vkey", &other],
        Some(&both.stdout),
    );
    assert_eq!(v.status.code(), Some(0));
    assert_eq!(text(&v.stdout).matches("verified:").count(), 2);
}

#[test]
fn note_verify_accepts_the_c2sp_spec_example() {
    let note = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
    let out = forewarn(
        &[
            "note",
            "verify",
            "--vkey",
            "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        ],
        Some(note.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "verified: example.com/foo+530d903a\n");
}

#[test]
fn witness_cosigns_a_checkpoint_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let log_vkey = keygen(dir.path(), "log.example", false);
    let w_vkey = keygen(dir.path(), "witness.example", true);
    let cp = Checkpoint::new("log.example", 3, record_hash(b"x"))
        .unwrap()
        .to_text();
    let signed = forewarn(
        &[
            "note",
            "sign",
            "--key",
            dir.path().join("log.example.key").to_str().unwrap(),
        ],
        Some(cp.as_bytes()),
    );
    let cosigned = forewarn(
        &[
            "note",
            "sign",
            "--key",
            dir.path().join("witness.example.key").to_str().unwrap(),
        ],
        Some(&signed.stdout),
    );
    assert!(cosigned.status.success(), "{}", text(&cosigned.stderr));
    let v = forewarn(
        &["note", "verify", "--vkey", &log_vkey, "--vkey", &w_vkey],
        Some(&cosigned.stdout),
    );
    assert_eq!(v.status.code(), Some(0), "{}", text(&v.stderr));
    assert_eq!(text(&v.stdout).matches("verified:").count(), 2);
    // A witness key refuses to cosign something that is not a checkpoint.
    let refuse = forewarn(
        &[
            "note",
            "sign",
            "--key",
            dir.path().join("witness.example.key").to_str().unwrap(),
        ],
        Some(b"hello\n"),
    );
    assert_eq!(refuse.status.code(), Some(2));
}

#[test]
fn proof_verify_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let log_vkey = keygen(dir.path(), "forewarn.example/ledger", false);
    let w_vkey = keygen(dir.path(), "witness.example/w1", true);
    let log = SignerKey::parse(
        fs::read_to_string(dir.path().join("forewarn.example_ledger.key"))
            .unwrap()
            .trim(),
    )
    .unwrap();
    let w = SignerKey::parse(
        fs::read_to_string(dir.path().join("witness.example_w1.key"))
            .unwrap()
            .trim(),
    )
    .unwrap();

    let entries: Vec<Vec<u8>> = (0..37)
        .map(|i| format!("notice {i}").into_bytes())
        .collect();
    let mut tree = InMemoryTree::new();
    for e in &entries {
        tree.append(record_hash(e));
    }
    let c = Checkpoint::new("forewarn.example/ledger", tree.size(), tree.root()).unwrap();
    let mut note = c.sign(&log);
    note.push_signature(w.cosign(&c.to_text(), 1_760_000_000));
    let proof = TlogProof {
        extra: None,
        index: 21,
        inclusion: prove_inclusion(37, 21, &tree).unwrap(),
        checkpoint: note.to_bytes(),
    };
    let proof_path = dir.path().join("notice21.tlog-proof");
    fs::write(&proof_path, proof.to_bytes()).unwrap();
    let leaf = dir.path().join("notice21.bin");
    fs::write(&leaf, &entries[21]).unwrap();
    let policy = dir.path().join("policy.txt");
    fs::write(
        &policy,
        format!("log {log_vkey}\nwitness W1 {w_vkey}\nquorum W1\n"),
    )
    .unwrap();

    let p = proof_path.to_str().unwrap();
    let l = leaf.to_str().unwrap();
    let ok = forewarn(
        &["proof", "verify", "--vkey", &log_vkey, "--leaf", l, p],
        None,
    );
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert!(
        text(&ok.stdout)
            .starts_with("verified: entry 21 is in forewarn.example/ledger at tree size 37")
    );
    let js = forewarn(
        &[
            "proof",
            "verify",
            "--json",
            "--vkey",
            &log_vkey,
            "--policy",
            policy.to_str().unwrap(),
            "--leaf",
            l,
            p,
        ],
        None,
    );
    assert_eq!(js.status.code(), Some(0), "{}", text(&js.stderr));
    let out = text(&js.stdout);
    assert!(
        out.contains(
            "\"verified\":true,\"index\":21,\"origin\":\"forewarn.example/ledger\",\"tree_size\":37"
        ),
        "{out}"
    );
    assert!(
        out.contains("{\"witness\":\"W1\",\"time\":1760000000}"),
        "{out}"
    );

    // Wrong leaf: 1, with a hint about --leaf.
    let other = dir.path().join("other.bin");
    fs::write(&other, b"notice 22").unwrap();
    let no = forewarn(
        &[
            "proof",
            "verify",
            "--vkey",
            &log_vkey,
            "--leaf",
            other.to_str().unwrap(),
            p,
        ],
        None,
    );
    assert_eq!(no.status.code(), Some(1));
    assert!(text(&no.stderr).contains("--leaf"), "{}", text(&no.stderr));
    // Quorum not met: 1, with the counts.
    fs::write(&policy, format!("log {log_vkey}\nwitness W1 {w_vkey}\nwitness W2 {}\ngroup both all W1 W2\nquorum both\n", keygen(dir.path(), "witness.example/w2", true))).unwrap();
    let q = forewarn(
        &[
            "proof",
            "verify",
            "--vkey",
            &log_vkey,
            "--policy",
            policy.to_str().unwrap(),
            "--leaf",
            l,
            p,
        ],
        None,
    );
    assert_eq!(q.status.code(), Some(1));
    assert!(
        text(&q.stderr).contains("1 cosignatures from policy witnesses seen, 1 verified, 0 failed"),
        "{}",
        text(&q.stderr)
    );
    // Not a proof: 2.
    let junk = forewarn(
        &["proof", "verify", "--vkey", &log_vkey, "--leaf", l, l],
        None,
    );
    assert_eq!(junk.status.code(), Some(2));
}
