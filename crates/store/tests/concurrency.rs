//! Readers while the sequencer commits, submissions awaited as futures,
//! and the database lock: a long read does not lock writers out.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use forewarn_ledger::statement::{SignedStatement, leaf_hash};
use forewarn_ledger::testkit::registration;
use forewarn_ledger::*;
use forewarn_store::{LogCopy, LogReader, Sequencer, Store, StoreConfig, StoreError};
use forewarn_tlog::checkpoint::SignedCheckpoint;
use forewarn_tlog::hash::Hash;
use forewarn_tlog::tree::{verify_consistency, verify_inclusion};

mod common;
use common::{ORIGIN, config};

/// One read of the published state, checked as a tlog-tiles client would:
/// the checkpoint's signature, a record's inclusion (through its entry
/// bundle, its level-0 hash tile and an inclusion proof), and the
/// consistency of this checkpoint with the previous one read.
fn read_and_verify(reader: &LogReader, previous: Option<(u64, Hash)>, pick: u64) -> (u64, Hash) {
    let state = reader.state();
    let signed = SignedCheckpoint::open(&state.checkpoint, reader.vkey(), Some(ORIGIN), &[])
        .expect("the published checkpoint is signed by the log");
    let (size, root) = (signed.checkpoint.size(), *signed.checkpoint.root());
    assert_eq!((size, root), (state.size, state.root));
    if size > 0 {
        let index = pick % size;
        let bundle = index / 256;
        let width = (size - bundle * 256).min(256) as u16;
        let entries = reader.entry_bundle(bundle, width).expect("bundle");
        let parsed = forewarn_tlog::tile::parse_entry_bundle(&entries, usize::from(width))
            .expect("exact width");
        let record = parsed[(index % 256) as usize];
        let leaf = leaf_hash(record);
        // The level-0 tile holds the leaf hashes, exactly `width` of them.
        let tile = reader.tile(0, bundle, width).expect("tile");
        assert_eq!(tile.len(), usize::from(width) * 32);
        let at = (index % 256) as usize * 32;
        assert_eq!(&tile[at..at + 32], &leaf.0);
        let proof = reader
            .inclusion_proof(index, size)
            .expect("inclusion proof");
        verify_inclusion(size, index, &leaf, &proof, &root).expect("inclusion verifies");
        assert_eq!(reader.record(index).unwrap().as_deref(), Some(record));
    }
    if let Some((old, old_root)) = previous {
        assert!(
            size >= old,
            "the published size went back from {old} to {size}"
        );
        let proof = reader
            .consistency_proof(old, size)
            .expect("consistency proof");
        verify_consistency(old, size, &old_root, &root, &proof).expect("consistency verifies");
    }
    (size, root)
}

