//! Seen-root evidence end to end: a ledger holding a statement whose
//! signer claims a root the log never had is caught by `forewarn audit`,
//! which writes the evidence, and `forewarn evidence verify` checks the
//! file with the log's vkey alone; tampered or misdirected evidence is
//! refused with the documented exit codes.
//!
//! The sequencer refuses such a statement, so the ledger is built the way
//! a dishonest operator could: the compact range the store keeps for size
//! 256 (a projection sealed with a key derived from the log key,
//! docs/FORMAT.md §20) is rewritten to a fork's. Opened with it, the store
//! accepts the statement; a fresh audit replays every record and finds the
//! mismatch.

use std::path::Path;
use std::sync::Arc;

use forewarn_ledger::statement::{SeenCheckpoint, Statement};
use forewarn_ledger::testkit::{START, registration, test_key};
use forewarn_ledger::{Event, PartyClass, PublicKey};
use forewarn_store::{Store, StoreConfig};
use forewarn_tlog::compact::CompactRange;
use forewarn_tlog::note::{SignatureType, SignerKey};
use forewarn_tlog::record_hash;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

mod common;
use common::run;

const ORIGIN: &str = "example.org/ledger";
/// Records before the statement: past two snapshot intervals of the
/// auditor's recent window (256 records each), so the forged one at 256 is
/// not the one the store checks its saved state against.
const BEFORE: usize = 520;
/// The size whose root the signer claims.
const SEEN: u64 = 256;

fn config() -> StoreConfig {
    StoreConfig {
        clock: Arc::new(|| START + 1_000_000),
        ..StoreConfig::default()
    }
}

fn log_key() -> SignerKey {
    SignerKey::from_seed(ORIGIN, SignatureType::Ed25519, &[7; 32]).unwrap()
}

/// Replaces the compact range the store keeps for tree size `size` with
/// `range`, sealed as the log key's holder seals projections:
/// payload ‖ HMAC-SHA256(mac key, len(key) ‖ key ‖ payload)[..16], the mac
/// key being HMAC-SHA256(seed, "forewarn/projection-mac/v1").
fn write_range(dir: &Path, size: u64, range: &[u8]) {
    let mut kdf = <Hmac<Sha256> as KeyInit>::new_from_slice(&[7; 32]).unwrap();
    kdf.update(b"forewarn/projection-mac/v1");
    let mac_key = kdf.finalize().into_bytes();
    let mut key = vec![b'r'];
    key.extend_from_slice(&size.to_be_bytes());
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(&mac_key).unwrap();
    m.update(&(key.len() as u32).to_be_bytes());
    m.update(&key);
    m.update(range);
    let mut value = range.to_vec();
    value.extend_from_slice(&m.finalize().into_bytes()[..16]);
    let db = forewarn_store::open_db(&dir.join("db")).unwrap();
    assert!(
        db.insert(key, value).unwrap().is_some(),
        "the store keeps it"
    );
    db.flush().unwrap();
}

