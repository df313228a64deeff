//! The paged working set under attack (docs/FORMAT.md §20): statements
//! crafted to reach state a step might not have loaded, a database edited
//! or rolled back by someone without `log.key`, and a commit cut by a
//! failing read. Each verdict of the store is compared with a full
//! in-memory auditor fed the same statements; each damaged database must
//! be refused, never used.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ed25519_dalek::SigningKey;
use forewarn_ledger::auditor::{AuditConfig, Auditor};
use forewarn_ledger::statement::{leaf_hash, prove_possession};
use forewarn_ledger::testkit::{START, test_key};
use forewarn_ledger::*;
use forewarn_store::{Corruption, LogCopy, Store, StoreError};
use forewarn_tlog::hash::Hash;

mod common;
use common::{ORIGIN, config, sealed};

/// A store and a full in-memory auditor fed the same statements.
struct Twin {
    dir: tempfile::TempDir,
    store: Option<Store>,
    full: Auditor,
    leaves: Vec<Hash>,
    claimed: u64,
    now: Arc<AtomicU64>,
}

impl Twin {
    fn new() -> Twin {
        let dir = tempfile::tempdir().unwrap();
        let now = Arc::new(AtomicU64::new(START + 1_000_000));
        let store = Store::init(dir.path(), ORIGIN, &[7; 32], clocked(&now)).unwrap();
        Twin {
            dir,
            now,
            store: Some(store),
            full: Auditor::new(AuditConfig {
                origin: Some(ORIGIN.into()),
                ..AuditConfig::default()
            }),
            leaves: Vec::new(),
            claimed: START + 900_000,
        }
    }

    /// The log's clock an hour on; the next statements are claimed just
    /// before it.
    fn tick(&mut self) -> u64 {
        let now = self.now.fetch_add(3_600_000, Ordering::SeqCst) + 3_600_000;
        self.claimed = now - 100_000;
        now
    }

    fn store(&mut self) -> &mut Store {
        self.store.as_mut().unwrap()
    }

    /// A statement of `event` signed by `key`, each claimed a millisecond
    /// after the last (so no two are the same bytes unless asked).
    fn sign(&mut self, key: &SigningKey, event: Event) -> SignedStatement {
        self.claimed += 1;
        self.sign_at(key, event, self.claimed)
    }

    fn sign_at(&self, key: &SigningKey, event: Event, at: u64) -> SignedStatement {
        let pk = PublicKey(key.verifying_key().to_bytes());
        Statement::new(ORIGIN, event, at, pk).sign(key).unwrap()
    }

    /// Appends `batch` to both; asserts the same verdict for every
    /// statement and returns them.
    fn commit(&mut self, batch: &[SignedStatement]) -> Vec<bool> {
        let got = self.store().append(batch).unwrap();
        let mut verdicts = Vec::new();
        for (k, (s, r)) in batch.iter().zip(got).enumerate() {
            let now = self.now.load(Ordering::SeqCst);
            let want = self.full.append_statement(&s.bytes, s.signature, now, None);
            match (&r, &want) {
                (Ok(receipt), Ok(record)) => {
                    assert_eq!(&receipt.record, record, "statement {k}");
                    self.leaves.push(leaf_hash(record));
                }
                (Err(_), Err(_)) => {}
                _ => panic!(
                    "statement {k}: store {:?}, full auditor {:?}",
                    r.as_ref().map(|_| ()).map_err(ToString::to_string),
                    want.as_ref().map(|_| ()).map_err(ToString::to_string)
                ),
            }
            verdicts.push(r.is_ok());
        }
        verdicts
    }

    /// [`Store::append_all`] of `batch` on both: the same first refusal
    /// (its position), or every record the same. Returns the position.
    fn commit_all(&mut self, batch: &[SignedStatement]) -> Option<usize> {
        let now = self.now.load(Ordering::SeqCst);
        let mut full = self.full.clone();
        let mut records = Vec::new();
        let mut refused = None;
        for (k, s) in batch.iter().enumerate() {
            match full.append_statement(&s.bytes, s.signature, now, None) {
                Ok(r) => records.push(r),
                Err(_) => {
                    refused = Some(k);
                    break;
                }
            }
        }
        match (self.store().append_all(batch), refused) {
            (Ok(receipts), None) => {
                for (receipt, record) in receipts.iter().zip(&records) {
                    assert_eq!(&receipt.record, record);
                    self.leaves.push(leaf_hash(record));
                }
                self.full = full;
                None
            }
            (Err(StoreError::RejectedInBatch { position, .. }), Some(k)) => {
                assert_eq!(position, k);
                Some(k)
            }
            (got, want) => panic!(
                "store {:?}, full auditor refuses {want:?}",
                got.map(|_| ()).map_err(|e| e.to_string())
            ),
        }
    }

    /// The leaf hashes `batch` would give its records if all were accepted
    /// now (from a copy of the full auditor).
    fn predict(&self, batch: &[SignedStatement]) -> Vec<Hash> {
        let mut a = self.full.clone();
        let now = self.now.load(Ordering::SeqCst);
        batch
            .iter()
            .map(|s| {
                leaf_hash(
                    &a.append_statement(&s.bytes, s.signature, now, None)
                        .unwrap(),
                )
            })
            .collect()
    }

    fn cite(&self, i: u64) -> Cite {
        Cite {
            record: RecordRef(i),
            leaf: self.leaves[i as usize],
        }
    }

    fn reopen(&mut self) {
        self.store.take().unwrap().close().unwrap();
        self.store = Some(Store::open(self.dir.path(), clocked(&self.now)).unwrap());
    }

    /// Closes the store, checks it against a replay, and audits a copy.
    fn finish(mut self) {
        self.reopen();
        self.store().check().unwrap();
        // What the reports read equals the full auditor's state (the
        // chain position and the per-record indexes are not in it, nor
        // the keys' uses).
        let paged = self.store().full_state().unwrap();
        let full = self.full.state();
        assert_eq!(paged.cases, full.cases);
        assert_eq!(paged.notices, full.notices);
        assert_eq!(paged.embargoes, full.embargoes);
        assert_eq!(paged.sealed, full.sealed);
        assert_eq!(paged.parties, full.parties);
        assert_eq!(paged.late, full.late);
        let mut findings = paged.findings.clone();
        findings.sort_by_key(|f| (f.record, f.kind));
        let mut want = full.findings.clone();
        want.sort_by_key(|f| (f.record, f.kind));
        assert_eq!(findings, want);
        assert_eq!(want.len(), 6, "{want:?}");
        let revoked = |s: &forewarn_ledger::auditor::AuditState| -> Vec<_> {
            s.keys.iter().map(|(k, v)| (*k, v.revoked)).collect()
        };
        assert_eq!(revoked(&paged), revoked(full));
        self.store.take().unwrap().close().unwrap();
        let copy = LogCopy::take(self.dir.path(), std::time::Duration::from_secs(10)).unwrap();
        copy.audit(AuditConfig::default(), &|_, _| {}).unwrap();
    }
}

