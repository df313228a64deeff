//! The store under attack: a database rolled back or forked behind its
//! high-water mark, garbage from readers' clients, tampered saved state,
//! two writers at once. Each test is one attack and what must stop it.

use std::path::Path;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use forewarn_ledger::testkit::registration;
use forewarn_ledger::*;
use forewarn_store::{
    Corruption, LogCopy, MARK_FILE, Place, SnapshotProblem, Store, StoreConfig, StoreError,
};
use forewarn_tlog::checkpoint::SignedCheckpoint;
use forewarn_tlog::note::{SignatureType, SignerKey};
use sha2::{Digest, Sha256};

mod common;
use common::{ORIGIN, config, copy_dir};

fn short_wait(ms: u64) -> StoreConfig {
    StoreConfig {
        lock_wait: Duration::from_millis(ms),
        ..config()
    }
}

fn append(dir: &Path, labels: &[&str]) {
    let mut store = Store::open(dir, config()).unwrap();
    let batch: Vec<_> = labels.iter().map(|l| registration(l)).collect();
    assert!(store.append(&batch).unwrap().iter().all(Result::is_ok));
    store.close().unwrap();
}

/// A closed store of `n` registrations (the first named "Acme Corp").
fn closed_store(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::init(dir.path(), ORIGIN, &[7; 32], config()).unwrap();
    let mut batch = vec![registration("Acme Corp")];
    batch.extend((1..n).map(|i| registration(&format!("party {i}"))));
    assert!(store.append(&batch).unwrap().iter().all(Result::is_ok));
    store.close().unwrap();
    dir
}

/// Puts the database files of `from` in place of those of `to`.
fn restore_db(from: &Path, to: &Path) {
    std::fs::remove_dir_all(to.join("db")).unwrap();
    copy_dir(&from.join("db"), &to.join("db"));
}

/// The size the mark in `dir` names (verified under the log key).
fn mark_size(dir: &Path) -> u64 {
    let vkey = std::fs::read_to_string(dir.join("log.vkey")).unwrap();
    let vkey = forewarn_tlog::note::VerifierKey::parse(vkey.trim_end()).unwrap();
    let mark = std::fs::read(dir.join(MARK_FILE)).unwrap();
    SignedCheckpoint::open(&mark, &vkey, Some(ORIGIN), &[])
        .unwrap()
        .checkpoint
        .size()
}

fn expect_corrupt(r: Result<impl Sized, StoreError>, what: Corruption) -> StoreError {
    let Err(e) = r else {
        panic!("expected {what}, got success")
    };
    assert!(e.is_corruption(), "{e}");
    match &e {
        StoreError::Corrupt {
            what: found,
            at: Place::Mark(_),
        } => assert_eq!(*found, what, "{e}"),
        _ => panic!("expected {what} at the mark, got {e}"),
    }
    e
}

/// Older database files restored over newer ones (what sled does by
/// itself when it recovers an earlier state from a cut log): refused by
/// open and by a copy, and the mark is left as it was.
#[test]
fn a_rolled_back_database_is_refused() {
    let dir = closed_store(10);
    assert_eq!(mark_size(dir.path()), 10);
    let old = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), old.path());
    append(dir.path(), &["x1", "x2", "x3", "x4", "x5"]);
    assert_eq!(mark_size(dir.path()), 15);
    restore_db(old.path(), dir.path());
    let rolled_back = Corruption::RolledBack {
        mark_size: 15,
        db_size: 10,
    };
    let e = expect_corrupt(Store::open(dir.path(), config()), rolled_back.clone());
    let text = e.to_string();
    assert!(text.contains("15") && text.contains("10"), "{text}");
    assert!(!text.contains("RolledBack"), "no debug text: {text}");
    expect_corrupt(
        LogCopy::take(dir.path(), Duration::from_secs(10)),
        rolled_back,
    );
    assert_eq!(mark_size(dir.path()), 15, "refusing keeps the mark");
    // Interrupted between moving the old mark aside and putting the new
    // one in place: the previous mark still counts.
    std::fs::rename(
        dir.path().join(MARK_FILE),
        dir.path().join("checkpoint.mark.old"),
    )
    .unwrap();
    expect_corrupt(
        Store::open(dir.path(), config()),
        Corruption::RolledBack {
            mark_size: 15,
            db_size: 10,
        },
    );
}

