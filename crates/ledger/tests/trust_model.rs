//! The trust model, tried as an attacker would (docs/AUDITING.md; statement
//! format v2, docs/FORMAT.md §11–§16): each test builds the log an attacker
//! would produce, audits it, and checks the exact integrity failure or
//! finding — and, where a sequencer could have been offered the
//! statement, that `Auditor::append_statement` refuses it and leaves the
//! state byte for byte unchanged.
//!
//! Each test's documentation says how format v1 let the attack through.

mod common;

use common::*;
use ed25519_dalek::SigningKey;
use forewarn_ledger::auditor::{self, SEEN_WINDOW};
use forewarn_ledger::authority::Authority;
use forewarn_ledger::encoding::encode;
use forewarn_ledger::finding::TimeField;
use forewarn_ledger::policy::PRESETS;
use forewarn_ledger::sealed::Salt;
use forewarn_ledger::statement::{SeenCheckpoint, prove_possession};
use forewarn_ledger::testkit::{Actor, ORIGIN, RealisticLog, Scenario, field, test_key};
use forewarn_ledger::*;
use forewarn_tlog::hash::Hash;

fn pk(key: &SigningKey) -> PublicKey {
    PublicKey(key.verifying_key().to_bytes())
}

/// The kinds of the streamed findings on record `r`.
fn findings_on(a: &Auditor, r: RecordRef) -> Vec<FindingKind> {
    a.state()
        .findings
        .iter()
        .filter(|f| f.record == r)
        .map(|f| f.kind)
        .collect()
}

// ---- A stolen key outlives its revocation ----

/// Revocation by log position (docs/FORMAT.md §16 step 9).
///
/// v1 checked revocation against `claimed_at`, which the signer chooses:
/// the owner revoked K1 (effective two hours earlier) with K2, the thief
/// signed with K1, dated 1 ms before that time, `KeyAdded(K3)` and
/// `KeyRevoked(K2)`; K3 then opened a case and marked it fixed. The audit
/// was clean with zero findings and the owner's K2 was refused.
#[test]
fn a_revoked_key_signs_nothing_logged_after_its_revocation_whatever_its_claimed_time() {
    let mut s = Scenario::default();
    let t0 = s.now;
    let k1 = s.party("Acme Corp", PartyClass::Vendor);
    s.advance(60_000);
    let k2 = s.add_key(&k1, "Acme Corp/k2");
    s.hours(1);
    let (case, _, _) = s.open_case(&k1, "heap overflow in parser", "acme-server 4.2");
    let before_effective_case = s.last();
    let cert = s.party("CERT/XY", PartyClass::Coordinator);

    // K1 signs two records around the time it will be said to have been
    // stolen: one logged 1 ms before, one logged exactly then.
    let effective = t0 + 10 * HOUR_MS;
    s.log_delay = 1;
    s.now = effective - 2;
    let logged_before = s.notify(&k1, case, &cert, InfoLevel::Details, None);
    s.now = effective - 1;
    let logged_at_effective = s.submit(
        &k1,
        Event::EmbargoProposed {
            case,
            ends_at: effective + 30 * DAY_MS,
        },
    );
    s.log_delay = 1_000;
    s.now = t0 + 11 * HOUR_MS;
    let logged_after = s.submit(&k1, Event::FixReady { case });

    // The owner revokes K1 with K2, effective two hours before the revocation.
    s.now = t0 + 12 * HOUR_MS;
    let revocation = s.submit(
        &k2,
        Event::KeyRevoked {
            key: k1.public(),
            effective_at: effective,
        },
    );

    // The records K1 signed that were logged from `effective_at` on are
    // flagged, the earlier ones are not; history is not rewritten.
    let a = audited(&s);
    let mut flagged: Vec<RecordRef> = a
        .state()
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::SignedByRevokedKey)
        .inspect(|f| assert_eq!(f.party, Some(k1.id)))
        .map(|f| f.record)
        .collect();
    flagged.sort();
    assert_eq!(
        flagged,
        vec![logged_at_effective.record, logged_after.record]
    );
    for r in [
        k1.registration.record,
        before_effective_case.record,
        logged_before.record,
    ] {
        assert!(findings_on(&a, r).is_empty(), "record {r} is not suspect");
    }
    assert!(a.state().cases[&case].clock.fix_ready.is_some());

    // The thief signs with K1, claimed 1 ms before the effective time,
    // logged after the revocation: refused, in a log and by a sequencer.
    let k3 = test_key("thief/k3");
    let thief_claims = effective - 1;
    let add_k3 = Statement {
        claimed_at: thief_claims,
        ..s.statement(
            Event::KeyAdded {
                party: k1.registration,
                key: pk(&k3),
                possession: prove_possession(ORIGIN, &k1.registration, &k3),
            },
            &k1.key,
        )
    };
    let revoke_k2 = Statement {
        claimed_at: thief_claims,
        ..s.statement(
            Event::KeyRevoked {
                key: k2.public(),
                effective_at: thief_claims,
            },
            &k1.key,
        )
    };
    let refused = IntegrityKind::RevokedKey {
        key: k1.public().0,
        revoked_by: revocation.record,
    };
    let logged = next_logged(&s);
    let mut sequencer = a.clone();
    for st in [&add_k3, &revoke_k2] {
        let (log, result) = audit_with(&a, &s, &k1.key, st, logged);
        let f = result.expect_err("the thief's statement is refused in a log");
        assert_eq!(f.index, log.size() - 1);
        assert_eq!(f.kind, refused);
        assert_eq!(failure(&log).kind, refused, "auditing the whole log");
        assert_eq!(
            sequencer_refuses(&mut sequencer, &k1.key, st, logged),
            refused
        );
    }

    // The owner's K2 still signs; K3 was never added.
    let k3_opens = s.statement(
        Event::CaseOpened {
            case: CaseId([3; 16]),
            summary: Sealed::Clear("fake".into()),
            product: Sealed::Clear("fake".into()),
        },
        &k3,
    );
    assert_eq!(
        sequencer_refuses(&mut sequencer, &k3, &k3_opens, logged),
        IntegrityKind::UnknownKey { key: pk(&k3).0 }
    );
    sequencer_accepts(
        &mut sequencer,
        &k2.key,
        &s.statement(Event::FixReleased { case }, &k2.key),
        logged,
    );
}

