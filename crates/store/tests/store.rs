//! The store: append with receipts, reopen, check, rebuild, export and
//! audit the export, and bad input that must change nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use forewarn_ledger::statement::SignedStatement;
use forewarn_ledger::testkit::{ORIGIN, RealisticLog, START, test_key};
use forewarn_ledger::*;
use forewarn_store::{Rejection, Store, StoreConfig};
use forewarn_tlog::hash::Hash;

/// A clock the test controls.
fn clock() -> (Arc<AtomicU64>, forewarn_store::Clock) {
    let t = Arc::new(AtomicU64::new(START + 1_000_000));
    let c = t.clone();
    (t, Arc::new(move || c.load(Ordering::SeqCst)))
}

fn config(clock: forewarn_store::Clock) -> StoreConfig {
    StoreConfig {
        clock,
        ..StoreConfig::default()
    }
}

/// The statements of a generated log (re-signed submissions).
fn statements(records: &[Vec<u8>]) -> Vec<SignedStatement> {
    records
        .iter()
        .map(|r| {
            let rec = Record::from_bytes(r).unwrap();
            SignedStatement {
                bytes: rec.statement,
                signature: rec.signature,
            }
        })
        .collect()
}

/// Appends a generated log one statement at a time with the clock at each
/// record's own log time, so the store holds exactly the generated records
/// (acknowledgements name the leaf hashes of the generated notices).
fn replay_into(
    store: &mut Store,
    t: &AtomicU64,
    records: &[Vec<u8>],
) -> Vec<forewarn_store::Receipt> {
    let mut receipts = Vec::new();
    for (r, st) in records.iter().zip(statements(records)) {
        t.store(Record::from_bytes(r).unwrap().logged_at, Ordering::SeqCst);
        let receipt = store
            .append(&[st])
            .unwrap()
            .remove(0)
            .expect("valid statement accepted");
        assert_eq!(
            &receipt.record, r,
            "the store reproduces the generated record"
        );
        receipts.push(receipt);
    }
    receipts
}

fn fingerprint(dir: &std::path::Path) -> (u64, Vec<u8>) {
    let s = Store::open(dir, StoreConfig::default()).unwrap();
    (s.size(), s.checkpoint().to_vec())
}

#[test]
fn append_receipts_reopen_check_export() {
    let (dir, t, c, mut store) = new_store();
    assert_eq!(store.size(), 0);
    let mut log = RealisticLog::new(3, 10, true);
    log.grow_to(300);
    let receipts = replay_into(&mut store, &t, log.scenario.records());
    assert_eq!(store.size(), log.scenario.records().len() as u64);
    // Every receipt verifies offline with the log key.
    let vkey = store.vkey().clone();
    for r in &receipts {
        let v = receipt::verify(&r.proof, &vkey, None).unwrap();
        assert_eq!(v.record.index, r.index);
        assert_eq!(v.origin, "example.org/ledger");
    }
    // A fresh receipt at the latest checkpoint.
    let latest = store.receipt(5).unwrap().unwrap();
    assert_eq!(
        receipt::verify(&latest.proof, &vkey, None)
            .unwrap()
            .tree_size,
        store.size()
    );
    let root = store.auditor().root();
    store.check().unwrap();
    store.close().unwrap();
    // Reopen: same size, root, checkpoint, from the keyed projections.
    let mut store = Store::open(dir.path(), config(c.clone())).unwrap();
    assert_eq!(store.auditor().root(), root);
    // Rebuilding the projections gives the same state and a clean check.
    let full = store.full_state().unwrap();
    let before = report::build(&full, &AuditPolicy::default(), 0, &root);
    store.rebuild().unwrap();
    let after = report::build(
        &store.full_state().unwrap(),
        &AuditPolicy::default(),
        0,
        &root,
    );
    assert_eq!(before, after);
    store.check().unwrap();
    // Export, then audit the export alone.
    let out = tempfile::tempdir().unwrap();
    let files = store.export_tiles(out.path(), &|_, _| {}).unwrap();
    assert!(files > 3);
    let audited =
        forewarn_store::export::audit_tiles(out.path(), &vkey, AuditConfig::default(), &|_, _| {})
            .unwrap();
    assert_eq!(audited.root(), root);
    let mut replayed = forewarn_ledger::auditor::Auditor::new(AuditConfig {
        origin: Some(ORIGIN.into()),
        ..AuditConfig::default()
    });
    for r in store.records(0, store.size()) {
        replayed.push(&r.unwrap()).unwrap();
    }
    let (mut a, mut b) = (audited.state().clone(), replayed.state().clone());
    (a.checkpoint, b.checkpoint) = (None, None);
    assert!(a == b, "the export audits to the same state as the store");
    // Tampering with any exported file is detected.
    for rel in ["tile/entries/000", "tile/0/000", "checkpoint"] {
        let p = out.path().join(rel);
        let mut bytes = std::fs::read(&p).unwrap();
        let i = bytes.len() / 2;
        bytes[i] ^= 1;
        std::fs::write(&p, &bytes).unwrap();
        assert!(
            forewarn_store::export::audit_tiles(
                out.path(),
                &vkey,
                AuditConfig::default(),
                &|_, _| {}
            )
            .is_err(),
            "tampered {rel} not detected"
        );
        bytes[i] ^= 1;
        std::fs::write(&p, &bytes).unwrap();
    }
}

