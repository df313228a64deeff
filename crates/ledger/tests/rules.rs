//! Every integrity check, protocol rule and policy rule: one story where it
//! fires and one where it must not.

mod common;

use common::*;
use forewarn_ledger::finding::IntegrityKind as K;
use forewarn_ledger::testkit::{ORIGIN, Scenario, test_key};
use forewarn_ledger::*;
use forewarn_tlog::hash::Hash;

fn kind(f: IntegrityFailure) -> IntegrityKind {
    f.kind
}

// ---------------------------------------------------------------------------
// Integrity: record framing and the chain
// ---------------------------------------------------------------------------

#[test]
fn baseline_world_audits_clean() {
    let mut w = world();
    w.case();
    let a = clean(&w.s, AuditConfig::default());
    assert_eq!(a.size(), 7);
    assert_eq!(a.state().parties.len(), 6);
}

#[test]
fn record_encoding() {
    let w = world();
    let mut records = w.s.records().to_vec();
    records[3].push(0); // trailing byte
    let f = audit_records(&records, AuditConfig::default()).unwrap_err();
    assert_eq!(f.index, 3);
    assert!(matches!(
        f.kind,
        K::RecordEncoding(encoding::EncodingError::TrailingBytes { .. })
    ));
    assert_eq!(f.evidence, records[3], "evidence is the offending bytes");
    let mut records = w.s.records().to_vec();
    records[2][0] = 1; // a version-1 record
    let f = audit_records(&records, AuditConfig::default()).unwrap_err();
    assert!(matches!(
        f.kind,
        K::RecordEncoding(encoding::EncodingError::UnknownVersion {
            found: 1,
            expected: 2
        })
    ));
}

#[test]
fn statement_encoding() {
    let mut w = world();
    let st = w.s.statement(
        Event::FixReady {
            case: CaseId([9; 16]),
        },
        &w.vendor.key,
    );
    let mut bytes = st.to_bytes().unwrap();
    bytes.push(0);
    let sig = ed25519_dalek::Signer::sign(&w.vendor.key, &statement::signing_message(&bytes));
    let logged = w.s.now + 2_000;
    w.s.append_raw(bytes, sig.to_bytes(), logged);
    assert!(matches!(kind(failure(&w.s)), K::StatementEncoding(_)));
}

#[test]
fn index_sequence() {
    let w = world();
    let records = with_record(&w.s, 4, |r| r.index = 5);
    let f = audit_records(&records, AuditConfig::default()).unwrap_err();
    assert_eq!(
        f.kind,
        K::IndexMismatch {
            expected: 4,
            found: 5
        }
    );
    // Deleting a record is caught the same way.
    let mut records = w.s.records().to_vec();
    records.remove(2);
    let f = audit_records(&records, AuditConfig::default()).unwrap_err();
    assert_eq!(
        f.kind,
        K::IndexMismatch {
            expected: 2,
            found: 3
        }
    );
}

#[test]
fn prev_chain() {
    let w = world();
    let records = with_record(&w.s, 3, |r| r.prev.0[0] ^= 1);
    let f = audit_records(&records, AuditConfig::default()).unwrap_err();
    assert!(matches!(f.kind, K::PrevMismatch { .. }));
    assert_eq!(f.index, 3);
}

#[test]
fn logged_at_monotone() {
    let mut w = world();
    let key = w.vendor.key.clone();
    let prev_logged = Record::from_bytes(w.s.records().last().unwrap())
        .unwrap()
        .logged_at;
    let first = w.s.cite(RecordRef(0));
    let note = |t| {
        Statement::new(
            ORIGIN,
            Event::Annotation {
                record: first,
                kind: AnnotationKind::Comment,
                text: "hello".into(),
            },
            t,
            w.vendor.public(),
        )
    };
    // The same time as the previous record is fine …
    let mut same = w.s.clone();
    same.append_statement(&key, &note(prev_logged - 10), prev_logged);
    clean(&same, AuditConfig::default());
    // … earlier is not.
    w.s.append_statement(&key, &note(prev_logged - 10), prev_logged - 1);
    assert_eq!(
        kind(failure(&w.s)),
        K::LoggedAtDecreased {
            previous: prev_logged,
            found: prev_logged - 1
        }
    );
}

#[test]
fn claimed_in_future_beyond_skew() {
    let skew = auditor::DEFAULT_MAX_SKEW_MS;
    for (ahead, fires) in [(skew, false), (skew + 1, true)] {
        let mut w = world();
        let case = w.case();
        let key = w.vendor.key.clone();
        let st = Statement::new(
            ORIGIN,
            Event::FixReady { case },
            w.s.now + 10_000 + ahead,
            w.vendor.public(),
        );
        let logged = w.s.now + 10_000;
        w.s.append_statement(&key, &st, logged);
        let r = w.s.audit(AuditConfig::default());
        assert_eq!(r.is_err(), fires, "ahead by {ahead} ms");
        if fires {
            assert!(matches!(r.unwrap_err().kind, K::ClaimedInFuture { .. }));
        }
    }
}

// ---------------------------------------------------------------------------
// Integrity: signatures and keys
// ---------------------------------------------------------------------------

#[test]
fn bad_signature() {
    let w = world();
    let records = with_record(&w.s, 2, |r| r.signature[10] ^= 0x40);
    let f = audit_records(&records, AuditConfig::default()).unwrap_err();
    assert_eq!((f.index, f.kind), (2, K::BadSignature));
    // Signed by a different key than the statement names.
    let mut w = world();
    let case = w.case();
    let st = w.s.statement(Event::FixReady { case }, &w.vendor.key);
    w.s.append_statement(&w.finder.key.clone(), &st, w.s.now + 2_000);
    assert_eq!(kind(failure(&w.s)), K::BadSignature);
}

#[test]
fn unknown_key() {
    let mut w = world();
    let case = w.case();
    let stranger = test_key("stranger");
    w.s.submit_with_key(&stranger, Event::FixReady { case });
    assert!(matches!(kind(failure(&w.s)), K::UnknownKey { .. }));
}