/// The test configuration with the clock `now`.
fn clocked(now: &Arc<AtomicU64>) -> forewarn_store::StoreConfig {
    let now = now.clone();
    forewarn_store::StoreConfig {
        clock: Arc::new(move || now.load(Ordering::SeqCst)),
        ..config()
    }
}

fn registered(name: &str, class: PartyClass) -> (SigningKey, Event) {
    let key = test_key(name);
    let pk = PublicKey(key.verifying_key().to_bytes());
    (
        key,
        Event::PartyRegistered {
            name: name.into(),
            class,
            key: pk,
        },
    )
}

fn notice(case: CaseId, to: Cite, embargo: Option<Cite>) -> Event {
    Event::Notified {
        case,
        recipient: Counterparty::Party(to),
        level: InfoLevel::Details,
        tlp: Tlp::Clear,
        embargo,
        content: Sealed::Clear([1; 32]),
        channel: Channel::Email,
    }
}

fn opened(case: CaseId) -> Event {
    Event::CaseOpened {
        case,
        summary: Sealed::Clear("a flaw".into()),
        product: Sealed::Clear("a product".into()),
    }
}

/// Statements that reach state through citations across commits, within
/// one commit, beyond the log, and across cases; refusals in the middle
/// of a commit; replays; a revocation cascading to a key the revoked key
/// added; two revocations in one commit with different effective times;
/// an all-or-nothing commit refused at its last statement, then accepted
/// without it. The store, closed and reopened between commits so that
/// most of what is cited is on disk, gives every verdict a full auditor
/// gives, and ends with the same projections.
#[test]
fn crafted_statements_get_the_verdicts_of_a_full_auditor() {
    let mut t = Twin::new();
    let (acme, reg_a) = registered("Acme Corp", PartyClass::Vendor);
    let (beta, reg_b) = registered("Beta", PartyClass::Vendor);
    let (coord, reg_c) = registered("Coord", PartyClass::Coordinator);
    t.tick();
    let regs = [
        t.sign(&acme, reg_a),
        t.sign(&beta, reg_b),
        t.sign(&coord, reg_c),
    ];
    assert_eq!(t.commit(&regs), [true; 3]);
    let (a, b, c) = (t.cite(0), t.cite(1), t.cite(2));
    let (c1, c2) = (CaseId([1; 16]), CaseId([2; 16]));
    t.reopen();
    // Records 3..: two cases and an embargo of each.
    t.tick();
    let batch = [
        t.sign(&acme, opened(c1)),
        t.sign(&coord, opened(c2)),
        t.sign(
            &acme,
            Event::EmbargoProposed {
                case: c1,
                ends_at: START + 90 * 86_400_000,
            },
        ),
        t.sign(
            &coord,
            Event::EmbargoProposed {
                case: c2,
                ends_at: START + 90 * 86_400_000,
            },
        ),
    ];
    assert_eq!(t.commit(&batch), [true; 4]);
    let (e1, e2) = (t.cite(5), t.cite(6));
    t.reopen();
    t.tick();
    // 7: notice of c1 to Beta under c1's embargo (on disk).
    let n7 = t.sign(&acme, notice(c1, b, Some(e1)));
    // Refused: a notice of c1 under the embargo of c2.
    let cross = t.sign(&acme, notice(c1, b, Some(e2)));
    let seven = Cite {
        record: RecordRef(7),
        leaf: t.predict(std::slice::from_ref(&n7))[0],
    };
    let batch = [
        n7,
        cross,
        // 8: Beta acknowledges the notice of this same commit.
        t.sign(
            &beta,
            Event::Acknowledged {
                notice: seven,
                received_at: START,
            },
        ),
        // Refused: Acme acknowledges a notice to Beta.
        t.sign(
            &acme,
            Event::Acknowledged {
                notice: seven,
                received_at: START,
            },
        ),
        // Refused: a citation of a record beyond the log.
        t.sign(
            &beta,
            Event::Annotation {
                record: Cite {
                    record: RecordRef(1 << 40),
                    leaf: Hash([0; 32]),
                },
                kind: AnnotationKind::Comment,
                text: "far".into(),
            },
        ),
        // 9: a comment on the notice of this commit.
        t.sign(
            &coord,
            Event::Annotation {
                record: seven,
                kind: AnnotationKind::Comment,
                text: "seen".into(),
            },
        ),
    ];
    assert_eq!(t.commit(&batch), [true, false, true, false, false, true]);
    t.tick();
    let batch = [
        t.sign(
            &beta,
            Event::Annotation {
                record: t.cite(9),
                kind: AnnotationKind::Comment,
                text: "on an annotation".into(),
            },
        ),
        // 10: Beta (a member through the notice) accepts c1's embargo.
        t.sign(&beta, Event::EmbargoAccepted { embargo: e1 }),
        // Refused: Beta is no member of c2.
        t.sign(&beta, Event::EmbargoAccepted { embargo: e2 }),
        // Refused: an Opening of a clear field of a record with a case,
        // and of a registration (no case, no sealed field).
        t.sign(
            &acme,
            Event::Opening {
                record: t.cite(3),
                field: 0,
                salt: [3; 32],
                value: vec![1],
            },
        ),
        t.sign(
            &acme,
            Event::Opening {
                record: a,
                field: 0,
                salt: [3; 32],
                value: vec![1],
            },
        ),
        // Refused: a correction of someone else's record.
        t.sign(
            &beta,
            Event::Annotation {
                record: t.cite(3),
                kind: AnnotationKind::Correction,
                text: "not mine".into(),
            },
        ),
        // Refused: c1 again.
        t.sign(&coord, opened(c1)),
    ];
    assert_eq!(
        t.commit(&batch),
        [false, true, false, false, false, false, false]
    );
    t.reopen();
    // A replay of a statement on disk, and one of this commit.
    let replay = batch[1].clone();
    t.tick();
    let fresh = t.sign(&acme, Event::FixReady { case: c1 });
    assert_eq!(
        t.commit(&[replay, fresh.clone(), fresh]),
        [false, true, false]
    );
    t.reopen();
    // Keys: Acme adds k2 (record 12), k2 adds k3 (13), k3 signs a fix
    // (14); Beta's acknowledgement is also on disk.
    let k2 = test_key("acme 2");
    let k3 = test_key("acme 3");
    let pk = |k: &SigningKey| PublicKey(k.verifying_key().to_bytes());
    t.tick();
    let add2 = t.sign(
        &acme,
        Event::KeyAdded {
            party: a,
            key: pk(&k2),
            possession: prove_possession(ORIGIN, &a, &k2),
        },
    );
    assert_eq!(t.commit(&[add2]), [true]);
    t.reopen();
    let t3 = t.tick();
    let add3 = t.sign(
        &k2,
        Event::KeyAdded {
            party: a,
            key: pk(&k3),
            possession: prove_possession(ORIGIN, &a, &k3),
        },
    );
    let fix = t.sign(&k3, Event::FixReady { case: c1 });
    assert_eq!(t.commit(&[add3, fix]), [true, true]);
    t.reopen();
    // Two revocations in one commit, with different effective times: k2
    // from the end of the log, then k2 again from its start (which flags
    // what k2 signed and revokes k3, which k2 added); then k3 may no
    // longer sign, and Beta's key (another party) is untouched.
    t.tick();
    let late = t.sign(
        &acme,
        Event::KeyRevoked {
            key: pk(&k2),
            effective_at: t3,
        },
    );
    let early = t.sign(
        &acme,
        Event::KeyRevoked {
            key: pk(&k2),
            effective_at: START,
        },
    );
    let by_k3 = t.sign(&k3, Event::FixReleased { case: c1 });
    let by_beta = t.sign(
        &coord,
        Event::Annotation {
            record: t.cite(14),
            kind: AnnotationKind::Comment,
            text: "after the revocation".into(),
        },
    );
    let wrong_party = t.sign(
        &beta,
        Event::KeyRevoked {
            key: pk(&acme),
            effective_at: START,
        },
    );
    // All or nothing: a revocation of Beta's key and a comment are put
    // back when the third statement (Beta acknowledging a notice it got
    // long ago, again, but with a wrong leaf) is refused; the same
    // statements without it then go in whole.
    t.tick();
    let revoke_beta = t.sign(
        &beta,
        Event::KeyRevoked {
            key: pk(&beta),
            effective_at: START,
        },
    );
    let comment = t.sign(
        &coord,
        Event::Annotation {
            record: t.cite(10),
            kind: AnnotationKind::Comment,
            text: "all or nothing".into(),
        },
    );
    let bad_ack = t.sign(
        &beta,
        Event::Acknowledged {
            notice: Cite {
                record: RecordRef(7),
                leaf: Hash([9; 32]),
            },
            received_at: START,
        },
    );
    assert_eq!(
        t.commit_all(&[comment.clone(), revoke_beta.clone(), bad_ack]),
        Some(2)
    );
    assert_eq!(t.commit_all(&[comment, revoke_beta]), None);
    // A report of c2 from a registered reporter (Acme, on disk), and a
    // notice of c1 to Coord.
    let report = t.sign(
        &coord,
        Event::ReportReceived {
            case: c2,
            reporter: Counterparty::Party(a),
            report: Sealed::Clear([2; 32]),
        },
    );
    let to_coord = t.sign(&acme, notice(c1, c, None));
    assert_eq!(
        t.commit(&[late, early, by_k3, by_beta, wrong_party, report, to_coord]),
        [true, true, false, true, false, true, true]
    );
    t.finish();
}

