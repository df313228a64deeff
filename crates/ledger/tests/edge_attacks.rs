//! Attacks on the auditor's edges, each written as the log or the saved
//! state an attacker (or an accident) would produce (docs/FORMAT.md §16,
//! docs/AUDITING.md): a watchdog resuming at a snapshot boundary, a saved
//! state whose seen window was damaged, a sock-puppet's statement without
//! effect logged late, checkpoints or saved states of another log than the
//! configured one, references that do not resolve, statements about a
//! case, through what they cite, claimed before it was opened, junk behind
//! an unauthorized statement, look-alike names, and the keys a thief adds
//! with a stolen key.

mod common;

use common::*;
use forewarn_ledger::auditor::{self, RecentTree, SNAPSHOT_EVERY, STATE_VERSION};
use forewarn_ledger::encoding::{self, decode_versioned_unbounded, encode_unbounded};
use forewarn_ledger::statement::SeenCheckpoint;
use forewarn_ledger::testkit::{ORIGIN, Scenario, test_key};
use forewarn_ledger::*;
use forewarn_tlog::checkpoint::Checkpoint;
use forewarn_tlog::hash::EMPTY_ROOT;
use forewarn_tlog::note::{SignatureType, SignerKey};

/// A log of `n` self-signed registrations (every one valid on its own).
fn registrations(n: u64) -> Scenario {
    let mut s = Scenario::default();
    for i in 0..n {
        s.party(&format!("party {i}"), PartyClass::Vendor);
        s.advance(1_000);
    }
    s
}

fn with_origin(origin: &str) -> AuditConfig {
    AuditConfig {
        origin: Some(origin.into()),
        ..AuditConfig::default()
    }
}

// ---- Saving and resuming ----

/// A state saved after a multiple of `SNAPSHOT_EVERY` records resumes, and
/// auditing on from it gives exactly the state of one audit of the whole
/// log. (The seen window's last snapshot interval is then full, and its
/// root was looked for in a snapshot not taken yet, so such states were
/// refused as damaged: every 256th size.)
#[test]
fn a_state_saved_at_a_snapshot_boundary_resumes() {
    let total = 2 * SNAPSHOT_EVERY + 5;
    let s = registrations(total);
    let records = s.records();
    let whole = audit_records(records, AuditConfig::default()).unwrap();
    for cut in [SNAPSHOT_EVERY, 2 * SNAPSHOT_EVERY] {
        let first = audit_records(&records[..cut as usize], AuditConfig::default()).unwrap();
        let mut resumed = Auditor::resume(AuditConfig::default(), &first.save())
            .unwrap_or_else(|e| panic!("a state saved at size {cut} must resume: {e}"));
        for r in &records[cut as usize..] {
            resumed.push(r).unwrap();
        }
        assert_eq!(resumed.save(), whole.save(), "resumed at {cut}");
    }
    // The resumed auditor checks seen roots inside the window as the
    // uninterrupted one does.
    let cut = SNAPSHOT_EVERY;
    let first = audit_records(&records[..cut as usize], AuditConfig::default()).unwrap();
    let mut resumed = Auditor::resume(AuditConfig::default(), &first.save()).unwrap();
    let key = test_key("late joiner");
    let pk = PublicKey(key.verifying_key().to_bytes());
    let mut st = Statement::new(
        ORIGIN,
        Event::PartyRegistered {
            name: "late joiner".into(),
            class: PartyClass::Finder,
            key: pk,
        },
        s.now,
        pk,
    );
    for size in [cut, cut - 1, 100] {
        st.seen = Some(SeenCheckpoint {
            size,
            root: s.root_at(size),
        });
        let signed = st.sign(&key).unwrap();
        let mut a = resumed.clone();
        a.append_statement(&signed.bytes, signed.signature, s.now + 1_000, None)
            .unwrap_or_else(|f| panic!("seen size {size}: {f}"));
    }
    // And refuses a wrong one.
    st.seen = Some(SeenCheckpoint {
        size: 100,
        root: s.root_at(101),
    });
    let signed = st.sign(&key).unwrap();
    let f = resumed
        .append_statement(&signed.bytes, signed.signature, s.now + 1_000, None)
        .unwrap_err();
    assert!(
        matches!(f.kind, IntegrityKind::SeenRootMismatch { size: 100, .. }),
        "{f}"
    );
}

