//! The authority table (docs/AUDITING.md, "Who may do what";
//! `forewarn_ledger::authority`), row by row.
//!
//! For every event that changes the state, one signer the table permits —
//! a sequencer accepts the statement, an auditor of a log holding it gets
//! the same state, and the statement's effect shows in it — and signers it
//! refuses (a registered party outside the case, or a member of the wrong
//! class or role): a sequencer refuses the statement with `Unauthorized`
//! and keeps its state, and a log holding it anyway audits with one
//! `unauthorized` finding on that record and no change to any projection.
//! `Annotation` of kind `Comment` is the one event anyone may sign.
//!
//! Format v1 had no such table: any registered party could revise,
//! terminate or accept any embargo, or mark any case fixed or public.

mod common;

use common::*;
use ed25519_dalek::SigningKey;
use forewarn_ledger::authority::{Authority, authority};
use forewarn_ledger::encoding::encode;
use forewarn_ledger::event::EVENT_KINDS;
use forewarn_ledger::sealed::Salt;
use forewarn_ledger::statement::prove_possession;
use forewarn_ledger::testkit::{Actor, ORIGIN, Scenario, test_key};
use forewarn_ledger::*;

const SUMMARY: &str = "heap overflow in parser";
/// The id of the case a `CaseOpened` row opens.
const NEW_CASE: CaseId = CaseId([0x42; 16]);

fn pk(key: &SigningKey) -> PublicKey {
    PublicKey(key.verifying_key().to_bytes())
}

/// Who signs a row's statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    /// The vendor: opened the case, received the report, proposed the
    /// embargo, sent both notices.
    Vendor,
    /// The finder: a member, as the reporter the vendor named.
    Finder,
    /// A coordinator: a member, as a notice recipient; accepted the embargo.
    Cert,
    /// A government agency: a member, as a notice recipient; did not accept.
    Gov,
    /// A deployer, registered, not a member.
    Customer,
    /// A programme, registered, not a member.
    Program,
    /// Another vendor, registered, not a member.
    Outsider,
    /// A key not registered yet.
    Newcomer,
    /// A key never registered.
    Stranger,
}

/// The log every row starts from: a case with a reporter, an embargo
/// accepted by one of the two notice recipients.
struct Prefix {
    s: Scenario,
    audited: Auditor,
    vendor: Actor,
    finder: Actor,
    cert: Actor,
    gov: Actor,
    customer: Actor,
    program: Actor,
    outsider: Actor,
    /// The vendor's second key, for `KeyAdded`.
    second_key: SigningKey,
    case: CaseId,
    case_opened: Cite,
    summary_salt: Salt,
    embargo: Cite,
    notice_cert: Cite,
}

fn prefix() -> Prefix {
    let mut w = world();
    let outsider = w.s.party("Rival Vendor", PartyClass::Vendor);
    let (vendor, finder, cert, gov) = (
        w.vendor.clone(),
        w.finder.clone(),
        w.cert.clone(),
        w.gov.clone(),
    );
    let (case, summary_salt, _) = w.s.open_case(&vendor, SUMMARY, "acme-server 4.2");
    let case_opened = w.s.last();
    w.s.submit(
        &vendor,
        Event::ReportReceived {
            case,
            reporter: finder.as_recipient(),
            report: Sealed::Clear([1; 32]),
        },
    );
    let embargo = w.s.submit(
        &vendor,
        Event::EmbargoProposed {
            case,
            ends_at: w.s.now + 30 * DAY_MS,
        },
    );
    let notice_cert =
        w.s.notify(&vendor, case, &cert, InfoLevel::Details, Some(embargo));
    w.s.notify(&vendor, case, &gov, InfoLevel::Details, Some(embargo));
    w.s.hours(1);
    w.s.submit(&cert, Event::EmbargoAccepted { embargo });
    w.s.hours(1);
    let audited = audited(&w.s);
    let members = &audited.state().cases[&case].members;
    assert_eq!(members, &[vendor.id, finder.id, cert.id, gov.id]);
    Prefix {
        audited,
        vendor,
        finder,
        cert,
        gov,
        customer: w.customer,
        program: w.program,
        outsider,
        second_key: test_key("Acme Corp/key2"),
        case,
        case_opened,
        summary_salt,
        embargo,
        notice_cert,
        s: w.s,
    }
}

impl Prefix {
    fn actor(&self, who: Who) -> Option<&Actor> {
        Some(match who {
            Who::Vendor => &self.vendor,
            Who::Finder => &self.finder,
            Who::Cert => &self.cert,
            Who::Gov => &self.gov,
            Who::Customer => &self.customer,
            Who::Program => &self.program,
            Who::Outsider => &self.outsider,
            Who::Newcomer | Who::Stranger => return None,
        })
    }

