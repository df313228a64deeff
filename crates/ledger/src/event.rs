//! The disclosure events (docs/DESIGN.md §3), modelled on CERT/CC's Vultron
//! protocol: report management (RM), embargo management (EM) and the case
//! states V (vendor aware), F (fix ready), D (fix deployed/released),
//! P (public aware), X (exploit public), A (attacks observed).
//!
//! The variant order is the wire tag (docs/FORMAT.md §12): append only.

use alloc::string::String;
use alloc::vec::Vec;

use bincode::{Decode, Encode};
use serde::Serialize;

use crate::finding::TextField;
use crate::sealed::{Commitment, FieldTag, Salt, Sealed};
use crate::types::*;

/// Who was told (or who reported): a registered party, or a class plus a
/// sealed identity for recipients that are not in the log.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Counterparty {
    /// A registered party, by its `PartyRegistered` record.
    Party(Cite),
    /// Someone not registered: only the class is public.
    Unregistered {
        /// Public class of the counterparty.
        class: PartyClass,
        /// Its name, usually sealed.
        identity: Sealed<String>,
    },
}

/// One step in the life of a disclosure, as signed by the party that took it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// Tag 0. A party joins with its first key; the statement must be signed
    /// by that key (self-signed).
    PartyRegistered {
        /// Display name (1–256 bytes of UTF-8, no control characters).
        name: String,
        /// What kind of organisation it is.
        class: PartyClass,
        /// Its first signing key.
        key: PublicKey,
    },
    /// Tag 1. A current key of a party adds another key to the same party.
    KeyAdded {
        /// The party (its `PartyRegistered` record): the signer's own.
        party: Cite,
        /// The new key; it must not belong to any party yet.
        key: PublicKey,
        /// Proof of possession: the new key's Ed25519 signature over
        /// [`crate::statement::possession_message`] (origin, party, key).
        possession: Signature,
    },
    /// Tag 2. A current key of a party revokes a key of the same party.
    KeyRevoked {
        /// The key to revoke.
        key: PublicKey,
        /// When the key stopped being trustworthy. The key signs nothing
        /// logged after this record, whatever its claimed time; if this is
        /// earlier than the record's log time, the records the key signed
        /// that were logged from then on are flagged.
        effective_at: Millis,
    },
    /// Tag 3. A case begins (Vultron RM: Start).
    CaseOpened {
        /// Random 128-bit id chosen by the opener.
        case: CaseId,
        /// Short description of the flaw (field 0; usually sealed).
        summary: Sealed<String>,
        /// Affected product (field 1; usually sealed).
        product: Sealed<String>,
    },
    /// Tag 4. The signer received a report about the case (Vultron RM:
    /// Received). Signed by a vendor, this marks V.
    ReportReceived {
        /// The case.
        case: CaseId,
        /// Who reported it (field 0 if unregistered and sealed).
        reporter: Counterparty,
        /// SHA-256 of the report as received (field 1; usually sealed).
        report: Sealed<[u8; 32]>,
    },
    /// Tag 5. The signer acknowledged the report to the reporter (Vultron
    /// RM: Valid/Accepted).
    ReportAcknowledged {
        /// The case.
        case: CaseId,
    },
    /// Tag 6. The signer told someone about the case: the core event.
    Notified {
        /// The case.
        case: CaseId,
        /// Who was told (field 0 if unregistered and sealed).
        recipient: Counterparty,
        /// How much they were told.
        level: InfoLevel,
        /// TLP 2.0 label on the notice.
        tlp: Tlp,
        /// The embargo the notice was sent under (an `EmbargoProposed`
        /// record of the same case), if any.
        embargo: Option<Cite>,
        /// SHA-256 of the notice text (field 1; usually sealed).
        content: Sealed<[u8; 32]>,
        /// How it was delivered.
        channel: Channel,
    },
    /// Tag 7. The recipient counter-signs one `Notified` record.
    Acknowledged {
        /// The `Notified` record.
        notice: Cite,
        /// When the recipient received the notice.
        received_at: Millis,
    },
    /// Tag 8. An embargo is proposed (Vultron EM: Proposed).
    EmbargoProposed {
        /// The case.
        case: CaseId,
        /// Proposed end of the embargo.
        ends_at: Millis,
    },
    /// Tag 9. A party accepts a proposed embargo (Vultron EM: Active).
    EmbargoAccepted {
        /// The `EmbargoProposed` record.
        embargo: Cite,
    },
    /// Tag 10. The end date changes (Vultron EM: Revise).
    EmbargoRevised {
        /// The `EmbargoProposed` record.
        embargo: Cite,
        /// New end of the embargo.
        ends_at: Millis,
    },
    /// Tag 11. The embargo ends (Vultron EM: eXited).
    EmbargoTerminated {
        /// The `EmbargoProposed` record.
        embargo: Cite,
        /// Why.
        reason: TerminationReason,
    },
    /// Tag 12. An identifier is assigned (e.g. a CVE id; CSAF
    /// `vulnerabilities[].cve`, OSV `aliases`).
    IdentifierAssigned {
        /// The case.
        case: CaseId,
        /// Which scheme.
        scheme: IdScheme,
        /// The identifier (field 0; sealed until public).
        value: Sealed<String>,
    },
    /// Tag 13. A fix is ready but not released (Vultron F).
    FixReady {
        /// The case.
        case: CaseId,
    },
    /// Tag 14. The fix is released to users (Vultron D).
    FixReleased {
        /// The case.
        case: CaseId,
    },
    /// Tag 15. The flaw is public (Vultron P), with the advisory (e.g. a
    /// CSAF document: CSAF `document.references`).
    PubliclyDisclosed {
        /// The case.
        case: CaseId,
        /// Advisory URL (at most 2048 bytes).
        url: String,
        /// SHA-256 of the advisory document.
        sha256: [u8; 32],
    },
    /// Tag 16. An exploit is public (Vultron X).
    ExploitPublic {
        /// The case.
        case: CaseId,
    },
    /// Tag 17. Attacks were observed (Vultron A; CRA "actively exploited").
    ExploitationObserved {
        /// The case.
        case: CaseId,
    },
    /// Tag 18. A report to a regulator (EU CRA Art. 14).
    RegulatoryReport {
        /// The case.
        case: CaseId,
        /// Which stage.
        stage: RegulatoryStage,
        /// Who received it (e.g. "ENISA", a national CSIRT).
        authority: String,
    },
    /// Tag 19. Reveals a sealed field of an earlier record.
    Opening {
        /// The record holding the sealed field.
        record: Cite,
        /// Which sealed field (numbered per event, see `sealed_fields`).
        field: u8,
        /// The salt used to seal it.
        salt: Salt,
        /// The canonical bytes of the value.
        value: Vec<u8>,
    },
    /// Tag 20. A correction or comment on an earlier record; nothing is
    /// ever deleted.
    Annotation {
        /// The annotated record.
        record: Cite,
        /// What kind of annotation.
        kind: AnnotationKind,
        /// Free text (at most 4096 bytes).
        text: String,
    },
}

