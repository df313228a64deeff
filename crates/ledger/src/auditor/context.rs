//! What every rule sees of the record being applied ([`Ctx`]), and the
//! look-ups the rules share: an opened case, a proposed embargo, a valid
//! counterparty, a text field within its limits (docs/FORMAT.md §16 step 10,
//! §13's limits).

use alloc::string::String;
use alloc::vec::Vec;

use forewarn_tlog::hash::Hash;

use super::prepare::fail;
use super::state::{AuditState, CaseState, EmbargoState};
use crate::event::Counterparty;
use crate::finding::{Finding, FindingKind, IntegrityFailure, IntegrityKind, Referent, TextField};
use crate::policy::AuditPolicy;
use crate::sealed::Sealed;
use crate::types::{CaseId, Millis, PartyId, RecordRef};

/// The record being applied, as the rules see it, and the findings they
/// raise (kept only if the whole record is accepted).
pub(super) struct Ctx<'a> {
    /// The record's index.
    pub index: RecordRef,
    /// Its bytes, the evidence of any failure.
    pub bytes: &'a [u8],
    /// Its log time.
    pub logged: Millis,
    /// Its leaf hash.
    pub leaf: Hash,
    /// The statement's claimed time.
    pub t: Millis,
    /// The signing party (for `PartyRegistered`, the party being registered).
    pub signer: PartyId,
    /// The watchdog's thresholds.
    pub policy: &'a AuditPolicy,
    /// Findings raised so far by this record.
    pub findings: Vec<Finding>,
}

impl Ctx<'_> {
    /// An integrity failure of this record.
    pub fn fail(&self, kind: IntegrityKind) -> IntegrityFailure {
        fail(self.index.0, kind, self.bytes)
    }

    /// Records a finding shown by this record.
    pub fn finding(
        &mut self,
        kind: FindingKind,
        case: Option<CaseId>,
        party: Option<PartyId>,
        detail: String,
    ) {
        self.findings.push(Finding {
            kind,
            record: self.index,
            case,
            party,
            detail,
        });
    }

    /// Fails unless `s` is 1 to `max` bytes without control characters
    /// (newlines allowed if `newlines`).
    pub fn check_text(
        &self,
        s: &str,
        max: usize,
        newlines: bool,
        field: TextField,
    ) -> Result<(), IntegrityFailure> {
        if valid_text(s, max, newlines) {
            Ok(())
        } else {
            Err(self.fail(IntegrityKind::InvalidField { what: field }))
        }
    }

    /// A reference that does not point where it must.
    pub fn bad_reference(&self, reference: RecordRef, expected: Referent) -> IntegrityFailure {
        self.fail(IntegrityKind::BadReference {
            reference,
            expected,
        })
    }
}

fn valid_text(s: &str, max: usize, allow_newlines: bool) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.chars()
            .all(|c| !c.is_control() || (allow_newlines && c == '\n'))
}

/// The opened case, or `UnknownCase`.
pub(super) fn case<'s>(
    state: &'s AuditState,
    ctx: &Ctx<'_>,
    case: &CaseId,
) -> Result<&'s CaseState, IntegrityFailure> {
    state
        .cases
        .get(case)
        .ok_or_else(|| ctx.fail(IntegrityKind::UnknownCase { case: *case }))
}

/// The opened case, mutably (after [`case`] has checked it exists).
pub(super) fn case_mut<'s>(state: &'s mut AuditState, case: &CaseId) -> &'s mut CaseState {
    state.cases.get_mut(case).expect("checked by the dispatch")
}

/// The embargo proposed by record `r`, or `BadReference`.
pub(super) fn embargo<'s>(
    state: &'s AuditState,
    ctx: &Ctx<'_>,
    r: RecordRef,
) -> Result<&'s EmbargoState, IntegrityFailure> {
    state
        .embargoes
        .get(&r)
        .ok_or_else(|| ctx.bad_reference(r, Referent::Embargo))
}

/// A counterparty names a registered party or carries a valid clear name.
pub(super) fn check_counterparty(
    state: &AuditState,
    ctx: &Ctx<'_>,
    c: &Counterparty,
) -> Result<(), IntegrityFailure> {
    match c {
        Counterparty::Party(id) if !state.parties.contains_key(id) => {
            Err(ctx.bad_reference(id.registration(), Referent::Party))
        }
        Counterparty::Unregistered {
            identity: Sealed::Clear(name),
            ..
        } => ctx.check_text(name, 256, false, TextField::CounterpartyName),
        _ => Ok(()),
    }
}

/// The registered party a counterparty names, if any.
pub(super) fn registered(c: &Counterparty) -> Option<PartyId> {
    match c {
        Counterparty::Party(id) => Some(*id),
        Counterparty::Unregistered { .. } => None,
    }
}