    fn key(&self, who: Who) -> SigningKey {
        match who {
            Who::Newcomer => test_key("Newcomer Ltd"),
            Who::Stranger => test_key("Stranger"),
            _ => self.actor(who).expect("registered").key.clone(),
        }
    }

    fn party(&self, who: Who) -> Option<PartyId> {
        self.actor(who).map(|a| a.id)
    }

    /// The time of the row's statement.
    fn now(&self) -> Millis {
        self.s.now
    }
}

/// How the refused signers are refused.
enum Refusal {
    /// `Unauthorized` at the sequencer; an `unauthorized` finding and no
    /// effect in a log.
    Unauthorized,
    /// The rule is a check of the signing key itself (step 9 of
    /// docs/FORMAT.md §16), so the statement is an integrity failure in a
    /// log as well.
    SignerCheck(fn(&Prefix, Who) -> IntegrityKind),
}

/// One row of the table.
struct Row {
    event: fn(&Prefix) -> Event,
    rule: Authority,
    permitted: Who,
    refused: &'static [Who],
    refusal: Refusal,
    /// The permitted statement's effect, absent from the prefix; `None` for
    /// an event with no projection of its own.
    effect: Option<fn(&Prefix, &AuditState) -> bool>,
}

fn check_row(name: &str, row: &Row) {
    let p = prefix();
    let event = (row.event)(&p);
    assert_eq!(authority(&event), row.rule, "{name}: the table's rule");
    let logged = next_logged(&p.s);
    let before = p.audited.state().findings.len();
    let index = RecordRef(p.s.size());
    if let Some(effect) = row.effect {
        assert!(!effect(&p, p.audited.state()), "{name}: not in the prefix");
    }

    // The permitted signer: accepted by a sequencer and in a log, with the
    // same resulting state, and the effect visible.
    let key = p.key(row.permitted);
    let st = p.s.statement(event.clone(), &key);
    let mut sequencer = p.audited.clone();
    sequencer_accepts(&mut sequencer, &key, &st, logged);
    let (_, result) = audit_with(&p.audited, &p.s, &key, &st, logged);
    let a = result.unwrap_or_else(|f| panic!("{name}: {:?} refused: {f}", row.permitted));
    assert!(
        sequencer.save() == a.save(),
        "{name}: sequencing and auditing agree"
    );
    assert!(
        !a.state().findings[before..]
            .iter()
            .any(|f| f.kind == FindingKind::Unauthorized),
        "{name}: {:?} is permitted",
        row.permitted
    );
    if let Some(effect) = row.effect {
        assert!(effect(&p, a.state()), "{name}: the effect shows");
    }

    // The refused signers.
    assert!(!row.refused.is_empty(), "{name}: a refused signer");
    for &who in row.refused {
        let key = p.key(who);
        let st = p.s.statement(event.clone(), &key);
        let (_, result) = audit_with(&p.audited, &p.s, &key, &st, logged);
        let refused = match row.refusal {
            Refusal::Unauthorized => IntegrityKind::Unauthorized {
                event: event.name(),
                rule: row.rule,
            },
            Refusal::SignerCheck(kind) => kind(&p, who),
        };
        assert_eq!(
            sequencer_refuses(&mut p.audited.clone(), &key, &st, logged),
            refused,
            "{name}: {who:?} at the sequencer"
        );
        match row.refusal {
            Refusal::Unauthorized => {
                let a = result.unwrap_or_else(|f| panic!("{name}: {who:?} in a log: {f}"));
                let new = &a.state().findings[before..];
                assert_eq!(new.len(), 1, "{name}: {who:?}: {new:?}");
                let case = match event {
                    Event::KeyAdded { .. }
                    | Event::KeyRevoked { .. }
                    | Event::Annotation { .. } => None,
                    _ => Some(p.case),
                };
                assert_eq!(
                    (new[0].kind, new[0].record, new[0].party, new[0].case),
                    (FindingKind::Unauthorized, index, p.party(who), case),
                    "{name}: {who:?} in a log"
                );
                assert!(new[0].detail.contains(row.rule.as_str()), "{name}: {new:?}");
                assert_eq!(
                    projections(a.state()),
                    projections(p.audited.state()),
                    "{name}: {who:?}'s statement has no effect"
                );
                // The record is still in the log.
                assert_eq!(a.size(), p.audited.size() + 1);
            }
            Refusal::SignerCheck(_) => {
                let f = result.expect_err("refused in a log");
                assert_eq!(
                    (f.index, f.kind),
                    (index.0, refused),
                    "{name}: {who:?} in a log"
                );
            }
        }
    }
}