#[test]
fn bad_statements_are_rejected_and_change_nothing() {
    let (dir, t, c, mut store) = new_store();
    let now = t.load(Ordering::SeqCst);
    let vendor = test_key("vendor");
    let vendor_pk = PublicKey(vendor.verifying_key().to_bytes());
    let sign_for = |origin: &str, event: Event, at: u64, key: &ed25519_dalek::SigningKey| {
        Statement::new(origin, event, at, PublicKey(key.verifying_key().to_bytes()))
            .sign(key)
            .unwrap()
    };
    let sign =
        |event: Event, at: u64, key: &ed25519_dalek::SigningKey| sign_for(ORIGIN, event, at, key);
    let reg = sign(
        Event::PartyRegistered {
            name: "Vendor".into(),
            class: PartyClass::Vendor,
            key: vendor_pk,
        },
        now,
        &vendor,
    );
    let stranger = test_key("stranger finder");
    let stranger_reg = sign(
        Event::PartyRegistered {
            name: "Stranger".into(),
            class: PartyClass::Finder,
            key: PublicKey(stranger.verifying_key().to_bytes()),
        },
        now,
        &stranger,
    );
    // The vendor's registration is cited by its leaf hash, so it is
    // appended first.
    let receipts = store.append(&[reg.clone(), stranger_reg]).unwrap();
    let vendor_cite = Cite::new(
        0,
        statement::leaf_hash(&receipts[0].as_ref().unwrap().record),
    );
    let v2 = test_key("vendor 2");
    let add = sign(
        Event::KeyAdded {
            party: vendor_cite,
            key: PublicKey(v2.verifying_key().to_bytes()),
            possession: statement::prove_possession(ORIGIN, &vendor_cite, &v2),
        },
        now,
        &vendor,
    );
    let revoke = sign(
        Event::KeyRevoked {
            key: vendor_pk,
            effective_at: now,
        },
        now,
        &v2,
    );
    let case = CaseId([1; 16]);
    let open = sign(
        Event::CaseOpened {
            case,
            summary: Sealed::Clear("x".into()),
            product: Sealed::Clear("y".into()),
        },
        now,
        &v2,
    );
    for r in store.append(&[add, revoke, open.clone()]).unwrap() {
        r.unwrap();
    }
    store.close().unwrap();
    let before = fingerprint(dir.path());

    let oversized = SignedStatement {
        bytes: vec![1; 70_000],
        signature: [0; 64],
    };
    let unsigned = SignedStatement {
        bytes: sign(Event::FixReady { case }, now, &v2).bytes,
        signature: [0; 64],
    };
    let mut wrongly = sign(Event::FixReady { case }, now, &v2);
    wrongly.signature = sign(Event::FixReleased { case }, now, &v2).signature;
    type Expect = fn(&Rejection) -> bool;
    let cases: Vec<(&str, SignedStatement, Expect)> = vec![
        (
            "malformed",
            SignedStatement {
                bytes: vec![1, 2, 3],
                signature: [0; 64],
            },
            |r| matches!(r, Rejection::Invalid(f) if matches!(f.kind, IntegrityKind::StatementEncoding(_))),
        ),
        (
            "oversized",
            oversized,
            |r| matches!(r, Rejection::Invalid(f) if matches!(f.kind, IntegrityKind::StatementEncoding(encoding::EncodingError::TooLarge { .. }) | IntegrityKind::RecordEncoding(encoding::EncodingError::TooLarge { .. }))),
        ),
        (
            "unsigned",
            unsigned,
            |r| matches!(r, Rejection::Invalid(f) if f.kind == IntegrityKind::BadSignature),
        ),
        (
            "wrongly signed",
            wrongly,
            |r| matches!(r, Rejection::Invalid(f) if f.kind == IntegrityKind::BadSignature),
        ),
        (
            "revoked key",
            sign(Event::FixReady { case }, now, &vendor),
            |r| matches!(r, Rejection::Invalid(f) if matches!(f.kind, IntegrityKind::RevokedKey { .. })),
        ),
        (
            "unknown key",
            sign(Event::FixReady { case }, now, &test_key("stranger")),
            |r| matches!(r, Rejection::Invalid(f) if matches!(f.kind, IntegrityKind::UnknownKey { .. })),
        ),
        ("replayed", open.clone(), |r| {
            matches!(r, Rejection::Replay { index: 4 })
        }),
        (
            "future-dated",
            sign(Event::FixReady { case }, now + 3_600_000, &v2),
            |r| matches!(r, Rejection::Invalid(f) if matches!(f.kind, IntegrityKind::ClaimedInFuture { .. })),
        ),
        (
            "for another log",
            sign_for("other.example/ledger", Event::FixReady { case }, now, &v2),
            |r| matches!(r, Rejection::Invalid(f) if matches!(&f.kind, IntegrityKind::WrongOrigin { .. })),
        ),
        (
            "not the case's vendor",
            sign(Event::FixReady { case }, now, &stranger),
            |r| matches!(r, Rejection::Invalid(f) if matches!(f.kind, IntegrityKind::Unauthorized { .. })),
        ),
        (
            "key added without possession",
            sign(
                Event::KeyAdded {
                    party: vendor_cite,
                    key: PublicKey(test_key("vendor 3").verifying_key().to_bytes()),
                    possession: statement::prove_possession(ORIGIN, &vendor_cite, &v2),
                },
                now,
                &v2,
            ),
            |r| matches!(r, Rejection::Invalid(f) if matches!(f.kind, IntegrityKind::BadPossession { .. })),
        ),
        (
            "wrong leaf hash",
            sign(
                Event::Annotation {
                    record: Cite::new(0, Hash([9; 32])),
                    kind: AnnotationKind::Comment,
                    text: "x".into(),
                },
                now,
                &v2,
            ),
            |r| matches!(r, Rejection::Invalid(f) if matches!(f.kind, IntegrityKind::CiteMismatch { .. })),
        ),
        (
            "implausible time",
            sign(Event::FixReady { case }, 1_000, &v2),
            |r| matches!(r, Rejection::Invalid(f) if matches!(f.kind, IntegrityKind::ImplausibleTime { .. })),
        ),
        (
            "dangling reference",
            sign(
                Event::EmbargoAccepted {
                    embargo: Cite::new(99, Hash([0; 32])),
                },
                now,
                &v2,
            ),
            |r| matches!(r, Rejection::Invalid(f) if matches!(f.kind, IntegrityKind::BadReference { .. })),
        ),
        (
            "unknown case",
            sign(
                Event::FixReady {
                    case: CaseId([9; 16]),
                },
                now,
                &v2,
            ),
            |r| matches!(r, Rejection::Invalid(f) if matches!(f.kind, IntegrityKind::UnknownCase { .. })),
        ),
    ];
    for (what, statement, expected) in cases {
        let mut store = Store::open(dir.path(), config(c.clone())).unwrap();
        let result = store.append(std::slice::from_ref(&statement)).unwrap();
        let rejection = result[0].as_ref().expect_err(what);
        assert!(expected(rejection), "{what}: {rejection:?}");
        assert!(!rejection.to_string().is_empty());
        drop(store);
        assert_eq!(fingerprint(dir.path()), before, "{what} changed the store");
    }
    // Duplicates within one submission: the first is accepted, the second refused.
    let mut store = Store::open(dir.path(), config(c)).unwrap();
    let fix = sign(Event::FixReady { case }, now, &v2);
    let r = store.append(&[fix.clone(), fix]).unwrap();
    assert!(r[0].is_ok());
    assert_eq!(r[1].as_ref().unwrap_err(), &Rejection::DuplicateInBatch);

    // All or nothing: a refused statement refuses its whole batch, and the
    // valid statement before it is neither written nor kept in memory.
    let size = store.size();
    let root = store.auditor().root();
    let saved = store.auditor().save();
    let projections = store.full_state().unwrap();
    let good = sign(Event::FixReleased { case }, now, &v2);
    let bad = sign(Event::FixReleased { case }, now, &stranger);
    let err = store.append_all(&[good.clone(), bad]).expect_err("refused");
    assert!(
        matches!(
            &err,
            forewarn_store::StoreError::RejectedInBatch { position: 1, rejection }
                if matches!(&**rejection, Rejection::Invalid(f) if matches!(f.kind, IntegrityKind::Unauthorized { .. }))
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("statement 2 of the batch"),
        "{err}"
    );
    assert_eq!(store.size(), size);
    assert_eq!(store.auditor().size(), size);
    assert_eq!(store.auditor().root(), root);
    assert!(
        store.auditor().save() == saved,
        "the state was put back whole"
    );
    assert!(
        store.full_state().unwrap() == projections,
        "nothing was written"
    );
    // A batch of one refused statement needs no copy: the auditor's own
    // refusal changes no state.
    let bad = sign(Event::FixReleased { case }, now, &stranger);
    assert!(matches!(
        store.append_all(&[bad]),
        Err(forewarn_store::StoreError::RejectedInBatch { position: 0, .. })
    ));
    assert!(store.auditor().save() == saved);
    store.check().unwrap();
    // The valid statement alone is appended next.
    let receipts = store.append_all(&[good]).unwrap();
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0].index, size);
}

