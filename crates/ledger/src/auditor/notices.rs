//! Notices and acknowledgements: who was told about a case, and the
//! recipient's countersignature.
//!
//! Integrity (docs/FORMAT.md §16 step 10): a `Notified` recipient is a
//! registered party or a valid unregistered counterparty, and its embargo is
//! an `EmbargoProposed` of the same case; an `Acknowledged` names an earlier
//! `Notified`, is signed by its registered recipient, and binds its leaf
//! hash. Findings (docs/AUDITING.md, "Findings"): `notice-after-public`,
//! `ack-before-notice`, and the policy findings `privileged-before-fix`,
//! `acknowledged-late`; as of the report time, the deadline findings
//! `never-acknowledged` and `privileged-before-deployers`.

use alloc::format;
use alloc::vec::Vec;

use super::context::{Ctx, case, case_mut, check_counterparty, cite, embargo, registered};
use super::state::{AckState, AuditState, CaseState, NoticeState};
use crate::authority::Authority;
use crate::event::Counterparty;
use crate::finding::{Finding, FindingKind, IntegrityFailure, Referent};
use crate::policy::AuditPolicy;
use crate::types::{CaseId, Cite, DAY_MS, HOUR_MS, InfoLevel, Millis, PartyClass, Tlp};

/// What a `Notified` event says.
pub(super) struct Notice<'e> {
    pub case: CaseId,
    pub recipient: &'e Counterparty,
    pub level: InfoLevel,
    pub tlp: Tlp,
    pub embargo: Option<&'e Cite>,
}

/// `Notified`: checked against the case's publication and fix, then kept.
pub(super) fn notified(
    state: &mut AuditState,
    ctx: &mut Ctx<'_>,
    n: Notice<'_>,
) -> Result<(), IntegrityFailure> {
    let t = ctx.t;
    check_counterparty(state, ctx, n.recipient)?;
    if let Some(e) = n.embargo
        && embargo(state, ctx, e)?.case != n.case
    {
        return Err(ctx.bad_reference(e.record, Referent::EmbargoOfSameCase));
    }
    let c = case(state, ctx, &n.case)?;
    if let Some(p) = c.clock.public
        && p <= t
    {
        ctx.finding(
            FindingKind::NoticeAfterPublic,
            Some(n.case),
            registered(n.recipient),
            format!(
                "notice sent {} h after the case became public",
                (t - p) / HOUR_MS
            ),
        );
    }
    let fix_was_ready = c.clock.fix_ready.is_some_and(|f| f <= t);
    let c = case_mut(state, &n.case);
    c.notices.push(ctx.index);
    if let Some(p) = registered(n.recipient)
        && !c.members.contains(&p)
    {
        c.members.push(p);
    }
    state.notices.insert(
        ctx.index,
        NoticeState {
            case: n.case,
            sender: ctx.signer,
            recipient: n.recipient.clone(),
            level: n.level,
            tlp: n.tlp,
            embargo: n.embargo.map(|e| e.record),
            claimed_at: t,
            logged_at: ctx.logged,
            leaf: ctx.leaf,
            fix_was_ready,
            acknowledged: None,
        },
    );
    Ok(())
}

/// `Acknowledged`: the recipient countersigns the cited notice; the first
/// acknowledgement counts (`received_at` was checked by `super::form`: the
/// recipient cannot say it received the notice after it signed this).
pub(super) fn acknowledged(
    state: &mut AuditState,
    ctx: &mut Ctx<'_>,
    notice: &Cite,
    received_at: Millis,
) -> Result<(), IntegrityFailure> {
    let t = ctx.t;
    let signer = ctx.signer;
    cite(state, ctx, notice, Referent::Notice)?;
    let Some(n) = state.notices.get(&notice.record) else {
        return Err(ctx.bad_reference(notice.record, Referent::Notice));
    };
    if registered(&n.recipient) != Some(signer) {
        return Err(ctx.unauthorized("Acknowledged", Authority::NoticeRecipient));
    }
    if received_at < n.claimed_at {
        ctx.finding(
            FindingKind::AckBeforeNotice,
            Some(n.case),
            Some(signer),
            format!(
                "received at {received_at}, before the notice's claimed time {}",
                n.claimed_at
            ),
        );
    }
    let n = state.notices.get_mut(&notice.record).expect("checked");
    n.acknowledged.get_or_insert(AckState {
        record: ctx.index,
        received_at,
        claimed_at: t,
    });
    Ok(())
}