#[test]
fn revoked_key_signs_nothing_logged_after_its_revocation() {
    // Revocation is by log position (docs/FORMAT.md §16 step 9): from the
    // `KeyRevoked` record on, the key signs nothing, whatever time the
    // statement claims and whatever `effective_at` the revocation names.
    let mut w = world();
    let case = w.case();
    let vendor = w.vendor.clone();
    let new_vendor = w.s.add_key(&vendor, "acme key 2");
    // Logged before the revocation: valid.
    w.s.submit(&vendor, Event::FixReady { case });
    let claimed_before = w.s.now;
    w.s.hours(1);
    let revocation = w.s.submit(
        &new_vendor,
        Event::KeyRevoked {
            key: vendor.public(),
            // Takes effect in the future: still no signature after the record.
            effective_at: w.s.now + DAY_MS,
        },
    );
    let a = lawful(&w.s, AuditConfig::default());
    assert_eq!(
        a.state().keys[&vendor.public()].revoked.map(|r| r.0),
        Some(revocation.record)
    );
    assert!(a.state().cases[&case].clock.fix_ready.is_some());
    let revoked = K::RevokedKey {
        key: vendor.public().0,
        revoked_by: revocation.record,
    };
    // Claimed now, before the effective time: revoked.
    let mut now = w.s.clone();
    now.submit(&vendor, Event::FixReleased { case });
    assert_eq!(kind(failure(&now)), revoked);
    // Backdated before the revocation's claimed time: still revoked.
    let mut backdated = w.s.clone();
    let st = Statement::new(
        ORIGIN,
        Event::FixReleased { case },
        claimed_before,
        vendor.public(),
    );
    let logged = backdated.now + 1_000;
    backdated.append_statement(&vendor.key, &st, logged);
    assert_eq!(kind(failure(&backdated)), revoked);
    // A sequencer refuses it the same way.
    assert_eq!(sequence(&w.s, &vendor.key, &st).unwrap_err().kind, revoked);
    // The new key still works.
    w.s.hours(1);
    w.s.submit(&new_vendor, Event::FixReleased { case });
    lawful(&w.s, AuditConfig::default());
}

#[test]
fn key_in_use_and_self_signed_registration() {
    let mut w = world();
    // Registering the vendor's key again.
    let mut again = w.s.clone();
    again.submit_with_key(
        &w.vendor.key.clone(),
        Event::PartyRegistered {
            name: "Acme again".into(),
            class: PartyClass::Vendor,
            key: w.vendor.public(),
        },
    );
    assert!(matches!(kind(failure(&again)), K::KeyInUse { .. }));
    // Adding another party's key, even with a valid proof of possession.
    let mut add = w.s.clone();
    add.submit(
        &w.finder.clone(),
        Event::KeyAdded {
            party: w.finder.registration,
            key: w.vendor.public(),
            possession: statement::prove_possession(ORIGIN, &w.finder.registration, &w.vendor.key),
        },
    );
    assert_eq!(
        kind(failure(&add)),
        K::KeyInUse {
            key: w.vendor.public().0,
            party: w.vendor.id
        }
    );
    // A registration signed by a key other than the one it registers.
    let k = test_key("new party");
    w.s.submit_with_key(
        &test_key("someone else"),
        Event::PartyRegistered {
            name: "New".into(),
            class: PartyClass::Other,
            key: PublicKey(k.verifying_key().to_bytes()),
        },
    );
    assert_eq!(kind(failure(&w.s)), K::NotSelfSigned);
}

#[test]
fn cannot_revoke_another_partys_key() {
    let mut w = world();
    let (finder, vendor) = (w.finder.clone(), w.vendor.clone());
    let mut own = w.s.clone();
    let finder2 = own.add_key(&finder, "finder 2");
    own.submit(
        &finder2,
        Event::KeyRevoked {
            key: finder.public(),
            effective_at: own.now,
        },
    );
    let a = lawful(&own, AuditConfig::default());
    assert!(a.state().keys[&finder.public()].revoked.is_some());
    // Revoking another party's key needs that party's authority (v2: the
    // authority table's "same party"). A sequencer refuses it …
    let foreign = Event::KeyRevoked {
        key: vendor.public(),
        effective_at: w.s.now,
    };
    let f = sequence(
        &w.s,
        &finder.key,
        &w.s.statement(foreign.clone(), &finder.key),
    )
    .unwrap_err();
    assert_eq!(
        f.kind,
        K::Unauthorized {
            event: "KeyRevoked",
            rule: authority::Authority::SameParty
        }
    );
    // … and in a log it is an `unauthorized` finding with no effect: the
    // vendor's key is not revoked and still signs.
    let bad = w.s.submit(&finder, foreign);
    let case = w.case();
    w.s.submit(&vendor, Event::FixReady { case });
    assert_eq!(
        unauthorized(&w.s).iter().map(|u| u.0).collect::<Vec<_>>(),
        [bad.record]
    );
    let a = clean(&w.s, AuditConfig::default());
    assert_eq!(a.state().keys[&vendor.public()].revoked, None);
    assert!(a.state().cases[&case].clock.fix_ready.is_some());
}

// ---------------------------------------------------------------------------
// Integrity: references
// ---------------------------------------------------------------------------

#[test]
fn unknown_and_duplicate_cases() {
    let mut w = world();
    let vendor = w.vendor.clone();
    let mut unknown = w.s.clone();
    unknown.submit(
        &vendor,
        Event::FixReady {
            case: CaseId([0xee; 16]),
        },
    );
    assert!(matches!(kind(failure(&unknown)), K::UnknownCase { .. }));
    let case = w.case();
    w.s.submit(
        &vendor,
        Event::CaseOpened {
            case,
            summary: Sealed::Clear("x".into()),
            product: Sealed::Clear("y".into()),
        },
    );
    assert_eq!(kind(failure(&w.s)), K::DuplicateCase { case });
}

