//! The store under attack: a database rolled back or forked behind its
//! high-water mark, garbage from readers' clients, tampered projections,
//! two writers at once. Each test is one attack and what must stop it.

use std::path::Path;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use forewarn_ledger::auditor::AuditState;
use forewarn_ledger::testkit::registration;
use forewarn_ledger::*;
use forewarn_store::{Corruption, LogCopy, MARK_FILE, Place, Store, StoreConfig, StoreError};
use forewarn_tlog::checkpoint::SignedCheckpoint;

mod common;
use common::{ORIGIN, config, copy_dir, sealed};

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

/// Rewrites every stored value whose payload contains `from`, replacing it
/// by `to` (same length); with `reseal` the tag is recomputed with the log
/// key (its holder), else the old tag is kept (anyone who can write the
/// database). Returns the keys changed.
fn edit_projections(dir: &Path, prefix: u8, from: &[u8], to: &[u8], reseal: bool) -> Vec<Vec<u8>> {
    let db = forewarn_store::open_db(&dir.join("db")).unwrap();
    let mut changed = Vec::new();
    for item in db.scan_prefix([prefix]) {
        let (k, v) = item.unwrap();
        let (payload, tag) = v.split_at(v.len() - 16);
        let Some(at) = payload.windows(from.len()).position(|w| w == from) else {
            continue;
        };
        let mut p = payload.to_vec();
        p[at..at + to.len()].copy_from_slice(to);
        let value = if reseal {
            sealed(&k, &p)
        } else {
            let mut v = p.clone();
            v.extend_from_slice(tag);
            v
        };
        db.insert(&k, value).unwrap();
        changed.push(k.to_vec());
    }
    db.flush().unwrap();
    changed
}

fn names(state: &AuditState) -> Vec<String> {
    state.parties.values().map(|p| p.name.clone()).collect()
}

fn corruption(err: StoreError) -> (Corruption, Place) {
    match err {
        StoreError::Corrupt { what, at } => (what, at),
        e => panic!("not a corruption: {e}"),
    }
}

/// A party's projection edited ("Acme Corp" becomes "Evil Corp") by
/// someone who can write the database. Without the log key the tag no
/// longer fits: the store refuses to open (what every step, report and
/// `check` does first). With the log key (a dishonest operator) the tag
/// fits, and the digest of parties and keys in `m:hot` does not. Either
/// way `rebuild` repairs it from the records, and a full audit never saw it.
#[test]
fn an_edited_party_projection_is_refused_and_rebuilt() {
    for reseal in [false, true] {
        let dir = closed_store(10);
        let changed = edit_projections(dir.path(), b'p', b"Acme Corp", b"Evil Corp", reseal);
        assert_eq!(changed.len(), 1);
        let err = Store::open(dir.path(), config()).err().expect("refused");
        assert!(err.is_corruption(), "{err}");
        let (what, at) = corruption(err);
        if reseal {
            assert_eq!(what, Corruption::PartiesDigest);
        } else {
            assert_eq!(what, Corruption::BadProjectionTag);
            assert!(
                matches!(at, Place::Projection { ref key } if key.starts_with("p:")),
                "{at}"
            );
        }
        let copy = LogCopy::take(dir.path(), Duration::from_secs(10)).unwrap();
        let audited = copy.audit(AuditConfig::default(), &|_, _| {}).unwrap();
        assert!(names(audited.state()).contains(&"Acme Corp".to_string()));
        let store = Store::open_and_rebuild(dir.path(), config()).unwrap();
        store.check().unwrap();
        let names = names(&store.full_state().unwrap());
        assert!(names.contains(&"Acme Corp".to_string()));
        assert!(!names.contains(&"Evil Corp".to_string()));
    }
}

/// A case projection edited and re-sealed by the log key's holder opens
/// (only the key holder can do it, and the store cannot tell a value it
/// wrote itself), but `check` compares it with a replay and names it, and
/// `rebuild` puts back the replay's. Edited without the key, the entry is
/// refused as soon as anything reads it.
#[test]
fn an_edited_case_projection_is_found_by_check_and_rebuilt() {
    let dir = closed_store(3);
    let mut store = Store::open(dir.path(), config()).unwrap();
    // Acme Corp (record 0, a vendor) opens a case and proposes an embargo.
    let acme = forewarn_ledger::testkit::test_key("Acme Corp");
    let pk = PublicKey(acme.verifying_key().to_bytes());
    let sign = |event| {
        statement::Statement::new(ORIGIN, event, forewarn_ledger::testkit::START, pk)
            .sign(&acme)
            .unwrap()
    };
    let case = CaseId([5; 16]);
    for r in store
        .append(&[
            sign(Event::CaseOpened {
                case,
                summary: Sealed::Clear("a flaw".into()),
                product: Sealed::Clear("a product".into()),
            }),
            sign(Event::EmbargoProposed {
                case,
                ends_at: forewarn_ledger::testkit::START + 90 * 86_400_000,
            }),
        ])
        .unwrap()
    {
        r.unwrap();
    }
    store.check().unwrap();
    let full = store.full_state().unwrap();
    assert_eq!(full.cases.len(), 1);
    let key = [&b"x"[..], &case.0].concat();
    store.close().unwrap();
    // The key holder changes the entry's last byte (any change of content
    // will do) and seals it again.
    let db = forewarn_store::open_db(&dir.path().join("db")).unwrap();
    let v = db.get(&key).unwrap().unwrap();
    let mut payload = v[..v.len() - 16].to_vec();
    let last = payload.len() - 1;
    payload[last] ^= 1;
    db.insert(&key, sealed(&key, &payload)).unwrap();
    db.flush().unwrap();
    drop(db);
    let store = Store::open(dir.path(), config()).unwrap();
    let (what, at) = corruption(store.check().expect_err("found"));
    assert!(
        matches!(what, Corruption::ProjectionDiffers | Corruption::Malformed),
        "{what}"
    );
    assert!(
        matches!(at, Place::Projection { ref key } if key.starts_with("x:")),
        "{at}"
    );
    drop(store);
    let store = Store::open_and_rebuild(dir.path(), config()).unwrap();
    store.check().unwrap();
    assert!(store.full_state().unwrap() == full);
    store.close().unwrap();
    // Without the key: the tag is wrong, and reading the case says so.
    let db = forewarn_store::open_db(&dir.path().join("db")).unwrap();
    let mut v = db.get(&key).unwrap().unwrap().to_vec();
    v[0] ^= 1;
    db.insert(&key, v).unwrap();
    db.flush().unwrap();
    drop(db);
    let store = Store::open(dir.path(), config()).unwrap();
    let (what, _) = corruption(store.state_of_cases(&[case]).expect_err("refused"));
    assert_eq!(what, Corruption::BadProjectionTag);
    let (what, _) = corruption(store.check().expect_err("found"));
    assert_eq!(what, Corruption::BadProjectionTag);
}