/// A database of the same log that went another way (another history
/// from the same key): refused at the mark's size and beyond it.
#[test]
fn a_forked_database_is_refused() {
    let dir = closed_store(10);
    let other = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), other.path());
    append(dir.path(), &["x"]);
    // Same size as the mark, another root.
    let same = tempfile::tempdir().unwrap();
    copy_dir(other.path(), same.path());
    append(same.path(), &["y"]);
    restore_db(same.path(), dir.path());
    expect_corrupt(
        Store::open(dir.path(), config()),
        Corruption::Forked { size: 11 },
    );
    // Larger than the mark, not extending it.
    append(other.path(), &["y", "z"]);
    restore_db(other.path(), dir.path());
    expect_corrupt(
        Store::open(dir.path(), config()),
        Corruption::Forked { size: 11 },
    );
    expect_corrupt(
        LogCopy::take(dir.path(), Duration::from_secs(10)),
        Corruption::Forked { size: 11 },
    );
}

/// The mark follows every commit before its receipts are returned, also
/// through the sequencer; an older, missing or empty mark (a lost mark
/// write, a store from before marks) is accepted and rewritten; a mark
/// that is not a checkpoint of this log is refused.
#[test]
fn the_mark_follows_commits_and_older_marks_are_accepted() {
    let dir = closed_store(10);
    let old_mark = std::fs::read(dir.path().join(MARK_FILE)).unwrap();
    let mut store = Store::open(dir.path(), config()).unwrap();
    let receipt = store.append_one(registration("one")).unwrap();
    assert_eq!(receipt.index, 10);
    let mark = std::fs::read(dir.path().join(MARK_FILE)).unwrap();
    assert_eq!(mark, store.checkpoint(), "marked before the receipt");
    for leftover in ["checkpoint.mark.tmp", "checkpoint.mark.old"] {
        assert!(!dir.path().join(leftover).exists(), "{leftover}");
    }
    let sequencer = forewarn_store::Sequencer::start(store, 64);
    let answer = sequencer
        .submitter()
        .submit(vec![registration("two")])
        .wait()
        .unwrap();
    assert_eq!(answer[0].as_ref().unwrap().index, 11);
    assert_eq!(mark_size(dir.path()), 12);
    sequencer.stop().unwrap().close().unwrap();

    // A crash that lost the latest mark writes: the mark is older.
    std::fs::write(dir.path().join(MARK_FILE), &old_mark).unwrap();
    let store = Store::open(dir.path(), config()).unwrap();
    assert_eq!(store.size(), 12);
    assert_eq!(mark_size(dir.path()), 12, "rewritten at open");
    store.close().unwrap();
    for (what, mark) in [("missing", None), ("empty", Some(Vec::new()))] {
        let path = dir.path().join(MARK_FILE);
        match mark {
            None => std::fs::remove_file(&path).unwrap(),
            Some(m) => std::fs::write(&path, m).unwrap(),
        }
        let store = Store::open(dir.path(), config()).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(mark_size(dir.path()), 12, "{what}: recreated");
        store.close().unwrap();
    }
    // Not a checkpoint of this log: garbage, or another log's checkpoint.
    let foreign = tempfile::tempdir().unwrap();
    Store::init(foreign.path(), ORIGIN, &[8; 32], config())
        .unwrap()
        .close()
        .unwrap();
    let foreign_mark = std::fs::read(foreign.path().join(MARK_FILE)).unwrap();
    for mark in [b"garbage\n".to_vec(), foreign_mark, vec![b'a'; 100_000]] {
        std::fs::write(dir.path().join(MARK_FILE), &mark).unwrap();
        let e = Store::open(dir.path(), config()).err().expect("refused");
        assert!(
            e.is_corruption()
                && matches!(
                    &e,
                    StoreError::Corrupt {
                        at: Place::Mark(_),
                        ..
                    }
                ),
            "{e}"
        );
    }
}