#[test]
fn references_must_point_to_earlier_records_of_the_right_kind() {
    let mut w = world();
    let case = w.case();
    let vendor = w.vendor.clone();
    let gov = w.gov.clone();
    let notice = w.s.notify(&vendor, case, &gov, InfoLevel::Details, None);
    let embargo = w.s.submit(
        &vendor,
        Event::EmbargoProposed {
            case,
            ends_at: w.s.now + 10 * DAY_MS,
        },
    );
    clean(&w.s, AuditConfig::default());

    let bad: Vec<(&str, Event, &'static str)> = vec![
        (
            "ack of a non-notice",
            Event::Acknowledged {
                notice: embargo,
                received_at: w.s.now,
            },
            "an earlier Notified record",
        ),
        (
            "accept a notice as embargo",
            Event::EmbargoAccepted { embargo: notice },
            "an earlier EmbargoProposed record",
        ),
        (
            "revise a future record",
            Event::EmbargoRevised {
                embargo: Cite::new(1000, Hash([0; 32])),
                ends_at: w.s.now + DAY_MS,
            },
            "an earlier EmbargoProposed record",
        ),
        (
            "terminate a party",
            Event::EmbargoTerminated {
                embargo: w.s.cite(RecordRef(0)),
                reason: TerminationReason::Other,
            },
            "an earlier EmbargoProposed record",
        ),
        (
            "open an unsealed field",
            Event::Opening {
                record: notice,
                field: 0,
                salt: [0; 32],
                value: vec![],
            },
            "an earlier record with that sealed field",
        ),
        (
            "annotate the future",
            Event::Annotation {
                record: Cite::new(999, Hash([0; 32])),
                kind: AnnotationKind::Comment,
                text: "x".into(),
            },
            "an earlier record (not an Opening or Annotation)",
        ),
        (
            "notify an unregistered party id",
            Event::Notified {
                case,
                recipient: Counterparty::Party(notice),
                level: InfoLevel::Existence,
                tlp: Tlp::Red,
                embargo: None,
                content: Sealed::Clear([0; 32]),
                channel: Channel::Email,
            },
            "an earlier PartyRegistered record",
        ),
    ];
    for (what, event, expected) in bad {
        let mut s = w.s.clone();
        // Acknowledgements must come from the recipient to reach the reference check.
        let signer = if matches!(event, Event::Acknowledged { .. }) {
            &gov
        } else {
            &vendor
        };
        s.submit(signer, event);
        match kind(failure(&s)) {
            K::BadReference { expected: e, .. } => assert_eq!(e.as_str(), expected, "{what}"),
            other => panic!("{what}: {other:?}"),
        }
    }
    // Every reference is a citation: the right index with another leaf
    // hash is refused, whatever it cites.
    let forged = |c: Cite| Cite::new(c.record.0, Hash([0x5a; 32]));
    let mismatched: Vec<(Cite, Event)> = vec![
        (
            notice,
            Event::Acknowledged {
                notice: forged(notice),
                received_at: w.s.now,
            },
        ),
        (
            embargo,
            Event::EmbargoAccepted {
                embargo: forged(embargo),
            },
        ),
        (
            gov.registration,
            Event::Notified {
                case,
                recipient: Counterparty::Party(forged(gov.registration)),
                level: InfoLevel::Existence,
                tlp: Tlp::Red,
                embargo: None,
                content: Sealed::Clear([0; 32]),
                channel: Channel::Email,
            },
        ),
        (
            notice,
            Event::Annotation {
                record: forged(notice),
                kind: AnnotationKind::Comment,
                text: "x".into(),
            },
        ),
    ];
    for (cited, event) in mismatched {
        let mut s = w.s.clone();
        let signer = if matches!(event, Event::Acknowledged { .. }) {
            &gov
        } else {
            &vendor
        };
        s.submit(signer, event);
        assert_eq!(
            kind(failure(&s)),
            K::CiteMismatch {
                reference: cited.record,
                expected: cited.leaf,
                found: Hash([0x5a; 32]),
            }
        );
    }
    // A notice under an embargo of another case.
    let other = w.case();
    let mut s = w.s.clone();
    s.notify(&vendor, other, &gov, InfoLevel::Details, Some(embargo));
    assert!(matches!(
        kind(failure(&s)),
        K::BadReference {
            expected: Referent::EmbargoOfSameCase,
            ..
        }
    ));
    // Annotating an earlier record is fine.
    w.s.submit(
        &vendor,
        Event::Annotation {
            record: notice,
            kind: AnnotationKind::Correction,
            text: "sent to the wrong desk".into(),
        },
    );
    lawful(&w.s, AuditConfig::default());
}

#[test]
fn acknowledgements_bind_recipient_and_leaf() {
    let mut w = world();
    let case = w.case();
    let (vendor, gov, customer) = (w.vendor.clone(), w.gov.clone(), w.customer.clone());
    let notice = w.s.notify(&vendor, case, &gov, InfoLevel::Details, None);
    let mut ok = w.s.clone();
    let ack = ok.ack(&gov, notice, ok.now);
    let a = lawful(&ok, AuditConfig::default());
    assert_eq!(
        a.state().notices[&notice.record]
            .acknowledged
            .map(|a| a.record),
        Some(ack.record)
    );
    // Only the recipient may acknowledge (v2: the authority table, not an
    // integrity failure). A sequencer refuses another party …
    let by_customer = w.s.statement(
        Event::Acknowledged {
            notice,
            received_at: w.s.now,
        },
        &customer.key,
    );
    assert_eq!(
        sequence(&w.s, &customer.key, &by_customer)
            .unwrap_err()
            .kind,
        K::Unauthorized {
            event: "Acknowledged",
            rule: authority::Authority::NoticeRecipient
        }
    );
    // … and in a log it is an `unauthorized` finding with no effect: the
    // notice stays unacknowledged.
    let mut wrong_party = w.s.clone();
    let bad = wrong_party.ack(&customer, notice, w.s.now);
    assert_eq!(
        unauthorized(&wrong_party)
            .iter()
            .map(|u| u.0)
            .collect::<Vec<_>>(),
        [bad.record]
    );
    let a = clean(&wrong_party, AuditConfig::default());
    assert_eq!(a.state().notices[&notice.record].acknowledged, None);
    assert!(
        finding_kinds(&wrong_party, "cert-cc", w.s.now + 8 * DAY_MS)
            .contains(&FindingKind::NeverAcknowledged)
    );
    // The acknowledgement binds the notice's leaf hash.
    w.s.submit(
        &gov,
        Event::Acknowledged {
            notice: Cite::new(notice.record.0, Hash([0; 32])),
            received_at: w.s.now,
        },
    );
    assert_eq!(
        kind(failure(&w.s)),
        K::CiteMismatch {
            reference: notice.record,
            expected: notice.leaf,
            found: Hash([0; 32])
        }
    );
}

#[test]
fn openings_must_match_commitments() {
    let mut w = world();
    let vendor = w.vendor.clone();
    let (case, summary_salt, _) = w.s.open_case(&vendor, "use after free", "acme-db");
    let opened = w.s.last();
    let value = encoding::encode(&"use after free".to_string()).unwrap();
    let mut ok = w.s.clone();
    ok.submit(
        &vendor,
        Event::Opening {
            record: opened,
            field: 0,
            salt: summary_salt,
            value: value.clone(),
        },
    );
    let a = lawful(&ok, AuditConfig::default());
    let r = report::case_report(a.state(), &case, &[]).unwrap();
    assert_eq!(r.summary, report::Shown::Opened("use after free".into()));
    let mut wrong_value = w.s.clone();
    wrong_value.submit(
        &vendor,
        Event::Opening {
            record: opened,
            field: 0,
            salt: summary_salt,
            value: encoding::encode(&"other".to_string()).unwrap(),
        },
    );
    assert_eq!(
        kind(failure(&wrong_value)),
        K::OpeningMismatch {
            record: opened.record,
            field: 0
        }
    );
    w.s.submit(
        &vendor,
        Event::Opening {
            record: opened,
            field: 0,
            salt: [1; 32],
            value,
        },
    );
    assert_eq!(
        kind(failure(&w.s)),
        K::OpeningMismatch {
            record: opened.record,
            field: 0
        }
    );
}