/// Number of event kinds (tags 0..EVENT_KINDS).
pub const EVENT_KINDS: usize = 21;

impl Event {
    /// The wire tag of this event.
    pub fn tag(&self) -> u32 {
        match self {
            Event::PartyRegistered { .. } => 0,
            Event::KeyAdded { .. } => 1,
            Event::KeyRevoked { .. } => 2,
            Event::CaseOpened { .. } => 3,
            Event::ReportReceived { .. } => 4,
            Event::ReportAcknowledged { .. } => 5,
            Event::Notified { .. } => 6,
            Event::Acknowledged { .. } => 7,
            Event::EmbargoProposed { .. } => 8,
            Event::EmbargoAccepted { .. } => 9,
            Event::EmbargoRevised { .. } => 10,
            Event::EmbargoTerminated { .. } => 11,
            Event::IdentifierAssigned { .. } => 12,
            Event::FixReady { .. } => 13,
            Event::FixReleased { .. } => 14,
            Event::PubliclyDisclosed { .. } => 15,
            Event::ExploitPublic { .. } => 16,
            Event::ExploitationObserved { .. } => 17,
            Event::RegulatoryReport { .. } => 18,
            Event::Opening { .. } => 19,
            Event::Annotation { .. } => 20,
        }
    }

    /// The event's name, as in docs/FORMAT.md §13.
    pub fn name(&self) -> &'static str {
        KIND_NAMES[self.tag() as usize]
    }

    /// The case this event is about, if it names one directly.
    pub fn case(&self) -> Option<CaseId> {
        match self {
            Event::CaseOpened { case, .. }
            | Event::ReportReceived { case, .. }
            | Event::ReportAcknowledged { case }
            | Event::Notified { case, .. }
            | Event::EmbargoProposed { case, .. }
            | Event::IdentifierAssigned { case, .. }
            | Event::FixReady { case }
            | Event::FixReleased { case }
            | Event::PubliclyDisclosed { case, .. }
            | Event::ExploitPublic { case }
            | Event::ExploitationObserved { case }
            | Event::RegulatoryReport { case, .. } => Some(*case),
            _ => None,
        }
    }

    /// Every earlier record this event cites (docs/FORMAT.md §11): parties,
    /// notices, embargoes, sealed and annotated records.
    pub fn cites(&self) -> Vec<Cite> {
        let party = |c: &Counterparty| match c {
            Counterparty::Party(p) => Some(*p),
            Counterparty::Unregistered { .. } => None,
        };
        match self {
            Event::KeyAdded { party, .. } => alloc::vec![*party],
            Event::ReportReceived { reporter, .. } => party(reporter).into_iter().collect(),
            Event::Notified {
                recipient, embargo, ..
            } => party(recipient).into_iter().chain(*embargo).collect(),
            Event::Acknowledged { notice, .. } => alloc::vec![*notice],
            Event::EmbargoAccepted { embargo }
            | Event::EmbargoRevised { embargo, .. }
            | Event::EmbargoTerminated { embargo, .. } => alloc::vec![*embargo],
            Event::Opening { record, .. } | Event::Annotation { record, .. } => {
                alloc::vec![*record]
            }
            Event::PartyRegistered { .. }
            | Event::KeyRevoked { .. }
            | Event::CaseOpened { .. }
            | Event::ReportAcknowledged { .. }
            | Event::EmbargoProposed { .. }
            | Event::IdentifierAssigned { .. }
            | Event::FixReady { .. }
            | Event::FixReleased { .. }
            | Event::PubliclyDisclosed { .. }
            | Event::ExploitPublic { .. }
            | Event::ExploitationObserved { .. }
            | Event::RegulatoryReport { .. } => Vec::new(),
        }
    }

    /// The field tag of this event's sealed field number `field`.
    pub fn field_tag(&self, field: u8) -> FieldTag {
        FieldTag {
            event: self.tag() as u8,
            field,
        }
    }

    /// The sealed fields of this event as `(field number, commitment)`.
    /// Field numbers are what an `Opening` names; [`sealed_type`] gives each
    /// one's type.
    pub fn sealed_fields(&self) -> Vec<(u8, Commitment)> {
        let mut out = Vec::new();
        let mut add = |n: u8, c: Option<&Commitment>| {
            if let Some(c) = c {
                out.push((n, *c));
            }
        };
        match self {
            Event::CaseOpened {
                summary, product, ..
            } => {
                add(0, summary.commitment());
                add(1, product.commitment());
            }
            Event::ReportReceived {
                reporter, report, ..
            } => {
                if let Counterparty::Unregistered { identity, .. } = reporter {
                    add(0, identity.commitment());
                }
                add(1, report.commitment());
            }
            Event::Notified {
                recipient, content, ..
            } => {
                if let Counterparty::Unregistered { identity, .. } = recipient {
                    add(0, identity.commitment());
                }
                add(1, content.commitment());
            }
            Event::IdentifierAssigned { value, .. } => add(0, value.commitment()),
            _ => {}
        }
        out
    }
}