/// A ledger closed at a size that is a multiple of 256 (its auditor's seen
/// window then ends on a full snapshot interval) reopens from its saved
/// state and passes `check`, as at any other size.
#[test]
fn a_store_closed_at_a_multiple_of_256_records_checks_clean() {
    let (dir, _t, c, mut store) = new_store();
    let regs: Vec<SignedStatement> = (0..256)
        .map(|i| forewarn_ledger::testkit::registration(&format!("party {i}")))
        .collect();
    for chunk in regs.chunks(64) {
        for r in store.append(chunk).unwrap() {
            r.expect("a valid registration");
        }
    }
    assert_eq!(store.size(), 256);
    let root = store.auditor().root();
    store.close().unwrap();
    let store = Store::open(dir.path(), config(c)).unwrap();
    assert_eq!(store.auditor().root(), root);
    store
        .check()
        .unwrap_or_else(|e| panic!("a clean ledger of 256 records: {e}"));
}

/// A ledger with no records checks clean, before and after a reopen:
/// its replay folds nothing, yet its projections are compared.
#[test]
fn an_empty_store_checks_clean() {
    let (dir, _t, c, store) = new_store();
    let a = store
        .check()
        .unwrap_or_else(|e| panic!("an empty ledger: {e}"));
    assert_eq!(a.size, 0);
    store.close().unwrap();
    let store = Store::open(dir.path(), config(c)).unwrap();
    assert_eq!(store.check().unwrap().size, 0);
}

