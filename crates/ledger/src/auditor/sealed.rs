//! Sealed fields: every commitment a record carries is remembered, so that
//! a later `Opening` can be checked against it (docs/FORMAT.md §15, and
//! §16 step 10: an `Opening` names an earlier record with that sealed field
//! and matches its commitment).
//!
//! The deadline finding `not-opened` (docs/AUDITING.md, "Findings"): a
//! sealed summary, product or identifier of a public case still closed
//! `open_within_days` after publication. Notice contents and recipient
//! identities are opened at the sender's discretion and are not checked.

use alloc::format;
use alloc::vec::Vec;

use super::context::Ctx;
use super::state::{AuditState, CaseState, SealedState};
use crate::event::Event;
use crate::finding::{Finding, FindingKind, IntegrityFailure, IntegrityKind, Referent};
use crate::policy::AuditPolicy;
use crate::sealed::Salt;
use crate::types::{CaseId, DAY_MS, Millis, RecordRef};

/// `Opening`: reveals field `field` of record `record`; the first opening
/// counts.
pub(super) fn opening(
    state: &mut AuditState,
    ctx: &Ctx<'_>,
    record: RecordRef,
    field: u8,
    salt: &Salt,
    value: &[u8],
) -> Result<(), IntegrityFailure> {
    let Some(s) = state.sealed.get(&(record, field)) else {
        return Err(ctx.bad_reference(record, Referent::SealedField));
    };
    if !s.commitment.opens(salt, value) {
        return Err(ctx.fail(IntegrityKind::OpeningMismatch { record, field }));
    }
    let s = state.sealed.get_mut(&(record, field)).expect("checked");
    s.opened.get_or_insert((ctx.index, value.to_vec()));
    Ok(())
}

/// After a record is accepted: its sealed fields, by (record, field), and
/// in its case's list.
pub(super) fn remember(state: &mut AuditState, index: RecordRef, event: &Event) {
    let case = event.case();
    for (field, commitment) in event.sealed_fields() {
        state.sealed.insert(
            (index, field),
            SealedState {
                commitment,
                case,
                opened: None,
            },
        );
        if let Some(c) = case.and_then(|c| state.cases.get_mut(&c)) {
            c.sealed.push((index, field));
        }
    }
}

/// Deadline finding `not-opened` for case `c`, as of `as_of`.
pub(super) fn not_opened(
    state: &AuditState,
    policy: &AuditPolicy,
    as_of: Millis,
    id: &CaseId,
    c: &CaseState,
    out: &mut Vec<Finding>,
) {
    let (Some(days), Some(p)) = (policy.open_within_days, c.clock.public) else {
        return;
    };
    if as_of.saturating_sub(p) <= u64::from(days) * DAY_MS {
        return;
    }
    // The case's own details: summary and product (fields 0, 1 of
    // CaseOpened) and identifiers.
    let details = c
        .sealed
        .iter()
        .filter(|(r, _)| *r == c.opened || c.identifiers.iter().any(|i| i.record == *r));
    for (r, f) in details {
        if state
            .sealed
            .get(&(*r, *f))
            .is_some_and(|s| s.opened.is_none())
        {
            out.push(Finding {
                kind: FindingKind::NotOpened,
                record: *r,
                case: Some(*id),
                party: None,
                detail: format!(
                    "sealed field {f} still closed {} days after publication (policy: {days} days)",
                    (as_of - p) / DAY_MS
                ),
            });
        }
    }
}
