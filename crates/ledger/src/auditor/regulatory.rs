//! Regulatory clocks: EU Cyber Resilience Act Art. 14 reports, checked when
//! the policy sets `cra` (docs/AUDITING.md, "Findings" and "Policies").
//!
//! - Art. 14(2)(a): an early warning within 24 h of observed exploitation
//!   (`cra-early-warning-late`);
//! - Art. 14(2)(b): a notification within 72 h of it
//!   (`cra-notification-late`);
//! - Art. 14(2)(c): for an actively exploited flaw, a final report within
//!   14 days of the fix's release (`cra-final-report-late`).
//!
//! Each filing is kept with its stage's clock as the log showed it when it
//! was filed; whether the first one was late is judged under the policy at
//! report time ([`late_reports`]), and a report still missing past its
//! limit is a deadline finding, as of the report time. (The authority's
//! name is checked with every text field, `super::form`.)

use alloc::format;
use alloc::vec::Vec;

use super::context::{Ctx, case_mut};
use super::state::{AuditState, CaseState, RegulatoryFiling};
use crate::finding::{Finding, FindingKind};
use crate::policy::AuditPolicy;
use crate::types::{CaseId, DAY_MS, HOUR_MS, Millis, RegulatoryStage};

/// Each stage's clock for case `c`: when it started (if it has), its
/// limit, and the finding for missing it.
fn clocks(c: &CaseState) -> [(Option<Millis>, u64, RegulatoryStage, FindingKind); 3] {
    [
        (
            c.clock.attacks,
            24 * HOUR_MS,
            RegulatoryStage::EarlyWarning,
            FindingKind::CraEarlyWarningLate,
        ),
        (
            c.clock.attacks,
            72 * HOUR_MS,
            RegulatoryStage::Notification,
            FindingKind::CraNotificationLate,
        ),
        (
            // Art. 14(2)(c) applies to actively exploited flaws.
            c.clock.fix_released.filter(|_| c.clock.attacks.is_some()),
            14 * DAY_MS,
            RegulatoryStage::FinalReport,
            FindingKind::CraFinalReportLate,
        ),
    ]
}

/// `RegulatoryReport`: kept with the stage's clock as the log showed it
/// when filed; whether it was late is judged by [`late_reports`].
pub(super) fn report(
    state: &mut AuditState,
    ctx: &mut Ctx<'_>,
    id: CaseId,
    stage: RegulatoryStage,
) {
    let c = case_mut(state, &id);
    let (clock_started, ..) = clocks(c)
        .into_iter()
        .find(|(_, _, s, _)| *s == stage)
        .expect("every stage has a clock");
    c.regulatory.push(RegulatoryFiling {
        stage,
        at: ctx.t,
        record: ctx.index,
        by: ctx.signer,
        clock_started,
    });
}

/// Policy findings: the first report of a stage filed after its limit.
pub(super) fn late_reports(
    policy: &AuditPolicy,
    id: &CaseId,
    c: &CaseState,
    out: &mut Vec<Finding>,
) {
    if !policy.cra {
        return;
    }
    for (_, limit, stage, kind) in clocks(c) {
        let Some(first) = c.regulatory.iter().find(|f| f.stage == stage) else {
            continue;
        };
        if let Some(s) = first.clock_started
            && first.at.saturating_sub(s) > limit
        {
            out.push(Finding {
                kind,
                record: first.record,
                case: Some(*id),
                party: Some(first.by),
                detail: format!(
                    "filed {} h after the clock started (limit {} h)",
                    (first.at - s) / HOUR_MS,
                    limit / HOUR_MS
                ),
            });
        }
    }
}

/// Deadline findings: a stage whose clock started but has no report
/// `limit` later, as of `as_of`.
pub(super) fn missing_reports(
    policy: &AuditPolicy,
    as_of: Millis,
    id: &CaseId,
    c: &CaseState,
    out: &mut Vec<Finding>,
) {
    if !policy.cra {
        return;
    }
    let has = |s: RegulatoryStage| c.regulatory.iter().any(|f| f.stage == s);
    for (start, limit, stage, kind) in clocks(c) {
        if let Some(s) = start
            && !has(stage)
            && as_of.saturating_sub(s) > limit
        {
            out.push(Finding {
                kind,
                record: c.opened,
                case: Some(*id),
                party: Some(c.opener),
                detail: format!(
                    "no {stage:?} report {} h after the clock started (limit {} h)",
                    (as_of - s) / HOUR_MS,
                    limit / HOUR_MS
                ),
            });
        }
    }
}
