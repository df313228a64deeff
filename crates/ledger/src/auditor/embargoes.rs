//! Embargoes (Vultron EM): proposed for a case, active from the first
//! acceptance until terminated or past their (revised) end.
//!
//! Integrity (docs/FORMAT.md §16 step 10): `EmbargoAccepted`,
//! `EmbargoRevised` and `EmbargoTerminated` name an earlier
//! `EmbargoProposed` record. Findings (docs/AUDITING.md, "Findings"):
//! `multiple-active-embargoes` (a second embargo of a case becomes active),
//! `published-during-embargo` (checked at publication, by
//! [`super::cases`]), and the policy findings `embargo-too-long` (at the
//! first acceptance or an extending revision) and `too-many-extensions`.

use alloc::format;
use alloc::vec::Vec;

use super::context::{Ctx, case, case_mut, embargo};
use super::state::{AuditState, CaseState, EmbargoRevision, EmbargoState};
use crate::finding::{Finding, FindingKind, IntegrityFailure};
use crate::policy::AuditPolicy;
use crate::types::{CaseId, Cite, DAY_MS, HOUR_MS, Millis, TerminationReason};

/// `EmbargoProposed`: a new embargo of the case, not yet active (its end
/// was checked by `super::form`: plausible, after the proposal).
pub(super) fn proposed(
    state: &mut AuditState,
    ctx: &Ctx<'_>,
    id: CaseId,
    ends_at: Millis,
) -> Result<(), IntegrityFailure> {
    case_mut(state, &id).embargoes.push(ctx.index);
    state.embargoes.insert(
        ctx.index,
        EmbargoState {
            case: id,
            proposer: ctx.signer,
            leaf: ctx.leaf,
            proposed_at: ctx.t,
            proposed_end: ends_at,
            ends_at,
            accepted_at: None,
            first_acceptance: None,
            acceptors: Vec::new(),
            extensions: 0,
            revisions: Vec::new(),
            terminated: None,
        },
    );
    Ok(())
}

/// `EmbargoAccepted`: the first acceptance makes the embargo active.
pub(super) fn accepted(
    state: &mut AuditState,
    ctx: &mut Ctx<'_>,
    cited: &Cite,
) -> Result<(), IntegrityFailure> {
    let t = ctx.t;
    let signer = ctx.signer;
    let r = cited.record;
    let e = embargo(state, ctx, cited)?;
    if e.accepted_at.is_none() {
        let c = case(state, ctx, &e.case)?;
        let others = c
            .embargoes
            .iter()
            .filter(|o| **o != r)
            .filter(|o| state.embargoes.get(*o).is_some_and(|e| e.active_at(t)))
            .count();
        if others > 0 {
            ctx.finding(
                FindingKind::MultipleActiveEmbargoes,
                Some(e.case),
                Some(signer),
                format!(
                    "embargo {r} became active while {others} other embargo(es) of the case were active"
                ),
            );
        }
    }
    let index = ctx.index;
    let e = state.embargoes.get_mut(&r).expect("checked");
    if e.accepted_at.is_none() {
        e.first_acceptance = Some((index, e.ends_at));
    }
    e.accepted_at.get_or_insert(t);
    if !e.acceptors.contains(&signer) {
        e.acceptors.push(signer);
    }
    Ok(())
}

/// `EmbargoRevised`: a new end; moving it later is an extension.
pub(super) fn revised(
    state: &mut AuditState,
    ctx: &mut Ctx<'_>,
    cited: &Cite,
    ends_at: Millis,
) -> Result<(), IntegrityFailure> {
    let e = embargo(state, ctx, cited)?;
    let extends = ends_at > e.ends_at;
    let revision = EmbargoRevision {
        record: ctx.index,
        by: ctx.signer,
        at: ctx.t,
        from: e.ends_at,
        to: ends_at,
    };
    let e = state.embargoes.get_mut(&cited.record).expect("checked");
    e.ends_at = ends_at;
    e.extensions += u32::from(extends);
    e.revisions.push(revision);
    Ok(())
}

/// `EmbargoTerminated`: the first termination counts.
pub(super) fn terminated(
    state: &mut AuditState,
    ctx: &Ctx<'_>,
    cited: &Cite,
    reason: TerminationReason,
) -> Result<(), IntegrityFailure> {
    embargo(state, ctx, cited)?;
    let e = state.embargoes.get_mut(&cited.record).expect("checked");
    e.terminated.get_or_insert((ctx.t, reason));
    Ok(())
}

/// Policy findings of embargoes: `embargo-too-long` (at the first
/// acceptance, and at each extending revision, the end more than
/// `max_embargo_days` after the proposal) and `too-many-extensions`.
pub(super) fn policy_findings(state: &AuditState, policy: &AuditPolicy, out: &mut Vec<Finding>) {
    for e in state.embargoes.values() {
        let too_long = |end: Millis| {
            policy
                .max_embargo_days
                .filter(|days| end.saturating_sub(e.proposed_at) > u64::from(*days) * DAY_MS)
        };
        if let Some((record, end)) = e.first_acceptance
            && let Some(days) = too_long(end)
        {
            out.push(Finding {
                kind: FindingKind::EmbargoTooLong,
                record,
                case: Some(e.case),
                party: Some(e.proposer),
                detail: format!(
                    "embargo of {} days (policy: {days})",
                    (end - e.proposed_at) / DAY_MS
                ),
            });
        }
        let mut extensions = 0u32;
        for r in &e.revisions {
            if r.to <= r.from {
                continue;
            }
            extensions += 1;
            if let Some(max) = policy.max_extensions
                && extensions > max
            {
                out.push(Finding {
                    kind: FindingKind::TooManyExtensions,
                    record: r.record,
                    case: Some(e.case),
                    party: Some(r.by),
                    detail: format!("extension number {extensions} (policy: at most {max})"),
                });
            }
            if let Some(days) = too_long(r.to) {
                out.push(Finding {
                    kind: FindingKind::EmbargoTooLong,
                    record: r.record,
                    case: Some(e.case),
                    party: Some(r.by),
                    detail: format!(
                        "embargo extended to {} days (policy: {days})",
                        (r.to - e.proposed_at) / DAY_MS
                    ),
                });
            }
        }
    }
}

/// `published-during-embargo`: at the first publication of case `c`, each
/// of its embargoes still active.
pub(super) fn published_during_embargo(
    state: &AuditState,
    ctx: &mut Ctx<'_>,
    id: CaseId,
    c: &CaseState,
) {
    let t = ctx.t;
    let signer = ctx.signer;
    for (r, e) in c
        .embargoes
        .iter()
        .filter_map(|r| state.embargoes.get(r).map(|e| (r, e)))
    {
        if e.active_at(t) {
            ctx.finding(
                FindingKind::PublishedDuringEmbargo,
                Some(id),
                Some(signer),
                format!(
                    "published {} h before embargo {r} ends, without a termination",
                    (e.ends_at - t) / HOUR_MS
                ),
            );
        }
    }
}
