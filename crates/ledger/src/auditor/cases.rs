//! Cases and their Vultron clock: opening, reports received and
//! acknowledged, identifiers, and the states V (vendor aware), F (fix
//! ready), D (fix released), P (public), X (exploit public), A (attacks
//! observed), each at the first claimed time the log shows.
//!
//! Integrity (docs/FORMAT.md §16 step 10): `CaseOpened` uses a new id (clear
//! summaries, products, identifiers and advisory URLs are held to §13's
//! limits with every text field, `super::form`). Findings (docs/AUDITING.md, "Findings"):
//! `out-of-causal-order` (F before V, D before F), `public-before-fix`, and
//! at publication `published-during-embargo` (see [`super::embargoes`]);
//! the deadline finding `desideratum-violated` checks the Vultron
//! desiderata ([`DESIDERATA`]) as of the report time.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::context::{Ctx, case, case_mut, check_counterparty, registered};
use super::embargoes;
use super::state::{AuditState, CaseClock, CaseIdentifier, CaseState};
use crate::event::Counterparty;
use crate::finding::{Finding, FindingKind, IntegrityFailure, IntegrityKind};
use crate::policy::AuditPolicy;
use crate::sealed::Sealed;
use crate::types::{CaseId, IdScheme, Millis, PartyClass};

/// Vultron desiderata checked per case: `(earlier, later)` — the first
/// should happen before the second (Householder & Spring, "A State-Based
/// Model for Multi-Party Coordinated Vulnerability Disclosure", §4).
pub const DESIDERATA: [(char, char); 12] = [
    ('V', 'P'),
    ('V', 'X'),
    ('V', 'A'),
    ('F', 'P'),
    ('F', 'X'),
    ('F', 'A'),
    ('D', 'P'),
    ('D', 'X'),
    ('D', 'A'),
    ('P', 'X'),
    ('P', 'A'),
    ('X', 'A'),
];

/// `CaseOpened`: a new case; a vendor opening it is aware (V).
pub(super) fn case_opened(
    state: &mut AuditState,
    ctx: &mut Ctx<'_>,
    signer_class: PartyClass,
    id: CaseId,
    summary: &Sealed<String>,
    product: &Sealed<String>,
) -> Result<(), IntegrityFailure> {
    if state.cases.contains_key(&id) {
        return Err(ctx.fail(IntegrityKind::DuplicateCase { case: id }));
    }
    let mut clock = CaseClock::default();
    if signer_class == PartyClass::Vendor {
        clock.vendor_aware = Some(ctx.t);
    }
    state.cases.insert(
        id,
        CaseState {
            opened: ctx.index,
            opener: ctx.signer,
            leaf: ctx.leaf,
            members: alloc::vec![ctx.signer],
            receivers: Vec::new(),
            opened_at: ctx.t,
            summary: summary.clone(),
            product: product.clone(),
            clock,
            advisory: None,
            identifiers: Vec::new(),
            notices: Vec::new(),
            embargoes: Vec::new(),
            regulatory: Vec::new(),
            sealed: Vec::new(),
            participants: Vec::new(),
        },
    );
    Ok(())
}

/// `ReportReceived`: the reporter must be valid, and a registered reporter
/// becomes a member; a vendor receiving it is aware (V).
pub(super) fn report_received(
    state: &mut AuditState,
    ctx: &mut Ctx<'_>,
    signer_class: PartyClass,
    id: CaseId,
    reporter: &Counterparty,
) -> Result<(), IntegrityFailure> {
    check_counterparty(state, ctx, reporter)?;
    vendor_aware(state, ctx, signer_class, id);
    let c = case_mut(state, &id);
    if !c.receivers.contains(&ctx.signer) {
        c.receivers.push(ctx.signer);
    }
    if let Some(p) = registered(reporter)
        && !c.members.contains(&p)
    {
        c.members.push(p);
    }
    Ok(())
}

/// `ReportReceived` and `ReportAcknowledged` signed by a vendor mark V.
pub(super) fn vendor_aware(
    state: &mut AuditState,
    ctx: &Ctx<'_>,
    signer_class: PartyClass,
    id: CaseId,
) {
    if signer_class == PartyClass::Vendor {
        case_mut(state, &id).clock.vendor_aware.get_or_insert(ctx.t);
    }
}