/// A saved state whose seen window cannot be the one its tree was built
/// with is refused on resume: a snapshot swapped for one of another size,
/// the window emptied under a non-empty tree. Each would otherwise make
/// the resumed auditor compute wrong past roots (or none), and so refuse
/// true `seen` claims. So is one whose chain would not go on from its last
/// record.
#[test]
fn a_saved_state_with_a_damaged_seen_window_is_refused() {
    let s = registrations(2 * SNAPSHOT_EVERY + 88);
    let a = audit_records(s.records(), AuditConfig::default()).unwrap();
    let saved = a.save();
    assert!(Auditor::resume(AuditConfig::default(), &saved).is_ok());
    let state: AuditState = decode_versioned_unbounded(&saved, STATE_VERSION).unwrap();
    assert_eq!(state.recent.snapshots.len(), 3);

    type Damage = fn(&mut AuditState);
    let damaged: [(&str, Damage); 4] = [
        (
            "first snapshot replaced by the second",
            |st: &mut AuditState| {
                st.recent.snapshots[0] = st.recent.snapshots[1].clone();
            },
        ),
        (
            "middle snapshot replaced by the first",
            |st: &mut AuditState| {
                st.recent.snapshots[1] = st.recent.snapshots[0].clone();
            },
        ),
        ("window emptied", |st: &mut AuditState| {
            st.recent = RecentTree::default()
        }),
        ("previous leaf changed", |st: &mut AuditState| {
            st.prev_leaf = st.recent.leaves[0]
        }),
    ];
    for (what, damage) in damaged {
        let mut st = state.clone();
        damage(&mut st);
        assert!(
            Auditor::resume(AuditConfig::default(), &encode_unbounded(&st)).is_err(),
            "resumed a state with its {what}"
        );
    }
}

// ---- Statements without effect ----

/// A sock-puppet's statement about someone else's case has no effect
/// (docs/AUDITING.md, "Who may do what"): it is reported as
/// `unauthorized`, and its log delay is no `logged-late` fact about the
/// case — the victim's case shows the one finding the attempt deserves.
#[test]
fn an_unauthorized_statement_logged_late_is_not_logged_late() {
    let mut w = world();
    let case = w.case();
    let gov = w.gov.clone();
    w.s.hours(1);
    // Four days between its claimed and its log time: over every preset's
    // `max_log_delay_hours`.
    w.s.log_delay = 4 * DAY_MS;
    let r = w.s.submit(&gov, Event::ExploitPublic { case }).record;
    let a = clean(&w.s, AuditConfig::default());
    let kinds: Vec<FindingKind> = a
        .state()
        .findings
        .iter()
        .filter(|f| f.record == r)
        .map(|f| f.kind)
        .collect();
    assert_eq!(kinds, [FindingKind::Unauthorized]);
    assert_eq!(a.state().cases[&case].clock.exploit_public, None);
    for preset in forewarn_ledger::policy::PRESETS {
        let policy = AuditPolicy::preset(preset).unwrap();
        let on_record: Vec<FindingKind> = auditor::all_findings(a.state(), &policy, w.s.now)
            .into_iter()
            .filter(|f| f.record == r)
            .map(|f| f.kind)
            .collect();
        assert_eq!(on_record, [FindingKind::Unauthorized], "{preset}");
    }
}

// ---- The configured origin ----

/// An auditor configured for a log (`AuditConfig.origin`) refuses a
/// checkpoint of another origin even before it has read a record, like it
/// does after (docs/FORMAT.md §16, "Every checkpoint the auditor verifies
/// must name the same origin").
#[test]
fn an_empty_logs_checkpoint_must_name_the_configured_origin() {
    let other =
        SignerKey::from_seed("example.org/other", SignatureType::Ed25519, &[2; 32]).unwrap();
    let note = Checkpoint::new("example.org/other", 0, EMPTY_ROOT)
        .unwrap()
        .sign(&other)
        .to_bytes();
    let mut a = Auditor::new(with_origin(ORIGIN));
    let f = a
        .verify_checkpoint(&note, &other.verifier(), None)
        .unwrap_err();
    assert!(
        matches!(&f.kind, IntegrityKind::CheckpointSignature { detail }
            if detail.contains("example.org/other") && detail.contains(ORIGIN)),
        "{f}"
    );
    // Unconfigured, an empty log has no origin yet to compare with.
    assert!(
        Auditor::new(AuditConfig::default())
            .verify_checkpoint(&note, &other.verifier(), None)
            .is_ok()
    );
    // The configured log's own empty checkpoint passes.
    let own = SignerKey::from_seed(ORIGIN, SignatureType::Ed25519, &[1; 32]).unwrap();
    let note = Checkpoint::new(ORIGIN, 0, EMPTY_ROOT)
        .unwrap()
        .sign(&own)
        .to_bytes();
    assert!(a.verify_checkpoint(&note, &own.verifier(), None).is_ok());
}