/// Policy findings of notices: `privileged-before-fix` (a government or
/// programme recipient told before the case's fix was ready, as the log
/// showed when the notice was logged) and `acknowledged-late` (the first
/// acknowledgement signed more than `ack_within_days` after the notice).
pub(super) fn policy_findings(state: &AuditState, policy: &AuditPolicy, out: &mut Vec<Finding>) {
    for (r, n) in &state.notices {
        if policy.privileged_before_fix
            && !n.fix_was_ready
            && let Some(class) = state.class_of(&n.recipient).filter(|c| c.is_privileged())
        {
            out.push(Finding {
                kind: FindingKind::PrivilegedBeforeFix,
                record: *r,
                case: Some(n.case),
                party: registered(&n.recipient),
                detail: format!(
                    "a {} recipient was told before any fix was ready",
                    class.name()
                ),
            });
        }
        if let (Some(days), Some(ack)) = (policy.ack_within_days, n.acknowledged)
            && ack.claimed_at.saturating_sub(n.claimed_at) > u64::from(days) * DAY_MS
        {
            out.push(Finding {
                kind: FindingKind::AcknowledgedLate,
                record: ack.record,
                case: Some(n.case),
                party: registered(&n.recipient),
                detail: format!(
                    "acknowledged {} days after the notice (policy: {days} days)",
                    (ack.claimed_at - n.claimed_at) / DAY_MS
                ),
            });
        }
    }
}

/// Deadline finding `never-acknowledged`: a notice to a registered party
/// with no acknowledgement `ack_within_days` after it, as of `as_of`.
pub(super) fn never_acknowledged(
    state: &AuditState,
    policy: &AuditPolicy,
    as_of: Millis,
    out: &mut Vec<Finding>,
) {
    let Some(days) = policy.ack_within_days else {
        return;
    };
    for (r, n) in &state.notices {
        if let Counterparty::Party(p) = &n.recipient
            && n.acknowledged.is_none()
            && as_of.saturating_sub(n.claimed_at) > u64::from(days) * DAY_MS
        {
            out.push(Finding {
                kind: FindingKind::NeverAcknowledged,
                record: *r,
                case: Some(n.case),
                party: Some(p.party()),
                detail: format!(
                    "not acknowledged {} days after the notice (policy: {days} days)",
                    (as_of - n.claimed_at) / DAY_MS
                ),
            });
        }
    }
}

/// Deadline finding `privileged-before-deployers`: a government or
/// programme recipient of case `c` told before the first deployer notice or
/// the publication, whichever came first. It is a deadline finding because
/// a later notice can move that time.
pub(super) fn privileged_before_deployers(
    state: &AuditState,
    policy: &AuditPolicy,
    id: &CaseId,
    c: &CaseState,
    out: &mut Vec<Finding>,
) {
    if !policy.privileged_before_deployers {
        return;
    }
    let first_deployer = c
        .notices
        .iter()
        .filter_map(|r| state.notices.get(r))
        .filter(|n| state.class_of(&n.recipient) == Some(PartyClass::Deployer))
        .map(|n| n.claimed_at)
        .min();
    let deployers_knew = match (first_deployer, c.clock.public) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let Some(d) = deployers_knew else {
        return;
    };
    for (r, n) in c
        .notices
        .iter()
        .filter_map(|r| state.notices.get(r).map(|n| (r, n)))
    {
        if let Some(class) = state.class_of(&n.recipient).filter(|c| c.is_privileged())
            && n.claimed_at < d
        {
            out.push(Finding {
                kind: FindingKind::PrivilegedBeforeDeployers,
                record: *r,
                case: Some(*id),
                party: registered(&n.recipient),
                detail: format!(
                    "a {} recipient was told {} h before any deployer or the public",
                    class.name(),
                    (d - n.claimed_at) / HOUR_MS
                ),
            });
        }
    }
}