/// A new, empty store in a temporary directory, on a test clock.
fn new_store() -> (
    tempfile::TempDir,
    Arc<AtomicU64>,
    forewarn_store::Clock,
    Store,
) {
    let dir = tempfile::tempdir().unwrap();
    let (t, c) = clock();
    let store = Store::init(
        dir.path(),
        "example.org/ledger",
        &[7; 32],
        config(c.clone()),
    )
    .unwrap();
    (dir, t, c, store)
}

/// A closed store holding a small realistic log: its directory, clock and
/// number of records.
fn closed_store() -> (tempfile::TempDir, forewarn_store::Clock, u64) {
    let (dir, t, c, mut store) = new_store();
    let mut log = RealisticLog::new(4, 8, true);
    log.grow_to(50);
    replay_into(&mut store, &t, log.scenario.records());
    drop(store);
    (dir, c, log.scenario.records().len() as u64)
}

#[test]
fn a_damaged_store_is_refused() {
    let (dir, c, _) = closed_store();
    // Another key in place of the log key.
    let key_path = dir.path().join(forewarn_store::KEY_FILE);
    let original = std::fs::read(&key_path).unwrap();
    std::fs::remove_file(&key_path).unwrap();
    let other = forewarn_tlog::note::SignerKey::from_seed(
        "example.org/ledger",
        forewarn_tlog::note::SignatureType::Ed25519,
        &[8; 32],
    )
    .unwrap();
    std::fs::write(&key_path, other.to_text().as_bytes()).unwrap();
    assert!(matches!(
        Store::open(dir.path(), config(c.clone())),
        Err(forewarn_store::StoreError::Key(_))
    ));
    std::fs::write(&key_path, &original).unwrap();
    // A record changed behind the store's back.
    {
        let db = forewarn_store::open_db(&dir.path().join("db")).unwrap();
        let mut k = vec![b'e'];
        k.extend_from_slice(&0u64.to_be_bytes());
        let mut v = db.get(&k).unwrap().unwrap().to_vec();
        let middle = v.len() / 2;
        v[middle] ^= 1;
        db.insert(k, v).unwrap();
        db.flush().unwrap();
    }
    // Opening reads no old record (its cost does not grow with the log);
    // `check`, which replays every record, finds the damage.
    let store = Store::open(dir.path(), config(c)).unwrap();
    let err = store.check().expect_err("found");
    assert!(err.is_corruption(), "{err}");
    drop(store);
    // Not a store at all.
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        Store::open(empty.path(), StoreConfig::default()),
        Err(forewarn_store::StoreError::NotAStore(_))
    ));
    assert!(matches!(
        Store::init(dir.path(), "x.org/y", &[1; 32], StoreConfig::default()),
        Err(forewarn_store::StoreError::AlreadyExists(_))
    ));
}