/// `IdentifierAssigned`: the identifier joins the case.
pub(super) fn identifier_assigned(
    state: &mut AuditState,
    ctx: &mut Ctx<'_>,
    id: CaseId,
    scheme: IdScheme,
    value: &Sealed<String>,
) -> Result<(), IntegrityFailure> {
    case_mut(state, &id).identifiers.push(CaseIdentifier {
        scheme,
        value: value.clone(),
        record: ctx.index,
    });
    Ok(())
}

/// `FixReady` (F): out of causal order before any vendor was aware.
pub(super) fn fix_ready(state: &mut AuditState, ctx: &mut Ctx<'_>, id: CaseId) {
    let t = ctx.t;
    let c = case_mut(state, &id);
    if c.clock.vendor_aware.is_none_or(|v| v > t) {
        let signer = ctx.signer;
        ctx.finding(
            FindingKind::OutOfCausalOrder,
            Some(id),
            Some(signer),
            "fix ready (F) before any vendor was aware (V)".into(),
        );
    }
    c.clock.fix_ready.get_or_insert(t);
}

/// `FixReleased` (D): out of causal order before a fix was ready.
pub(super) fn fix_released(state: &mut AuditState, ctx: &mut Ctx<'_>, id: CaseId) {
    let t = ctx.t;
    let c = case_mut(state, &id);
    if c.clock.fix_ready.is_none_or(|f| f > t) {
        let signer = ctx.signer;
        ctx.finding(
            FindingKind::OutOfCausalOrder,
            Some(id),
            Some(signer),
            "fix released (D) before a fix was ready (F)".into(),
        );
    }
    c.clock.fix_released.get_or_insert(t);
}

/// `PubliclyDisclosed` (P): the first publication is checked against the
/// case's embargoes and its fix, and records the advisory.
pub(super) fn publicly_disclosed(
    state: &mut AuditState,
    ctx: &mut Ctx<'_>,
    id: CaseId,
    url: &str,
) -> Result<(), IntegrityFailure> {
    let t = ctx.t;
    let c = case(state, ctx, &id)?;
    if c.clock.public.is_none() {
        embargoes::published_during_embargo(state, ctx, id, c);
        if c.clock.fix_ready.is_none_or(|f| f > t) {
            let signer = ctx.signer;
            ctx.finding(
                FindingKind::PublicBeforeFix,
                Some(id),
                Some(signer),
                "public (P) before a fix was ready (F)".into(),
            );
        }
    }
    let index = ctx.index;
    let c = case_mut(state, &id);
    if c.clock.public.is_none() {
        c.clock.public = Some(t);
        c.advisory = Some((index, String::from(url)));
    }
    Ok(())
}

/// `ExploitPublic` (X).
pub(super) fn exploit_public(state: &mut AuditState, ctx: &Ctx<'_>, id: CaseId) {
    case_mut(state, &id)
        .clock
        .exploit_public
        .get_or_insert(ctx.t);
}

/// `ExploitationObserved` (A).
pub(super) fn exploitation_observed(state: &mut AuditState, ctx: &Ctx<'_>, id: CaseId) {
    case_mut(state, &id).clock.attacks.get_or_insert(ctx.t);
}

fn clock_time(c: &CaseState, letter: char) -> Option<Millis> {
    match letter {
        'V' => c.clock.vendor_aware,
        'F' => c.clock.fix_ready,
        'D' => c.clock.fix_released,
        'P' => c.clock.public,
        'X' => c.clock.exploit_public,
        _ => c.clock.attacks,
    }
}

/// Deadline finding `desideratum-violated`: for each pair of
/// [`DESIDERATA`], the later state was reached without the earlier one
/// before it (ties count as in order).
pub(super) fn desiderata(policy: &AuditPolicy, id: &CaseId, c: &CaseState, out: &mut Vec<Finding>) {
    if !policy.desiderata {
        return;
    }
    for (a, b) in DESIDERATA {
        if let Some(tb) = clock_time(c, b)
            && clock_time(c, a).is_none_or(|ta| ta > tb)
        {
            out.push(Finding {
                kind: FindingKind::DesideratumViolated,
                record: c.opened,
                case: Some(*id),
                party: None,
                detail: format!("{a}≺{b} violated: {b} happened without {a} before it"),
            });
        }
    }
}
