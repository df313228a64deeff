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

use alloc::string::String;

use super::context::{Ctx, cite};
use super::state::{AuditState, CaseState, SealedState};
use crate::encoding;
use crate::event::{Event, SealedType, sealed_type};
use crate::finding::{Finding, FindingKind, IntegrityFailure, IntegrityKind, Referent};
use crate::policy::AuditPolicy;
use crate::sealed::{FieldTag, Salt};
use crate::types::{CaseId, Cite, DAY_MS, Millis};

/// `Opening`: reveals field `field` of the cited record. The value must
/// be a canonical encoding of the field's type and, for text, obey that
/// field's rules, exactly as if it had been given in clear (docs/FORMAT.md
/// §15); the first opening counts.
pub(super) fn opening(
    state: &mut AuditState,
    ctx: &Ctx<'_>,
    record: &Cite,
    field: u8,
    salt: &Salt,
    value: &[u8],
) -> Result<(), IntegrityFailure> {
    cite(state, ctx, record, Referent::SealedField)?;
    let at = (record.record, field);
    let Some(s) = state.sealed.get(&at) else {
        return Err(ctx.bad_reference(record.record, Referent::SealedField));
    };
    let tag = FieldTag {
        event: s.event,
        field,
    };
    if !s.commitment.opens(tag, &s.signer, salt, value) {
        return Err(ctx.fail(IntegrityKind::OpeningMismatch {
            record: record.record,
            field,
        }));
    }
    let wrong_type = || {
        ctx.fail(IntegrityKind::OpeningType {
            record: record.record,
            field,
        })
    };
    match sealed_type(tag).ok_or_else(wrong_type)? {
        SealedType::Text(rules) => {
            let text: String = encoding::decode(value).map_err(|_| wrong_type())?;
            ctx.check_text(&text, rules)?;
        }
        SealedType::Sha256 => {
            encoding::decode::<[u8; 32]>(value).map_err(|_| wrong_type())?;
        }
    }
    let s = state.sealed.get_mut(&at).expect("checked");
    s.opened.get_or_insert((ctx.index, value.to_vec()));
    Ok(())
}

/// After a record is accepted: its sealed fields, by (record, field), and
/// in its case's list.
pub(super) fn remember(state: &mut AuditState, ctx: &Ctx<'_>, event: &Event) {
    let case = event.case();
    for (field, commitment) in event.sealed_fields() {
        state.sealed.insert(
            (ctx.index, field),
            SealedState {
                commitment,
                event: event.tag() as u8,
                signer: ctx.key,
                party: ctx.signer,
                case,
                opened: None,
            },
        );
        if let Some(c) = case.and_then(|c| state.cases.get_mut(&c)) {
            c.sealed.push((ctx.index, field));
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