/// A key the thief added with the stolen key after the stated compromise
/// is revoked with it: the owner's revocation of the stolen key flags the
/// `KeyAdded` (`signed-by-revoked-key`) and revokes the key it added, so the
/// thief's spare key signs nothing logged afterwards either. History is not
/// rewritten: the `KeyAdded` stays in the log, flagged.
///
/// v1 gave no finding at all: its revocation check used the claimed time,
/// and a backdated `KeyAdded` was as good as an honest one.
#[test]
fn a_key_added_with_a_stolen_key_is_revoked_with_it() {
    let mut s = Scenario::default();
    let k1 = s.party("Acme Corp", PartyClass::Vendor);
    let k2 = s.add_key(&k1, "Acme Corp/k2");
    let stolen_at = s.now + HOUR_MS;
    s.hours(2);
    let thief = s.add_key(&k1, "thief/k3");
    let added = s.last();
    s.hours(1);
    let revoked = s.submit(
        &k2,
        Event::KeyRevoked {
            key: k1.public(),
            effective_at: stolen_at,
        },
    );
    let a = audited(&s);
    assert_eq!(
        findings_on(&a, added.record),
        [FindingKind::SignedByRevokedKey]
    );
    assert_eq!(a.state().keys[&thief.public()].party, k1.id);
    assert_eq!(
        a.state().keys[&thief.public()].revoked,
        Some((revoked.record, stolen_at))
    );
    // The owner's own second key, added before the compromise, stays.
    assert!(a.state().keys[&k2.public()].revoked.is_none());

    let mut sequencer = audited(&s);
    let st = s.statement(
        Event::KeyRevoked {
            key: k2.public(),
            effective_at: s.now,
        },
        &thief.key,
    );
    assert_eq!(
        sequencer_refuses(&mut sequencer, &thief.key, &st, next_logged(&s)),
        IntegrityKind::RevokedKey {
            key: thief.public().0,
            revoked_by: revoked.record,
        }
    );
}

/// A key added by `KeyAdded` signs nothing claimed before that record.
///
/// v1 let a newly added key sign statements dated before it was added, so a
/// key added today could rewrite what its party "said" last year.
#[test]
fn a_key_cannot_sign_statements_claimed_before_it_was_added() {
    let mut s = Scenario::default();
    let k1 = s.party("Acme Corp", PartyClass::Vendor);
    s.hours(2);
    let k2 = s.add_key(&k1, "Acme Corp/k2");
    let added_at = s.now;
    s.hours(1);
    let a = audited(&s);
    let logged = next_logged(&s);
    let case_opened = |claimed_at, key: &SigningKey| Statement {
        claimed_at,
        ..s.statement(
            Event::CaseOpened {
                case: CaseId([9; 16]),
                summary: Sealed::Clear("backdated".into()),
                product: Sealed::Clear("acme-server".into()),
            },
            key,
        )
    };
    let refused = IntegrityKind::KeyNotYetAdded {
        key: k2.public().0,
        added_at,
    };
    let early = case_opened(added_at - 1, &k2.key);
    let (_, result) = audit_with(&a, &s, &k2.key, &early, logged);
    assert_eq!(result.expect_err("refused in a log").kind, refused);
    assert_eq!(
        sequencer_refuses(&mut a.clone(), &k2.key, &early, logged),
        refused
    );
    // From the KeyAdded's claimed time on it signs; the party's first key
    // (its registration's) has no such limit.
    audit_with(&a, &s, &k2.key, &case_opened(added_at, &k2.key), logged)
        .1
        .expect("claimed at the KeyAdded's time");
    audit_with(
        &a,
        &s,
        &k1.key,
        &case_opened(added_at - HOUR_MS, &k1.key),
        logged,
    )
    .1
    .expect("the first key has no such limit");
}

// ---- A statement moves between logs ----