/// A saved state of one log does not resume as the audit of another: the
/// state's origin must be the configured one, or the resumed auditor
/// would take statements for the saved log's origin while configured for
/// another.
#[test]
fn a_saved_state_of_another_log_is_refused() {
    let s = registrations(3);
    let saved = audit_records(s.records(), AuditConfig::default())
        .unwrap()
        .save();
    let Err(e) = Auditor::resume(with_origin("example.org/other"), &saved) else {
        panic!("a state of {ORIGIN} resumed as the audit of example.org/other");
    };
    assert!(
        e.to_string().contains("example.org/other") && e.to_string().contains(ORIGIN),
        "{e}"
    );
    assert!(Auditor::resume(with_origin(ORIGIN), &saved).is_ok());
    assert!(Auditor::resume(AuditConfig::default(), &saved).is_ok());
}

// ---- References that do not resolve ----

/// The authority check lets an event whose reference does not resolve
/// through (it grants nothing to check), and relies on the subject rule
/// to refuse the reference. For every kind of reference that decides who
/// may sign, a stranger citing a record of the wrong kind (with its true
/// leaf hash) or no record at all gets `BadReference` — an integrity
/// failure, in a log as at the sequencer — never an accepted record.
#[test]
fn a_reference_that_does_not_resolve_is_refused_not_authorized() {
    let mut w = world();
    w.case();
    let opened = w.s.last();
    let stranger = w.gov.clone();
    let beyond = Cite::new(10_000, opened.leaf);
    let events = [
        Event::EmbargoAccepted { embargo: opened },
        Event::EmbargoRevised {
            embargo: opened,
            ends_at: w.s.now + 30 * DAY_MS,
        },
        Event::EmbargoTerminated {
            embargo: opened,
            reason: TerminationReason::Leak,
        },
        Event::Acknowledged {
            notice: opened,
            received_at: w.s.now,
        },
        Event::Opening {
            record: stranger.registration,
            field: 0,
            salt: [0; 32],
            value: encoding::encode(&"x".to_string()).unwrap(),
        },
        Event::Annotation {
            record: beyond,
            kind: AnnotationKind::Correction,
            text: "not mine".into(),
        },
    ];
    for event in events {
        let name = event.name();
        let mut s = w.s.clone();
        s.submit(&stranger, event.clone());
        let f = failure(&s);
        assert!(
            matches!(f.kind, IntegrityKind::BadReference { .. }),
            "{name} in a log: {f}"
        );
        let st = w.s.statement(event, &stranger.key);
        let f = sequence(&w.s, &stranger.key, &st).unwrap_err();
        assert!(
            matches!(f.kind, IntegrityKind::BadReference { .. }),
            "{name} at the sequencer: {f}"
        );
    }
}
// ---- Claimed before the case was opened ----

/// `before-case-opened` is about every statement about a case
/// (docs/AUDITING.md, "Findings"), also one that acts on the case through
/// what it cites: an acceptance of its embargo, an acknowledgement of its
/// notice. Backdated to before the case existed, each is a finding, as a
/// notice would be.
#[test]
fn a_statement_acting_on_a_case_through_a_citation_is_not_claimed_before_it_opened() {
    let mut w = world();
    let opened_at = w.s.now;
    let case = w.case();
    let (vendor, cert) = (w.vendor.clone(), w.cert.clone());
    w.s.hours(1);
    let ends_at = w.s.now + 30 * DAY_MS;
    let embargo =
        w.s.submit(&vendor, Event::EmbargoProposed { case, ends_at });
    let notice =
        w.s.notify(&vendor, case, &cert, InfoLevel::Details, Some(embargo));
    w.s.hours(1);
    let now = w.s.now;
    // CERT dates its acceptance and its acknowledgement an hour before
    // the case was opened.
    w.s.now = opened_at - HOUR_MS;
    let accepted = w.s.submit(&cert, Event::EmbargoAccepted { embargo });
    let received = w.s.now;
    let acked = w.s.ack(&cert, notice, received);
    w.s.now = now;
    let on_time = w.s.ack(&cert, notice, now);
    let a = lawful(&w.s, AuditConfig::default());
    let before: Vec<(RecordRef, Option<CaseId>, Option<PartyId>)> = a
        .state()
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::BeforeCaseOpened)
        .map(|f| (f.record, f.case, f.party))
        .collect();
    assert_eq!(
        before,
        [
            (accepted.record, Some(case), Some(cert.id)),
            (acked.record, Some(case), Some(cert.id)),
        ]
    );
    assert!(
        a.state()
            .findings
            .iter()
            .all(|f| f.record != on_time.record)
    );
}