#[test]
fn field_limits() {
    let mut s = Scenario::default();
    let k = test_key("x");
    s.submit_with_key(
        &k,
        Event::PartyRegistered {
            name: "".into(),
            class: PartyClass::Other,
            key: PublicKey(k.verifying_key().to_bytes()),
        },
    );
    assert!(matches!(kind(failure(&s)), K::InvalidField { .. }));
    let mut s = Scenario::default();
    s.submit_with_key(
        &k,
        Event::PartyRegistered {
            name: "bell\u{7}".into(),
            class: PartyClass::Other,
            key: PublicKey(k.verifying_key().to_bytes()),
        },
    );
    assert!(matches!(kind(failure(&s)), K::InvalidField { .. }));
}

#[test]
fn failure_poisons_the_auditor_and_changes_nothing() {
    let w = world();
    let records = with_record(&w.s, 3, |r| r.signature[0] ^= 1);
    let mut a = Auditor::new(AuditConfig::default());
    for r in &records[..3] {
        a.push(r).unwrap();
    }
    let before = a.save();
    assert!(a.push(&records[3]).is_err());
    assert_eq!(a.save(), before, "a failed record changes no state");
    // Even the valid original record is refused now.
    assert!(a.push(&w.s.records()[3]).is_err());
    assert!(a.failure().is_some());
}

// ---------------------------------------------------------------------------
// Integrity: checkpoints
// ---------------------------------------------------------------------------

fn log_key() -> forewarn_tlog::note::SignerKey {
    forewarn_tlog::note::SignerKey::from_seed(
        "example.org/ledger",
        forewarn_tlog::note::SignatureType::Ed25519,
        &[1; 32],
    )
    .unwrap()
}

fn checkpoint_for(size: u64, root: forewarn_tlog::hash::Hash) -> Vec<u8> {
    let cp = forewarn_tlog::checkpoint::Checkpoint::new("example.org/ledger", size, root).unwrap();
    cp.sign(&log_key()).to_bytes()
}

#[test]
fn checkpoints_must_match_the_records() {
    let w = world();
    let mut a = clean(&w.s, AuditConfig::default());
    let vkey = log_key().verifier();
    // The right checkpoint verifies and is remembered.
    let good = checkpoint_for(a.size(), a.root());
    let t = a.verify_checkpoint(&good, &vkey, None).unwrap();
    assert_eq!((t.size, t.root), (6, a.root()));
    // Wrong size.
    let f = a
        .clone()
        .verify_checkpoint(&checkpoint_for(5, a.root()), &vkey, None)
        .unwrap_err();
    assert_eq!(
        f.kind,
        K::CheckpointSize {
            audited: 6,
            checkpoint: 5
        }
    );
    // Wrong root (a split view or a rewritten log): fatal.
    let mut b = a.clone();
    let f = b
        .verify_checkpoint(
            &checkpoint_for(6, forewarn_tlog::hash::Hash([7; 32])),
            &vkey,
            None,
        )
        .unwrap_err();
    assert!(matches!(f.kind, K::RootMismatch { .. }));
    assert!(b.failure().is_some());
    // Signed by another key.
    let other = forewarn_tlog::note::SignerKey::from_seed(
        "example.org/ledger",
        forewarn_tlog::note::SignatureType::Ed25519,
        &[3; 32],
    )
    .unwrap();
    let forged = forewarn_tlog::checkpoint::Checkpoint::new("example.org/ledger", 6, a.root())
        .unwrap()
        .sign(&other)
        .to_bytes();
    let f = a
        .clone()
        .verify_checkpoint(&forged, &vkey, None)
        .unwrap_err();
    assert!(matches!(f.kind, K::CheckpointSignature { .. }));
}

#[test]
fn checkpoints_can_require_witnesses() {
    let w = world();
    let mut a = clean(&w.s, AuditConfig::default());
    let log = log_key();
    let witness = forewarn_tlog::note::SignerKey::from_seed(
        "witness.example.org",
        forewarn_tlog::note::SignatureType::CosignatureV1,
        &[2; 32],
    )
    .unwrap();
    let policy_text = format!(
        "log {}\nwitness w1 {}\nquorum w1\n",
        log.verifier(),
        witness.verifier()
    );
    let policy = forewarn_tlog::policy::Policy::parse(&policy_text).unwrap();
    let unwitnessed = checkpoint_for(a.size(), a.root());
    let f = a
        .clone()
        .verify_checkpoint(&unwitnessed, &log.verifier(), Some(&policy))
        .unwrap_err();
    assert!(
        matches!(&f.kind, K::CheckpointSignature { detail } if detail.contains("witness policy")),
        "{f}"
    );
    let cp = forewarn_tlog::checkpoint::Checkpoint::new("example.org/ledger", a.size(), a.root())
        .unwrap();
    let mut note = cp.sign(&log);
    note.push_signature(witness.cosign(&cp.to_text(), 1_767_225_600));
    a.verify_checkpoint(&note.to_bytes(), &log.verifier(), Some(&policy))
        .unwrap();
}

// ---------------------------------------------------------------------------
// Protocol findings
// ---------------------------------------------------------------------------

#[test]
fn at_most_one_active_embargo() {
    let mut w = world();
    let case = w.case();
    let (vendor, cert) = (w.vendor.clone(), w.cert.clone());
    // The coordinator takes part once notified (a member of the case).
    w.s.notify(&vendor, case, &cert, InfoLevel::Details, None);
    let e1 = w.s.submit(
        &vendor,
        Event::EmbargoProposed {
            case,
            ends_at: w.s.now + 10 * DAY_MS,
        },
    );
    w.s.submit(&cert, Event::EmbargoAccepted { embargo: e1 });
    let e2 = w.s.submit(
        &cert,
        Event::EmbargoProposed {
            case,
            ends_at: w.s.now + 20 * DAY_MS,
        },
    );
    let mut after_end = w.s.clone();
    w.s.submit(&vendor, Event::EmbargoAccepted { embargo: e2 });
    assert!(
        lawful_kinds(&w.s, "baseline", w.s.now).contains(&FindingKind::MultipleActiveEmbargoes)
    );
    after_end.submit(
        &vendor,
        Event::EmbargoTerminated {
            embargo: e1,
            reason: TerminationReason::Other,
        },
    );
    after_end.hours(1);
    after_end.submit(&vendor, Event::EmbargoAccepted { embargo: e2 });
    assert!(
        !lawful_kinds(&after_end, "baseline", after_end.now)
            .contains(&FindingKind::MultipleActiveEmbargoes)
    );
}