/// A ledger in `dir` of `BEFORE` registrations and then a registration
/// whose signer claims the fork's root at size `SEEN`; returns that root.
fn dishonest_ledger(dir: &Path) -> forewarn_tlog::Hash {
    let mut store = Store::init(dir, ORIGIN, &[7; 32], config()).unwrap();
    let batch: Vec<_> = (0..BEFORE)
        .map(|i| registration(&format!("party {i}")))
        .collect();
    for chunk in batch.chunks(100) {
        assert!(store.append(chunk).unwrap().iter().all(Result::is_ok));
    }
    let leaves: Vec<_> = store
        .records(0, SEEN)
        .map(|r| forewarn_ledger::statement::leaf_hash(&r.unwrap()))
        .collect();
    store.close().unwrap();

    // The fork: the log's first 255 records, then another one.
    let mut fork = CompactRange::new();
    for leaf in &leaves[..SEEN as usize - 1] {
        fork.push(*leaf);
    }
    fork.push(record_hash(b"a record only the signer was shown"));
    let fork_root = fork.root();
    assert_ne!(fork_root, {
        let mut honest = CompactRange::new();
        leaves.iter().for_each(|l| honest.push(*l));
        honest.root()
    });

    // The fork's tree as the one the store remembers at 256.
    write_range(dir, SEEN, &fork.to_bytes());

    // The store resumes from it and accepts the claim.
    let mut store = Store::open(dir, config()).unwrap();
    let signer = test_key("Signer");
    let pk = PublicKey(signer.verifying_key().to_bytes());
    let mut st = Statement::new(
        ORIGIN,
        Event::PartyRegistered {
            name: "Signer".into(),
            class: PartyClass::Vendor,
            key: pk,
        },
        START,
        pk,
    );
    st.seen = Some(SeenCheckpoint {
        size: SEEN,
        root: fork_root,
    });
    let receipt = store.append_one(st.sign(&signer).unwrap()).unwrap();
    assert_eq!(receipt.index, BEFORE as u64);
    // One more honest record after it.
    store.append_one(registration("after")).unwrap();
    store.close().unwrap();
    fork_root
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn audit_writes_evidence_that_verifies_from_the_file_and_the_vkey() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("ledger");
    let fork_root = dishonest_ledger(&dir);
    let name = format!("seen-root-{BEFORE}.evidence");

    // The audit fails on the record and writes the evidence where it says.
    let out = run(work.path(), &["audit", "--dir", "ledger"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("evidence written to {name}")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "forewarn evidence verify {name} --log-key ledger/log.vkey"
        )),
        "{err}"
    );
    let text = std::fs::read_to_string(work.path().join(&name)).unwrap();
    assert!(text.starts_with("forewarn.dev/seen-root@v1\n"));

    // Anyone with the file and the vkey can check it.
    let vkey = std::fs::read_to_string(dir.join("log.vkey")).unwrap();
    let vkey = vkey.trim_end();
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::write(elsewhere.path().join("e.evidence"), &text).unwrap();
    let out = run(
        elsewhere.path(),
        &["evidence", "verify", "e.evidence", "--log-key", vkey],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(
        said.starts_with(&format!(
            "verified: seen-root evidence against the log {ORIGIN}\n"
        )),
        "{said}"
    );
    assert!(
        said.contains(&format!("record {BEFORE} (PartyRegistered)")),
        "{said}"
    );
    assert!(
        said.contains(&format!(
            "seen the log at size {SEEN} with root {}",
            fork_root.to_hex()
        )),
        "{said}"
    );
    assert!(said.contains("a fork"), "{said}");

    let out = run(
        elsewhere.path(),
        &[
            "evidence",
            "verify",
            "e.evidence",
            "--log-key",
            vkey,
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["verified"], true);
    assert_eq!(v["kind"], "seen-root");
    assert_eq!(v["index"], BEFORE as u64);
    assert_eq!(v["seen_size"], SEEN);
    assert_eq!(v["tree_size"], BEFORE as u64 + 2);
    assert_eq!(v["claimed_root"], fork_root.to_base64());
    assert_ne!(v["log_root"], v["claimed_root"]);

    // A second audit does not overwrite the file, and says so.
    let out = run(work.path(), &["audit", "--dir", "ledger"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("no evidence written"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(work.path().join(&name)).unwrap(),
        text
    );

    // --evidence chooses the file.
    let out = run(
        work.path(),
        &["audit", "--dir", "ledger", "--evidence", "chosen.evidence"],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("evidence written to chosen.evidence"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(work.path().join("chosen.evidence")).unwrap(),
        text
    );
}

#[test]
fn tampered_misdirected_or_malformed_evidence_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("ledger");
    dishonest_ledger(&dir);
    let out = run(
        work.path(),
        &["audit", "--dir", "ledger", "--evidence", "e"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let text = std::fs::read_to_string(work.path().join("e")).unwrap();
    let verify = |body: &str, key: &str| {
        std::fs::write(work.path().join("t"), body).unwrap();
        run(work.path(), &["evidence", "verify", "t", "--log-key", key])
    };
    let vkey = "ledger/log.vkey";

    // A proof hash changed: parses, proves nothing (exit 1).
    let lines: Vec<&str> = text.lines().collect();
    let prefix_at = lines.iter().position(|l| l.starts_with("prefix ")).unwrap();
    let mut tampered: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let h = &tampered[prefix_at + 1];
    let swapped = match h.strip_prefix('A') {
        Some(rest) => format!("B{rest}"),
        None => format!("A{}", &h[1..]),
    };
    tampered[prefix_at + 1] = swapped;
    let out = verify(&(tampered.join("\n") + "\n"), vkey);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("not verified"), "{}", stderr(&out));

    // Another log's key: exit 1.
    let other =
        SignerKey::from_seed("example.org/other", SignatureType::Ed25519, &[8; 32]).unwrap();
    let out = verify(&text, &other.verifier().to_string());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = run(
        work.path(),
        &[
            "evidence",
            "verify",
            "t",
            "--log-key",
            &other.verifier().to_string(),
            "--json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["verified"], false);
    assert_eq!(v["kind"], "seen-root");

    // Not canonical, not evidence, not there: exit 2.
    for bad in [
        text.replace('\n', "\r\n"),
        text.trim_end().to_string(),
        "forewarn.dev/something-else@v1\n".to_string(),
        "hello\n".to_string(),
    ] {
        let out = verify(&bad, vkey);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr(&out));
    }
    let out = run(
        work.path(),
        &["evidence", "verify", "missing", "--log-key", vkey],
    );
    assert_eq!(out.status.code(), Some(2));
    // The untouched file still verifies with the ledger's vkey file.
    assert_eq!(verify(&text, vkey).status.code(), Some(0));
}

#[test]
fn split_view_evidence_verifies_under_the_same_command() {
    use forewarn_tlog::checkpoint::Checkpoint;
    use forewarn_tlog::evidence::{SplitViewEvidence, prove_prefix};
    use forewarn_tlog::tree::InMemoryTree;
    let key = log_key();
    let (mut a, mut b) = (InMemoryTree::new(), InMemoryTree::new());
    for i in 0..7u32 {
        a.append(record_hash(&i.to_be_bytes()));
        b.append(record_hash(&(i + u32::from(i >= 3) * 100).to_be_bytes()));
    }
    let first = Checkpoint::new(ORIGIN, 5, b.root_at(5).unwrap())
        .unwrap()
        .sign(&key)
        .to_bytes();
    let second = Checkpoint::new(ORIGIN, 7, a.root())
        .unwrap()
        .sign(&key)
        .to_bytes();
    let proof = prove_prefix(5, 7, &a).unwrap();
    let (e, _) = SplitViewEvidence::new(key.verifier(), first, second, proof).unwrap();
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("s"), e.to_text()).unwrap();
    let vkey = key.verifier().to_string();
    let out = run(
        work.path(),
        &["evidence", "verify", "s", "--log-key", &vkey],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out)
            .starts_with("verified: split-view evidence against the log example.org/ledger\n")
    );
    let out = run(
        work.path(),
        &["evidence", "verify", "s", "--log-key", &vkey, "--json"],
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["kind"], "split-view");
    assert_eq!(v["conflict"], "prefix-mismatch");
    // Pinned to another key, the same file proves nothing about that log.
    let other = SignerKey::from_seed(ORIGIN, SignatureType::Ed25519, &[8; 32]).unwrap();
    let out = run(
        work.path(),
        &[
            "evidence",
            "verify",
            "s",
            "--log-key",
            &other.verifier().to_string(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}