/// Garbage from a reader's client: widths outside 1..=256 or beyond the
/// published tree, indexes past the end or near `u64::MAX` (where
/// `index·256` overflows), levels beyond the tree. Each is a clean
/// out-of-range answer, never corruption or a panic.
#[test]
fn garbage_reads_are_out_of_range() {
    let dir = closed_store(300);
    let store = Store::open(dir.path(), config()).unwrap();
    let reader = store.reader();
    // Within the tree: the full tile 0, the partial tile 1 of 44, and the
    // level-1 tile of width 1 (the hash of records 0..256).
    assert_eq!(reader.tile(0, 0, 256).unwrap().len(), 256 * 32);
    assert_eq!(reader.tile(0, 1, 44).unwrap().len(), 44 * 32);
    assert_eq!(reader.tile(1, 0, 1).unwrap().len(), 32);
    assert!(reader.entry_bundle(1, 44).is_ok());
    let out_of_range = |r: Result<Vec<u8>, StoreError>, what: &str| match r {
        Err(StoreError::OutOfRange { size: 300, .. }) => {}
        Err(e) => panic!("{what}: {e}"),
        Ok(_) => panic!("{what}: answered"),
    };
    let cases: &[(u8, u64, u16)] = &[
        (0, 1, 45),               // wider than published
        (0, 2, 1),                // index past the end
        (0, 0, 0),                // width 0
        (0, 0, 257),              // width beyond a tile
        (0, 0, u16::MAX),         // width far beyond
        (1, 0, 2),                // level 1 beyond the tree
        (2, 0, 1),                // level 2 beyond the tree
        (7, 0, 1),                // the highest level a u64 size has
        (8, 0, 1),                // beyond any u64 tree
        (255, 0, 1),              // beyond any level
        (0, u64::MAX, 256),       // index·256 overflows
        (0, u64::MAX / 256, 256), // index·256 + width overflows
        (1, u64::MAX / 256, 1),   // the level's factor overflows
        (7, 1, 1),                // 256^7·257 overflows
    ];
    for &(level, index, width) in cases {
        let what = format!("tile {level}/{index} width {width}");
        out_of_range(reader.tile(level, index, width), &what);
        if level == 0 {
            out_of_range(reader.entry_bundle(index, width), &what);
        }
    }
    assert_eq!(reader.record(300).unwrap(), None);
    assert_eq!(reader.record(u64::MAX).unwrap(), None);
    assert!(reader.receipt(u64::MAX).unwrap().is_none());
    assert_eq!(reader.records(u64::MAX - 1, u64::MAX).count(), 0);
    assert_eq!(reader.records(200, 100).count(), 0);
    assert_eq!(reader.records(299, u64::MAX).count(), 1);
    for (what, r) in [
        ("index past the end", reader.inclusion_proof(300, 300)),
        ("index u64::MAX", reader.inclusion_proof(u64::MAX, 300)),
        ("size beyond", reader.inclusion_proof(0, 301)),
        ("size u64::MAX", reader.inclusion_proof(0, u64::MAX)),
        ("old beyond new", reader.consistency_proof(200, 100)),
        ("new beyond", reader.consistency_proof(0, u64::MAX)),
        ("old u64::MAX", reader.consistency_proof(u64::MAX, 300)),
        ("store: old beyond", store.consistency_proof(301)),
    ] {
        match r {
            Err(e @ StoreError::OutOfRange { .. }) => assert!(!e.is_corruption()),
            Err(e) => panic!("{what}: {e}"),
            Ok(_) => panic!("{what}: answered"),
        }
    }
    // And the store still serves and checks clean.
    assert!(reader.inclusion_proof(299, 300).is_ok());
    store.check().unwrap();
}