/// Statements name their log (docs/FORMAT.md §12, `origin`).
///
/// v1 statements named neither the log nor what they cited: Acme's notice
/// to CERT-X (party 1) in ledger A, appended byte for byte to ledger B
/// where party 1 is a government party, made B's report say Acme told the
/// government, and B audited clean.
#[test]
fn a_statement_signed_for_one_log_is_refused_by_another() {
    const A: &str = "a.example/ledger";
    const B: &str = "b.example/ledger";
    let mut a = Scenario::default();
    a.origin = A.into();
    let acme = a.party("Acme Corp", PartyClass::Vendor);
    let cert_x = a.party("CERT-X", PartyClass::Coordinator);
    let (case, _, _) = a.open_case(&acme, "heap overflow in parser", "acme-server 4.2");
    let notice = a.notify(&acme, case, &cert_x, InfoLevel::Details, None);
    clean(&a, AuditConfig::default());
    let replayed = Record::from_bytes(&a.records()[notice.record.0 as usize]).unwrap();

    // Ledger B: the same vendor key, party 1 a government agency, the same
    // case id.
    let mut b = Scenario::default();
    b.origin = B.into();
    let acme_b = b.party("Acme Corp", PartyClass::Vendor);
    let gov = b.party("Ministry of Defence", PartyClass::Government);
    assert_eq!(gov.id, cert_x.id);
    let (case_b, _, _) = b.open_case(&acme_b, "heap overflow in parser", "acme-server 4.2");
    assert_eq!(case_b, case);
    let logged = next_logged(&b);
    let refused = IntegrityKind::WrongOrigin {
        expected: B.into(),
        found: A.into(),
    };

    // The origin known in advance (a store's, a pinned key's name) …
    let pinned = AuditConfig {
        origin: Some(B.into()),
        ..AuditConfig::default()
    };
    // … or taken from record 0, which names B.
    let from_log = AuditConfig::default();
    for config in [pinned, from_log] {
        let prefix = audit_records(b.records(), config.clone()).expect("B is sound");
        assert_eq!(prefix.state().origin.as_deref(), Some(B));
        let f = audit_raw_with(
            &prefix,
            &b,
            replayed.statement.clone(),
            replayed.signature,
            logged,
        )
        .expect_err("a replayed statement is refused in a log");
        assert_eq!((f.index, f.kind), (b.size(), refused.clone()));
        assert_eq!(
            sequencer_refuses_raw(
                &mut prefix.clone(),
                &replayed.statement,
                replayed.signature,
                logged
            ),
            refused
        );
    }
}

/// References carry leaf hashes (docs/FORMAT.md §11, `Cite`).
///
/// A malicious operator's fork that calls itself by the same origin passes
/// the origin check; in v1, whose references were bare indexes, Acme's
/// notice to CERT-X (party 1) then named whoever was party 1 in the fork.
#[test]
fn a_replayed_statement_cites_records_the_other_log_does_not_have() {
    let mut a = Scenario::default();
    let acme = a.party("Acme Corp", PartyClass::Vendor);
    let cert_x = a.party("CERT-X", PartyClass::Coordinator);
    let (case, _, _) = a.open_case(&acme, "heap overflow in parser", "acme-server 4.2");
    let notice = a.notify(&acme, case, &cert_x, InfoLevel::Details, None);
    let replayed = Record::from_bytes(&a.records()[notice.record.0 as usize]).unwrap();

    // The fork: same origin, same vendor key, party 1 a government agency.
    let mut fork = Scenario::default();
    assert_eq!(fork.origin, a.origin);
    let acme_f = fork.party("Acme Corp", PartyClass::Vendor);
    let gov = fork.party("Ministry of Defence", PartyClass::Government);
    fork.open_case(&acme_f, "heap overflow in parser", "acme-server 4.2");
    let prefix = audited(&fork);
    let logged = next_logged(&fork);
    let refused = IntegrityKind::CiteMismatch {
        reference: gov.registration.record,
        expected: gov.registration.leaf,
        found: cert_x.registration.leaf,
    };
    let f = audit_raw_with(
        &prefix,
        &fork,
        replayed.statement.clone(),
        replayed.signature,
        logged,
    )
    .expect_err("the citation names another record");
    assert_eq!(f.kind, refused);
    assert_eq!(
        sequencer_refuses_raw(
            &mut prefix.clone(),
            &replayed.statement,
            replayed.signature,
            logged
        ),
        refused
    );
}

// ---- Anyone may change any case ----