/// Rewrites one stored projection value in the closed store at `dir`.
fn put_value(dir: &Path, key: &[u8], value: Option<Vec<u8>>) {
    let db = forewarn_store::open_db(&dir.join("db")).unwrap();
    match value {
        Some(v) => db.insert(key, v).unwrap(),
        None => db.remove(key).unwrap(),
    };
    db.flush().unwrap();
}

fn get_value(dir: &Path, key: &[u8]) -> Vec<u8> {
    let db = forewarn_store::open_db(&dir.join("db")).unwrap();
    db.get(key).unwrap().unwrap().to_vec()
}

fn is_corrupt(r: &Result<impl Sized, StoreError>) -> bool {
    matches!(r, Err(e) if e.is_corruption())
}

/// A store of three parties and two cases, closed: Acme opened c1 and c2.
/// A new store in which Acme (party 0) and Beta (party 1) registered, in
/// one commit; also Acme's key and Beta's registration.
fn acme_and_beta() -> (Twin, SigningKey, SignedStatement) {
    let mut t = Twin::new();
    let (acme, reg_a) = registered("Acme Corp", PartyClass::Vendor);
    let (beta, reg_b) = registered("Beta", PartyClass::Vendor);
    t.tick();
    let batch = [t.sign(&acme, reg_a), t.sign(&beta, reg_b)];
    t.commit(&batch);
    let [_, beta_registration] = batch;
    (t, acme, beta_registration)
}

fn two_cases() -> (tempfile::TempDir, Vec<Hash>) {
    let (mut t, acme, _) = acme_and_beta();
    let b = t.cite(1);
    t.tick();
    let batch = [
        t.sign(&acme, opened(CaseId([1; 16]))),
        t.sign(&acme, opened(CaseId([2; 16]))),
    ];
    t.commit(&batch);
    t.tick();
    let n = t.sign(&acme, notice(CaseId([2; 16]), b, None));
    assert_eq!(t.commit(&[n]), [true]);
    let leaves = t.leaves.clone();
    t.store.take().unwrap().close().unwrap();
    (t.dir, leaves)
}

fn statement(key: &SigningKey, event: Event, at: u64) -> SignedStatement {
    let pk = PublicKey(key.verifying_key().to_bytes());
    Statement::new(ORIGIN, event, at, pk).sign(key).unwrap()
}