#[test]
fn publication_during_an_embargo_needs_a_termination() {
    let mut w = world();
    let case = w.case();
    let (vendor, cert) = (w.vendor.clone(), w.cert.clone());
    w.s.notify(&vendor, case, &cert, InfoLevel::Details, None);
    let e = w.s.submit(
        &vendor,
        Event::EmbargoProposed {
            case,
            ends_at: w.s.now + 10 * DAY_MS,
        },
    );
    w.s.submit(&cert, Event::EmbargoAccepted { embargo: e });
    w.s.submit(&vendor, Event::FixReady { case });
    w.s.days(3);
    let publish = Event::PubliclyDisclosed {
        case,
        url: "https://acme.example/sa-1".into(),
        sha256: [0; 32],
    };
    let mut terminated = w.s.clone();
    w.s.submit(&vendor, publish.clone());
    assert!(lawful_kinds(&w.s, "baseline", w.s.now).contains(&FindingKind::PublishedDuringEmbargo));
    terminated.submit(
        &vendor,
        Event::EmbargoTerminated {
            embargo: e,
            reason: TerminationReason::Leak,
        },
    );
    terminated.advance(1);
    terminated.submit(&vendor, publish);
    assert!(
        !lawful_kinds(&terminated, "baseline", terminated.now)
            .contains(&FindingKind::PublishedDuringEmbargo)
    );
}

#[test]
fn causal_order_v_f_d() {
    let mut w = world();
    let case = w.case();
    let vendor = w.vendor.clone();
    let mut good = w.s.clone();
    good.submit(&vendor, Event::FixReady { case });
    good.submit(&vendor, Event::FixReleased { case });
    assert!(!lawful_kinds(&good, "baseline", good.now).contains(&FindingKind::OutOfCausalOrder));
    // Released before ready.
    w.s.submit(&vendor, Event::FixReleased { case });
    assert!(lawful_kinds(&w.s, "baseline", w.s.now).contains(&FindingKind::OutOfCausalOrder));
    // Ready before any vendor said it knew: a coordinator opened the case
    // and told the vendor, which marks the fix ready without saying it
    // received the report (v2: only a vendor of the case may mark it fixed).
    let mut w = world();
    let (cert, vendor) = (w.cert.clone(), w.vendor.clone());
    let (case, _, _) = w.s.open_case(&cert, "x", "y");
    w.s.notify(&cert, case, &vendor, InfoLevel::Details, None);
    let mut received = w.s.clone();
    w.s.submit(&vendor, Event::FixReady { case });
    assert!(lawful_kinds(&w.s, "baseline", w.s.now).contains(&FindingKind::OutOfCausalOrder));
    received.submit(
        &vendor,
        Event::ReportReceived {
            case,
            reporter: cert.as_recipient(),
            report: Sealed::Clear([1; 32]),
        },
    );
    received.submit(&vendor, Event::FixReady { case });
    assert!(
        !lawful_kinds(&received, "baseline", received.now).contains(&FindingKind::OutOfCausalOrder)
    );
}

#[test]
fn public_before_fix_is_reported() {
    let mut w = world();
    let case = w.case();
    let vendor = w.vendor.clone();
    let publish = Event::PubliclyDisclosed {
        case,
        url: "https://acme.example/sa-2".into(),
        sha256: [0; 32],
    };
    let mut fixed = w.s.clone();
    w.s.submit(&vendor, publish.clone());
    assert!(lawful_kinds(&w.s, "baseline", w.s.now).contains(&FindingKind::PublicBeforeFix));
    fixed.submit(&vendor, Event::FixReady { case });
    fixed.submit(&vendor, publish);
    assert!(!lawful_kinds(&fixed, "baseline", fixed.now).contains(&FindingKind::PublicBeforeFix));
}

#[test]
fn acknowledgement_before_the_notice() {
    let mut w = world();
    let case = w.case();
    let (vendor, gov) = (w.vendor.clone(), w.gov.clone());
    let n = w.s.notify(&vendor, case, &gov, InfoLevel::Details, None);
    let sent = w.s.now;
    let mut ok = w.s.clone();
    // v2: received no later than the acknowledgement's own claimed time.
    ok.advance(1);
    ok.ack(&gov, n, sent + 1);
    assert!(!lawful_kinds(&ok, "baseline", ok.now).contains(&FindingKind::AckBeforeNotice));
    w.s.ack(&gov, n, sent - 1);
    assert!(lawful_kinds(&w.s, "baseline", w.s.now).contains(&FindingKind::AckBeforeNotice));
}

#[test]
fn notices_after_publication_are_marked() {
    let mut w = world();
    let case = w.case();
    let (vendor, customer) = (w.vendor.clone(), w.customer.clone());
    let mut before = w.s.clone();
    before.notify(&vendor, case, &customer, InfoLevel::Details, None);
    assert!(
        !lawful_kinds(&before, "baseline", before.now).contains(&FindingKind::NoticeAfterPublic)
    );
    w.s.submit(
        &vendor,
        Event::PubliclyDisclosed {
            case,
            url: "https://acme.example/sa-3".into(),
            sha256: [0; 32],
        },
    );
    w.s.hours(5);
    w.s.notify(&vendor, case, &customer, InfoLevel::Details, None);
    assert!(lawful_kinds(&w.s, "baseline", w.s.now).contains(&FindingKind::NoticeAfterPublic));
    let a = clean(&w.s, AuditConfig::default());
    let r = report::case_report(a.state(), &case, &[]).unwrap();
    let row = r
        .who_knew
        .iter()
        .find(|x| x.party == Some(customer.id))
        .unwrap();
    assert_eq!(row.lead_before_public_ms, Some(-5 * HOUR_MS as i64));
}