/// Who may do what (docs/AUDITING.md): an embargo is revised only by its
/// proposer or a party that accepted it.
///
/// In v1 any registered party could revise, terminate or accept any
/// embargo: a sock-puppet's `EmbargoRevised`, moving the end to before the
/// publication, erased the published-during-embargo finding.
#[test]
fn a_sock_puppet_cannot_move_an_embargo() {
    let mut w = world();
    let case = w.case();
    let (vendor, finder) = (w.vendor.clone(), w.finder.clone());
    w.s.submit(
        &vendor,
        Event::ReportReceived {
            case,
            reporter: finder.as_recipient(),
            report: Sealed::Clear([1; 32]),
        },
    );
    let end = w.s.now + 30 * DAY_MS;
    let embargo =
        w.s.submit(&vendor, Event::EmbargoProposed { case, ends_at: end });
    w.s.hours(1);
    w.s.submit(&finder, Event::EmbargoAccepted { embargo });
    let puppet = w.s.party("Totally Independent Ltd", PartyClass::Other);
    w.s.days(5);
    let prefix = audited(&w.s);

    // Revised to end tomorrow; published in five days.
    let revise = |by: &Actor| {
        w.s.statement(
            Event::EmbargoRevised {
                embargo,
                ends_at: w.s.now + DAY_MS,
            },
            &by.key,
        )
    };
    let logged = next_logged(&w.s);
    let published = |by: &Actor| {
        let (mut s, result) = audit_with(&prefix, &w.s, &by.key, &revise(by), logged);
        let revision = s.last();
        result.expect("sound either way");
        s.days(5);
        s.submit(
            &vendor,
            Event::PubliclyDisclosed {
                case,
                url: "https://acme.example/advisories/1".into(),
                sha256: [0; 32],
            },
        );
        (revision, clean(&s, AuditConfig::default()))
    };

    let (revision, a) = published(&puppet);
    assert_eq!(
        findings_on(&a, revision.record),
        [FindingKind::Unauthorized]
    );
    let e = &a.state().embargoes[&embargo.record];
    assert_eq!((e.ends_at, e.revisions.len(), e.extensions), (end, 0, 0));
    assert!(
        a.state()
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::PublishedDuringEmbargo && f.case == Some(case))
    );
    assert_eq!(
        sequencer_refuses(&mut prefix.clone(), &puppet.key, &revise(&puppet), logged),
        IntegrityKind::Unauthorized {
            event: "EmbargoRevised",
            rule: Authority::EmbargoParty,
        }
    );

    // The proposer may: the embargo ends tomorrow, and the publication
    // five days later breaks nothing.
    let (revision, a) = published(&vendor);
    assert!(findings_on(&a, revision.record).is_empty());
    assert_eq!(
        a.state().embargoes[&embargo.record].ends_at,
        w.s.now + DAY_MS
    );
    assert!(
        !a.state()
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::PublishedDuringEmbargo)
    );
}

// ---- Keys claimed without possession ----

/// Proof of possession (docs/FORMAT.md §13, `KeyAdded.possession`).
///
/// v1's `KeyAdded` needed no signature by the new key: a party could claim
/// a victim's key, after which the victim could not register and its
/// statements were credited to the claimant.
#[test]
fn a_key_cannot_be_claimed_without_its_proof_of_possession() {
    let mut s = Scenario::default();
    let mallory = s.party("Mallory", PartyClass::Vendor);
    let other = s.party("Some Other Party", PartyClass::Vendor);
    s.hours(1);
    let victim = test_key("Victim Corp");
    let prefix = audited(&s);
    let logged = next_logged(&s);
    let claim = |possession| {
        s.statement(
            Event::KeyAdded {
                party: mallory.registration,
                key: pk(&victim),
                possession,
            },
            &mallory.key,
        )
    };
    let mut sequencer = prefix.clone();
    for (what, possession) in [
        (
            "made by the claimant's own key",
            prove_possession(ORIGIN, &mallory.registration, &mallory.key),
        ),
        (
            "by the victim's key, for another party",
            prove_possession(ORIGIN, &other.registration, &victim),
        ),
        (
            "by the victim's key, for another log",
            prove_possession("other.example/ledger", &mallory.registration, &victim),
        ),
        ("all zero", Signature([0; 64])),
    ] {
        let refused = IntegrityKind::BadPossession { key: pk(&victim).0 };
        let (_, result) = audit_with(&prefix, &s, &mallory.key, &claim(possession), logged);
        assert_eq!(result.expect_err(what).kind, refused, "{what}");
        assert_eq!(
            sequencer_refuses(&mut sequencer, &mallory.key, &claim(possession), logged),
            refused,
            "{what}"
        );
    }

    // The victim still registers its own key, in the log and at the
    // sequencer that refused the claims.
    let register = s.statement(
        Event::PartyRegistered {
            name: "Victim Corp".into(),
            class: PartyClass::Vendor,
            key: pk(&victim),
        },
        &victim,
    );
    let (_, result) = audit_with(&prefix, &s, &victim, &register, logged);
    let a = result.expect("the victim registers");
    assert_eq!(a.state().keys[&pk(&victim)].party, PartyId(s.size()));
    sequencer_accepts(&mut sequencer, &victim, &register, logged);
    assert_eq!(sequencer.save(), a.save());

    // Whoever holds the key can add it: the proof is what is checked.
    let (_, result) = audit_with(
        &prefix,
        &s,
        &mallory.key,
        &claim(prove_possession(ORIGIN, &mallory.registration, &victim)),
        logged,
    );
    assert_eq!(
        result.expect("a real proof").state().keys[&pk(&victim)].party,
        mallory.id
    );
}

// ---- Fabricated seen-roots ----

