//! End-to-end tests of the `forewarn` binary: keygen, note sign/verify,
//! proof verify, exit codes and --json output.
//!
//! Output is the contract: standard output and standard error are compared
//! in full with the snapshot next to each command (snapbox), redacting only
//! what is random: the temporary directory (`[TMP]`), keys and key ids read
//! from the files `keygen` writes (`[VKEY]`, `[KEY_ID]` …) and signatures
//! (`[SIG]`). `--json` output is parsed with serde_json and compared as a
//! value. After a deliberate change of output:
//! `SNAPSHOTS=overwrite cargo test -p forewarn --test cli`, then review the
//! diff.

use std::fs;
use std::path::Path;

use forewarn_tlog::checkpoint::Checkpoint;
use forewarn_tlog::note::SignerKey;
use forewarn_tlog::proof::TlogProof;
use forewarn_tlog::record_hash;
use forewarn_tlog::tree::{InMemoryTree, prove_inclusion};
use serde_json::{Value, json};
use snapbox::cmd::{Command, OutputAssert, cargo_bin};
use snapbox::{Assert, Redactions, str};

/// Commands run in one temporary directory, and what varies in their output.
struct Bench {
    tmp: tempfile::TempDir,
    redactions: Redactions,
}

impl Bench {
    fn new() -> Bench {
        let tmp = tempfile::tempdir().unwrap();
        let mut redactions = Redactions::new();
        redactions
            .insert("[TMP]", tmp.path().to_path_buf())
            .unwrap();
        // A note signature line: "— NAME BASE64".
        redactions
            .insert(
                "[SIG]",
                regex::Regex::new(r"(?m)^\u{2014} \S+ (?<redacted>[A-Za-z0-9+/]+=*)$").unwrap(),
            )
            .unwrap();
        Bench { tmp, redactions }
    }

    fn dir(&self) -> &Path {
        self.tmp.path()
    }

    fn path(&self, name: &str) -> String {
        self.dir().join(name).to_str().unwrap().to_string()
    }

    fn learn(&mut self, placeholder: &'static str, value: &str) {
        assert!(!value.is_empty(), "{placeholder} would redact nothing");
        self.redactions
            .insert(placeholder, value.to_string())
            .unwrap();
    }

    fn assert(&self) -> Assert {
        Assert::new()
            .action_env(snapbox::assert::DEFAULT_ACTION_ENV)
            .redact_with(self.redactions.clone())
    }

    fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> OutputAssert {
        let mut cmd = Command::new(cargo_bin!("forewarn"))
            .args(args)
            .current_dir(self.dir());
        if let Some(data) = stdin {
            cmd = cmd.stdin(data.to_vec());
        }
        cmd.with_assert(self.assert()).assert()
    }

    /// Makes a key in the directory; its vkey and key id become
    /// `vkey_placeholder` and `id_placeholder`. Returns the vkey.
    fn keygen(
        &mut self,
        name: &str,
        witness: bool,
        vkey_placeholder: &'static str,
        id_placeholder: &'static str,
    ) -> String {
        let out_dir = self.dir().to_str().unwrap().to_string();
        let mut args = vec!["keygen", "--name", name, "--out", &out_dir];
        if witness {
            args.push("--witness");
        }
        let out = self.run(&args, None).success();
        let stem = name.replace('/', "_");
        let vkey = fs::read_to_string(self.dir().join(format!("{stem}.vkey")))
            .unwrap()
            .trim_end()
            .to_string();
        assert!(vkey.starts_with(&format!("{name}+")), "{vkey}");
        let id = vkey.split('+').nth(1).unwrap().to_string();
        self.learn(vkey_placeholder, &vkey);
        self.learn(id_placeholder, &format!("{name}+{id}"));
        out.with_assert(self.assert())
            .stdout_eq(format!("{vkey_placeholder}\n"))
            .stderr_eq(format!(
                "wrote [TMP]/{stem}.key (private, mode 0600)\nwrote [TMP]/{stem}.vkey\n"
            ));
        vkey
    }
}

fn json_of(out: &OutputAssert) -> Value {
    let stdout = &out.get_output().stdout;
    serde_json::from_slice(stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(stdout)))
}