// ---- Well formed before authorized ----

/// A statement its signer may not make is reported and given no effect,
/// but it must still be well formed: a sock-puppet cannot store a forged
/// citation, a control character or an invisible bidirectional override
/// behind an `unauthorized` finding.
#[test]
fn an_unauthorized_statement_must_still_be_well_formed() {
    let mut s = Scenario::default();
    let vendor = s.party("Acme Corp", PartyClass::Vendor);
    let puppet = s.party("Acme Corp.", PartyClass::Vendor);
    let (case, _, _) = s.open_case(&vendor, "heap overflow", "acme-server");
    let embargo = s.submit(
        &vendor,
        Event::EmbargoProposed {
            case,
            ends_at: s.now + 30 * DAY_MS,
        },
    );
    let a = audited(&s);
    // Well formed, unauthorized: a finding, no effect.
    let ok_revision = s.statement(
        Event::EmbargoRevised {
            embargo,
            ends_at: s.now + 90 * DAY_MS,
        },
        &puppet.key,
    );
    let (_, r) = audit_with(&a, &s, &puppet.key, &ok_revision, next_logged(&s));
    let audited = r.expect("an unauthorized statement is a finding");
    assert!(
        audited
            .state()
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::Unauthorized)
    );
    let forged = Cite::new(embargo.record.0, forewarn_tlog::hash::Hash([7; 32]));
    let junk: [(Event, &str); 3] = [
        (
            Event::EmbargoRevised {
                embargo: forged,
                ends_at: s.now + 90 * DAY_MS,
            },
            "forged citation",
        ),
        (
            Event::RegulatoryReport {
                case,
                stage: RegulatoryStage::EarlyWarning,
                authority: "ENISA\u{7}".into(),
            },
            "control character",
        ),
        (
            Event::RegulatoryReport {
                case,
                stage: RegulatoryStage::EarlyWarning,
                authority: "ENISA\u{202E}lanretni".into(),
            },
            "right-to-left override",
        ),
    ];
    for (event, what) in junk {
        let st = s.statement(event, &puppet.key);
        let (_, r) = audit_with(&a, &s, &puppet.key, &st, next_logged(&s));
        let f = r.err().unwrap_or_else(|| panic!("{what}: accepted"));
        assert!(
            matches!(
                f.kind,
                IntegrityKind::CiteMismatch { .. } | IntegrityKind::InvalidField { .. }
            ),
            "{what}: {f}"
        );
        let mut seq = a.clone();
        assert!(
            !matches!(
                sequencer_refuses(&mut seq, &puppet.key, &st, next_logged(&s)),
                IntegrityKind::Unauthorized { .. }
            ),
            "{what}: refused for the wrong reason"
        );
    }
}

/// Every text field refuses the invisible formatting characters of
/// CVE-2021-42574 ("Trojan Source"): a party name that displays as
/// another's.
#[test]
fn invisible_formatting_characters_are_refused_in_names() {
    for name in [
        "Acme\u{202E}proC",
        "Ac\u{200B}me Corp",
        "\u{FEFF}Acme",
        "Acme\u{2066}x\u{2069}",
    ] {
        let mut s = Scenario::default();
        s.party(name, PartyClass::Vendor);
        assert!(
            matches!(
                failure(&s).kind,
                IntegrityKind::InvalidField {
                    what: TextField::PartyName
                }
            ),
            "{name:?}"
        );
    }
    let mut s = Scenario::default();
    s.party("Acme Corp — Überwachung", PartyClass::Vendor);
    audited(&s);
}