/// `seen` roots are checked (docs/FORMAT.md §16 step 6).
///
/// v1 checked only the size of a statement's seen checkpoint, never its
/// root (the golden log itself carried a fabricated one), so an operator
/// that showed a signer a forked view left no trace.
#[test]
fn a_seen_root_must_be_the_logs_root_at_that_size() {
    let mut w = world();
    let case = w.case();
    let vendor = w.vendor.clone();
    w.s.hours(1);
    let prefix = audited(&w.s);
    let logged = next_logged(&w.s);
    let with_seen = |size: u64, root: Hash| Statement {
        seen: Some(SeenCheckpoint { size, root }),
        ..w.s.statement(Event::FixReady { case }, &vendor.key)
    };
    let n = w.s.size();
    for size in [0, 1, 3, n - 1, n] {
        let actual = w.s.root_at(size);
        let fabricated = Hash([0xab; 32]);
        let refused = IntegrityKind::SeenRootMismatch {
            size,
            claimed: fabricated,
            actual,
        };
        let forked = with_seen(size, fabricated);
        let (_, result) = audit_with(&prefix, &w.s, &vendor.key, &forked, logged);
        assert_eq!(result.expect_err("fabricated").kind, refused, "size {size}");
        assert_eq!(
            sequencer_refuses(&mut prefix.clone(), &vendor.key, &forked, logged),
            refused
        );
        let honest = with_seen(size, actual);
        audit_with(&prefix, &w.s, &vendor.key, &honest, logged)
            .1
            .unwrap_or_else(|f| panic!("size {size}: {f}"));
        sequencer_accepts(&mut prefix.clone(), &vendor.key, &honest, logged);
    }
}

/// The window of checkable `seen` sizes (auditor/recent.rs): a size more
/// than `SEEN_WINDOW` records behind the log is refused, one exactly
/// `SEEN_WINDOW` behind is checked.
///
/// v1 accepted any `seen` size up to the log's, with any root.
#[test]
fn seen_sizes_more_than_the_window_behind_are_refused() {
    let mut s = Scenario::default();
    let vendor = s.party("Acme Corp", PartyClass::Vendor);
    let first = s.last();
    for i in 0..SEEN_WINDOW + 2 {
        s.advance(1);
        s.submit(
            &vendor,
            Event::Annotation {
                record: first,
                kind: AnnotationKind::Comment,
                text: format!("{i}"),
            },
        );
    }
    let prefix = audited(&s);
    let n = s.size();
    let logged = next_logged(&s);
    let with_seen = |size: u64| Statement {
        seen: Some(SeenCheckpoint {
            size,
            root: s.root_at(size),
        }),
        ..s.statement(
            Event::Annotation {
                record: first,
                kind: AnnotationKind::Comment,
                text: "seen".into(),
            },
            &vendor.key,
        )
    };
    let oldest = n - SEEN_WINDOW;
    let refused = IntegrityKind::SeenTooOld {
        seen: oldest - 1,
        oldest,
    };
    let (_, result) = audit_with(&prefix, &s, &vendor.key, &with_seen(oldest - 1), logged);
    assert_eq!(result.expect_err("too old").kind, refused);
    let mut sequencer = prefix.clone();
    assert_eq!(
        sequencer_refuses(&mut sequencer, &vendor.key, &with_seen(oldest - 1), logged),
        refused
    );
    let (_, result) = audit_with(&prefix, &s, &vendor.key, &with_seen(oldest), logged);
    result.expect("exactly SEEN_WINDOW behind");
    sequencer_accepts(&mut sequencer, &vendor.key, &with_seen(oldest), logged);
}

// ---- Duplicate statements ----

/// No statement is logged twice (docs/FORMAT.md §16).
///
/// v1's auditor accepted the same statement twice (only the store refused
/// replays), so a copied `Notified` created an unacknowledged twin that
/// made the recipient look negligent.
#[test]
fn the_same_notice_cannot_be_logged_twice() {
    let mut w = world();
    let case = w.case();
    let (vendor, cert) = (w.vendor.clone(), w.cert.clone());
    let notice = w.s.notify(&vendor, case, &cert, InfoLevel::Details, None);
    w.s.hours(1);
    w.s.ack(&cert, notice, w.s.now - HOUR_MS);
    w.s.days(30);
    let copied = Record::from_bytes(&w.s.records()[notice.record.0 as usize]).unwrap();
    let prefix = audited(&w.s);
    let logged = next_logged(&w.s);
    let refused = IntegrityKind::DuplicateStatement {
        first: notice.record,
    };
    let f = audit_raw_with(
        &prefix,
        &w.s,
        copied.statement.clone(),
        copied.signature,
        logged,
    )
    .expect_err("a copied notice is refused in a log");
    assert_eq!((f.index, f.kind), (w.s.size(), refused.clone()));
    assert_eq!(
        sequencer_refuses_raw(
            &mut prefix.clone(),
            &copied.statement,
            copied.signature,
            logged
        ),
        refused
    );
    // The same notice signed again (another claimed time) is a new notice.
    let again = Statement {
        claimed_at: w.s.now,
        ..Statement::from_bytes(&copied.statement).unwrap()
    };
    audit_with(&prefix, &w.s, &vendor.key, &again, logged)
        .1
        .expect("a new statement");
}

// ---- Openings ----

/// A case whose summary (field 0) commits to `value` bytes under `salt`,
/// opened by `by`.
fn case_with_summary(s: &mut Scenario, by: &Actor, value: &[u8], salt: &Salt) -> Cite {
    let case = s.case_id();
    s.submit(
        by,
        Event::CaseOpened {
            case,
            summary: Sealed::Sealed(Commitment::compute(field(3, 0), &by.public(), salt, value)),
            product: Sealed::Clear("acme-server 4.2".into()),
        },
    )
}

fn opening(record: Cite, field: u8, salt: Salt, value: Vec<u8>) -> Event {
    Event::Opening {
        record,
        field,
        salt,
        value,
    }
}