/// A case entry damaged without the key, read half-way through a commit
/// (after an earlier statement of it was accepted in memory): the commit
/// fails as corruption, and nothing of it may survive in memory, where a
/// later commit would sign a checkpoint over a record never written.
#[test]
fn a_read_failing_half_way_through_a_commit_leaves_nothing_behind() {
    for all in [false, true] {
        let (dir, _) = two_cases();
        let key = [&b"x"[..], &[2; 16]].concat();
        let mut v = get_value(dir.path(), &key);
        v[0] ^= 1;
        put_value(dir.path(), &key, Some(v));
        let mut store = Store::open(dir.path(), config()).unwrap();
        let acme = test_key("Acme Corp");
        let batch = [
            statement(
                &acme,
                Event::FixReady {
                    case: CaseId([1; 16]),
                },
                START + 50,
            ),
            statement(
                &acme,
                Event::FixReady {
                    case: CaseId([2; 16]),
                },
                START + 51,
            ),
        ];
        let r = if all {
            store.append_all(&batch).map(|_| ())
        } else {
            store.append(&batch).map(|_| ())
        };
        assert!(is_corrupt(&r), "all: {all}: {:?}", r.err());
        assert_eq!(store.size(), 5);
        // The in-memory state is not left ahead of the database: an
        // all-or-nothing commit puts back what it copied, so the store goes
        // on; any other is poisoned, as a commit failing after validation
        // is (a later commit would otherwise build on a record that was
        // never written).
        let next = store.append(&[forewarn_ledger::testkit::registration("later")]);
        if all {
            assert!(next.unwrap().iter().all(Result::is_ok));
        } else {
            assert!(
                matches!(next, Err(StoreError::Poisoned)),
                "{:?}",
                next.map(|_| ())
            );
        }
        let size = store.size();
        store.close().unwrap();
        let copy = LogCopy::take(dir.path(), std::time::Duration::from_secs(10)).unwrap();
        let audited = copy
            .audit(AuditConfig::default(), &|_, _| {})
            .unwrap_or_else(|e| panic!("all: {all}: {e}"));
        assert_eq!(audited.size(), size);
        assert_eq!(size, if all { 6 } else { 5 });
    }
}

/// The last facts block put back as it was before the last commit (a
/// genuine value, so its tag fits): the store must notice it is short
/// rather than write the next records' facts in the wrong places (after
/// which a citation would be checked against another record's leaf).
#[test]
fn a_rolled_back_facts_block_is_refused() {
    let (dir, leaves) = two_cases();
    let block = [&b"c"[..], &0u64.to_be_bytes()].concat();
    let old = get_value(dir.path(), &block);
    let mut store = Store::open(dir.path(), config()).unwrap();
    let acme = test_key("Acme Corp");
    let beta = test_key("Beta");
    let n = statement(
        &acme,
        notice(
            CaseId([1; 16]),
            Cite {
                record: RecordRef(1),
                leaf: leaves[1],
            },
            None,
        ),
        START + 60,
    );
    store.append_one(n).unwrap();
    store.close().unwrap();
    put_value(dir.path(), &block, Some(old));
    let mut store = Store::open(dir.path(), config()).unwrap();
    let fix = statement(
        &acme,
        Event::FixReady {
            case: CaseId([1; 16]),
        },
        START + 61,
    );
    let r = store.append(&[fix]);
    assert!(is_corrupt(&r), "{:?}", r.map(|_| ()));
    // Nor is a citation of the record the old block lacks checked against
    // anything but corruption.
    drop(store);
    let mut store = Store::open(dir.path(), config()).unwrap();
    let ack = statement(
        &beta,
        Event::Acknowledged {
            notice: Cite {
                record: RecordRef(5),
                leaf: Hash([0; 32]),
            },
            received_at: START,
        },
        START + 62,
    );
    let r = store.append(&[ack]);
    assert!(is_corrupt(&r), "{:?}", r.map(|_| ()));
    assert_eq!(store.size(), 6);
}

/// A case entry deleted by someone without the key: a statement citing a
/// record of that case (whose facts name it) must meet corruption, not a
/// verdict computed as if the case did not exist.
#[test]
fn a_deleted_case_entry_behind_a_citation_is_corruption() {
    let (dir, leaves) = two_cases();
    put_value(dir.path(), &[&b"x"[..], &[2; 16]].concat(), None);
    let mut store = Store::open(dir.path(), config()).unwrap();
    let beta = test_key("Beta");
    let ack = statement(
        &beta,
        Event::Acknowledged {
            notice: Cite {
                record: RecordRef(4),
                leaf: leaves[4],
            },
            received_at: START,
        },
        START + 70,
    );
    let r = store.append(&[ack]);
    assert!(is_corrupt(&r), "{:?}", r.map(|_| ()));
    assert!(matches!(
        r,
        Err(StoreError::Corrupt {
            what: Corruption::Missing,
            ..
        })
    ));
    assert_eq!(store.size(), 5);
}

/// A log where Acme's second key signed a comment and was then revoked
/// from before it: one `signed-by-revoked-key` finding, about no case
/// (kept as a loose finding), and one case.
fn revoked_store() -> tempfile::TempDir {
    let mut t = Twin::new();
    let (acme, reg) = registered("Acme Corp", PartyClass::Vendor);
    t.tick();
    let batch = [t.sign(&acme, reg)];
    assert_eq!(t.commit(&batch), [true]);
    let a = t.cite(0);
    let k2 = test_key("acme 2");
    t.tick();
    let batch = [
        t.sign(
            &acme,
            Event::KeyAdded {
                party: a,
                key: PublicKey(k2.verifying_key().to_bytes()),
                possession: prove_possession(ORIGIN, &a, &k2),
            },
        ),
        t.sign(&acme, opened(CaseId([1; 16]))),
    ];
    assert_eq!(t.commit(&batch), [true, true]);
    t.tick();
    let batch = [t.sign(
        &k2,
        Event::Annotation {
            record: a,
            kind: AnnotationKind::Comment,
            text: "by the second key".into(),
        },
    )];
    assert_eq!(t.commit(&batch), [true]);
    t.tick();
    let batch = [t.sign(
        &acme,
        Event::KeyRevoked {
            key: PublicKey(k2.verifying_key().to_bytes()),
            effective_at: START,
        },
    )];
    assert_eq!(t.commit(&batch), [true]);
    let dir = t.dir.path().to_path_buf();
    let state = t.store().full_state().unwrap();
    assert_eq!(state.findings.len(), 1, "{:?}", state.findings);
    assert_eq!(state.findings[0].case, None);
    t.store.take().unwrap().close().unwrap();
    assert!(dir.exists());
    t.dir
}

/// The loose `signed-by-revoked-key` finding deleted by someone without
/// the key (a deletion carries no tag to check): a report read from the
/// projections must not come out without it.
#[test]
fn a_deleted_loose_finding_is_missed_by_no_report() {
    let dir = revoked_store();
    put_value(dir.path(), &[&b"f"[..], &0u64.to_be_bytes()].concat(), None);
    let store = Store::open(dir.path(), config()).unwrap();
    let r = store.state_of_cases(&[]);
    assert!(
        matches!(
            r,
            Err(StoreError::Corrupt {
                what: Corruption::Missing,
                ..
            })
        ),
        "{:?}",
        r.map(|s| s.findings)
    );
    assert!(is_corrupt(&store.full_state()));
}