#[test]
fn readers_see_only_durable_signed_states_while_the_sequencer_commits() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::init(dir.path(), ORIGIN, &[7; 32], config()).unwrap();
    // A reader taken before the sequencer starts follows its commits.
    let early = store.reader();
    let seq = Sequencer::start(store, 64);
    let reader = seq.reader();
    let done = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    const SUBMITTERS: usize = 4;
    const BATCHES: usize = 30;
    const PER_BATCH: usize = 12;
    let deadline = Instant::now() + Duration::from_secs(120);
    std::thread::scope(|s| {
        for r in [reader.clone(), early.clone()] {
            let (done, reads) = (done.clone(), reads.clone());
            s.spawn(move || {
                let mut previous = None;
                let mut pick = 0x9e37_79b9_7f4a_7c15u64;
                // Bounded: stops when the writers are done (plus one last
                // read), or at the deadline.
                while Instant::now() < deadline {
                    let finished = done.load(Ordering::SeqCst);
                    pick = pick
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    previous = Some(read_and_verify(&r, previous, pick >> 11));
                    reads.fetch_add(1, Ordering::Relaxed);
                    if finished {
                        break;
                    }
                }
            });
        }
        let writers: Vec<_> = (0..SUBMITTERS)
            .map(|t| {
                let sub = seq.submitter();
                s.spawn(move || {
                    for b in 0..BATCHES {
                        let batch: Vec<SignedStatement> = (0..PER_BATCH)
                            .map(|i| registration(&format!("party {t}-{b}-{i}")))
                            .collect();
                        let results = sub.submit(batch).wait().expect("committed");
                        assert!(results.iter().all(Result::is_ok));
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        done.store(true, Ordering::SeqCst);
    });
    let total = (SUBMITTERS * BATCHES * PER_BATCH) as u64;
    assert!(Instant::now() < deadline, "the test ran into its deadline");
    assert!(reads.load(Ordering::Relaxed) >= 2, "the readers ran");
    assert_eq!(reader.state().size, total);
    assert_eq!(early.state(), reader.state());
    // Beyond the published size: a clean error, not an answer.
    assert!(matches!(
        reader.inclusion_proof(0, total + 1),
        Err(StoreError::OutOfRange { .. })
    ));
    assert!(matches!(
        reader.tile(0, total / 256 + 1, 1),
        Err(StoreError::OutOfRange { .. })
    ));
    let store = seq.stop().unwrap();
    assert_eq!(store.size(), total);
    store.check().unwrap();
}

#[test]
fn a_submission_is_a_future() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::init(dir.path(), ORIGIN, &[7; 32], config()).unwrap();
    let seq = Sequencer::start(store, 64);
    let sub = seq.submitter();
    let pending = sub.submit(vec![registration("async party")]);
    // A minimal executor: poll, park until woken.
    let answer = block_on(pending).expect("committed");
    assert_eq!(answer.len(), 1);
    let receipt = answer.into_iter().next().unwrap().unwrap();
    let v = forewarn_ledger::receipt::verify(&receipt.proof, seq.reader().vkey(), None).unwrap();
    assert_eq!(v.record.index, 0);
    // Resubmitting is refused with the typed reason.
    let again = block_on(sub.submit(vec![registration("async party")])).unwrap();
    assert!(matches!(
        again[0],
        Err(forewarn_store::Rejection::Replay { index: 0 })
    ));
    drop(sub);
    assert_eq!(seq.stop().unwrap().size(), 1);
}

/// The sequencer's auditor knows the store's origin before any record: a
/// statement for another log is refused, even as record 0, with the
/// auditor's typed reason and message, and the valid statement beside it
/// in the same submission is committed.
#[test]
fn the_sequencer_refuses_another_logs_statement() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::init(dir.path(), ORIGIN, &[7; 32], config()).unwrap();
    let seq = Sequencer::start(store, 64);
    let sub = seq.submitter();
    let key = forewarn_ledger::testkit::test_key("elsewhere");
    let pk = forewarn_ledger::PublicKey(key.verifying_key().to_bytes());
    let foreign = forewarn_ledger::Statement::new(
        "other.example/ledger",
        forewarn_ledger::Event::PartyRegistered {
            name: "Elsewhere".into(),
            class: forewarn_ledger::PartyClass::Vendor,
            key: pk,
        },
        forewarn_ledger::testkit::START,
        pk,
    )
    .sign(&key)
    .unwrap();
    let answer = sub
        .submit(vec![foreign, registration("here")])
        .wait()
        .unwrap();
    let rejection = answer[0].as_ref().expect_err("another log's statement");
    assert!(
        matches!(
            rejection,
            forewarn_store::Rejection::Invalid(f)
                if matches!(&f.kind, forewarn_ledger::IntegrityKind::WrongOrigin { expected, found }
                    if expected == ORIGIN && found == "other.example/ledger")
        ),
        "{rejection:?}"
    );
    assert_eq!(
        rejection.to_string(),
        "statement is for the log \"other.example/ledger\", not this log \"example.org/ledger\""
    );
    assert_eq!(answer[1].as_ref().unwrap().index, 0);
    drop(sub);
    assert_eq!(seq.stop().unwrap().size(), 1);
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        match f.as_mut().poll(&mut cx) {
            Poll::Ready(v) => return v,
            Poll::Pending => std::thread::park_timeout(Duration::from_millis(100)),
        }
    }
}

/// A handle that holds the lock, a writer that waits for it.
#[test]
fn a_writer_waits_a_bounded_time_for_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::init(dir.path(), ORIGIN, &[7; 32], config()).unwrap();
    let db = dir.path().join("db");
    assert!(
        forewarn_store::lock_held(&db).unwrap(),
        "the open store holds the lock"
    );
    // A second open with a short wait fails as InUse, after waiting.
    let t = Instant::now();
    let short = StoreConfig {
        lock_wait: Duration::from_millis(300),
        ..config()
    };
    let err = Store::open(dir.path(), short).err().expect("in use");
    assert!(matches!(err, StoreError::InUse { .. }), "{err}");
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert!(!err.is_corruption());
    // With the holder gone within the wait, the open succeeds.
    let holder = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        store.close().unwrap();
    });
    let reopened = Store::open(dir.path(), config()).expect("opened after the holder closed");
    holder.join().unwrap();
    assert_eq!(reopened.size(), 0);
}