/// The type of a sealed field's value, which an `Opening` must decode as
/// (docs/FORMAT.md §15).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SealedType {
    /// A UTF-8 string with the rules of that text field.
    Text(TextField),
    /// A SHA-256 digest (32 bytes).
    Sha256,
}

/// The type of sealed field `field` of events with tag `tag`, or `None` if
/// that event has no such sealed field.
pub fn sealed_type(tag: FieldTag) -> Option<SealedType> {
    match (tag.event, tag.field) {
        (3, 0 | 1) => Some(SealedType::Text(TextField::CaseText)),
        (4 | 6, 0) => Some(SealedType::Text(TextField::CounterpartyName)),
        (4 | 6, 1) => Some(SealedType::Sha256),
        (12, 0) => Some(SealedType::Text(TextField::Identifier)),
        _ => None,
    }
}

/// Event names by tag.
pub const KIND_NAMES: [&str; EVENT_KINDS] = [
    "PartyRegistered",
    "KeyAdded",
    "KeyRevoked",
    "CaseOpened",
    "ReportReceived",
    "ReportAcknowledged",
    "Notified",
    "Acknowledged",
    "EmbargoProposed",
    "EmbargoAccepted",
    "EmbargoRevised",
    "EmbargoTerminated",
    "IdentifierAssigned",
    "FixReady",
    "FixReleased",
    "PubliclyDisclosed",
    "ExploitPublic",
    "ExploitationObserved",
    "RegulatoryReport",
    "Opening",
    "Annotation",
];
