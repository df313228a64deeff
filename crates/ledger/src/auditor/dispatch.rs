//! The event table: which subject's rule applies each event
//! (docs/FORMAT.md §16 step 10), plus what every event shares — a named
//! case must be open (and a statement claimed before its opening is a
//! `before-case-opened` finding), the signer must have the authority for
//! the event ([`super::permits`]), annotations cite an earlier record, and
//! whoever signs a statement about a case takes part in it (the "who knew
//! when" table, docs/AUDITING.md, "Reports").
//!
//! Each rule validates before it changes anything, and the driver keeps
//! its findings only if the whole record is accepted.

use alloc::format;

use super::context::{Ctx, case, cite};
use super::notices::Notice;
use super::state::AuditState;
use super::{cases, embargoes, form, keys, notices, permits, regulatory, sealed};
use crate::event::{Counterparty, Event};
use crate::finding::{FindingKind, IntegrityFailure, Referent};
use crate::types::{Cite, HOUR_MS, PartyClass};

/// Validates `event` against the state, then applies it. An
/// `Unauthorized` failure comes before any change.
pub(super) fn apply_event(
    state: &mut AuditState,
    ctx: &mut Ctx<'_>,
    event: &Event,
) -> Result<(), IntegrityFailure> {
    // Checks shared by every event about a case: a case it names must be
    // open, and a statement about a case, directly or through the embargo,
    // notice or sealed field it cites, must not be claimed before it.
    let opening = matches!(event, Event::CaseOpened { .. });
    if let Some(id) = event.case()
        && !opening
    {
        case(state, ctx, &id)?;
    }
    if let Some(id) = permits::case_of(state, event).filter(|_| !opening)
        && let Some(opened_at) = state.cases.get(&id).map(|c| c.opened_at)
        && ctx.t < opened_at
    {
        let signer = ctx.signer;
        ctx.finding(
            FindingKind::BeforeCaseOpened,
            Some(id),
            Some(signer),
            format!(
                "{} claimed {} h before the case was opened",
                event.name(),
                (opened_at - ctx.t).div_ceil(HOUR_MS)
            ),
        );
    }
    form::check(state, ctx, event)?;
    permits::check(state, ctx, event)?;
    let signer_class = state
        .parties
        .get(&ctx.signer)
        .map(|p| p.class)
        .unwrap_or(PartyClass::Other);
    match event {
        Event::PartyRegistered { name, class, key } => {
            keys::party_registered(state, ctx, name, *class, *key)?
        }
        Event::KeyAdded {
            party,
            key,
            possession,
        } => keys::key_added(state, ctx, party, *key, possession)?,
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
                embargo: embargo.as_ref(),
            },
        )?,
        Event::Acknowledged {
            notice,
            received_at,
        } => notices::acknowledged(state, ctx, notice, *received_at)?,
        Event::EmbargoProposed { case, ends_at } => {
            embargoes::proposed(state, ctx, *case, *ends_at)?
        }
        Event::EmbargoAccepted { embargo } => embargoes::accepted(state, ctx, embargo)?,
        Event::EmbargoRevised { embargo, ends_at } => {
            embargoes::revised(state, ctx, embargo, *ends_at)?
        }
        Event::EmbargoTerminated { embargo, reason } => {
            embargoes::terminated(state, ctx, embargo, *reason)?
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
        Event::RegulatoryReport { case, stage, .. } => {
            regulatory::report(state, ctx, *case, *stage)
        }
        Event::Opening {
            record,
            field,
            salt,
            value,
        } => sealed::opening(state, ctx, record, *field, salt, value)?,
        Event::Annotation { record, .. } => annotation(state, ctx, record)?,
    }
    participants(state, ctx, event);
    sealed::remember(state, ctx, event);
    Ok(())
}

/// `Annotation`: cites an earlier record (its text was checked by
/// `super::form`).
fn annotation(state: &AuditState, ctx: &Ctx<'_>, record: &Cite) -> Result<(), IntegrityFailure> {
    cite(state, ctx, record, Referent::EarlierRecord).map(|_| ())
}

/// Who took part: the signer, for events about a case (directly or through
/// the embargo, notice or sealed field they cite), and a registered
/// reporter.
fn participants(state: &mut AuditState, ctx: &Ctx<'_>, event: &Event) {
    let involved_case = permits::case_of(state, event);
    let mut involved = alloc::vec![ctx.signer];
    if let Event::ReportReceived {
        reporter: Counterparty::Party(p),
        ..
    } = event
    {
        involved.push(p.party());
    }
    if let Some(c) = involved_case.and_then(|c| state.cases.get_mut(&c)) {
        for p in involved {
            if !c.participants.iter().any(|(q, _, _)| *q == p) {
                c.participants.push((p, ctx.index, ctx.t));
            }
        }
    }
}