macro_rules! authority_table {
    ($($test:ident: $row:expr;)*) => {
        $(
            #[test]
            fn $test() {
                check_row(stringify!($test), &$row);
            }
        )*

        /// Every row, with its name.
        fn rows() -> Vec<(&'static str, Row)> {
            vec![$((stringify!($test), $row)),*]
        }
    };
}

authority_table! {
    party_registered_only_by_the_key_it_registers: Row {
        event: |p| Event::PartyRegistered {
            name: "Newcomer Ltd".into(),
            class: PartyClass::Vendor,
            key: pk(&p.key(Who::Newcomer)),
        },
        rule: Authority::TheNewParty,
        permitted: Who::Newcomer,
        refused: &[Who::Outsider, Who::Stranger],
        refusal: Refusal::SignerCheck(|_, _| IntegrityKind::NotSelfSigned),
        effect: Some(|p, s| s.keys.contains_key(&pk(&p.key(Who::Newcomer)))),
    };
    key_added_only_by_the_same_party: Row {
        event: |p| Event::KeyAdded {
            party: p.vendor.registration,
            key: pk(&p.second_key),
            possession: prove_possession(ORIGIN, &p.vendor.registration, &p.second_key),
        },
        rule: Authority::SameParty,
        permitted: Who::Vendor,
        refused: &[Who::Outsider, Who::Finder],
        refusal: Refusal::Unauthorized,
        effect: Some(|p, s| {
            s.keys.get(&pk(&p.second_key)).is_some_and(|k| k.party == p.vendor.id)
        }),
    };
    key_revoked_only_by_the_same_party: Row {
        event: |p| Event::KeyRevoked {
            key: p.finder.public(),
            effective_at: p.now(),
        },
        rule: Authority::SameParty,
        permitted: Who::Finder,
        refused: &[Who::Outsider, Who::Vendor],
        refusal: Refusal::Unauthorized,
        effect: Some(|p, s| s.keys[&p.finder.public()].revoked.is_some()),
    };
    case_opened_by_any_registered_party_not_by_an_unknown_key: Row {
        event: |_| Event::CaseOpened {
            case: NEW_CASE,
            summary: Sealed::Clear("use after free".into()),
            product: Sealed::Clear("rival-server 1.0".into()),
        },
        rule: Authority::AnyParty,
        permitted: Who::Outsider,
        refused: &[Who::Stranger],
        refusal: Refusal::SignerCheck(|p, who| IntegrityKind::UnknownKey {
            key: pk(&p.key(who)).0,
        }),
        effect: Some(|_, s| s.cases.contains_key(&NEW_CASE)),
    };
    report_received_by_a_member_not_by_an_outsider: Row {
        event: |p| Event::ReportReceived {
            case: p.case,
            reporter: p.customer.as_recipient(),
            report: Sealed::Clear([2; 32]),
        },
        rule: Authority::Member,
        permitted: Who::Cert,
        refused: &[Who::Outsider, Who::Program],
        refusal: Refusal::Unauthorized,
        effect: Some(|p, s| s.cases[&p.case].members.contains(&p.customer.id)),
    };
    report_acknowledged_by_its_receiver_not_by_another_member: Row {
        event: |p| Event::ReportAcknowledged { case: p.case },
        rule: Authority::ReportReceiver,
        permitted: Who::Vendor,
        refused: &[Who::Cert, Who::Outsider],
        refusal: Refusal::Unauthorized,
        // The case already shows its vendor aware, from the opening.
        effect: None,
    };
    notified_by_a_member_not_by_an_outsider: Row {
        event: |p| Event::Notified {
            case: p.case,
            recipient: p.customer.as_recipient(),
            level: InfoLevel::Existence,
            tlp: Tlp::Amber,
            embargo: Some(p.embargo),
            content: Sealed::Clear([3; 32]),
            channel: Channel::Portal,
        },
        rule: Authority::Member,
        permitted: Who::Vendor,
        refused: &[Who::Outsider],
        refusal: Refusal::Unauthorized,
        effect: Some(|p, s| {
            s.cases[&p.case].members.contains(&p.customer.id)
                && s.notices.values().any(|n| n.recipient == p.customer.as_recipient())
        }),
    };
    acknowledged_by_the_recipient_not_by_another_member_or_the_sender: Row {
        event: |p| Event::Acknowledged {
            notice: p.notice_cert,
            received_at: p.now() - 60_000,
        },
        rule: Authority::NoticeRecipient,
        permitted: Who::Cert,
        refused: &[Who::Gov, Who::Vendor],
        refusal: Refusal::Unauthorized,
        effect: Some(|p, s| s.notices[&p.notice_cert.record].acknowledged.is_some()),
    };
    embargo_proposed_by_a_member_not_by_an_outsider: Row {
        event: |p| Event::EmbargoProposed {
            case: p.case,
            ends_at: p.now() + 20 * DAY_MS,
        },
        rule: Authority::Member,
        permitted: Who::Finder,
        refused: &[Who::Outsider],
        refusal: Refusal::Unauthorized,
        effect: Some(|p, s| s.embargoes.values().any(|e| e.proposer == p.finder.id)),
    };
    embargo_accepted_by_a_member_not_by_an_outsider: Row {
        event: |p| Event::EmbargoAccepted { embargo: p.embargo },
        rule: Authority::EmbargoMember,
        permitted: Who::Finder,
        refused: &[Who::Outsider],
        refusal: Refusal::Unauthorized,
        effect: Some(|p, s| s.embargoes[&p.embargo.record].acceptors.contains(&p.finder.id)),
    };
    embargo_revised_by_an_acceptor_not_by_a_member_that_did_not_accept: Row {
        event: |p| Event::EmbargoRevised {
            embargo: p.embargo,
            ends_at: p.now() + 40 * DAY_MS,
        },
        rule: Authority::EmbargoParty,
        permitted: Who::Cert,
        refused: &[Who::Gov, Who::Finder, Who::Outsider],
        refusal: Refusal::Unauthorized,
        effect: Some(|p, s| s.embargoes[&p.embargo.record].ends_at == p.now() + 40 * DAY_MS),
    };
    embargo_terminated_by_a_member_not_by_an_outsider: Row {
        event: |p| Event::EmbargoTerminated {
            embargo: p.embargo,
            reason: TerminationReason::Leak,
        },
        rule: Authority::EmbargoMember,
        permitted: Who::Gov,
        refused: &[Who::Outsider],
        refusal: Refusal::Unauthorized,
        effect: Some(|p, s| s.embargoes[&p.embargo.record].terminated.is_some()),
    };
    identifier_assigned_by_a_coordinator_member_not_by_a_finder_or_an_outside_vendor: Row {
        event: |p| Event::IdentifierAssigned {
            case: p.case,
            scheme: IdScheme::Cve,
            value: Sealed::Clear("CVE-2026-0001".into()),
        },
        rule: Authority::VendorOrCoordinator,
        permitted: Who::Cert,
        refused: &[Who::Finder, Who::Outsider],
        refusal: Refusal::Unauthorized,
        effect: Some(|p, s| !s.cases[&p.case].identifiers.is_empty()),
    };
    fix_ready_by_the_cases_vendor_not_by_a_finder_or_another_vendor: Row {
        event: |p| Event::FixReady { case: p.case },
        rule: Authority::Vendor,
        permitted: Who::Vendor,
        refused: &[Who::Finder, Who::Outsider],
        refusal: Refusal::Unauthorized,
        effect: Some(|p, s| s.cases[&p.case].clock.fix_ready.is_some()),
    };
    fix_released_by_the_cases_vendor_not_by_a_coordinator_or_another_vendor: Row {
        event: |p| Event::FixReleased { case: p.case },
        rule: Authority::Vendor,
        permitted: Who::Vendor,
        refused: &[Who::Cert, Who::Outsider],
        refusal: Refusal::Unauthorized,
        effect: Some(|p, s| s.cases[&p.case].clock.fix_released.is_some()),
    };
    publicly_disclosed_by_a_member_not_by_an_outsider: Row {
        event: |p| Event::PubliclyDisclosed {
            case: p.case,
            url: "https://finder.example/advisories/1".into(),
            sha256: [4; 32],
        },
        rule: Authority::Member,
        permitted: Who::Finder,
        refused: &[Who::Outsider],
        refusal: Refusal::Unauthorized,
        effect: Some(|p, s| s.cases[&p.case].clock.public.is_some()),
    };
    exploit_public_by_a_member_not_by_an_outsider: Row {
        event: |p| Event::ExploitPublic { case: p.case },
        rule: Authority::Member,
        permitted: Who::Gov,
        refused: &[Who::Outsider],
        refusal: Refusal::Unauthorized,
        effect: Some(|p, s| s.cases[&p.case].clock.exploit_public.is_some()),
    };
    exploitation_observed_by_a_member_not_by_a_programme_outside_the_case: Row {
        event: |p| Event::ExploitationObserved { case: p.case },
        rule: Authority::Member,
        permitted: Who::Cert,
        refused: &[Who::Program],
        refusal: Refusal::Unauthorized,
        effect: Some(|p, s| s.cases[&p.case].clock.attacks.is_some()),
    };
    regulatory_report_by_the_cases_vendor_not_by_another_member: Row {
        event: |p| Event::RegulatoryReport {
            case: p.case,
            stage: RegulatoryStage::EarlyWarning,
            authority: "ENISA".into(),
        },
        rule: Authority::Vendor,
        permitted: Who::Vendor,
        refused: &[Who::Gov, Who::Outsider],
        refusal: Refusal::Unauthorized,
        effect: Some(|p, s| !s.cases[&p.case].regulatory.is_empty()),
    };
    opening_by_the_sealing_party_not_by_a_member_that_knows_the_salt: Row {
        event: |p| Event::Opening {
            record: p.case_opened,
            field: 0,
            salt: p.summary_salt,
            value: encode(&SUMMARY.to_string()).unwrap(),
        },
        rule: Authority::SealingParty,
        permitted: Who::Vendor,
        refused: &[Who::Cert],
        refusal: Refusal::Unauthorized,
        effect: Some(|p, s| s.sealed[&(p.case_opened.record, 0)].opened.is_some()),
    };
    correction_by_the_annotated_records_signer_not_by_its_recipient: Row {
        event: |p| Event::Annotation {
            record: p.notice_cert,
            kind: AnnotationKind::Correction,
            text: "the notice went out a day later".into(),
        },
        rule: Authority::RecordSigner,
        permitted: Who::Vendor,
        refused: &[Who::Cert],
        refusal: Refusal::Unauthorized,
        // Annotations change no projection; the difference is the finding.
        effect: None,
    };
    retraction_by_the_annotated_records_signer_not_by_another_member: Row {
        event: |p| Event::Annotation {
            record: p.notice_cert,
            kind: AnnotationKind::Retraction,
            text: "sent to the wrong address".into(),
        },
        rule: Authority::RecordSigner,
        permitted: Who::Vendor,
        refused: &[Who::Gov],
        refusal: Refusal::Unauthorized,
        effect: None,
    };
}