#[test]
fn keygen_writes_private_key_0600_and_refuses_to_overwrite() {
    let mut b = Bench::new();
    let vkey = b.keygen("example.com/log", false, "[VKEY]", "[KEY_ID]");
    let key_path = b.dir().join("example.com_log.key");
    let key_text = fs::read_to_string(&key_path).unwrap();
    let signer = SignerKey::parse(key_text.trim()).unwrap();
    assert_eq!(signer.verifier().to_text(), vkey);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&key_path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "private key mode {mode:o}");
    }
    let out_dir = b.dir().to_str().unwrap().to_string();
    b.run(
        &["keygen", "--name", "example.com/log", "--out", &out_dir],
        None,
    )
    .code(2)
    .stdout_eq(str![])
    .stderr_eq(str![[r#"
forewarn: [TMP]/example.com_log.key already exists; refusing to overwrite a key
hint: move the old key away first, or pass another --out directory

"#]]);
    assert_eq!(
        fs::read_to_string(&key_path).unwrap(),
        key_text,
        "old key must be untouched"
    );
    b.run(&["keygen", "--name", "has space"], None)
        .code(2)
        .stdout_eq(str![])
        .stderr_eq(str![[r#"
forewarn: "has space" is not a valid key name
hint: use a schema-less URL such as example.com/log, without spaces or '+'

"#]]);
}

#[test]
fn note_sign_then_verify_and_exit_codes() {
    let mut b = Bench::new();
    let vkey = b.keygen("vendor.example/psirt", false, "[VKEY]", "[KEY_ID]");
    let key = b.path("vendor.example_psirt.key");
    let signed = b
        .run(
            &["note", "sign", "--key", &key],
            Some(b"We told CERT-X about case 7.\n"),
        )
        .success()
        .stdout_eq(str![[r#"
We told CERT-X about case 7.

— vendor.example/psirt [SIG]

"#]])
        .stderr_eq(str![]);
    let signed = signed.get_output().stdout.clone();
    fs::write(b.dir().join("n.note"), &signed).unwrap();

    // Verified, by vkey text and by vkey file; text and JSON output.
    b.run(&["note", "verify", "--vkey", &vkey, "n.note"], None)
        .success()
        .stdout_eq(str![[r#"
verified: [KEY_ID]

"#]])
        .stderr_eq(str![]);
    let js = b
        .run(
            &[
                "note",
                "verify",
                "--json",
                "--vkey",
                "vendor.example_psirt.vkey",
            ],
            Some(&signed),
        )
        .success()
        .stderr_eq(str![]);
    // NAME+KEYID (key names hold no '+'; the key's base64 may).
    let id = vkey.split('+').take(2).collect::<Vec<_>>().join("+");
    assert_eq!(
        json_of(&js),
        json!({
            "verified": true,
            "verified_by": [id],
            "unverified_signatures": 0,
            "text": "We told CERT-X about case 7.\n",
        })
    );

    // Another key: not verified (1). Tampered text: not verified (1).
    let other = b.keygen("other.example", false, "[OTHER_VKEY]", "[OTHER_ID]");
    b.run(&["note", "verify", "--vkey", &other], Some(&signed))
        .code(1)
        .stdout_eq(str![])
        .stderr_eq(str![[r#"
forewarn: not verified: no trusted key signed the note (1 signatures by unknown keys)

"#]]);
    let tampered = String::from_utf8(signed.clone())
        .unwrap()
        .replace("case 7", "case 8");
    let bad = b
        .run(
            &["note", "verify", "--json", "--vkey", &vkey],
            Some(tampered.as_bytes()),
        )
        .code(1)
        .stderr_eq(str![[r#"
forewarn: not verified: the signature by trusted key [KEY_ID] does not verify

"#]]);
    assert_eq!(json_of(&bad)["verified"], false);
    bad.stdout_eq(str![[r#"
{"verified":false,"error":"the signature by trusted key [KEY_ID] does not verify"}

"#]]);

    // Malformed input and bad keys are usage errors (2), with a hint.
    b.run(
        &["note", "verify", "--vkey", &vkey],
        Some(b"no signatures here\n"),
    )
    .code(2)
    .stdout_eq(str![])
    .stderr_eq(str![[r#"
forewarn: the input is not a signed note: note has no blank line followed by signature lines
hint: a signed note is text, a blank line, then lines '— name signature'

"#]]);
    b.run(&["note", "verify", "--vkey", "nonsense"], Some(&signed))
        .code(2)
        .stdout_eq(str![])
        .stderr_eq(str![[r#"
forewarn: "nonsense" is neither a vkey nor a file: malformed key: expected name+keyid+key
hint: pass vkey text such as name+1234abcd+AQ… or the .vkey file written by forewarn keygen

"#]]);
    // clap usage errors exit 2.
    b.run(&["note", "verify"], Some(&signed))
        .code(2)
        .stdout_eq(str![])
        .stderr_eq(str![[r#"
error: the following required arguments were not provided:
  --vkey <VKEYS>

Usage: forewarn note verify --vkey <VKEYS> [INPUT]

For more information, try '--help'.

"#]]);

    // Signing a signed note adds a signature; both verify.
    let both = b
        .run(
            &["note", "sign", "--key", &b.path("other.example.key")],
            Some(&signed),
        )
        .success()
        .stdout_eq(str![[r#"
We told CERT-X about case 7.

— vendor.example/psirt [SIG]
— other.example [SIG]

"#]])
        .stderr_eq(str![]);
    let both = both.get_output().stdout.clone();
    b.run(
        &["note", "verify", "--vkey", &vkey, "--vkey", &other],
        Some(&both),
    )
    .success()
    .stdout_eq(str![[r#"
verified: [KEY_ID]
verified: [OTHER_ID]

"#]])
    .stderr_eq(str![]);
}

#[test]
fn note_verify_accepts_the_c2sp_spec_example() {
    let note = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
    // Nothing is random here: no redactions.
    Command::new(cargo_bin!("forewarn"))
        .args([
            "note",
            "verify",
            "--vkey",
            "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        ])
        .stdin(note)
        .assert()
        .success()
        .stdout_eq(str![[r#"
verified: example.com/foo+530d903a

"#]])
        .stderr_eq(str![]);
}

#[test]
fn witness_cosigns_a_checkpoint_through_the_cli() {
    let mut b = Bench::new();
    let log_vkey = b.keygen("log.example", false, "[LOG_VKEY]", "[LOG_ID]");
    let w_vkey = b.keygen("witness.example", true, "[W_VKEY]", "[W_ID]");
    let cp = Checkpoint::new("log.example", 3, record_hash(b"x"))
        .unwrap()
        .to_text();
    let signed = b
        .run(
            &["note", "sign", "--key", &b.path("log.example.key")],
            Some(cp.as_bytes()),
        )
        .success()
        .stderr_eq(str![]);
    let signed = signed.get_output().stdout.clone();
    let cosigned = b
        .run(
            &["note", "sign", "--key", &b.path("witness.example.key")],
            Some(&signed),
        )
        .success()
        .stdout_eq(str![[r#"
log.example
3
PH6byTDck/AfppmF7yQtn56GHzxTVaokzl70tLinDMs=

— log.example [SIG]
— witness.example [SIG]

"#]])
        .stderr_eq(str![]);
    let cosigned = cosigned.get_output().stdout.clone();
    b.run(
        &["note", "verify", "--vkey", &log_vkey, "--vkey", &w_vkey],
        Some(&cosigned),
    )
    .success()
    .stdout_eq(str![[r#"
verified: [LOG_ID]
verified: [W_ID]

"#]])
    .stderr_eq(str![]);
    // A witness key refuses to cosign something that is not a checkpoint.
    b.run(
        &["note", "sign", "--key", &b.path("witness.example.key")],
        Some(b"hello\n"),
    )
    .code(2)
    .stdout_eq(str![])
    .stderr_eq(str![[r#"
forewarn: a witness key cosigns checkpoints, and the input is not one: checkpoint needs an origin, a size and a root line, each ending in a newline
hint: sign plain notes with a log key (forewarn keygen without --witness)

"#]]);
}

#[test]
fn proof_verify_end_to_end() {
    let mut b = Bench::new();
    let log_vkey = b.keygen("forewarn.example/ledger", false, "[LOG_VKEY]", "[LOG_ID]");
    let w_vkey = b.keygen("witness.example/w1", true, "[W_VKEY]", "[W_ID]");
    let read_key = |stem: &str| {
        SignerKey::parse(
            fs::read_to_string(b.dir().join(format!("{stem}.key")))
                .unwrap()
                .trim(),
        )
        .unwrap()
    };
    let log = read_key("forewarn.example_ledger");
    let w = read_key("witness.example_w1");

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
    fs::write(b.dir().join("notice21.tlog-proof"), proof.to_bytes()).unwrap();
    fs::write(b.dir().join("notice21.bin"), &entries[21]).unwrap();
    fs::write(
        b.dir().join("policy.txt"),
        format!("log {log_vkey}\nwitness W1 {w_vkey}\nquorum W1\n"),
    )
    .unwrap();

    let (p, l) = ("notice21.tlog-proof", "notice21.bin");
    b.run(
        &["proof", "verify", "--vkey", &log_vkey, "--leaf", l, p],
        None,
    )
    .success()
    .stdout_eq(str![[r#"
verified: entry 21 is in forewarn.example/ledger at tree size 37 (root eCQOr2Mu1LLh9dY3b8RAwfKX3j1e2cCAvXN0Lqilmc4=)

"#]])
    .stderr_eq(str![]);
    let js = b
        .run(
            &[
                "proof",
                "verify",
                "--json",
                "--vkey",
                &log_vkey,
                "--policy",
                "policy.txt",
                "--leaf",
                l,
                p,
            ],
            None,
        )
        .success()
        .stderr_eq(str![]);
    assert_eq!(
        json_of(&js),
        json!({
            "verified": true,
            "index": 21,
            "origin": "forewarn.example/ledger",
            "tree_size": 37,
            "root": tree.root().to_base64(),
            "witnesses": [{"witness": "W1", "time": 1_760_000_000}],
        })
    );
    js.stdout_eq(str![[r#"
{"verified":true,"index":21,"origin":"forewarn.example/ledger","tree_size":37,"root":"eCQOr2Mu1LLh9dY3b8RAwfKX3j1e2cCAvXN0Lqilmc4=","witnesses":[{"witness":"W1","time":1760000000}]}

"#]]);

    // Wrong leaf: 1, with a hint about --leaf.
    fs::write(b.dir().join("other.bin"), b"notice 22").unwrap();
    b.run(
        &[
            "proof",
            "verify",
            "--vkey",
            &log_vkey,
            "--leaf",
            "other.bin",
            p,
        ],
        None,
    )
    .code(1)
    .stdout_eq(str![])
    .stderr_eq(str![[r#"
forewarn: not verified: entry is not included: proof implies root ZoB74NNp3PkjsASl2k298WHFYuJwGjmlLo6YROd3xEY=, trusted root is eCQOr2Mu1LLh9dY3b8RAwfKX3j1e2cCAvXN0Lqilmc4=
hint: check that --leaf holds exactly the logged entry's bytes

"#]]);
    // Quorum not met: 1, with the counts.
    let w2 = b.keygen("witness.example/w2", true, "[W_TWO_VKEY]", "[W_TWO_ID]");
    fs::write(
        b.dir().join("policy.txt"),
        format!(
            "log {log_vkey}\nwitness W1 {w_vkey}\nwitness W2 {w2}\ngroup both all W1 W2\nquorum both\n"
        ),
    )
    .unwrap();
    b.run(
        &[
            "proof",
            "verify",
            "--vkey",
            &log_vkey,
            "--policy",
            "policy.txt",
            "--leaf",
            l,
            p,
        ],
        None,
    )
    .code(1)
    .stdout_eq(str![])
    .stderr_eq(str![[r#"
forewarn: not verified: proof checkpoint: witness quorum "both" not met: 1 cosignatures from policy witnesses seen, 1 verified, 0 failed

"#]]);
    // Not a proof: 2.
    b.run(
        &["proof", "verify", "--vkey", &log_vkey, "--leaf", l, l],
        None,
    )
    .code(2)
    .stdout_eq(str![])
    .stderr_eq(str![[r#"
forewarn: notice21.bin is not a tlog-proof: proof has no blank line followed by a checkpoint
hint: a proof starts with the line c2sp.org/tlog-proof@v1

"#]]);
}
