//! Who may sign which event: the authority table (docs/AUDITING.md, "Who
//! may do what"), after the roles of CERT/CC's Vultron protocol
//! (Householder & Spring, "A State-Based Model for Multi-Party Coordinated
//! Vulnerability Disclosure", CMU/SEI-2021-SR-021, §2: the Finder,
//! Vendor, Coordinator and Deployer roles; the RM and EM processes).
//!
//! The table is data: [`authority`] names the rule for an event, and the
//! auditor enforces it (`auditor::authority`). A sequencer refuses a
//! statement that breaks it; an auditor that finds one in a log reports
//! an `unauthorized` finding and gives the statement no effect, so a
//! sock-puppet's embargo revision does not move the embargo.
//!
//! A case's **members** are its opener, every registered recipient of one
//! of its notices, and every registered reporter a member names in a
//! `ReportReceived`: membership is granted only by someone already in the
//! case.

use core::fmt;

use crate::event::Event;
use crate::types::AnnotationKind;

/// Who may sign an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Authority {
    /// The key being registered (self-signed).
    TheNewParty,
    /// Any registered party.
    AnyParty,
    /// A current key of the party the event names.
    SameParty,
    /// A member of the case.
    Member,
    /// A member that signed `ReportReceived` for the case.
    ReportReceiver,
    /// The notice's registered recipient.
    NoticeRecipient,
    /// A member other than the embargo's proposer, or the proposer itself.
    EmbargoMember,
    /// The embargo's proposer or a party that accepted it.
    EmbargoParty,
    /// A member of class vendor.
    Vendor,
    /// A member of class vendor or coordinator.
    VendorOrCoordinator,
    /// The party that signed the sealed record.
    SealingParty,
    /// The party that signed the annotated record.
    RecordSigner,
}

impl Authority {
    /// The rule as a phrase ("… may be signed only by {phrase}").
    pub fn as_str(self) -> &'static str {
        match self {
            Authority::TheNewParty => "the key it registers",
            Authority::AnyParty => "a registered party",
            Authority::SameParty => "a current key of the same party",
            Authority::Member => {
                "a member of the case (its opener, a registered notice recipient or reporter)"
            }
            Authority::ReportReceiver => "a member that signed ReportReceived for the case",
            Authority::NoticeRecipient => "the notice's registered recipient",
            Authority::EmbargoMember => "a member of the embargo's case",
            Authority::EmbargoParty => "the embargo's proposer or a party that accepted it",
            Authority::Vendor => "a vendor that is a member of the case",
            Authority::VendorOrCoordinator => {
                "a vendor or coordinator that is a member of the case"
            }
            Authority::SealingParty => "the party that signed the sealed record",
            Authority::RecordSigner => "the party that signed the annotated record",
        }
    }
}

impl fmt::Display for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The rule for `event`.
pub fn authority(event: &Event) -> Authority {
    match event {
        Event::PartyRegistered { .. } => Authority::TheNewParty,
        Event::KeyAdded { .. } | Event::KeyRevoked { .. } => Authority::SameParty,
        Event::CaseOpened { .. } => Authority::AnyParty,
        Event::ReportReceived { .. }
        | Event::Notified { .. }
        | Event::EmbargoProposed { .. }
        | Event::PubliclyDisclosed { .. }
        | Event::ExploitPublic { .. }
        | Event::ExploitationObserved { .. } => Authority::Member,
        Event::ReportAcknowledged { .. } => Authority::ReportReceiver,
        Event::Acknowledged { .. } => Authority::NoticeRecipient,
        Event::EmbargoAccepted { .. } | Event::EmbargoTerminated { .. } => Authority::EmbargoMember,
        Event::EmbargoRevised { .. } => Authority::EmbargoParty,
        Event::IdentifierAssigned { .. } => Authority::VendorOrCoordinator,
        Event::FixReady { .. } | Event::FixReleased { .. } | Event::RegulatoryReport { .. } => {
            Authority::Vendor
        }
        Event::Opening { .. } => Authority::SealingParty,
        Event::Annotation { kind, .. } => match kind {
            AnnotationKind::Comment => Authority::AnyParty,
            AnnotationKind::Correction | AnnotationKind::Retraction => Authority::RecordSigner,
        },
    }
}