/// The `m:snapshot` value: magic (20), bound size (8), bound root (32),
/// SHA-256 of the frame (32), the log key's signature over the binding
/// (64), the frame (crates/store/src/layout.rs). Rewritten with `frame`,
/// bound to `size` and `root`, the digest recomputed, and signed with
/// `key` (the log key's holder) or keeping the old signature (anyone who
/// can write the database).
fn rewrite_snapshot(
    dir: &Path,
    snapshot: &[u8],
    frame: &[u8],
    size: u64,
    root: &[u8],
    key: Option<&SignerKey>,
) {
    let digest = Sha256::digest(frame);
    let signature = match key {
        Some(key) => {
            let mut binding = b"forewarn-snapshot-binding/v2\0".to_vec();
            binding.extend_from_slice(&size.to_be_bytes());
            binding.extend_from_slice(root);
            binding.extend_from_slice(&digest);
            key.sign(&binding).signature
        }
        None => snapshot[92..156].to_vec(),
    };
    let mut value = snapshot[..20].to_vec();
    value.extend_from_slice(&size.to_be_bytes());
    value.extend_from_slice(root);
    value.extend_from_slice(&digest);
    value.extend_from_slice(&signature);
    value.extend_from_slice(frame);
    let db = forewarn_store::open_db(&dir.join("db")).unwrap();
    db.insert(b"m:snapshot", value).unwrap();
    db.flush().unwrap();
}

fn snapshot(dir: &Path) -> Vec<u8> {
    let db = forewarn_store::open_db(&dir.join("db")).unwrap();
    db.get(b"m:snapshot").unwrap().unwrap().to_vec()
}

/// The saved state of `snapshot` with "Acme Corp" renamed "Evil Corp".
fn renamed_frame(snapshot: &[u8]) -> Vec<u8> {
    let mut state = zstd::bulk::decompress(&snapshot[156..], 1 << 30).unwrap();
    let at = state
        .windows(9)
        .position(|w| w == b"Acme Corp")
        .expect("the party's name is in the saved state");
    state[at..at + 9].copy_from_slice(b"Evil Corp");
    zstd::bulk::compress(&state, 1).unwrap()
}

fn log_key() -> SignerKey {
    SignerKey::from_seed(ORIGIN, SignatureType::Ed25519, &[7; 32]).unwrap()
}

fn parties(a: &auditor::Auditor) -> usize {
    a.state().parties.len()
}

fn names(a: &auditor::Auditor) -> Vec<String> {
    a.state().parties.values().map(|p| p.name.clone()).collect()
}

fn snapshot_problem(err: StoreError) -> SnapshotProblem {
    match err {
        StoreError::Corrupt {
            what: Corruption::Snapshot(p),
            at: Place::Snapshot,
        } => p,
        e => panic!("not a snapshot problem: {e}"),
    }
}

/// A saved state edited ("Acme Corp" becomes "Evil Corp") and re-bound to
/// the current checkpoint with its digest recomputed. Without the log key
/// it is used by nothing: not by open, not by a copy (what `report`
/// reads), and `check` names it. With the log key (a dishonest operator)
/// open and a copy resume it, and `check` and a full audit catch it.
#[test]
fn a_tampered_snapshot_is_not_used_without_the_log_key_and_check_catches_it() {
    let dir = closed_store(10);
    let genuine = snapshot(dir.path());
    let (size, root) = (10, genuine[28..60].to_vec());
    let evil = renamed_frame(&genuine);
    // Re-bound by someone who can write the database, without the key.
    rewrite_snapshot(dir.path(), &genuine, &evil, size, &root, None);
    {
        let store = Store::open(dir.path(), config()).unwrap();
        assert!(names(store.auditor()).contains(&"Acme Corp".to_string()));
        let p = snapshot_problem(store.check().expect_err("reported"));
        assert_eq!(p, SnapshotProblem::BadSignature);
    }
    let copy = LogCopy::take(dir.path(), Duration::from_secs(10)).unwrap();
    let a = copy.auditor(AuditConfig::default(), &|_, _| {}).unwrap();
    assert!(names(&a).contains(&"Acme Corp".to_string()));
    assert!(!names(&a).contains(&"Evil Corp".to_string()));
    // Signed by another key: the same.
    let other = SignerKey::from_seed(ORIGIN, SignatureType::Ed25519, &[9; 32]).unwrap();
    rewrite_snapshot(dir.path(), &genuine, &evil, size, &root, Some(&other));
    let copy = LogCopy::take(dir.path(), Duration::from_secs(10)).unwrap();
    let a = copy.auditor(AuditConfig::default(), &|_, _| {}).unwrap();
    assert!(!names(&a).contains(&"Evil Corp".to_string()));
    // Re-bound and signed by the holder of the log key: resumed (the
    // binding is theirs to make), and a full replay proves it wrong.
    rewrite_snapshot(dir.path(), &genuine, &evil, size, &root, Some(&log_key()));
    {
        let store = Store::open(dir.path(), config()).unwrap();
        assert!(names(store.auditor()).contains(&"Evil Corp".to_string()));
        let p = snapshot_problem(store.check().expect_err("reported"));
        assert_eq!(p, SnapshotProblem::DiffersFromReplay);
    }
    let copy = LogCopy::take(dir.path(), Duration::from_secs(10)).unwrap();
    let audited = copy.audit(AuditConfig::default(), &|_, _| {}).unwrap();
    assert!(names(&audited).contains(&"Acme Corp".to_string()));
    assert!(!names(&audited).contains(&"Evil Corp".to_string()));
}

