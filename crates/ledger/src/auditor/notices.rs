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

use forewarn_tlog::hash::Hash;

use super::context::{Ctx, case, case_mut, check_counterparty, embargo, registered};
use super::state::{AuditState, CaseState, NoticeState};
use crate::event::Counterparty;
use crate::finding::{Finding, FindingKind, IntegrityFailure, IntegrityKind, Referent};
use crate::policy::AuditPolicy;
use crate::types::{CaseId, DAY_MS, HOUR_MS, InfoLevel, Millis, PartyClass, RecordRef, Tlp};

/// What a `Notified` event says.
pub(super) struct Notice<'e> {
    pub case: CaseId,
    pub recipient: &'e Counterparty,
    pub level: InfoLevel,
    pub tlp: Tlp,
    pub embargo: Option<RecordRef>,
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
        return Err(ctx.bad_reference(e, Referent::EmbargoOfSameCase));
    }
    let class = state.class_of(n.recipient).unwrap_or(PartyClass::Other);
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
    if ctx.policy.privileged_before_fix
        && class.is_privileged()
        && c.clock.fix_ready.is_none_or(|f| f > t)
    {
        ctx.finding(
            FindingKind::PrivilegedBeforeFix,
            Some(n.case),
            registered(n.recipient),
            format!(
                "a {} recipient was told before any fix was ready",
                class.name()
            ),
        );
    }
    case_mut(state, &n.case).notices.push(ctx.index);
    state.notices.insert(
        ctx.index,
        NoticeState {
            case: n.case,
            sender: ctx.signer,
            recipient: n.recipient.clone(),
            level: n.level,
            tlp: n.tlp,
            embargo: n.embargo,
            claimed_at: t,
            logged_at: ctx.logged,
            leaf: ctx.leaf,
            acknowledged: None,
        },
    );
    Ok(())
}

/// `Acknowledged`: the recipient countersigns notice `notice`; the first
/// acknowledgement counts.
pub(super) fn acknowledged(
    state: &mut AuditState,
    ctx: &mut Ctx<'_>,
    notice: RecordRef,
    notice_leaf: &Hash,
    received_at: Millis,
) -> Result<(), IntegrityFailure> {
    let t = ctx.t;
    let signer = ctx.signer;
    let Some(n) = state.notices.get(&notice) else {
        return Err(ctx.bad_reference(notice, Referent::Notice));
    };
    if n.recipient != Counterparty::Party(signer) {
        return Err(ctx.fail(IntegrityKind::AckNotByRecipient { notice }));
    }
    if n.leaf != *notice_leaf {
        return Err(ctx.fail(IntegrityKind::AckLeafMismatch {
            expected: n.leaf,
            found: *notice_leaf,
        }));
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
    if let Some(days) = ctx.policy.ack_within_days
        && n.acknowledged.is_none()
        && t.saturating_sub(n.claimed_at) > u64::from(days) * DAY_MS
    {
        ctx.finding(
            FindingKind::AcknowledgedLate,
            Some(n.case),
            Some(signer),
            format!(
                "acknowledged {} days after the notice (policy: {days} days)",
                (t - n.claimed_at) / DAY_MS
            ),
        );
    }
    let n = state.notices.get_mut(&notice).expect("checked");
    n.acknowledged.get_or_insert((ctx.index, received_at));
    Ok(())
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
        if let Counterparty::Party(p) = n.recipient
            && n.acknowledged.is_none()
            && as_of.saturating_sub(n.claimed_at) > u64::from(days) * DAY_MS
        {
            out.push(Finding {
                kind: FindingKind::NeverAcknowledged,
                record: *r,
                case: Some(n.case),
                party: Some(p),
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
