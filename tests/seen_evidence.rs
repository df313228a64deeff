//! Seen-root evidence end to end: a ledger holding a statement whose
//! signer claims a root the log never had is caught by `forewarn audit`,
//! which writes the evidence, and `forewarn evidence verify` checks the
//! file with the log's vkey alone; tampered or misdirected evidence is
//! refused with the documented exit codes.
//!
//! The sequencer refuses such a statement, so the ledger is built the way
//! a dishonest operator could: with the log key and their own code, the
//! record is appended to the entry bundles under a newly signed
//! checkpoint. A fresh audit replays every record and finds the mismatch.

use std::path::Path;
use std::sync::Arc;

use forewarn_ledger::statement::{
    RECORD_VERSION, Record, SeenCheckpoint, SignedStatement, Statement, leaf_hash,
};
use forewarn_ledger::testkit::{START, registration, test_key};
use forewarn_ledger::{Event, PartyClass, PublicKey};
use forewarn_store::{Store, StoreConfig};
use forewarn_tlog::checkpoint::Checkpoint;
use forewarn_tlog::compact::CompactRange;
use forewarn_tlog::hash::Hash;
use forewarn_tlog::note::{SignatureType, SignerKey};
use forewarn_tlog::record_hash;
use forewarn_tlog::tile::{encode_entry_bundle, parse_entry_bundle};

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

/// Appends `statements` to the closed store in `dir` the way a dishonest
/// operator's own sequencer would, with none of the store's checks: the
/// records go into the last entry bundle, and the new size and a checkpoint
/// signed with the log key into the database and its mark. (The hash tiles
/// and projections are left behind, as such a sequencer might leave them:
/// `audit` reads neither.) `leaves` holds the log's leaves and grows.
fn append_unchecked(dir: &Path, statements: &[SignedStatement], leaves: &mut Vec<Hash>) {
    let db = forewarn_store::open_db(&dir.join("db")).unwrap();
    let size = leaves.len() as u64;
    let n = size / 256;
    let mut key = vec![b'e'];
    key.extend_from_slice(&n.to_be_bytes());
    let mut entries: Vec<Vec<u8>> = match db.get(&key).unwrap() {
        None => Vec::new(),
        Some(v) => {
            let data = zstd::bulk::decompress(&v, 1 << 24).unwrap();
            parse_entry_bundle(&data, (size % 256) as usize)
                .unwrap()
                .into_iter()
                .map(<[u8]>::to_vec)
                .collect()
        }
    };
    for s in statements {
        let record = Record {
            version: RECORD_VERSION,
            index: leaves.len() as u64,
            prev: *leaves.last().unwrap(),
            logged_at: START + 1_000_000,
            statement: s.bytes.clone(),
            signature: s.signature,
        }
        .to_bytes()
        .unwrap();
        leaves.push(leaf_hash(&record));
        entries.push(record);
    }
    assert!(entries.len() <= 256, "one bundle is enough here");
    let bundle = encode_entry_bundle(&entries).unwrap();
    db.insert(&key, zstd::bulk::compress(&bundle, 1).unwrap())
        .unwrap();
    let mut tree = CompactRange::new();
    leaves.iter().for_each(|l| tree.push(*l));
    let size = leaves.len() as u64;
    let checkpoint = Checkpoint::new(ORIGIN, size, tree.root())
        .unwrap()
        .sign(&log_key())
        .to_bytes();
    db.insert(b"m:size", &size.to_be_bytes()).unwrap();
    db.insert(b"m:checkpoint", checkpoint.as_slice()).unwrap();
    db.flush().unwrap();
    drop(db);
    std::fs::write(dir.join(forewarn_store::MARK_FILE), &checkpoint).unwrap();
}

/// A ledger in `dir` of `BEFORE` registrations and then a registration
/// whose signer claims the fork's root at size `SEEN`; returns that root.
/// The store refuses such a statement (and its recent window cannot be
/// edited to accept it: the kept compact ranges must chain to the signed
/// root), so the operator appends it with their own code.
fn dishonest_ledger(dir: &Path) -> forewarn_tlog::Hash {
    let mut store = Store::init(dir, ORIGIN, &[7; 32], config()).unwrap();
    let batch: Vec<_> = (0..BEFORE)
        .map(|i| registration(&format!("party {i}")))
        .collect();
    for chunk in batch.chunks(100) {
        assert!(store.append(chunk).unwrap().iter().all(Result::is_ok));
    }
    let mut leaves: Vec<_> = store
        .records(0, BEFORE as u64)
        .map(|r| leaf_hash(&r.unwrap()))
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
        leaves[..SEEN as usize].iter().for_each(|l| honest.push(*l));
        honest.root()
    });

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
    let claim = st.sign(&signer).unwrap();
    // The honest store refuses it.
    let mut store = Store::open(dir, config()).unwrap();
    assert!(store.append_one(claim.clone()).is_err());
    store.close().unwrap();
    // The operator's own code logs it, and one more honest record after it.
    append_unchecked(dir, &[claim, registration("after")], &mut leaves);
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
