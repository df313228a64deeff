//! What every rule sees of the record being applied ([`Ctx`]), and the
//! look-ups the rules share: a citation that names an earlier record by its
//! leaf hash, an opened case, a proposed embargo, a valid counterparty, a
//! text field within its limits, a plausible time (docs/FORMAT.md §16 step
//! 10, §13's limits).

use alloc::string::String;
use alloc::vec::Vec;

use forewarn_tlog::hash::Hash;

use super::prepare::fail;
use super::state::{AuditState, CaseState, Citable, EmbargoState};
use crate::authority::Authority;
use crate::event::Counterparty;
use crate::finding::{
    Finding, FindingKind, IntegrityFailure, IntegrityKind, Referent, TextField, TimeField,
};
use crate::types::{CaseId, Cite, Millis, PLAUSIBLE_TIMES, PartyId, PublicKey, RecordRef};

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
    /// The signing key.
    pub key: PublicKey,
    /// The log's origin (the statement's, already checked).
    pub origin: &'a str,
    /// The allowed clock skew between signers and the log (ms).
    pub skew: Millis,
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

    /// Fails unless `s` obeys `field`'s rules ([`TextField::accepts`]).
    pub fn check_text(&self, s: &str, field: TextField) -> Result<(), IntegrityFailure> {
        if field.accepts(s) {
            Ok(())
        } else {
            Err(self.fail(IntegrityKind::InvalidField { what: field }))
        }
    }

    /// Fails unless `t` is in [`PLAUSIBLE_TIMES`].
    pub fn check_time(&self, t: Millis, field: TimeField) -> Result<(), IntegrityFailure> {
        if PLAUSIBLE_TIMES.contains(&t) {
            Ok(())
        } else {
            Err(self.fail(IntegrityKind::ImplausibleTime { field, value: t }))
        }
    }

    /// The signer lacks the authority `rule` for this event.
    pub fn unauthorized(&self, event: &'static str, rule: Authority) -> IntegrityFailure {
        self.fail(IntegrityKind::Unauthorized { event, rule })
    }

    /// A reference that does not point where it must.
    pub fn bad_reference(&self, reference: RecordRef, expected: Referent) -> IntegrityFailure {
        self.fail(IntegrityKind::BadReference {
            reference,
            expected,
        })
    }
}

/// The earlier record `c` cites, if its leaf hash matches (every reference
/// in a v2 statement is a citation, docs/FORMAT.md §11).
pub(super) fn cite<'s>(
    state: &'s AuditState,
    ctx: &Ctx<'_>,
    c: &Cite,
    expected: Referent,
) -> Result<&'s Citable, IntegrityFailure> {
    let Some(r) = usize::try_from(c.record.0)
        .ok()
        .and_then(|i| state.citable.get(i))
        .filter(|r| c.record < ctx.index && !matches!(r.event, 19 | 20))
    else {
        return Err(ctx.bad_reference(c.record, expected));
    };
    if r.leaf != c.leaf {
        return Err(ctx.fail(IntegrityKind::CiteMismatch {
            reference: c.record,
            expected: r.leaf,
            found: c.leaf,
        }));
    }
    Ok(r)
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

/// The embargo proposed by the cited record, or `BadReference`.
pub(super) fn embargo<'s>(
    state: &'s AuditState,
    ctx: &Ctx<'_>,
    c: &Cite,
) -> Result<&'s EmbargoState, IntegrityFailure> {
    cite(state, ctx, c, Referent::Embargo)?;
    state
        .embargoes
        .get(&c.record)
        .ok_or_else(|| ctx.bad_reference(c.record, Referent::Embargo))
}

/// A counterparty names a registered party or carries a valid clear name.
pub(super) fn check_counterparty(
    state: &AuditState,
    ctx: &Ctx<'_>,
    c: &Counterparty,
) -> Result<(), IntegrityFailure> {
    match c {
        Counterparty::Party(id) => {
            cite(state, ctx, id, Referent::Party)?;
            if state.parties.contains_key(&id.party()) {
                Ok(())
            } else {
                Err(ctx.bad_reference(id.record, Referent::Party))
            }
        }
        // A clear name's text rules are checked with every text field
        // (`super::form`).
        Counterparty::Unregistered { .. } => Ok(()),
    }
}

/// The registered party a counterparty names, if any.
pub(super) fn registered(c: &Counterparty) -> Option<PartyId> {
    match c {
        Counterparty::Party(id) => Some(id.party()),
        Counterparty::Unregistered { .. } => None,
    }
}