#[test]
fn stored_bundles_are_checked_frames_and_old_formats_are_named() {
    let (dir, c, records) = closed_store();
    let mut bundle0 = vec![b'e'];
    bundle0.extend_from_slice(&0u64.to_be_bytes());
    let db_path = dir.path().join("db");
    let replace = |key: &[u8], value: &[u8]| -> Vec<u8> {
        let db = forewarn_store::open_db(&db_path).unwrap();
        let old = db.insert(key, value).unwrap().unwrap().to_vec();
        db.flush().unwrap();
        old
    };
    let refused = |what: &str| {
        let err = Store::open(dir.path(), config(c.clone()))
            .err()
            .expect("refused");
        let text = err.to_string();
        assert!(
            matches!(
                err,
                forewarn_store::StoreError::Corrupt { .. }
                    | forewarn_store::StoreError::UnsupportedFormat { .. }
            ) && text.contains(what),
            "{text}"
        );
    };
    // A frame declaring more than a bundle can hold (17 MB of zeros packs
    // into a few hundred bytes): refused before anything is allocated.
    let bomb = zstd::bulk::compress(&vec![0u8; 17 << 20], 19).unwrap();
    assert!(bomb.len() < 4096);
    let original = replace(&bundle0, &bomb);
    refused("more than the limit");
    // Not a zstd frame at all.
    replace(&bundle0, b"plain bytes, not a frame");
    refused("not a zstd frame");
    replace(&bundle0, &original);
    // A store written by the earlier format is named as such.
    let format = replace(b"m:format", b"forewarn-store/v1");
    refused("forewarn-store/v1");
    replace(b"m:format", &format);
    // Restored, it opens again and checks clean.
    let store = Store::open(dir.path(), config(c)).unwrap();
    assert_eq!(store.size(), records);
    store.check().unwrap();
}