/// The table covers every event kind and every rule.
#[test]
fn the_table_covers_every_event_and_every_rule() {
    let p = prefix();
    let rows = rows();
    let mut tags: Vec<u32> = rows.iter().map(|(_, r)| (r.event)(&p).tag()).collect();
    tags.sort();
    tags.dedup();
    assert_eq!(tags, (0..EVENT_KINDS as u32).collect::<Vec<_>>());
    let mut rules: Vec<Authority> = rows.iter().map(|(_, r)| r.rule).collect();
    rules.sort();
    rules.dedup();
    assert_eq!(
        rules,
        [
            Authority::TheNewParty,
            Authority::AnyParty,
            Authority::SameParty,
            Authority::Member,
            Authority::ReportReceiver,
            Authority::NoticeRecipient,
            Authority::EmbargoMember,
            Authority::EmbargoParty,
            Authority::Vendor,
            Authority::VendorOrCoordinator,
            Authority::SealingParty,
            Authority::RecordSigner,
        ]
    );
    // Every row but the key checks is refused as unauthorized.
    for (name, row) in &rows {
        let signer_check = matches!(row.refusal, Refusal::SignerCheck(_));
        assert_eq!(
            signer_check,
            matches!(row.rule, Authority::TheNewParty | Authority::AnyParty),
            "{name}"
        );
    }
}

/// The one exception: a comment may be signed by any registered party,
/// members or not, on any record.
#[test]
fn a_comment_may_be_signed_by_any_registered_party() {
    let p = prefix();
    let logged = next_logged(&p.s);
    let comment = Event::Annotation {
        record: p.notice_cert,
        kind: AnnotationKind::Comment,
        text: "we were never told".into(),
    };
    assert_eq!(authority(&comment), Authority::AnyParty);
    for who in [Who::Customer, Who::Outsider, Who::Cert, Who::Vendor] {
        let key = p.key(who);
        let st = p.s.statement(comment.clone(), &key);
        let (_, result) = audit_with(&p.audited, &p.s, &key, &st, logged);
        let a = result.unwrap_or_else(|f| panic!("{who:?}: {f}"));
        assert_eq!(a.state().findings, p.audited.state().findings, "{who:?}");
        sequencer_accepts(&mut p.audited.clone(), &key, &st, logged);
    }
    let key = p.key(Who::Stranger);
    let st = p.s.statement(comment, &key);
    assert_eq!(
        sequencer_refuses(&mut p.audited.clone(), &key, &st, logged),
        IntegrityKind::UnknownKey { key: pk(&key).0 }
    );
}
