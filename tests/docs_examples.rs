//! docs/FORMAT.md's worked examples are checked here byte for byte: each
//! example is recomputed (or read from the spec vectors) and must appear in
//! the document verbatim. README.md's workflow is run as written.

use std::fs;

use forewarn_tlog::checkpoint::Checkpoint;
use forewarn_tlog::cosignature;
use forewarn_tlog::note::{SignatureType, SignerKey};
use forewarn_tlog::proof::TlogProof;
use forewarn_tlog::record_hash;
use forewarn_tlog::tree::{InMemoryTree, prove_inclusion};

fn doc() -> String {
    fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/FORMAT.md")).unwrap()
}

fn assert_in_doc(example: &str, what: &str) {
    assert!(
        doc().contains(example),
        "docs/FORMAT.md lacks the {what} example, which is now:\n{example}"
    );
}

/// The example log of FORMAT.md: key seed [1; 32], five entries "entry 0".."entry 4".
fn example() -> (SignerKey, InMemoryTree, Vec<Vec<u8>>) {
    let key = SignerKey::from_seed("example.org/ledger", SignatureType::Ed25519, &[1; 32]).unwrap();
    let entries: Vec<Vec<u8>> = (0..5).map(|i| format!("entry {i}").into_bytes()).collect();
    let mut t = InMemoryTree::new();
    for e in &entries {
        t.append(record_hash(e));
    }
    (key, t, entries)
}

#[test]
fn keys_example() {
    let (key, _, _) = example();
    assert_in_doc(&format!("{}\n", key.verifier()), "vkey");
}

#[test]
fn checkpoint_and_cosignature_examples() {
    let (key, t, _) = example();
    let c = Checkpoint::new("example.org/ledger", t.size(), t.root()).unwrap();
    let mut note = c.sign(&key);
    let w = SignerKey::from_seed(
        "witness.example.org",
        SignatureType::CosignatureV1,
        &[2; 32],
    )
    .unwrap();
    note.push_signature(w.cosign(&c.to_text(), 1_764_144_000));
    assert_in_doc(
        &String::from_utf8(note.to_bytes()).unwrap(),
        "cosigned checkpoint",
    );
    assert_in_doc(&format!("{}\n", w.verifier()), "witness vkey");
    assert_in_doc(
        &cosignature::message(&c.to_text(), 1_764_144_000),
        "cosignature message",
    );
}

#[test]
fn tlog_proof_example() {
    let (key, t, _) = example();
    let c = Checkpoint::new("example.org/ledger", t.size(), t.root()).unwrap();
    let p = TlogProof {
        extra: None,
        index: 2,
        inclusion: prove_inclusion(5, 2, &t).unwrap(),
        checkpoint: c.sign(&key).to_bytes(),
    };
    assert_in_doc(&String::from_utf8(p.to_bytes()).unwrap(), "tlog-proof");
}

#[test]
fn leaf_and_node_hash_examples() {
    let (_, t, _) = example();
    assert_in_doc(
        &format!(
            "leaf hash of \"entry 0\": {}",
            record_hash(b"entry 0").to_hex()
        ),
        "leaf hash",
    );
    assert_in_doc(
        &format!("root of the 5-entry example: {}", t.root().to_hex()),
        "root",
    );
}

/// README.md's "A real workflow", run verbatim with `sh -e` in an empty
/// directory, the built binary first on the PATH (its first line, which
/// builds the binary, and the `mkdir`/`cd` into a fresh directory are the
/// test's own setup). Every command must succeed, `audit` included: the
/// README says the walkthrough audits clean.
#[test]
fn readme_workflow_runs_verbatim() {
    let readme = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("```sh\ncargo build --release")
        .expect("README.md has the workflow block");
    let block = &readme[start + "```sh\n".len()..];
    let block = &block[..block.find("```").expect("the block ends")];
    let mut lines = block.lines();
    assert!(lines.next().unwrap().starts_with("cargo build --release"));
    assert_eq!(lines.next(), Some("mkdir walkthrough && cd walkthrough"));
    let script: Vec<&str> = lines.collect();
    assert!(script.len() > 10, "{script:?}");
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_forewarn"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("sh")
        .arg("-ec")
        .arg(script.join("\n"))
        .env("PATH", path)
        .current_dir(tmp.path())
        .output()
        .expect("run sh");
    assert!(
        out.status.success(),
        "the README workflow failed ({:?}):\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("appended record 3: Notified"), "{stdout}");
    assert!(stdout.contains("verified: record 3 (Notified)"), "{stdout}");
}