/// A projection value left over where a replay implies none (a case that
/// was never opened, sealed with the log key) is found by `check`, and
/// `rebuild` removes it.
#[test]
fn a_left_over_projection_is_found_by_check_and_removed_by_rebuild() {
    let dir = closed_store(3);
    // The case list of party 0 (chunk 0), naming a case opened by record 1.
    let key = [&b"q"[..], &[0u8; 8], &[0u8; 4]].concat();
    let link = [&1u64.to_be_bytes()[..], &[9u8; 16]].concat();
    let db = forewarn_store::open_db(&dir.path().join("db")).unwrap();
    db.insert(&key, sealed(&key, &link)).unwrap();
    db.flush().unwrap();
    drop(db);
    let store = Store::open(dir.path(), config()).unwrap();
    let (what, at) = corruption(store.check().expect_err("found"));
    assert_eq!(what, Corruption::ProjectionDiffers);
    assert!(
        matches!(at, Place::Projection { ref key } if key.starts_with("q:")),
        "{at}"
    );
    drop(store);
    let store = Store::open_and_rebuild(dir.path(), config()).unwrap();
    store.check().unwrap();
}

/// `check` reads each kind of value in key order beside the values a
/// replay implies, in the same order: a duplicate entry added before the
/// first, between two, or after the last (sealed with the log key, so
/// only the comparison can find it) is named exactly, and so is each
/// entry deleted at those places.
#[test]
fn check_names_the_exact_extra_or_missing_value_wherever_it_is() {
    let pristine = closed_store(40);
    let stored: Vec<Vec<u8>> = {
        let db = forewarn_store::open_db(&pristine.path().join("db")).unwrap();
        let keys = db
            .scan_prefix(b"s")
            .map(|kv| kv.unwrap().0.to_vec())
            .collect();
        drop(db);
        keys
    };
    assert_eq!(stored.len(), 40, "one duplicate entry per statement");
    let between = |a: &[u8], b: &[u8]| -> Vec<u8> {
        // A key strictly between two: `a` with one more byte.
        let mut k = a.to_vec();
        k.push(0);
        assert!(k.as_slice() > a && k.as_slice() < b);
        k
    };
    let mut last = stored[39].clone();
    last.push(0);
    let extras = [
        [&b"s"[..], &[0u8; 0]].concat(),
        between(&stored[19], &stored[20]),
        last,
    ];
    let shown = |k: &[u8]| {
        let hex: String = k[1..].iter().map(|b| format!("{b:02x}")).collect();
        format!("s:{hex}")
    };
    for extra in extras {
        let work = tempfile::tempdir().unwrap();
        copy_dir(pristine.path(), work.path());
        let db = forewarn_store::open_db(&work.path().join("db")).unwrap();
        db.insert(&extra, sealed(&extra, &7u64.to_be_bytes()))
            .unwrap();
        db.flush().unwrap();
        drop(db);
        let store = Store::open(work.path(), config()).unwrap();
        let (what, at) = corruption(store.check().expect_err("an extra value"));
        assert_eq!(what, Corruption::ProjectionDiffers, "{}", shown(&extra));
        assert!(
            matches!(at, Place::Projection { ref key } if *key == shown(&extra)),
            "{at} for {}",
            shown(&extra)
        );
    }
    for gone in [&stored[0], &stored[20], &stored[39]] {
        let work = tempfile::tempdir().unwrap();
        copy_dir(pristine.path(), work.path());
        let db = forewarn_store::open_db(&work.path().join("db")).unwrap();
        db.remove(gone).unwrap();
        db.flush().unwrap();
        drop(db);
        let store = Store::open(work.path(), config()).unwrap();
        let (what, at) = corruption(store.check().expect_err("a missing value"));
        assert_eq!(what, Corruption::Missing, "{}", shown(gone));
        assert!(
            matches!(at, Place::Projection { ref key } if *key == shown(gone)),
            "{at} for {}",
            shown(gone)
        );
    }
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
    // The tiles hold the recent leaves the store loads at open: it refuses
    // to open for steps, and `rebuild` (which trusts only the records)
    // repairs them.
    let err = Store::open(dir.path(), config()).err().expect("refused");
    assert!(err.is_corruption(), "{err}");
    let store = Store::open_and_rebuild(dir.path(), config()).expect("opens to be repaired");
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