/// A genuine snapshot of an older checkpoint, re-bound to the current
/// checkpoint and re-signed with the log key: not used by open or by a
/// copy (its tree is not the checkpoint's), and `check` reports it.
/// Left bound to its own checkpoint it is simply ignored.
#[test]
fn an_older_snapshot_rebound_to_the_current_checkpoint_is_not_used() {
    let dir = closed_store(10);
    let older = snapshot(dir.path());
    append(dir.path(), &["x", "y"]);
    let current = snapshot(dir.path());
    assert_eq!(u64::from_be_bytes(current[20..28].try_into().unwrap()), 12);
    let key = log_key();
    let frame = &older[156..];
    rewrite_snapshot(dir.path(), &older, frame, 12, &current[28..60], Some(&key));
    let store = Store::open(dir.path(), config()).unwrap();
    assert_eq!(parties(store.auditor()), 12, "replayed, not resumed");
    let p = snapshot_problem(store.check().expect_err("reported"));
    assert_eq!(p, SnapshotProblem::Undecodable);
    drop(store);
    let copy = LogCopy::take(dir.path(), Duration::from_secs(10)).unwrap();
    let a = copy.auditor(AuditConfig::default(), &|_, _| {}).unwrap();
    assert_eq!(parties(&a), 12);
    // Left bound to its own, older checkpoint: ignored, and check is clean.
    rewrite_snapshot(dir.path(), &older, frame, 10, &older[28..60], Some(&key));
    let store = Store::open(dir.path(), config()).unwrap();
    assert_eq!(parties(store.auditor()), 12);
    store.check().unwrap();
}

/// Two writers in one process: while one handle is open, another open
/// (from any thread) or copy waits at most its bound and fails `InUse`;
/// of two opens racing for a closed store exactly one wins.
#[test]
fn two_opens_in_one_process_one_wins_the_other_times_out() {
    let dir = closed_store(3);
    let wait = Duration::from_millis(400);
    let barrier = Barrier::new(2);
    let results: Vec<(Result<Store, StoreError>, Duration)> = std::thread::scope(|s| {
        let open = || {
            barrier.wait();
            let t = Instant::now();
            let r = Store::open(dir.path(), short_wait(400));
            let took = t.elapsed();
            // The winner holds the lock past the loser's bound.
            if r.is_ok() {
                std::thread::sleep(Duration::from_millis(1200));
            }
            (r, took)
        };
        let a = s.spawn(open);
        let b = s.spawn(open);
        vec![a.join().unwrap(), b.join().unwrap()]
    });
    let (won, lost): (Vec<_>, Vec<_>) = results.into_iter().partition(|(r, _)| r.is_ok());
    assert_eq!((won.len(), lost.len()), (1, 1), "exactly one open wins");
    let (loser, took) = &lost[0];
    match loser {
        Err(e @ StoreError::InUse { waited, .. }) => {
            assert!(
                *waited >= wait && *took < wait + Duration::from_secs(2),
                "{e}"
            );
            assert!(!e.is_corruption());
            let text = e.to_string();
            assert!(
                !text.contains("InUse") && !text.contains("waited:"),
                "{text}"
            );
        }
        Err(e) => panic!("the loser failed otherwise: {e}"),
        Ok(_) => unreachable!(),
    }
    let winner = won.into_iter().next().unwrap().0.unwrap();
    // Same thread, while the winner is open: an open and a copy time out.
    let t = Instant::now();
    assert!(matches!(
        Store::open(dir.path(), short_wait(200)),
        Err(StoreError::InUse { .. })
    ));
    assert!(matches!(
        LogCopy::take(dir.path(), Duration::from_millis(200)),
        Err(StoreError::InUse { .. })
    ));
    assert!(t.elapsed() >= Duration::from_millis(400));
    winner.close().unwrap();
    Store::open(dir.path(), config()).expect("free again once closed");
}