/// A case entry deleted by someone without the key: the report of
/// everything must not come out without the case, nor the sealed fields
/// of its records as if they had none.
#[test]
fn a_deleted_case_entry_is_missed_by_no_report() {
    let dir = revoked_store();
    put_value(dir.path(), &[&b"x"[..], &[1; 16]].concat(), None);
    let store = Store::open(dir.path(), config()).unwrap();
    let r = store.full_state();
    assert!(
        matches!(
            r,
            Err(StoreError::Corrupt {
                what: Corruption::Missing,
                ..
            })
        ),
        "{:?}",
        r.map(|s| s.cases.len())
    );
    assert!(is_corrupt(&store.sealed_of(2)));
    assert!(is_corrupt(&store.check()));
}

/// A leaf hash edited in a level-0 tile (tiles carry no tag) inside the
/// window of recent leaves, before the last kept compact range, where the
/// root checked against the signed checkpoint does not reach: a statement
/// that saw the log at that size must get a full auditor's verdict, or
/// the store must not open.
#[test]
fn an_edited_leaf_inside_the_seen_window_is_refused() {
    let mut t = Twin::new();
    t.tick();
    let regs: Vec<_> = (0..300)
        .map(|i| forewarn_ledger::testkit::registration(&format!("party {i}")))
        .collect();
    assert!(t.commit(&regs).into_iter().all(|ok| ok));
    let mut tree = forewarn_tlog::tree::InMemoryTree::new();
    for l in &t.leaves {
        tree.append(*l);
    }
    let seen = forewarn_ledger::statement::SeenCheckpoint {
        size: 100,
        root: tree.root_at(100).unwrap(),
    };
    let dir = t.dir;
    t.store.take().unwrap().close().unwrap();
    let tile = [&b"t"[..], &[0], &0u64.to_be_bytes()].concat();
    let mut v = get_value(dir.path(), &tile);
    v[10 * 32] ^= 1;
    put_value(dir.path(), &tile, Some(v));
    match Store::open(dir.path(), config()) {
        Err(e) => assert!(e.is_corruption(), "{e}"),
        Ok(mut store) => {
            let key = test_key("party 0");
            let mut s = Statement::new(
                ORIGIN,
                Event::Annotation {
                    record: Cite {
                        record: RecordRef(0),
                        leaf: tree.root_at(1).unwrap(),
                    },
                    kind: AnnotationKind::Comment,
                    text: "seen at 100".into(),
                },
                START,
                PublicKey(key.verifying_key().to_bytes()),
            );
            s.seen = Some(seen);
            let r = store.append_one(s.sign(&key).unwrap());
            assert!(r.is_ok(), "{:?}", r.err().map(|e| e.to_string()));
        }
    }
}

/// Statements whose verdict cannot depend on the log's facts make the
/// store read none of them: a revocation of Acme's key under a forged
/// signature (anyone can send one) and one signed by another party. Each
/// would otherwise make the sequencer scan every record logged since its
/// `effective_at`. Shown with the facts damaged: both are refused for what
/// they are, not met with the damage.
#[test]
fn a_revocation_its_signer_may_not_make_reads_no_facts() {
    let (dir, _) = two_cases();
    let block = [&b"c"[..], &0u64.to_be_bytes()].concat();
    let mut v = get_value(dir.path(), &block);
    v[0] ^= 1;
    put_value(dir.path(), &block, Some(v));
    let mut store = Store::open(dir.path(), config()).unwrap();
    let acme = test_key("Acme Corp");
    let beta = test_key("Beta");
    let revoke = Event::KeyRevoked {
        key: PublicKey(acme.verifying_key().to_bytes()),
        effective_at: START,
    };
    let mut forged = statement(&acme, revoke.clone(), START + 80);
    forged.signature[0] ^= 1;
    let by_beta = statement(&beta, revoke, START + 81);
    let results = store.append(&[forged, by_beta]).unwrap();
    for r in &results {
        assert!(
            matches!(r, Err(forewarn_store::Rejection::Invalid(_))),
            "{:?}",
            r.as_ref().map(|_| ())
        );
    }
    assert_eq!(store.size(), 5);
}