#[test]
fn revocation_effective_before_its_record_flags_what_the_key_signed() {
    // v2 replaces `key-revoked-retroactively` with `signed-by-revoked-key`:
    // a revocation whose `effective_at` is at or before the log time of
    // records the key already signed flags each of them, and they keep
    // their effect (history is not rewritten).
    let mut w = world();
    let case = w.case();
    let vendor = w.vendor.clone();
    let v2 = w.s.add_key(&vendor, "acme 2");
    w.s.hours(1);
    let fix = w.s.submit(&vendor, Event::FixReady { case });
    let fix_logged = Record::from_bytes(w.s.records().last().unwrap())
        .unwrap()
        .logged_at;
    w.s.hours(1);
    let flagged = |s: &Scenario| -> Vec<RecordRef> {
        lawful(s, AuditConfig::default())
            .state()
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::SignedByRevokedKey)
            .map(|f| f.record)
            .collect()
    };
    for (effective_at, expect) in [
        (fix_logged + 1, vec![]),
        (fix_logged, vec![fix.record]),
        (fix_logged - HOUR_MS + 1, vec![fix.record]),
    ] {
        let mut s = w.s.clone();
        s.submit(
            &v2,
            Event::KeyRevoked {
                key: vendor.public(),
                effective_at,
            },
        );
        assert_eq!(flagged(&s), expect, "effective at {effective_at}");
        let a = lawful(&s, AuditConfig::default());
        assert!(a.state().cases[&case].clock.fix_ready.is_some());
        assert_eq!(
            lawful_kinds(&s, "baseline", s.now).contains(&FindingKind::SignedByRevokedKey),
            !expect.is_empty()
        );
    }
}

// ---------------------------------------------------------------------------
// Policy findings
// ---------------------------------------------------------------------------

#[test]
fn logged_late() {
    let mut w = world();
    let case = w.case();
    let vendor = w.vendor.clone();
    let mut prompt = w.s.clone();
    prompt.log_delay = 71 * HOUR_MS;
    prompt.submit(&vendor, Event::FixReady { case });
    assert!(!lawful_kinds(&prompt, "baseline", prompt.now).contains(&FindingKind::LoggedLate));
    w.s.log_delay = 73 * HOUR_MS;
    w.s.submit(&vendor, Event::FixReady { case });
    assert!(lawful_kinds(&w.s, "baseline", w.s.now).contains(&FindingKind::LoggedLate));
    // A policy finding is judged from the facts the state keeps, not
    // streamed: a looser policy sees the same state and no finding.
    let a = lawful(&w.s, config("baseline"));
    assert!(
        !a.state()
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::LoggedLate)
    );
    let mut loose = AuditPolicy::preset("baseline").unwrap();
    loose.max_log_delay_hours = Some(74);
    assert!(
        !auditor::policy_findings(a.state(), &loose)
            .iter()
            .any(|f| f.kind == FindingKind::LoggedLate)
    );
    assert!(
        auditor::policy_findings(a.state(), &config("baseline").policy)
            .iter()
            .any(|f| f.kind == FindingKind::LoggedLate)
    );
}

#[test]
fn embargo_length_and_extensions() {
    for (days, extend, expect_long, expect_ext) in [
        (10, false, false, false),
        (15, false, true, false),
        (10, true, false, true),
    ] {
        let mut w = world();
        let case = w.case();
        let (vendor, cert) = (w.vendor.clone(), w.cert.clone());
        w.s.notify(&vendor, case, &cert, InfoLevel::Details, None);
        let e = w.s.submit(
            &vendor,
            Event::EmbargoProposed {
                case,
                ends_at: w.s.now + days * DAY_MS,
            },
        );
        w.s.submit(&cert, Event::EmbargoAccepted { embargo: e });
        if extend {
            w.s.submit(
                &vendor,
                Event::EmbargoRevised {
                    embargo: e,
                    ends_at: w.s.now + (days + 2) * DAY_MS,
                },
            );
        } else {
            // Shortening is never an extension.
            w.s.submit(
                &vendor,
                Event::EmbargoRevised {
                    embargo: e,
                    ends_at: w.s.now + (days - 1) * DAY_MS,
                },
            );
        }
        // One evaluation: the audited state is the same under every policy
        // and holds no policy judgement; the policy judges it afterwards
        // (auditor::policy_findings), so audit and report agree.
        let (base, distros) = (
            lawful(&w.s, config("baseline")),
            lawful(&w.s, config("linux-distros")),
        );
        assert_eq!(base.save(), distros.save());
        assert!(
            distros
                .state()
                .findings
                .iter()
                .all(|f| f.category() == Category::Protocol),
            "{:?}",
            distros.state().findings
        );
        let k = lawful_kinds(&w.s, "linux-distros", w.s.now);
        assert_eq!(
            k.contains(&FindingKind::EmbargoTooLong),
            expect_long,
            "{days} days, extend {extend}"
        );
        assert_eq!(
            k.contains(&FindingKind::TooManyExtensions),
            expect_ext,
            "{days} days, extend {extend}"
        );
    }
}

#[test]
fn privileged_recipients_before_the_fix() {
    let mut w = world();
    let case = w.case();
    let (vendor, gov) = (w.vendor.clone(), w.gov.clone());
    let mut after = w.s.clone();
    w.s.notify(&vendor, case, &gov, InfoLevel::Exploit, None);
    assert!(lawful_kinds(&w.s, "cert-cc", w.s.now).contains(&FindingKind::PrivilegedBeforeFix));
    assert!(
        !lawful_kinds(&w.s, "baseline", w.s.now).contains(&FindingKind::PrivilegedBeforeFix),
        "off in baseline"
    );
    after.submit(&vendor, Event::FixReady { case });
    after.notify(&vendor, case, &gov, InfoLevel::Exploit, None);
    assert!(
        !lawful_kinds(&after, "cert-cc", after.now).contains(&FindingKind::PrivilegedBeforeFix)
    );
}

#[test]
fn privileged_recipients_before_deployers() {
    let mut w = world();
    let case = w.case();
    let (vendor, program, customer) = (w.vendor.clone(), w.program.clone(), w.customer.clone());
    let mut deployer_first = w.s.clone();
    w.s.notify(&vendor, case, &program, InfoLevel::Details, None);
    w.s.days(2);
    w.s.notify(&vendor, case, &customer, InfoLevel::Details, None);
    assert!(
        lawful_kinds(&w.s, "cert-cc", w.s.now).contains(&FindingKind::PrivilegedBeforeDeployers)
    );
    deployer_first.notify(&vendor, case, &customer, InfoLevel::Details, None);
    deployer_first.days(2);
    deployer_first.notify(&vendor, case, &program, InfoLevel::Details, None);
    assert!(
        !lawful_kinds(&deployer_first, "cert-cc", deployer_first.now)
            .contains(&FindingKind::PrivilegedBeforeDeployers)
    );
}

