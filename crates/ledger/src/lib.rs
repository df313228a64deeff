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
//!   and policy findings), resumable from a saved state.
//! - [`policy`]: watchdog thresholds and presets.
//! - [`report`]: per-case, per-party and summary projections.
//! - [`verify`]: Ed25519 with `verify_strict` semantics, also in batches.
//!
//! `no_std` + `alloc`, no I/O, no clock, no randomness: callers pass times
//! and salts. The `std` feature adds threads and `std::error::Error`.

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod auditor;
pub mod encoding;
pub mod event;
pub mod finding;
pub mod policy;
pub mod report;
pub mod sealed;
pub mod statement;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod types;
pub mod verify;

pub use auditor::{AuditConfig, AuditState, Auditor};
pub use event::{Counterparty, Event};
pub use finding::{Category, Finding, FindingKind, IntegrityFailure, IntegrityKind};
pub use policy::Policy;
pub use sealed::{Commitment, Sealed};
pub use statement::{Record, SignedStatement, Statement};
pub use types::*;