/// The generator's seeds (`PAGING_SEEDS`=n runs seeds 1..=n instead).
fn seeds() -> Vec<u64> {
    match std::env::var("PAGING_SEEDS")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        Some(n) => (1..=n).collect(),
        None => vec![1, 7, 1234],
    }
}

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Random statements by random keys (of any party, revoked or not) citing
/// random records (of earlier commits and of the same one, sometimes with
/// a wrong leaf), in commits of random sizes, some all-or-nothing, with
/// the store reopened at random: every verdict is a full auditor's, and
/// the store checks clean at the end.
#[test]
fn random_statements_get_the_verdicts_of_a_full_auditor() {
    for seed in seeds() {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut t = Twin::new();
        let classes = [
            PartyClass::Vendor,
            PartyClass::Coordinator,
            PartyClass::Finder,
            PartyClass::Vendor,
        ];
        // (key, party registration record) of every key made so far.
        let mut keys: Vec<(SigningKey, u64)> = Vec::new();
        t.tick();
        let mut regs = Vec::new();
        for (i, class) in classes.iter().enumerate() {
            let (k, e) = registered(&format!("party {seed} {i}"), *class);
            regs.push(t.sign(&k, e));
            keys.push((k, i as u64));
        }
        assert!(t.commit(&regs).into_iter().all(|ok| ok));
        let cases: Vec<CaseId> = (0..4u8).map(|i| CaseId([i + 1; 16])).collect();
        let mut added = 0u32;
        // Sealed summaries accepted so far: record, salt, text, sealer.
        let mut sealed: Vec<(u64, [u8; 32], String, SigningKey)> = Vec::new();
        for round in 0..150 {
            t.tick();
            let mut shadow = t.full.clone();
            let now = t.now.load(Ordering::SeqCst);
            let mut pending: Vec<Hash> = Vec::new();
            let mut batch: Vec<SignedStatement> = Vec::new();
            for _ in 0..1 + rng.below(8) {
                let known = t.leaves.len() + pending.len();
                let leaf_of = |i: usize, t: &Twin, pending: &[Hash]| {
                    if i < t.leaves.len() {
                        t.leaves[i]
                    } else {
                        pending[i - t.leaves.len()]
                    }
                };
                let cite = |rng: &mut Rng| {
                    let i = if rng.chance(3) {
                        known + rng.below(3)
                    } else {
                        rng.below(known)
                    };
                    let leaf = if i < known && !rng.chance(5) {
                        leaf_of(i, &t, &pending)
                    } else {
                        Hash([7; 32])
                    };
                    Cite {
                        record: RecordRef(i as u64),
                        leaf,
                    }
                };
                let (signer, party) = {
                    let (k, p) = &keys[rng.below(keys.len())];
                    (k.clone(), *p)
                };
                let case = cases[rng.below(cases.len())];
                // Vendors sign most statements (they may do most).
                let (signer, party) = if rng.chance(50) {
                    (keys[0].0.clone(), keys[0].1)
                } else {
                    (signer, party)
                };
                let party_cite = |p: u64| Cite {
                    record: RecordRef(p),
                    leaf: t.leaves[p as usize],
                };
                let mut sealing = None;
                let event = match rng.below(18) {
                    0 => opened(case),
                    16 => {
                        let salt = [rng.below(250) as u8 + 1; 32];
                        let text = format!("summary {round}");
                        let pk = PublicKey(signer.verifying_key().to_bytes());
                        let tag = forewarn_ledger::sealed::FieldTag { event: 3, field: 0 };
                        sealing = Some((salt, text.clone()));
                        Event::CaseOpened {
                            case: if rng.chance(50) {
                                case
                            } else {
                                CaseId([rng.below(240) as u8 + 10; 16])
                            },
                            summary: Sealed::seal(&text, tag, &pk, &salt).unwrap(),
                            product: Sealed::Clear("a product".into()),
                        }
                    }
                    17 if !sealed.is_empty() => {
                        let (r, salt, text, _) = &sealed[rng.below(sealed.len())];
                        Event::Opening {
                            record: Cite {
                                record: RecordRef(*r),
                                leaf: leaf_of(*r as usize, &t, &pending),
                            },
                            field: 0,
                            salt: *salt,
                            value: forewarn_ledger::encoding::encode(text).unwrap(),
                        }
                    }
                    1 | 2 => {
                        let to = party_cite(keys[rng.below(keys.len())].1);
                        let embargo = rng.chance(40).then(|| cite(&mut rng));
                        notice(case, to, embargo)
                    }
                    3 | 4 => Event::Acknowledged {
                        notice: cite(&mut rng),
                        received_at: START + rng.below(10) as u64,
                    },
                    5 => Event::EmbargoProposed {
                        case,
                        ends_at: START + 90 * 86_400_000 + rng.below(5) as u64,
                    },
                    6 => Event::EmbargoAccepted {
                        embargo: cite(&mut rng),
                    },
                    7 => Event::EmbargoRevised {
                        embargo: cite(&mut rng),
                        ends_at: START + 100 * 86_400_000 + rng.below(5) as u64,
                    },
                    8 => Event::EmbargoTerminated {
                        embargo: cite(&mut rng),
                        reason: TerminationReason::PlannedEnd,
                    },
                    9 => Event::FixReady { case },
                    10 => Event::PubliclyDisclosed {
                        case,
                        url: "https://example.org/advisory".into(),
                        sha256: [3; 32],
                    },
                    11 => Event::Annotation {
                        record: cite(&mut rng),
                        kind: if rng.chance(50) {
                            AnnotationKind::Comment
                        } else {
                            AnnotationKind::Correction
                        },
                        text: format!("note {round}"),
                    },
                    12 => Event::ReportReceived {
                        case,
                        reporter: Counterparty::Party(party_cite(keys[rng.below(keys.len())].1)),
                        report: Sealed::Clear([5; 32]),
                    },
                    13 => Event::Opening {
                        record: cite(&mut rng),
                        field: rng.below(2) as u8,
                        salt: [1; 32],
                        value: vec![0],
                    },
                    14 => {
                        added += 1;
                        let k = test_key(&format!("key {seed} {added}"));
                        let p = party_cite(party);
                        let e = Event::KeyAdded {
                            party: p,
                            key: PublicKey(k.verifying_key().to_bytes()),
                            possession: prove_possession(ORIGIN, &p, &k),
                        };
                        keys.push((k, party));
                        e
                    }
                    15 if rng.chance(30) => {
                        // Mostly a key of the signer's own party; never
                        // the first vendor's first key, which signs half.
                        let mut own: Vec<&(SigningKey, u64)> = keys[1..]
                            .iter()
                            .filter(|(_, p)| *p == party || rng.chance(10))
                            .collect();
                        if own.is_empty() {
                            own = keys[1..].iter().collect();
                        }
                        let (k, _) = own[rng.below(own.len())];
                        Event::KeyRevoked {
                            key: PublicKey(k.verifying_key().to_bytes()),
                            effective_at: now - rng.below(6) as u64 * 3_600_000,
                        }
                    }
                    _ => Event::ExploitPublic { case },
                };
                // An Opening is signed by the sealer, mostly.
                let signer = match (&event, rng.chance(80)) {
                    (Event::Opening { record, .. }, true) => sealed
                        .iter()
                        .find(|(r, ..)| *r == record.record.0)
                        .map_or(signer, |(.., k)| k.clone()),
                    _ => signer,
                };
                let mut s = t.sign(&signer, event);
                if rng.chance(3) {
                    s.signature[5] ^= 1;
                }
                if rng.chance(3) && !batch.is_empty() {
                    s = batch[rng.below(batch.len())].clone();
                }
                if let Ok(r) = shadow.append_statement(&s.bytes, s.signature, now, None) {
                    if let Some((salt, text)) = sealing {
                        let index = (t.leaves.len() + pending.len()) as u64;
                        sealed.push((index, salt, text, signer.clone()));
                    }
                    pending.push(leaf_hash(&r));
                }
                batch.push(s);
            }
            if rng.chance(20) {
                t.commit_all(&batch);
            } else {
                t.commit(&batch);
            }
            // A refused all-or-nothing commit left none of its records.
            sealed.retain(|(r, ..)| *r < t.leaves.len() as u64);
            if rng.chance(25) {
                t.reopen();
            }
        }
        // The default seeds accept well over a hundred records each (a
        // seed whose main vendor key is revoked early accepts few).
        if std::env::var_os("PAGING_SEEDS").is_none() {
            assert!(t.leaves.len() > 100, "seed {seed}: {}", t.leaves.len());
            let kinds = &t.full.state().kind_counts;
            // Openings (tag 19) and revocations (tag 2) among them.
            assert!(kinds[19] > 0 && kinds[2] > 0, "seed {seed}: {kinds:?}");
        }
        t.reopen();
        t.store().check().unwrap();
        let copy_dir = t.dir.path().to_path_buf();
        t.store.take().unwrap().close().unwrap();
        let copy = LogCopy::take(&copy_dir, std::time::Duration::from_secs(10)).unwrap();
        copy.audit(AuditConfig::default(), &|_, _| {}).unwrap();
    }
}