#[test]
fn acknowledgement_deadlines() {
    let mut w = world();
    let case = w.case();
    let (vendor, gov) = (w.vendor.clone(), w.gov.clone());
    let n = w.s.notify(&vendor, case, &gov, InfoLevel::Details, None);
    let sent = w.s.now;
    // cert-cc: 7 days.
    assert!(
        !lawful_kinds(&w.s, "cert-cc", sent + 7 * DAY_MS).contains(&FindingKind::NeverAcknowledged)
    );
    assert!(
        lawful_kinds(&w.s, "cert-cc", sent + 7 * DAY_MS + 1)
            .contains(&FindingKind::NeverAcknowledged)
    );
    let mut late = w.s.clone();
    late.days(8);
    late.ack(&gov, n, late.now);
    let k = lawful_kinds(&late, "cert-cc", late.now + 100 * DAY_MS);
    assert!(k.contains(&FindingKind::AcknowledgedLate));
    assert!(!k.contains(&FindingKind::NeverAcknowledged));
    w.s.days(1);
    w.s.ack(&gov, n, w.s.now);
    let k = lawful_kinds(&w.s, "cert-cc", w.s.now + 100 * DAY_MS);
    assert!(
        !k.contains(&FindingKind::AcknowledgedLate) && !k.contains(&FindingKind::NeverAcknowledged)
    );
}

#[test]
fn sealed_details_must_be_opened_after_publication() {
    let mut w = world();
    let vendor = w.vendor.clone();
    let (case, s1, s2) = w.s.open_case(&vendor, "sqli", "acme-web");
    let opened = w.s.last();
    w.s.submit(&vendor, Event::FixReady { case });
    w.s.submit(
        &vendor,
        Event::PubliclyDisclosed {
            case,
            url: "https://acme.example/sa-4".into(),
            sha256: [0; 32],
        },
    );
    let public = w.s.now;
    let k = lawful_kinds(&w.s, "baseline", public + 91 * DAY_MS);
    assert_eq!(
        k.iter().filter(|k| **k == FindingKind::NotOpened).count(),
        2
    );
    assert!(
        !lawful_kinds(&w.s, "baseline", public + 89 * DAY_MS).contains(&FindingKind::NotOpened)
    );
    for (field, salt, v) in [(0u8, s1, "sqli"), (1, s2, "acme-web")] {
        w.s.submit(
            &vendor,
            Event::Opening {
                record: opened,
                field,
                salt,
                value: encoding::encode(&v.to_string()).unwrap(),
            },
        );
    }
    assert!(
        !lawful_kinds(&w.s, "baseline", public + 91 * DAY_MS).contains(&FindingKind::NotOpened)
    );
}

#[test]
fn cra_clocks() {
    let mut w = world();
    let case = w.case();
    let vendor = w.vendor.clone();
    w.s.submit(&vendor, Event::ExploitationObserved { case });
    let report = |stage| Event::RegulatoryReport {
        case,
        stage,
        authority: "ENISA".into(),
    };
    let mut on_time = w.s.clone();
    on_time.hours(20);
    on_time.submit(&vendor, report(RegulatoryStage::EarlyWarning));
    on_time.hours(40);
    on_time.submit(&vendor, report(RegulatoryStage::Notification));
    let k = lawful_kinds(&on_time, "eu-cra", on_time.now + 30 * DAY_MS);
    assert!(
        !k.contains(&FindingKind::CraEarlyWarningLate)
            && !k.contains(&FindingKind::CraNotificationLate),
        "{k:?}"
    );
    // Late early warning; missing notification; missing final report.
    w.s.hours(30);
    w.s.submit(&vendor, report(RegulatoryStage::EarlyWarning));
    w.s.submit(&vendor, Event::FixReady { case });
    w.s.submit(&vendor, Event::FixReleased { case });
    let k = lawful_kinds(&w.s, "eu-cra", w.s.now + 15 * DAY_MS);
    assert!(k.contains(&FindingKind::CraEarlyWarningLate), "{k:?}");
    assert!(k.contains(&FindingKind::CraNotificationLate), "{k:?}");
    assert!(k.contains(&FindingKind::CraFinalReportLate), "{k:?}");
    assert!(
        !lawful_kinds(&w.s, "baseline", w.s.now + 15 * DAY_MS)
            .contains(&FindingKind::CraNotificationLate),
        "off without eu-cra"
    );
}

#[test]
fn vultron_desiderata() {
    let mut w = world();
    let case = w.case();
    let vendor = w.vendor.clone();
    let publish = Event::PubliclyDisclosed {
        case,
        url: "https://acme.example/sa-5".into(),
        sha256: [0; 32],
    };
    let mut ideal = w.s.clone();
    ideal.submit(&vendor, Event::FixReady { case });
    ideal.submit(&vendor, Event::FixReleased { case });
    ideal.submit(&vendor, publish.clone());
    ideal.submit(&vendor, Event::ExploitPublic { case });
    assert!(
        !lawful_kinds(&ideal, "cert-cc", ideal.now).contains(&FindingKind::DesideratumViolated)
    );
    w.s.submit(&vendor, publish);
    w.s.hours(1);
    w.s.submit(&vendor, Event::FixReady { case });
    let c = config("cert-cc");
    let a = clean(&w.s, c.clone());
    let details: Vec<String> = auditor::all_findings(a.state(), &c.policy, w.s.now)
        .into_iter()
        .filter(|f| f.kind == FindingKind::DesideratumViolated)
        .map(|f| f.detail)
        .collect();
    assert_eq!(details.len(), 2, "{details:?}"); // F≺P and D≺P
    assert!(details[0].starts_with("F≺P") || details[1].starts_with("F≺P"));
}

// ---------------------------------------------------------------------------
// Resumption
// ---------------------------------------------------------------------------

#[test]
fn save_and_resume_gives_the_same_state() {
    let mut log = forewarn_ledger::testkit::RealisticLog::new(7, 20, true);
    log.grow_to(300);
    let records = log.scenario.records();
    let whole = audit_records(records, AuditConfig::default()).unwrap();
    let mut first = Auditor::new(AuditConfig::default());
    for r in &records[..150] {
        first.push(r).unwrap();
    }
    let saved = first.save();
    let mut second = Auditor::resume(AuditConfig::default(), &saved).unwrap();
    for r in &records[150..] {
        second.push(r).unwrap();
    }
    assert_eq!(second.save(), whole.save());
    assert_eq!(second.root(), whole.root());
    // A damaged state file is refused with a typed error.
    let mut bad = saved.clone();
    bad.push(0);
    assert!(Auditor::resume(AuditConfig::default(), &bad).is_err());
    assert!(Auditor::resume(AuditConfig::default(), &saved[..saved.len() / 2]).is_err());
}

