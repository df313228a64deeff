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
use super::state::{AuditState, CaseState, EmbargoState};
use crate::finding::{FindingKind, IntegrityFailure};
use crate::types::{CaseId, DAY_MS, HOUR_MS, Millis, RecordRef, TerminationReason};

/// `EmbargoProposed`: a new embargo of the case, not yet active.
pub(super) fn proposed(state: &mut AuditState, ctx: &Ctx<'_>, id: CaseId, ends_at: Millis) {
    case_mut(state, &id).embargoes.push(ctx.index);
    state.embargoes.insert(
        ctx.index,
        EmbargoState {
            case: id,
            proposer: ctx.signer,
            proposed_at: ctx.t,
            ends_at,
            accepted_at: None,
            acceptors: Vec::new(),
            extensions: 0,
            terminated: None,
        },
    );
}

/// `EmbargoAccepted`: the first acceptance makes the embargo active.
pub(super) fn accepted(
    state: &mut AuditState,
    ctx: &mut Ctx<'_>,
    r: RecordRef,
) -> Result<(), IntegrityFailure> {
    let t = ctx.t;
    let signer = ctx.signer;
    let e = embargo(state, ctx, r)?;
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
        if let Some(days) = ctx.policy.max_embargo_days
            && e.ends_at.saturating_sub(e.proposed_at) > u64::from(days) * DAY_MS
        {
            ctx.finding(
                FindingKind::EmbargoTooLong,
                Some(e.case),
                Some(e.proposer),
                format!(
                    "embargo of {} days (policy: {days})",
                    (e.ends_at - e.proposed_at) / DAY_MS
                ),
            );
        }
    }
    let e = state.embargoes.get_mut(&r).expect("checked");
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
    r: RecordRef,
    ends_at: Millis,
) -> Result<(), IntegrityFailure> {
    let signer = ctx.signer;
    let e = embargo(state, ctx, r)?;
    let extends = ends_at > e.ends_at;
    let extensions = e.extensions + u32::from(extends);
    if extends {
        if let Some(max) = ctx.policy.max_extensions
            && extensions > max
        {
            ctx.finding(
                FindingKind::TooManyExtensions,
                Some(e.case),
                Some(signer),
                format!("extension number {extensions} (policy: at most {max})"),
            );
        }
        if let Some(days) = ctx.policy.max_embargo_days
            && ends_at.saturating_sub(e.proposed_at) > u64::from(days) * DAY_MS
        {
            ctx.finding(
                FindingKind::EmbargoTooLong,
                Some(e.case),
                Some(signer),
                format!(
                    "embargo extended to {} days (policy: {days})",
                    (ends_at - e.proposed_at) / DAY_MS
                ),
            );
        }
    }
    let e = state.embargoes.get_mut(&r).expect("checked");
    e.ends_at = ends_at;
    e.extensions = extensions;
    Ok(())
}

/// `EmbargoTerminated`: the first termination counts.
pub(super) fn terminated(
    state: &mut AuditState,
    ctx: &Ctx<'_>,
    r: RecordRef,
    reason: TerminationReason,
) -> Result<(), IntegrityFailure> {
    embargo(state, ctx, r)?;
    let e = state.embargoes.get_mut(&r).expect("checked");
    e.terminated.get_or_insert((ctx.t, reason));
    Ok(())
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