/// Openings are decoded as the field's type and checked like clear values
/// (docs/FORMAT.md §15).
///
/// v1 did not decode openings: any bytes matching the commitment were
/// accepted as a summary, and the text rules of clear values were skipped,
/// so control characters reached reports.
#[test]
fn an_opening_must_be_a_valid_value_of_the_fields_type() {
    let mut w = world();
    let vendor = w.vendor.clone();
    let salt = [5u8; 32];
    let raw = case_with_summary(&mut w.s, &vendor, &[1, 2, 3], &salt);
    let escape = encode(&"heap overflow\u{1b}[2J".to_string()).unwrap();
    let control = case_with_summary(&mut w.s, &vendor, &escape, &salt);
    let fine = encode(&"heap overflow\nin the parser".to_string()).unwrap();
    let good = case_with_summary(&mut w.s, &vendor, &fine, &salt);
    // A SHA-256 field (a notice's content hash) committed to a string.
    let case = w.s.case_id();
    w.s.submit(
        &vendor,
        Event::CaseOpened {
            case,
            summary: Sealed::Clear("x".into()),
            product: Sealed::Clear("y".into()),
        },
    );
    let text = encode(&"not a digest".to_string()).unwrap();
    let notice = w.s.submit(
        &vendor,
        Event::Notified {
            case,
            recipient: w.cert.as_recipient(),
            level: InfoLevel::Details,
            tlp: Tlp::Amber,
            embargo: None,
            content: Sealed::Sealed(Commitment::compute(
                field(6, 1),
                &vendor.public(),
                &salt,
                &text,
            )),
            channel: Channel::Email,
        },
    );
    w.s.hours(1);
    let prefix = audited(&w.s);
    let logged = next_logged(&w.s);
    for (ev, refused) in [
        (
            opening(raw, 0, salt, vec![1, 2, 3]),
            IntegrityKind::OpeningType {
                record: raw.record,
                field: 0,
            },
        ),
        (
            opening(control, 0, salt, escape.clone()),
            IntegrityKind::InvalidField {
                what: TextField::CaseText,
            },
        ),
        (
            opening(notice, 1, salt, text.clone()),
            IntegrityKind::OpeningType {
                record: notice.record,
                field: 1,
            },
        ),
    ] {
        let st = w.s.statement(ev, &vendor.key);
        let (_, result) = audit_with(&prefix, &w.s, &vendor.key, &st, logged);
        assert_eq!(result.expect_err("refused").kind, refused);
        assert_eq!(
            sequencer_refuses(&mut prefix.clone(), &vendor.key, &st, logged),
            refused
        );
    }
    let st =
        w.s.statement(opening(good, 0, salt, fine.clone()), &vendor.key);
    let (_, result) = audit_with(&prefix, &w.s, &vendor.key, &st, logged);
    let a = result.expect("a valid opening");
    assert_eq!(
        a.state().sealed[&(good.record, 0)].opened,
        Some((RecordRef(w.s.size()), fine))
    );
}

/// Commitments are bound to their field and to the sealing key
/// (docs/FORMAT.md §15).
///
/// v1 commitments named neither their field nor their signer, so one party
/// could copy another's commitment into its own record and "open" it with
/// the salt and value the victim later published.
#[test]
fn a_copied_commitment_cannot_be_opened_with_the_victims_salt() {
    let mut w = world();
    let (vendor, finder) = (w.vendor.clone(), w.finder.clone());
    let summary = "heap overflow in parser";
    let (case, salt, _) = w.s.open_case(&vendor, summary, "acme-server 4.2");
    let victims = w.s.last();
    let value = encode(&summary.to_string()).unwrap();
    let commitment = *audited(&w.s).state().cases[&case]
        .summary
        .commitment()
        .expect("sealed");
    // The victim opens its summary: salt and value are now public.
    w.s.submit(&vendor, opening(victims, 0, salt, value.clone()));
    // The attacker copies the commitment into its own record, as the
    // summary and as the product; the victim, into its own product.
    let copy = |s: &mut Scenario, by: &Actor, summary: bool| {
        let copied = Sealed::Sealed(commitment);
        let other = Sealed::Clear("something".to_string());
        let (summary, product) = if summary {
            (copied, other)
        } else {
            (other, copied)
        };
        let case = s.case_id();
        s.submit(
            by,
            Event::CaseOpened {
                case,
                summary,
                product,
            },
        )
    };
    let as_summary = copy(&mut w.s, &finder, true);
    let as_product = copy(&mut w.s, &finder, false);
    let own_product = copy(&mut w.s, &vendor, false);
    w.s.hours(1);
    let prefix = audited(&w.s);
    let logged = next_logged(&w.s);
    for (by, record, field) in [
        (&finder, as_summary, 0),
        (&finder, as_product, 1),
        (&vendor, own_product, 1),
    ] {
        let st =
            w.s.statement(opening(record, field, salt, value.clone()), &by.key);
        let refused = IntegrityKind::OpeningMismatch {
            record: record.record,
            field,
        };
        let (_, result) = audit_with(&prefix, &w.s, &by.key, &st, logged);
        assert_eq!(result.expect_err("refused").kind, refused);
        assert_eq!(
            sequencer_refuses(&mut prefix.clone(), &by.key, &st, logged),
            refused
        );
    }
}

// ---- Implausible times ----