#[test]
fn seen_checkpoint_cannot_be_from_the_future() {
    for (seen_size, fires) in [(6u64, false), (7, true)] {
        let mut w = world();
        // The log has 6 records before this one.
        let mut st = w.s.statement(
            Event::Annotation {
                record: w.s.cite(RecordRef(0)),
                kind: AnnotationKind::Comment,
                text: "seen".into(),
            },
            &w.vendor.key,
        );
        // v2 checks the root too: the log's root at that size.
        st.seen = Some(statement::SeenCheckpoint {
            size: seen_size,
            root: if fires {
                Hash([0; 32])
            } else {
                w.s.root_at(seen_size)
            },
        });
        let logged = w.s.now + 1_000;
        w.s.append_statement(&w.vendor.key.clone(), &st, logged);
        let r = w.s.audit(AuditConfig::default());
        if fires {
            assert_eq!(r.unwrap_err().kind, K::SeenBeyondLog { seen: 7, size: 6 });
        } else {
            r.unwrap();
        }
    }
}

// ---------------------------------------------------------------------------
// Reports
// ---------------------------------------------------------------------------

#[test]
fn reports_fold_lead_times_by_party_and_class() {
    let mut w = world();
    let (vendor, gov, customer) = (w.vendor.clone(), w.gov.clone(), w.customer.clone());
    // Three cases; the agency is told 10, 30 and 20 days before publication,
    // the customer 1 day before.
    let mut cases = Vec::new();
    for lead in [10u64, 30, 20] {
        let case = w.case();
        w.s.notify(&vendor, case, &gov, InfoLevel::Details, None);
        w.s.days(lead - 1);
        w.s.notify(&vendor, case, &customer, InfoLevel::Existence, None);
        w.s.days(1);
        w.s.submit(&vendor, Event::FixReady { case });
        w.s.submit(
            &vendor,
            Event::PubliclyDisclosed {
                case,
                url: "https://acme.example/sa".into(),
                sha256: [0; 32],
            },
        );
        cases.push(case);
    }
    let a = clean(&w.s, AuditConfig::default());
    let r = report::build(a.state(), &AuditPolicy::default(), w.s.now, &a.root());
    assert_eq!(r.summary.totals.cases, 3);
    assert_eq!(r.summary.totals.notices, 6);
    assert_eq!(r.summary.totals.public_cases, 3);
    let gov_lead = r
        .summary
        .early_notice
        .iter()
        .find(|c| c.class == PartyClass::Government)
        .unwrap();
    assert_eq!(gov_lead.told_before_public, 3);
    assert_eq!(gov_lead.median_days_before_public, Some(20.0));
    assert_eq!(gov_lead.max_days_before_public, Some(30.0));
    let cust = r
        .summary
        .early_notice
        .iter()
        .find(|c| c.class == PartyClass::Deployer)
        .unwrap();
    assert_eq!(cust.median_days_before_public, Some(1.0));
    // The agency's history, in the order it learned.
    let p = r.parties.iter().find(|p| p.party == gov.id).unwrap();
    assert_eq!(p.cases.iter().map(|c| c.case).collect::<Vec<_>>(), cases);
    assert_eq!(p.cases[1].lead_before_public_ms, Some(30 * DAY_MS as i64));
    // The who-knew-when table is ordered by when each party knew.
    let c = &r
        .cases
        .iter()
        .find(|c| c.case == cases[0])
        .unwrap()
        .who_knew;
    let names: Vec<&str> = c
        .iter()
        .map(|w| match &w.name {
            report::Shown::Clear(n) => n.as_str(),
            _ => "?",
        })
        .collect();
    assert_eq!(names, ["Acme Corp", "Ministry of Defence", "Big Bank"]);
    assert_eq!(c[0].how, report::Learned::Acted);
    assert_eq!(c[1].how, report::Learned::Notified);
    // Reports serialize for --json.
    let json = serde_json::to_string(&r).unwrap();
    assert!(json.contains("\"who_knew\""));
}

#[test]
fn extreme_times_never_overflow() {
    // Times come from signers and the log: the rules and reports must not
    // overflow at the ends of the plausible range (v2 refuses times outside
    // it, docs/FORMAT.md §13), nor at any report time.
    let (first, end) = (PLAUSIBLE_TIMES.start, PLAUSIBLE_TIMES.end);
    for (start, step) in [(first, 300 * DAY_MS), (end - 20 * HOUR_MS, HOUR_MS)] {
        let mut s = Scenario::new(start);
        let vendor = s.party("Acme", PartyClass::Vendor);
        let gov = s.party("Agency", PartyClass::Government);
        let (case, _, _) = s.open_case(&vendor, "x", "y");
        let e = s.submit(
            &vendor,
            Event::EmbargoProposed {
                case,
                ends_at: end - 1,
            },
        );
        let n = s.notify(&vendor, case, &gov, InfoLevel::Exploit, Some(e));
        s.submit(&gov, Event::EmbargoAccepted { embargo: e });
        s.ack(&gov, n, first);
        s.submit(&vendor, Event::ExploitationObserved { case });
        s.advance(step);
        s.submit(
            &vendor,
            Event::RegulatoryReport {
                case,
                stage: RegulatoryStage::EarlyWarning,
                authority: "CSIRT".into(),
            },
        );
        s.submit(&vendor, Event::FixReleased { case });
        s.submit(
            &vendor,
            Event::PubliclyDisclosed {
                case,
                url: "https://x.example".into(),
                sha256: [0; 32],
            },
        );
        s.submit(
            &vendor,
            Event::EmbargoRevised {
                embargo: e,
                ends_at: s.now + 1,
            },
        );
        for policy in policy::PRESETS {
            let c = config(policy);
            let a = lawful(&s, c.clone());
            for as_of in [0, start, u64::MAX] {
                let r = report::build(a.state(), &c.policy, as_of, &a.root());
                assert_eq!(r.summary.totals.records, a.size());
                let (summary, findings) =
                    report::summary_and_findings(a.state(), &c.policy, as_of, &a.root());
                assert_eq!((summary, findings), (r.summary.clone(), r.findings.clone()));
                // One evaluation: the report shows the audit's findings.
                let audit: Vec<FindingKind> = auditor::all_findings(a.state(), &c.policy, as_of)
                    .into_iter()
                    .filter(|f| f.case == Some(case))
                    .map(|f| f.kind)
                    .collect();
                let shown: Vec<FindingKind> = r.cases[0].findings.iter().map(|f| f.kind).collect();
                assert_eq!(shown, audit, "{policy} at {as_of}");
            }
        }
    }
}
