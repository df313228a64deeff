//! The golden log ([`golden_scenario`]) frozen by
//! `testdata/golden_log.txt` and explained in docs/FORMAT.md §14 and §17.

use alloc::string::ToString;

use super::*;
use crate::event::{Counterparty, Event};
use crate::sealed::Sealed;

/// The golden log: every event kind at least once, with sealed and clear
/// fields, a registered and an unregistered recipient, and a statement
/// carrying a seen-checkpoint. Frozen by `testdata/golden_log.txt` and
/// explained byte by byte in docs/FORMAT.md §14 and §17.
pub fn golden_scenario() -> Scenario {
    let mut s = Scenario::default();
    let vendor = s.party("Acme Corp", PartyClass::Vendor);
    let finder = s.party("Jane Finder", PartyClass::Finder);
    let gov = s.party("National CSIRT", PartyClass::Government);
    s.hours(1);
    let vendor2 = s.add_key(&vendor, "Acme Corp/2026");
    let case = CaseId(*b"golden-case-0001");
    let salt = |n: u8| [n; 32];
    let vk = vendor.public();
    s.submit(
        &vendor,
        Event::CaseOpened {
            case,
            summary: Sealed::seal(
                &"heap overflow in the TLS parser".to_string(),
                field(3, 0),
                &vk,
                &salt(1),
            )
            .expect("small"),
            product: Sealed::Clear("acme-server 4.2".to_string()),
        },
    );
    s.submit(
        &vendor,
        Event::ReportReceived {
            case,
            reporter: finder.as_recipient(),
            report: Sealed::seal(&[0xaa; 32], field(4, 1), &vk, &salt(2)).expect("small"),
        },
    );
    s.hours(2);
    s.submit(&vendor, Event::ReportAcknowledged { case });
    let embargo = s.submit(
        &vendor,
        Event::EmbargoProposed {
            case,
            ends_at: s.now + 30 * DAY_MS,
        },
    );
    s.hours(1);
    s.submit(&finder, Event::EmbargoAccepted { embargo });
    s.days(1);
    let notice = s.submit(
        &vendor,
        Event::Notified {
            case,
            recipient: gov.as_recipient(),
            level: InfoLevel::Details,
            tlp: Tlp::AmberStrict,
            embargo: Some(embargo),
            content: Sealed::seal(&[0xbb; 32], field(6, 1), &vk, &salt(3)).expect("small"),
            channel: Channel::EncryptedEmail,
        },
    );
    s.submit(
        &vendor,
        Event::Notified {
            case,
            recipient: Counterparty::Unregistered {
                class: PartyClass::Deployer,
                identity: Sealed::seal(&"Big Bank plc".to_string(), field(6, 0), &vk, &salt(4))
                    .expect("small"),
            },
            level: InfoLevel::Existence,
            tlp: Tlp::Amber,
            embargo: Some(embargo),
            content: Sealed::Clear([0xcc; 32]),
            channel: Channel::Portal,
        },
    );
    s.hours(3);
    let received = s.now - HOUR_MS;
    s.ack(&gov, notice, received);
    s.days(2);
    s.submit(
        &vendor,
        Event::EmbargoRevised {
            embargo,
            ends_at: s.now + 35 * DAY_MS,
        },
    );
    let cve = "CVE-2026-12345".to_string();
    let cve_record = s.submit(
        &vendor,
        Event::IdentifierAssigned {
            case,
            scheme: IdScheme::Cve,
            value: Sealed::seal(&cve, field(12, 0), &vk, &salt(5)).expect("small"),
        },
    );
    s.days(10);
    s.submit(&vendor2, Event::FixReady { case });
    s.days(5);
    s.submit(&vendor2, Event::FixReleased { case });
    s.submit(
        &vendor2,
        Event::EmbargoTerminated {
            embargo,
            reason: TerminationReason::PlannedEnd,
        },
    );
    s.submit(
        &vendor2,
        Event::PubliclyDisclosed {
            case,
            url: "https://acme.example/advisories/ASA-2026-001.json".to_string(),
            sha256: [0xdd; 32],
        },
    );
    s.days(3);
    s.submit(&finder, Event::ExploitPublic { case });
    s.days(1);
    s.submit(&vendor2, Event::ExploitationObserved { case });
    s.hours(20);
    s.submit(
        &vendor2,
        Event::RegulatoryReport {
            case,
            stage: RegulatoryStage::EarlyWarning,
            authority: "ENISA".to_string(),
        },
    );
    s.submit(
        &vendor2,
        Event::Opening {
            record: cve_record,
            field: 0,
            salt: salt(5),
            value: crate::encoding::encode(&cve).expect("small"),
        },
    );
    // An annotation whose signer states the tree it had seen.
    let seen = crate::statement::SeenCheckpoint {
        size: 20,
        root: s.root_at(20),
    };
    let mut st = s.statement(
        Event::Annotation {
            record: notice,
            kind: AnnotationKind::Comment,
            text: "received via the CSIRT's PGP key".to_string(),
        },
        &gov.key,
    );
    st.seen = Some(seen);
    let logged = s.now + s.log_delay;
    s.append_statement(&gov.key, &st, logged);
    s.days(1);
    s.submit(
        &vendor2,
        Event::KeyRevoked {
            key: vendor.public(),
            effective_at: s.now,
        },
    );
    s
}