/// Error messages never echo the key file, nor Rust debug text of what
/// they read.
#[test]
fn messages_echo_no_key_material_and_no_debug_text() {
    let dir = closed_store(1);
    let key_path = dir.path().join("log.key");
    let key = std::fs::read_to_string(&key_path).unwrap();
    let secret = key.trim_end().rsplit('+').next().unwrap().to_string();
    assert!(secret.len() > 20, "the key's secret part");
    // A damaged key (its last characters changed) and a key with junk
    // after it: refused, and the message shows none of it.
    let mut damaged = key.trim_end().to_string();
    damaged.truncate(damaged.len() - 3);
    damaged.push_str("!!!");
    for bad in [damaged, format!("{}\n{}", key.trim_end(), key.trim_end())] {
        std::fs::write(&key_path, &bad).unwrap();
        let e = Store::open(dir.path(), config()).err().expect("refused");
        let text = e.to_string();
        assert!(matches!(e, StoreError::Key(_)), "{text}");
        assert!(!text.contains(&secret[..20]), "{text}");
        assert!(!text.contains("Malformed"), "{text}");
    }
    // A huge unknown format value is named briefly, without control bytes.
    std::fs::write(&key_path, &key).unwrap();
    {
        let db = forewarn_store::open_db(&dir.path().join("db")).unwrap();
        let mut format = b"\x1b[2Jforewarn-store/v9".to_vec();
        format.extend(std::iter::repeat_n(b'x', 10_000));
        db.insert(b"m:format", format).unwrap();
        db.flush().unwrap();
    }
    let e = Store::open(dir.path(), config()).err().expect("refused");
    let text = e.to_string();
    assert!(matches!(e, StoreError::UnsupportedFormat { .. }), "{text}");
    assert!(text.len() < 200 && !text.contains('\x1b'), "{text}");
}

/// An older mark is checked against the records when the hash tiles are
/// damaged (they are derived state): the store still opens so that
/// `rebuild` can repair them, and a fork is still found.
#[test]
fn an_older_mark_is_checked_without_trusting_the_tiles() {
    let dir = closed_store(10);
    let old_mark = std::fs::read(dir.path().join(MARK_FILE)).unwrap();
    let fork = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), fork.path());
    append(dir.path(), &["x1", "x2"]);
    let drop_tile = |dir: &Path| {
        let db = forewarn_store::open_db(&dir.join("db")).unwrap();
        let mut key = vec![b't', 0];
        key.extend_from_slice(&0u64.to_be_bytes());
        assert!(db.remove(key).unwrap().is_some());
        db.flush().unwrap();
    };
    drop_tile(dir.path());
    std::fs::write(dir.path().join(MARK_FILE), &old_mark).unwrap();
    let mut store = Store::open(dir.path(), config()).expect("opens to be repaired");
    assert!(store.check().unwrap_err().is_corruption());
    store.rebuild().unwrap();
    store.check().unwrap();
    store.close().unwrap();
    assert_eq!(mark_size(dir.path()), 12);
    // Another history from the mark's state on, with its tiles damaged.
    let marked = tempfile::tempdir().unwrap();
    copy_dir(fork.path(), marked.path());
    append(marked.path(), &["x1"]);
    append(fork.path(), &["y1", "y2"]);
    drop_tile(fork.path());
    std::fs::copy(marked.path().join(MARK_FILE), fork.path().join(MARK_FILE)).unwrap();
    expect_corrupt(
        Store::open(fork.path(), config()),
        Corruption::Forked { size: 11 },
    );
}