/// 9999-01-01T00:00:00Z.
const YEAR_9999: Millis = 253_370_764_800_000;
/// About the year 273,792,727: 10^11 days after the epoch.
const FAR_FUTURE: Millis = 100_000_000_000 * DAY_MS;

/// Plausible times (docs/FORMAT.md §13, `types::PLAUSIBLE_TIMES`).
///
/// v1 accepted any time: a notice claimed in 1970 made the report say the
/// recipient knew in 1970, before the case existed; embargoes ending in
/// 1970 or in the year 273,792,727 and acknowledgements received in 9999
/// passed without a finding.
#[test]
fn implausible_times_are_refused_naming_the_field() {
    let mut w = world();
    let case = w.case();
    let (vendor, cert) = (w.vendor.clone(), w.cert.clone());
    let embargo = w.s.submit(
        &vendor,
        Event::EmbargoProposed {
            case,
            ends_at: w.s.now + 30 * DAY_MS,
        },
    );
    let notice = w.s.notify(&vendor, case, &cert, InfoLevel::Details, None);
    w.s.hours(1);
    let prefix = audited(&w.s);
    let logged = next_logged(&w.s);
    let now = w.s.now;
    let plain = w.s.statement(Event::FixReady { case }, &vendor.key);
    let stories: Vec<(&str, &Actor, Statement, Millis, TimeField, Millis)> = vec![
        (
            "claimed in 1970",
            &vendor,
            Statement {
                claimed_at: DAY_MS,
                ..plain.clone()
            },
            logged,
            TimeField::Claimed,
            DAY_MS,
        ),
        (
            "claimed 1 ms before 1980",
            &vendor,
            Statement {
                claimed_at: PLAUSIBLE_TIMES.start - 1,
                ..plain.clone()
            },
            logged,
            TimeField::Claimed,
            PLAUSIBLE_TIMES.start - 1,
        ),
        (
            "logged in 9999",
            &vendor,
            plain.clone(),
            YEAR_9999,
            TimeField::Logged,
            YEAR_9999,
        ),
        (
            "an embargo ending in the year 273,792,727",
            &vendor,
            w.s.statement(
                Event::EmbargoProposed {
                    case,
                    ends_at: FAR_FUTURE,
                },
                &vendor.key,
            ),
            logged,
            TimeField::EmbargoEnd,
            FAR_FUTURE,
        ),
        (
            "an embargo ending before it is proposed",
            &vendor,
            w.s.statement(
                Event::EmbargoProposed {
                    case,
                    ends_at: now - HOUR_MS,
                },
                &vendor.key,
            ),
            logged,
            TimeField::EmbargoEnd,
            now - HOUR_MS,
        ),
        (
            "an embargo ending when it is proposed",
            &vendor,
            w.s.statement(Event::EmbargoProposed { case, ends_at: now }, &vendor.key),
            logged,
            TimeField::EmbargoEnd,
            now,
        ),
        (
            "an embargo revised to end in 1970",
            &vendor,
            w.s.statement(
                Event::EmbargoRevised {
                    embargo,
                    ends_at: DAY_MS,
                },
                &vendor.key,
            ),
            logged,
            TimeField::EmbargoEnd,
            DAY_MS,
        ),
        (
            "a notice received in 9999",
            &cert,
            w.s.statement(
                Event::Acknowledged {
                    notice,
                    received_at: YEAR_9999,
                },
                &cert.key,
            ),
            logged,
            TimeField::Received,
            YEAR_9999,
        ),
        (
            "a notice received after the acknowledgement was signed",
            &cert,
            w.s.statement(
                Event::Acknowledged {
                    notice,
                    received_at: now + 1,
                },
                &cert.key,
            ),
            logged,
            TimeField::Received,
            now + 1,
        ),
        (
            "a key revoked from 1970",
            &vendor,
            w.s.statement(
                Event::KeyRevoked {
                    key: vendor.public(),
                    effective_at: 0,
                },
                &vendor.key,
            ),
            logged,
            TimeField::Effective,
            0,
        ),
    ];
    for (what, by, st, logged_at, field, value) in stories {
        let refused = IntegrityKind::ImplausibleTime { field, value };
        let (_, result) = audit_with(&prefix, &w.s, &by.key, &st, logged_at);
        let f = result.expect_err(what);
        assert_eq!(f.kind, refused, "{what}");
        assert!(f.to_string().contains(field.as_str()), "{what}: {f}");
        assert!(
            f.to_string().contains("1980-01-01 to 2100-01-01"),
            "{what}: {f}"
        );
        assert_eq!(
            sequencer_refuses(&mut prefix.clone(), &by.key, &st, logged_at),
            refused,
            "{what}"
        );
    }
    // The first plausible millisecond is accepted (logged very late).
    let earliest = Statement {
        claimed_at: PLAUSIBLE_TIMES.start,
        ..plain
    };
    audit_with(&prefix, &w.s, &vendor.key, &earliest, logged)
        .1
        .expect("1980-01-01 is plausible");
}

