//! The event table: which subject's rule applies each event
//! (docs/FORMAT.md §16 step 10), plus what every event shares — a named
//! case must be open, annotations must point back, and whoever signs a
//! statement about a case takes part in it (the "who knew when" table,
//! docs/AUDITING.md, "Reports").
//!
//! Each rule validates before it changes anything, and the driver keeps
//! its findings only if the whole record is accepted.

use super::context::{Ctx, case};
use super::notices::Notice;
use super::state::AuditState;
use super::{cases, embargoes, keys, notices, regulatory, sealed};
use crate::event::{Counterparty, Event};
use crate::finding::{IntegrityFailure, Referent, TextField};
use crate::types::{PartyClass, RecordRef};

/// Validates `event` against the state, then applies it.
pub(super) fn apply_event(
    state: &mut AuditState,
    ctx: &mut Ctx<'_>,
    event: &Event,
) -> Result<(), IntegrityFailure> {
    // Checks shared by every event about a case.
    if let Some(id) = event.case()
        && !matches!(event, Event::CaseOpened { .. })
    {
        case(state, ctx, &id)?;
    }
    let signer_class = state
        .parties
        .get(&ctx.signer)
        .map(|p| p.class)
        .unwrap_or(PartyClass::Other);
    match event {
        Event::PartyRegistered { name, class, key } => {
            keys::party_registered(state, ctx, name, *class, *key)?
        }
        Event::KeyAdded { key } => keys::key_added(state, ctx, *key)?,
        Event::KeyRevoked { key, effective_at } => {
            keys::key_revoked(state, ctx, *key, *effective_at)?
        }
        Event::CaseOpened {
            case,
            summary,
            product,
        } => cases::case_opened(state, ctx, signer_class, *case, summary, product)?,
        Event::ReportReceived { case, reporter, .. } => {
            cases::report_received(state, ctx, signer_class, *case, reporter)?
        }
        Event::ReportAcknowledged { case } => cases::vendor_aware(state, ctx, signer_class, *case),
        Event::Notified {
            case,
            recipient,
            level,
            tlp,
            embargo,
            ..
        } => notices::notified(
            state,
            ctx,
            Notice {
                case: *case,
                recipient,
                level: *level,
                tlp: *tlp,
                embargo: *embargo,
            },
        )?,
        Event::Acknowledged {
            notice,
            notice_leaf,
            received_at,
        } => notices::acknowledged(state, ctx, *notice, notice_leaf, *received_at)?,
        Event::EmbargoProposed { case, ends_at } => {
            embargoes::proposed(state, ctx, *case, *ends_at)
        }
        Event::EmbargoAccepted { embargo } => embargoes::accepted(state, ctx, *embargo)?,
        Event::EmbargoRevised { embargo, ends_at } => {
            embargoes::revised(state, ctx, *embargo, *ends_at)?
        }
        Event::EmbargoTerminated { embargo, reason } => {
            embargoes::terminated(state, ctx, *embargo, *reason)?
        }
        Event::IdentifierAssigned {
            case,
            scheme,
            value,
        } => cases::identifier_assigned(state, ctx, *case, *scheme, value)?,
        Event::FixReady { case } => cases::fix_ready(state, ctx, *case),
        Event::FixReleased { case } => cases::fix_released(state, ctx, *case),
        Event::PubliclyDisclosed { case, url, .. } => {
            cases::publicly_disclosed(state, ctx, *case, url)?
        }
        Event::ExploitPublic { case } => cases::exploit_public(state, ctx, *case),
        Event::ExploitationObserved { case } => cases::exploitation_observed(state, ctx, *case),
        Event::RegulatoryReport {
            case,
            stage,
            authority,
        } => regulatory::report(state, ctx, *case, *stage, authority)?,
        Event::Opening {
            record,
            field,
            salt,
            value,
        } => sealed::opening(state, ctx, *record, *field, salt, value)?,
        Event::Annotation { record, text, .. } => annotation(ctx, *record, text)?,
    }
    participants(state, ctx, event);
    sealed::remember(state, ctx.index, event);
    Ok(())
}

/// `Annotation`: points to an earlier record; text within §13's limits.
fn annotation(ctx: &Ctx<'_>, record: RecordRef, text: &str) -> Result<(), IntegrityFailure> {
    if record >= ctx.index {
        return Err(ctx.bad_reference(record, Referent::EarlierRecord));
    }
    ctx.check_text(text, 4096, true, TextField::AnnotationText)
}

/// Who took part: the signer, for events about a case (directly or through
/// the embargo or notice they name), and a registered reporter.
fn participants(state: &mut AuditState, ctx: &Ctx<'_>, event: &Event) {
    let involved_case = event.case().or(match event {
        Event::EmbargoAccepted { embargo }
        | Event::EmbargoRevised { embargo, .. }
        | Event::EmbargoTerminated { embargo, .. } => state.embargoes.get(embargo).map(|e| e.case),
        Event::Acknowledged { notice, .. } => state.notices.get(notice).map(|n| n.case),
        _ => None,
    });
    let mut involved = alloc::vec![ctx.signer];
    if let Event::ReportReceived {
        reporter: Counterparty::Party(p),
        ..
    } = event
    {
        involved.push(*p);
    }
    if let Some(c) = involved_case.and_then(|c| state.cases.get_mut(&c)) {
        for p in involved {
            if !c.participants.iter().any(|(q, _, _)| *q == p) {
                c.participants.push((p, ctx.index, ctx.t));
            }
        }
    }
}
