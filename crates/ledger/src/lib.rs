//! # forewarn-ledger
//!
//! The disclosure model of forewarn: who was told about which flaw, when,
//! under which embargo — as signed statements sequenced into records of an
//! append-only Merkle log — and the one streaming auditor that checks such a
//! log and folds it into "who knew when" reports.
//!
//! - [`statement`]: what a party signs ([`Statement`]) and what the log
//!   stores ([`Record`]); byte layouts in docs/FORMAT.md §11–§13.
//! - [`event`]: the events, modelled on CERT/CC's Vultron protocol.
//! - [`sealed`]: salted commitments for embargoed details, and openings.
//! - [`auditor`]: the streaming state machine (integrity failures, protocol
//!   and policy findings, deadline findings as of a time), resumable from a
//!   saved state; its rules are laid out by subject (keys, cases, notices,
//!   embargoes, sealed fields, regulatory clocks).
//! - [`policy`]: watchdog thresholds and presets ([`AuditPolicy`]).
//! - [`report`]: per-case, per-party and summary projections.
//! - [`seen_evidence`]: portable proof that a signer's claimed seen root
//!   is not the log's root at that size.
//! - [`verify`]: Ed25519 with `verify_strict` semantics, also in batches.
//!
//! `no_std` + `alloc`, no I/O, no clock, no randomness: callers pass times
//! and salts. The `std` feature adds threads and `std::error::Error`; the
//! `testkit` feature adds the deterministic scenario builder used below.
//!
//! ## A disclosure, logged and audited
//!
//! ```
//! use forewarn_ledger::testkit::Scenario;
//! use forewarn_ledger::*;
//!
//! // A vendor tells a government agency about a flaw 20 days before the fix
//! // and the advisory; the agency countersigns the notice.
//! let mut log = Scenario::default();
//! let vendor = log.party("Acme Corp", PartyClass::Vendor);
//! let agency = log.party("National CSIRT", PartyClass::Government);
//! let (case, _, _) = log.open_case(&vendor, "heap overflow", "acme-server 4.2");
//! log.days(1);
//! let notice = log.notify(&vendor, case, &agency, InfoLevel::Details, None);
//! log.hours(2);
//! let received = log.now - HOUR_MS;
//! log.ack(&agency, notice, received);
//! log.days(20);
//! log.submit(&vendor, Event::FixReady { case });
//! log.submit(&vendor, Event::PubliclyDisclosed {
//!     case,
//!     url: "https://acme.example/advisories/1".into(),
//!     sha256: [0; 32],
//! });
//!
//! // A watchdog replays the log under CERT/CC's policy.
//! let config = AuditConfig { policy: AuditPolicy::preset("cert-cc").unwrap(), ..AuditConfig::default() };
//! let mut auditor = Auditor::new(config);
//! for record in log.records() {
//!     auditor.push(record).expect("every hash, link and signature checks out");
//! }
//! let report = report::build(auditor.state(), &auditor.config().policy, log.now, &auditor.root());
//! let row = report.cases[0].who_knew.iter().find(|w| w.party == Some(agency.id)).unwrap();
//! assert_eq!(row.lead_before_public_ms, Some((20 * DAY_MS + 2 * HOUR_MS) as i64));
//! assert_eq!(row.acknowledged_at, Some(received));
//! assert!(report.findings.iter().any(|f| f.kind == FindingKind::PrivilegedBeforeFix));
//! ```

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod auditor;
pub mod authority;
pub mod encoding;
pub mod event;
pub mod finding;
pub mod policy;
pub mod receipt;
pub mod report;
pub mod salt_file;
pub mod sealed;
pub mod seen_evidence;
pub mod statement;
pub mod statement_file;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod types;
pub mod verify;

pub use auditor::{AuditConfig, AuditState, Auditor};
pub use event::{Counterparty, Event};
pub use finding::{
    Category, Finding, FindingKind, IntegrityFailure, IntegrityKind, Referent, TextField,
};
pub use policy::AuditPolicy;
pub use sealed::{Commitment, Sealed};
pub use statement::{Record, SignedStatement, Statement};
pub use types::*;