/// `before-case-opened` (docs/AUDITING.md, "Findings").
///
/// v1 let a notice be claimed before its case existed without a finding.
#[test]
fn a_notice_claimed_before_its_case_was_opened_is_a_finding() {
    let mut w = world();
    let opened_at = w.s.now;
    let case = w.case();
    let (vendor, cert) = (w.vendor.clone(), w.cert.clone());
    w.s.now = opened_at - HOUR_MS;
    let early = w.s.notify(&vendor, case, &cert, InfoLevel::Details, None);
    w.s.now = opened_at;
    let on_time =
        w.s.notify(&vendor, case, &w.gov.clone(), InfoLevel::Details, None);
    let a = audited(&w.s);
    let f: Vec<&Finding> = a
        .state()
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::BeforeCaseOpened)
        .collect();
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(
        (f[0].record, f[0].case, f[0].party),
        (early.record, Some(case), Some(vendor.id))
    );
    assert!(findings_on(&a, on_time.record).is_empty());
}

// ---- One evaluation ----

/// A case built to break policies: an 18-day embargo accepted, one
/// extension, an acknowledgement ten days late, and a government agency
/// told before the fix. Returns the case.
fn policy_breaking_case(s: &mut Scenario) -> CaseId {
    let vendor = s.party("Handmade Vendor", PartyClass::Vendor);
    let finder = s.party("Handmade Finder", PartyClass::Finder);
    let agency = s.party("Handmade Agency", PartyClass::Government);
    let (case, _, _) = s.open_case(&vendor, "use after free", "handmade-server 1.0");
    s.submit(
        &vendor,
        Event::ReportReceived {
            case,
            reporter: finder.as_recipient(),
            report: Sealed::Clear([4; 32]),
        },
    );
    let embargo = s.submit(
        &vendor,
        Event::EmbargoProposed {
            case,
            ends_at: s.now + 18 * DAY_MS,
        },
    );
    s.hours(1);
    s.submit(&finder, Event::EmbargoAccepted { embargo });
    let notice = s.notify(&vendor, case, &agency, InfoLevel::Details, Some(embargo));
    s.days(10);
    s.ack(&agency, notice, s.now - DAY_MS);
    s.submit(
        &vendor,
        Event::EmbargoRevised {
            embargo,
            ends_at: s.now + 15 * DAY_MS,
        },
    );
    s.days(5);
    s.submit(&vendor, Event::FixReady { case });
    s.days(1);
    s.submit(&vendor, Event::FixReleased { case });
    s.submit(
        &vendor,
        Event::EmbargoTerminated {
            embargo,
            reason: TerminationReason::PlannedEnd,
        },
    );
    s.submit(
        &vendor,
        Event::PubliclyDisclosed {
            case,
            url: "https://handmade.example/advisories/1".into(),
            sha256: [5; 32],
        },
    );
    case
}

/// One evaluation (docs/AUDITING.md, "Findings"): `report::build` under a
/// policy gives each case exactly the findings the audit under that policy
/// gives it, and the state an auditor keeps does not depend on its policy.
///
/// v1's report read the store's auditor, built with the baseline policy,
/// so logged-late, embargo-too-long, too-many-extensions,
/// privileged-before-fix and acknowledged-late used baseline thresholds in
/// reports: an 18-day embargo was a finding under `audit --policy
/// linux-distros` but absent from `report case --policy linux-distros`.
#[test]
fn report_and_audit_agree_under_every_preset() {
    let mut log = RealisticLog::new(12, 16, true);
    log.grow_to(2_500);
    let case = policy_breaking_case(&mut log.scenario);
    let s = &log.scenario;
    let as_of = s.now + 100 * DAY_MS;
    let baseline = audited(s);
    let root = baseline.root();
    for preset in PRESETS {
        let config = config(preset);
        let policy = &config.policy;
        let a = s.audit(config.clone()).expect("sound");
        assert!(
            a.save() == baseline.save(),
            "{preset}: the state depends on the policy"
        );
        assert_eq!(a.root(), root);
        let audit = a.findings_as_of(as_of);
        assert_eq!(
            audit,
            auditor::all_findings(baseline.state(), policy, as_of)
        );
        let report = report::build(baseline.state(), policy, as_of, &root);
        assert_eq!(report, report::build(a.state(), policy, as_of, &a.root()));
        assert_eq!(report.findings, audit, "{preset}");
        assert_eq!(report.cases.len(), a.state().cases.len());
        for c in &report.cases {
            let expected: Vec<Finding> = audit
                .iter()
                .filter(|f| f.case == Some(c.case))
                .cloned()
                .collect();
            assert_eq!(c.findings, expected, "{preset}: case {}", c.case);
        }
        // The hand-built case breaks exactly the thresholds the preset sets.
        let mine = &report
            .cases
            .iter()
            .find(|c| c.case == case)
            .unwrap()
            .findings;
        let has = |k| mine.iter().any(|f| f.kind == k);
        assert_eq!(
            has(FindingKind::EmbargoTooLong),
            policy.max_embargo_days.is_some_and(|d| d < 18),
            "{preset}"
        );
        assert_eq!(
            has(FindingKind::TooManyExtensions),
            policy.max_extensions == Some(0),
            "{preset}"
        );
        assert_eq!(
            has(FindingKind::AcknowledgedLate),
            policy.ack_within_days.is_some_and(|d| d < 10),
            "{preset}"
        );
        assert_eq!(
            has(FindingKind::PrivilegedBeforeFix),
            policy.privileged_before_fix,
            "{preset}"
        );
    }
}