/// A long audit of a copy does not hold the database: a writer opens and
/// appends while it runs.
#[test]
fn a_long_read_does_not_lock_writers_out() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::init(dir.path(), ORIGIN, &[7; 32], config()).unwrap();
    let batch: Vec<SignedStatement> = (0..300).map(|i| registration(&format!("p{i}"))).collect();
    assert!(store.append(&batch).unwrap().iter().all(Result::is_ok));
    store.close().unwrap();
    let copy = LogCopy::take(dir.path(), Duration::from_secs(10)).unwrap();
    assert_eq!(copy.state().size, 300);
    let auditing = AtomicBool::new(true);
    std::thread::scope(|s| {
        let audit = s.spawn(|| {
            // Slow on purpose: every chunk waits, so the audit lasts
            // longer than a writer's whole open-append-close.
            let a = copy
                .audit(AuditConfig::default(), &|_, _| {
                    std::thread::sleep(Duration::from_millis(1500));
                })
                .unwrap();
            auditing.store(false, Ordering::SeqCst);
            a
        });
        let short = StoreConfig {
            lock_wait: Duration::from_millis(500),
            ..config()
        };
        let mut writer = Store::open(dir.path(), short).expect("the writer is not locked out");
        assert!(
            auditing.load(Ordering::SeqCst),
            "the audit was still running"
        );
        writer.append_one(registration("during the audit")).unwrap();
        writer.close().unwrap();
        let a = audit.join().unwrap();
        assert_eq!(a.size(), 300, "the copy audits its own signed state");
    });
    // The store's projections equal the audit's replay of the same log.
    let copy = LogCopy::take(dir.path(), Duration::from_secs(10)).unwrap();
    assert_eq!(copy.state().size, 301);
    let audited = copy.audit(AuditConfig::default(), &|_, _| {}).unwrap();
    let store = Store::open(dir.path(), config()).unwrap();
    let projected = store.full_state().unwrap();
    assert_eq!(store.auditor().root(), audited.root());
    assert!(projected.parties == audited.state().parties);
    assert!(projected.cases == audited.state().cases);
    store.check().unwrap();
}

/// Stored bundles and partial tiles grow in place: a read of width W
/// returns exactly W entries or hashes from a wider stored value, and a
/// stored value narrower than W is reported as damage, not answered.
#[test]
fn reads_take_exactly_their_width() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::init(dir.path(), ORIGIN, &[7; 32], config()).unwrap();
    let batch: Vec<SignedStatement> = (0..20).map(|i| registration(&format!("w{i}"))).collect();
    let receipts: Vec<_> = store
        .append(&batch)
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let reader = store.reader();
    // The tree of 5 records, served from the stored values of 20.
    let bundle = reader.entry_bundle(0, 5).unwrap();
    let entries = forewarn_tlog::tile::parse_entry_bundle(&bundle, 5).expect("exactly 5 entries");
    for (e, r) in entries.iter().zip(&receipts) {
        assert_eq!(*e, r.record.as_slice());
    }
    let tile = reader.tile(0, 0, 5).unwrap();
    assert_eq!(tile.len(), 5 * 32);
    for (i, r) in receipts.iter().take(5).enumerate() {
        assert_eq!(&tile[i * 32..i * 32 + 32], &leaf_hash(&r.record).0);
    }
    // Beyond the published tree, or a width outside 1..=256: refused.
    for (index, width) in [(0u64, 21u16), (1, 1), (0, 0), (0, 257)] {
        assert!(matches!(
            reader.tile(0, index, width),
            Err(StoreError::OutOfRange { .. })
        ));
        assert!(matches!(
            reader.entry_bundle(index, width),
            Err(StoreError::OutOfRange { .. })
        ));
    }
    drop(reader);
    store.close().unwrap();
    // A stored tile narrower than the tree needs.
    {
        let db = forewarn_store::open_db(&dir.path().join("db")).unwrap();
        let mut key = vec![b't', 0];
        key.extend_from_slice(&0u64.to_be_bytes());
        let v = db.get(&key).unwrap().unwrap();
        db.insert(&key, &v[..10 * 32]).unwrap();
        db.flush().unwrap();
    }
    // The store loads its recent leaves from the level-0 tiles at open, so
    // it refuses to open on one narrower than the tree (the leaf at index
    // 10 is missing), rather than serve or sequence from it; `rebuild`
    // repairs it from the records.
    let err = Store::open(dir.path(), config()).err().expect("refused");
    assert!(
        matches!(
            err,
            StoreError::Corrupt {
                what: forewarn_store::Corruption::ShortTile {
                    got: 320,
                    want: 352
                },
                ..
            }
        ),
        "{err}"
    );
    let store = Store::open_and_rebuild(dir.path(), config()).unwrap();
    assert_eq!(store.reader().tile(0, 0, 20).unwrap().len(), 20 * 32);
    assert!(store.reader().inclusion_proof(15, 20).is_ok());
    store.check().unwrap();
}