/// A case entry put back as it was before a notice of it was logged (a
/// genuine older value: its tag fits): the acknowledgement the notice's
/// recipient then sends must meet the damage, not be refused as citing no
/// notice.
#[test]
fn a_rolled_back_case_entry_behind_a_citation_is_corruption() {
    let mut t = Twin::new();
    let (acme, reg_a) = registered("Acme Corp", PartyClass::Vendor);
    let (beta, reg_b) = registered("Beta", PartyClass::Vendor);
    t.tick();
    let batch = [
        t.sign(&acme, reg_a),
        t.sign(&beta, reg_b),
        t.sign(&acme, opened(CaseId([1; 16]))),
    ];
    assert_eq!(t.commit(&batch), [true; 3]);
    let key = [&b"x"[..], &[1; 16]].concat();
    t.store.take().unwrap().close().unwrap();
    let old = get_value(t.dir.path(), &key);
    t.store = Some(Store::open(t.dir.path(), clocked(&t.now)).unwrap());
    t.tick();
    let n = t.sign(&acme, notice(CaseId([1; 16]), t.cite(1), None));
    assert_eq!(t.commit(&[n]), [true]);
    let notice_cite = t.cite(3);
    t.store.take().unwrap().close().unwrap();
    put_value(t.dir.path(), &key, Some(old));
    let mut store = Store::open(t.dir.path(), config()).unwrap();
    let ack = statement(
        &beta,
        Event::Acknowledged {
            notice: notice_cite,
            received_at: START,
        },
        START + 90,
    );
    let r = store.append(&[ack]);
    assert!(
        is_corrupt(&r),
        "{:?}",
        r.map(|v| v
            .into_iter()
            .map(|r| r.map(|_| ()).map_err(|e| e.to_string()))
            .collect::<Vec<_>>())
    );
}

/// What no count or citation shows: a duplicate entry or a party's case
/// index entry deleted. Steps and reports cannot tell (docs/FORMAT.md §20,
/// "Seal"); `check` names the missing value, and `rebuild` puts it back.
#[test]
fn deleted_index_entries_are_found_by_check() {
    for prefix in [b's', b'q'] {
        let (dir, _) = two_cases();
        let db = forewarn_store::open_db(&dir.path().join("db")).unwrap();
        let key = db.scan_prefix([prefix]).next().unwrap().unwrap().0;
        db.remove(&key).unwrap();
        db.flush().unwrap();
        drop(db);
        let store = Store::open(dir.path(), config()).unwrap();
        let r = store.check();
        assert!(
            matches!(
                r,
                Err(StoreError::Corrupt {
                    what: Corruption::Missing,
                    ..
                })
            ),
            "{:?}",
            r.err()
        );
        drop(store);
        let store = Store::open_and_rebuild(dir.path(), config()).unwrap();
        store.check().unwrap();
    }
}

/// `q` ‖ party ‖ chunk (docs/FORMAT.md §20).
fn links_key(party: u64, chunk: u32) -> Vec<u8> {
    [&b"q"[..], &party.to_be_bytes(), &chunk.to_be_bytes()].concat()
}

/// The links of a stored `q` value (its 16-byte tag cut off): (opening
/// record, case).
fn links(value: &[u8]) -> Vec<(u64, [u8; 16])> {
    let payload = &value[..value.len() - 16];
    assert_eq!(payload.len() % 24, 0);
    payload
        .chunks(24)
        .map(|l| {
            (
                u64::from_be_bytes(l[..8].try_into().unwrap()),
                l[8..].try_into().unwrap(),
            )
        })
        .collect()
}

/// A store in which Acme (party 0) opened 70 cases over ten commits (a
/// reopen among them), and Beta (party 1) was told of the newest case and
/// then of the oldest. Case k is `[k; 16]`, opened by record k + 1.
/// Also returns Beta's registration (record 1), to replay.
fn seventy_cases() -> (tempfile::TempDir, SignedStatement) {
    let (mut t, acme, replay) = acme_and_beta();
    let b = t.cite(1);
    for round in 0..10u8 {
        t.tick();
        let batch: Vec<_> = (1..=7u8)
            .map(|i| t.sign(&acme, opened(CaseId([round * 7 + i; 16]))))
            .collect();
        assert!(t.commit(&batch).into_iter().all(|ok| ok));
        if round == 4 {
            t.reopen();
        }
    }
    for case in [70u8, 1] {
        t.tick();
        let n = t.sign(&acme, notice(CaseId([case; 16]), b, None));
        assert_eq!(t.commit(&[n]), [true]);
    }
    t.reopen();
    t.store().check().unwrap();
    t.store.take().unwrap().close().unwrap();
    (t.dir, replay)
}

/// A party's case list is kept 64 links to a chunk, appended across
/// commits and reopens in the order the party joined its cases; a report
/// lists the cases in the order they were opened, `check` accepts the
/// append order, and `rebuild` writes the list in log order.
#[test]
fn a_party_in_many_cases_has_its_list_in_chunks_of_64() {
    let (dir, _) = seventy_cases();
    let acme0 = links(&get_value(dir.path(), &links_key(0, 0)));
    let acme1 = links(&get_value(dir.path(), &links_key(0, 1)));
    assert_eq!(acme0.len(), 64);
    assert_eq!(acme1.len(), 6);
    let beta = links(&get_value(dir.path(), &links_key(1, 0)));
    assert_eq!(
        beta,
        [(71, [70; 16]), (2, [1; 16])],
        "appended as Beta joined"
    );
    let db = forewarn_store::open_db(&dir.path().join("db")).unwrap();
    assert_eq!(db.scan_prefix(b"q").count(), 3);
    drop(db);
    let store = Store::open(dir.path(), config()).unwrap();
    let acme_cases = store.cases_of_party(PartyId(0)).unwrap();
    assert_eq!(
        acme_cases,
        (1..=70u8).map(|k| CaseId([k; 16])).collect::<Vec<_>>()
    );
    assert_eq!(
        store.cases_of_party(PartyId(1)).unwrap(),
        [CaseId([1; 16]), CaseId([70; 16])]
    );
    drop(store);
    let store = Store::open_and_rebuild(dir.path(), config()).unwrap();
    store.check().unwrap();
    assert_eq!(store.cases_of_party(PartyId(0)).unwrap(), acme_cases);
    store.close().unwrap();
    let beta = links(&get_value(dir.path(), &links_key(1, 0)));
    assert_eq!(beta, [(2, [1; 16]), (71, [70; 16])], "rebuilt in log order");
}