// ---- Keys added by a thief ----

/// A thief holding K1 adds K3 with a `KeyAdded` it dates back to 1980:
/// K3 still signs nothing claimed more than the clock skew before that
/// record's log time, so the backdated `KeyAdded` buys it no backdating.
#[test]
fn a_backdated_key_added_does_not_let_the_new_key_backdate() {
    let mut s = Scenario::default();
    let k1 = s.party("Acme Corp", PartyClass::Vendor);
    s.days(30);
    let k3 = test_key("thief/k3");
    let party = k1.registration;
    let add = Statement::new(
        ORIGIN,
        Event::KeyAdded {
            party,
            key: PublicKey(k3.verifying_key().to_bytes()),
            possession: forewarn_ledger::statement::prove_possession(ORIGIN, &party, &k3),
        },
        PLAUSIBLE_TIMES.start + 1,
        k1.public(),
    );
    let logged = next_logged(&s);
    s.append_statement(&k1.key, &add, logged);
    let a = audited(&s);
    let (case_id, summary) = (CaseId([9; 16]), Sealed::Clear("backdated".to_string()));
    let week_ago = Statement::new(
        ORIGIN,
        Event::CaseOpened {
            case: case_id,
            summary: summary.clone(),
            product: summary,
        },
        logged - 7 * DAY_MS,
        PublicKey(k3.verifying_key().to_bytes()),
    );
    let mut seq = a.clone();
    assert!(matches!(
        sequencer_refuses(&mut seq, &k3, &week_ago, logged + 1_000),
        IntegrityKind::KeyNotYetAdded { added_at, .. } if added_at == logged - auditor::DEFAULT_MAX_SKEW_MS
    ));
}

/// A chain of keys the thief added (K1 stolen adds K3, K3 adds K4) is
/// revoked down the chain when the owner revokes K1 from the time of the
/// theft; each of their records is flagged.
#[test]
fn keys_added_down_a_chain_from_a_stolen_key_are_revoked_with_it() {
    let mut s = Scenario::default();
    let k1 = s.party("Acme Corp", PartyClass::Vendor);
    let k2 = s.add_key(&k1, "Acme Corp/k2");
    s.hours(1);
    let stolen_at = s.now;
    s.hours(1);
    let k3 = s.add_key(&k1, "thief/k3");
    let k4 = s.add_key(&k3, "thief/k4");
    let (_, _, _) = s.open_case(&k4, "planted", "planted");
    let planted = s.last();
    s.hours(1);
    let revocation = s.submit(
        &k2,
        Event::KeyRevoked {
            key: k1.public(),
            effective_at: stolen_at,
        },
    );
    let a = audited(&s);
    for k in [&k1, &k3, &k4] {
        assert_eq!(
            a.state().keys[&k.public()].revoked,
            Some((revocation.record, stolen_at)),
            "{}",
            k.name
        );
    }
    assert!(a.state().keys[&k2.public()].revoked.is_none());
    assert!(
        a.state()
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::SignedByRevokedKey && f.record == planted.record)
    );
}

/// The usual key rotation — add K2 with K1, then revoke K1 with K2,
/// effective from before the `KeyAdded` was logged — flags the `KeyAdded`
/// but keeps K2: the key that signs a revocation is never revoked by it.
#[test]
fn a_rotation_keeps_the_key_that_signs_the_revocation() {
    let mut s = Scenario::default();
    let k1 = s.party("Acme Corp", PartyClass::Vendor);
    let from = s.now;
    let k2 = s.add_key(&k1, "Acme Corp/k2");
    let revocation = s.submit(
        &k2,
        Event::KeyRevoked {
            key: k1.public(),
            effective_at: from,
        },
    );
    let a = audited(&s);
    assert_eq!(
        a.state().keys[&k1.public()].revoked,
        Some((revocation.record, from))
    );
    assert!(a.state().keys[&k2.public()].revoked.is_none());
    let mut seq = a.clone();
    let st = s.statement(
        Event::ReportAcknowledged {
            case: CaseId([3; 16]),
        },
        &k2.key,
    );
    // K2 still signs (the statement fails only on its unknown case).
    assert!(matches!(
        sequencer_refuses(&mut seq, &k2.key, &st, next_logged(&s)),
        IntegrityKind::UnknownCase { .. }
    ));
}
