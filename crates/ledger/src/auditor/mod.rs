//! The streaming auditor: one state machine, fed records in order, that
//! checks every hash, link, signature and rule (docs/FORMAT.md §16,
//! docs/AUDITING.md; docs/DESIGN.md §3 for where it sits between a signed
//! statement and a report) and folds the records into the projection state
//! that reports are read from.
//!
//! Memory is the compact range of the Merkle tree (O(log n) hashes) plus
//! the projection state (parties, keys, cases, notices, embargoes, sealed
//! fields, findings) — never the records themselves. The state can be saved
//! and resumed, so a watchdog audits only what is new.
//!
//! Where the records come from (memory, a store, tiles, a file) is the
//! caller's business; so is the clock: time-dependent findings ("never
//! acknowledged") are evaluated at a time the caller passes in
//! ([`Auditor::findings_as_of`], [`all_findings`]).
//!
//! The module is laid out by subject:
//!
//! | module | what it holds or enforces |
//! |---|---|
//! | `state` | [`AuditState`] and the per-subject state types |
//! | `prepare` | [`Prepared`] records; §16 steps 1–8; `logged-late` |
//! | `driver` | [`Auditor`]: push, batches, appends, save and resume, checkpoints |
//! | `dispatch` | the event table; shared case, annotation and participation rules |
//! | `recent` | the recent roots, for checking `seen` checkpoints |
//! | [`keyed`] | the keyed form of the state, for a store that pages it |
//! | `form` | citations, clear texts and times, checked before authority |
//! | `permits` | the authority table, enforced before any change |
//! | `keys` | who may sign (step 9); registration, added and revoked keys |
//! | `cases` | cases, the Vultron clock, identifiers, publication; desiderata |
//! | `notices` | notices and acknowledgements; their deadlines |
//! | `embargoes` | proposal, acceptance, revision, termination |
//! | `sealed` | commitments remembered, openings checked; `not-opened` |
//! | `regulatory` | EU CRA Art. 14 clocks |

use alloc::vec::Vec;

use crate::finding::Finding;
use crate::policy::AuditPolicy;
use crate::types::Millis;
use crate::verify::VerifyMode;

mod cases;
mod context;
mod dispatch;
mod driver;
mod embargoes;
mod form;
pub mod keyed;
mod keys;
mod notices;
mod permits;
mod prepare;
mod recent;
mod regulatory;
mod sealed;
mod state;

pub use cases::DESIDERATA;
#[cfg(feature = "std")]
pub use driver::Preparer;
pub use driver::{Auditor, PagedError, Paging};
pub use prepare::{Prepared, prepare_records, statement_hash};
pub use recent::{RecentTree, SEEN_WINDOW, SNAPSHOT_EVERY};
pub use state::{
    AckState, AuditState, CaseClock, CaseIdentifier, CaseState, Chunked, Citable, CitationTable,
    EmbargoRevision, EmbargoState, KeyState, LATE_FLOOR_MS, LateRecord, NoticeState, PartyState,
    RegulatoryFiling, STATE_VERSION, SealedState, TrustedCheckpoint, duplicate_key,
};

/// Default allowance for a statement claimed after the log's time (clocks
/// differ): five minutes.
pub const DEFAULT_MAX_SKEW_MS: u64 = 5 * 60 * 1000;

/// Auditor settings. Not part of the saved state: a watchdog may audit the
/// same log under different policies, and the state holds no judgement
/// that depends on one.
#[derive(Clone, Debug)]
pub struct AuditConfig {
    /// Thresholds for policy findings.
    pub policy: AuditPolicy,
    /// The log's origin, if known in advance (a store's, a pinned key's
    /// name). Every statement must name it; if `None`, the first record's
    /// origin becomes the log's.
    pub origin: Option<alloc::string::String>,
    /// Largest allowed `claimed_at - logged_at` (ms).
    pub max_skew_ms: u64,
    /// How signatures are verified (same verdicts either way; exact batches by default).
    pub verify_mode: VerifyMode,
    /// Threads for [`Auditor::push_batch`] (1 = no threads).
    pub threads: usize,
}

impl Default for AuditConfig {
    fn default() -> AuditConfig {
        AuditConfig {
            policy: AuditPolicy::default(),
            origin: None,
            max_skew_ms: DEFAULT_MAX_SKEW_MS,
            verify_mode: VerifyMode::Batch,
            threads: 1,
        }
    }
}

/// Findings whose truth depends on the report time or on later events
/// (docs/AUDITING.md, "Findings": the deadline rows and the desiderata):
/// notices never acknowledged, sealed details not opened, privileged
/// recipients told before deployers, missing CRA reports, and violated
/// Vultron desiderata — each computed by its subject's module.
pub fn deadline_findings(state: &AuditState, policy: &AuditPolicy, as_of: Millis) -> Vec<Finding> {
    let mut out = Vec::new();
    notices::never_acknowledged(state, policy, as_of, &mut out);
    for (id, c) in &state.cases {
        sealed::not_opened(state, policy, as_of, id, c, &mut out);
        notices::privileged_before_deployers(state, policy, id, c, &mut out);
        regulatory::missing_reports(policy, as_of, id, c, &mut out);
        cases::desiderata(policy, id, c, &mut out);
    }
    out
}

/// Policy findings that do not depend on the report time, judged from the
/// facts the state keeps (docs/AUDITING.md, "Findings"): `logged-late`,
/// `embargo-too-long`, `too-many-extensions`, `privileged-before-fix`,
/// `acknowledged-late`, and late CRA reports. The state is the same under
/// every policy, so `audit` and `report` under one policy agree.
pub fn policy_findings(state: &AuditState, policy: &AuditPolicy) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(max) = policy.max_log_delay_hours {
        // Thresholds count whole hours from one (LATE_FLOOR_MS).
        let limit = u64::from(max.max(1)) * crate::types::HOUR_MS;
        for l in state.late.iter().filter(|l| l.delay > limit) {
            out.push(Finding {
                kind: crate::finding::FindingKind::LoggedLate,
                record: l.record,
                case: l.case,
                party: Some(l.party),
                detail: alloc::format!(
                    "{} logged {} h after its claimed time (policy: {max} h)",
                    crate::event::KIND_NAMES[usize::from(l.event)],
                    l.delay / crate::types::HOUR_MS
                ),
            });
        }
    }
    embargoes::policy_findings(state, policy, &mut out);
    notices::policy_findings(state, policy, &mut out);
    for (id, c) in &state.cases {
        regulatory::late_reports(policy, id, c, &mut out);
    }
    out
}

/// Every finding (streamed, policy and deadline), in record order: the
/// one evaluation both `audit` and `report` use.
pub fn all_findings(state: &AuditState, policy: &AuditPolicy, as_of: Millis) -> Vec<Finding> {
    let mut all = state.findings.clone();
    all.extend(policy_findings(state, policy));
    all.extend(deadline_findings(state, policy, as_of));
    all.sort_by_key(|f| (f.record, f.kind));
    all
}