fn check_error(dir: &Path) -> (Corruption, String) {
    let store = Store::open(dir, config()).unwrap();
    match store.check() {
        Err(StoreError::Corrupt { what, at, .. }) => (what, at.to_string()),
        other => panic!("{:?}", other.map_err(|e| e.to_string())),
    }
}

/// A party's case list edited by the log key's holder (or rolled back to a
/// genuine older chunk): a link dropped or repeated is found by `check`
/// (a report cannot see the one and drops the other); a chunk deleted
/// before the last is refused by the report as well; `rebuild` repairs
/// each.
#[test]
fn an_edited_case_list_is_found_and_repaired() {
    let (pristine, _) = seventy_cases();
    let chunk0 = get_value(pristine.path(), &links_key(0, 0));
    let chunk1 = get_value(pristine.path(), &links_key(0, 1));
    let payload1 = &chunk1[..chunk1.len() - 16];
    // What, the key, and its new value (none: deleted).
    type Edit<'a> = (&'a str, Vec<u8>, Option<Vec<u8>>);
    let edits: [Edit; 3] = [
        (
            "a link dropped",
            links_key(0, 1),
            Some(sealed(&links_key(0, 1), &payload1[24..])),
        ),
        ("a chunk deleted before the last", links_key(0, 0), None),
        (
            "a link repeated",
            links_key(0, 1),
            Some(sealed(
                &links_key(0, 1),
                &[payload1, &chunk0[..24]].concat(),
            )),
        ),
    ];
    for (what, key, value) in edits {
        let work = tempfile::tempdir().unwrap();
        common::copy_dir(pristine.path(), work.path());
        put_value(work.path(), &key, value);
        let (found, at) = check_error(work.path());
        assert!(at.contains("q:"), "{what}: {at}");
        let store = Store::open(work.path(), config()).unwrap();
        let report = store.cases_of_party(PartyId(0));
        if what == "a link dropped" {
            assert_eq!(found, Corruption::ProjectionDiffers, "{what}");
            // A tag cannot show a link missing: only `check` does.
            assert_eq!(report.unwrap().len(), 69, "{what}");
        } else if what == "a link repeated" {
            // What a step appends after a case entry was put back from an
            // older copy: the report drops the repeat, `check` finds it.
            assert_eq!(found, Corruption::ProjectionDiffers, "{what}");
            assert_eq!(report.unwrap().len(), 70, "{what}");
        } else {
            assert_eq!(found, Corruption::Malformed, "{what}");
            assert!(is_corrupt(&report), "{what}: {:?}", report.map(|c| c.len()));
        }
        drop(store);
        let store = Store::open_and_rebuild(work.path(), config()).unwrap();
        store.check().unwrap();
        assert_eq!(
            store.cases_of_party(PartyId(0)).unwrap().len(),
            70,
            "{what}"
        );
    }
}

/// The duplicate bucket holding a statement: a replay of it is refused;
/// with its entry dropped by the log key's holder, `check` finds the
/// bucket; with the entry moved to a record of another generation, the
/// replay is refused as damage and nothing is appended.
#[test]
fn an_edited_duplicate_bucket_is_found_or_refused() {
    use sha2::Digest;
    let (pristine, replay) = seventy_cases();
    let hash: [u8; 32] = sha2::Sha256::digest(&replay.bytes).into();
    let k = forewarn_ledger::auditor::duplicate_key(&hash);
    // Its bucket (chosen by a key derived from the log key): the one value
    // of generation 0 whose entries hold it.
    let db = forewarn_store::open_db(&pristine.path().join("db")).unwrap();
    let holding: Vec<(Vec<u8>, Vec<u8>)> = db
        .scan_prefix(b"s")
        .map(|kv| kv.unwrap())
        .filter(|(_, v)| {
            v[..v.len() - 16]
                .chunks(24)
                .any(|e| e[..16] == k.to_be_bytes())
        })
        .map(|(key, v)| (key.to_vec(), v.to_vec()))
        .collect();
    drop(db);
    assert_eq!(holding.len(), 1);
    let (key, value) = holding.into_iter().next().unwrap();
    assert_eq!(key[..9], [&b"s"[..], &0u64.to_be_bytes()].concat());
    let payload = value[..value.len() - 16].to_vec();
    let at = payload
        .chunks(24)
        .position(|e| e[..16] == k.to_be_bytes())
        .expect("the statement is in its bucket");
    assert_eq!(payload[at * 24 + 16..at * 24 + 24], 1u64.to_be_bytes());
    {
        let mut store = Store::open(pristine.path(), config()).unwrap();
        let r = store.append(std::slice::from_ref(&replay)).unwrap();
        assert!(
            matches!(r[0], Err(forewarn_store::Rejection::Replay { index: 1 })),
            "{:?}",
            r[0].as_ref().map(|_| ())
        );
    }
    // Dropped: the bucket differs from a replay's (or is missing).
    let work = tempfile::tempdir().unwrap();
    common::copy_dir(pristine.path(), work.path());
    let mut dropped = payload.clone();
    dropped.drain(at * 24..at * 24 + 24);
    let alone = dropped.is_empty();
    put_value(work.path(), &key, (!alone).then(|| sealed(&key, &dropped)));
    let (found, shown) = check_error(work.path());
    let want = if alone {
        Corruption::Missing
    } else {
        Corruption::ProjectionDiffers
    };
    assert_eq!(found, want);
    assert!(shown.contains("s:"), "{shown}");
    // Moved to generation 1: refused when read, and nothing changes.
    let work = tempfile::tempdir().unwrap();
    common::copy_dir(pristine.path(), work.path());
    let mut moved = payload.clone();
    moved[at * 24 + 16..at * 24 + 24].copy_from_slice(&((1u64 << 22) + 1).to_be_bytes());
    put_value(work.path(), &key, Some(sealed(&key, &moved)));
    let mut store = Store::open(work.path(), config()).unwrap();
    let size = store.size();
    let r = store.append(std::slice::from_ref(&replay));
    assert!(is_corrupt(&r), "{:?}", r.map(|_| ()));
    drop(store);
    let store = Store::open(work.path(), config()).unwrap();
    assert_eq!(store.size(), size);
    drop(store);
    assert_eq!(check_error(work.path()).0, Corruption::ProjectionDiffers);
}
