//! Enforces the authority table ([`crate::authority`]; docs/AUDITING.md,
//! "Who may do what") before any rule changes the state.
//!
//! The references an event makes are checked by the subject rules. Here a
//! reference that does not resolve (no such embargo, notice, sealed field
//! or record) is let through, since there is nobody to compare the signer
//! with, and the subject rule then refuses it as a `BadReference`: an
//! integrity failure in a log as at a sequencer, never an accepted record.

use super::context::{Ctx, registered};
use super::state::{AuditState, CaseState};
use crate::authority::{Authority, authority};
use crate::event::Event;
use crate::finding::IntegrityFailure;
use crate::types::{CaseId, PartyClass, PartyId};

/// The case an event acts on, directly or through what it cites.
pub(super) fn case_of(state: &AuditState, event: &Event) -> Option<CaseId> {
    event.case().or(match event {
        Event::EmbargoAccepted { embargo }
        | Event::EmbargoRevised { embargo, .. }
        | Event::EmbargoTerminated { embargo, .. } => {
            state.embargoes.get(&embargo.record).map(|e| e.case)
        }
        Event::Acknowledged { notice, .. } => state.notices.get(&notice.record).map(|n| n.case),
        Event::Opening { record, field, .. } => state
            .sealed
            .get(&(record.record, *field))
            .and_then(|s| s.case),
        _ => None,
    })
}

fn member(c: &CaseState, p: PartyId) -> bool {
    c.members.contains(&p)
}

fn class(state: &AuditState, p: PartyId) -> Option<PartyClass> {
    state.parties.get(&p).map(|p| p.class)
}

/// Fails with `Unauthorized` unless the signer may sign `event`.
pub(super) fn check(
    state: &AuditState,
    ctx: &Ctx<'_>,
    event: &Event,
) -> Result<(), IntegrityFailure> {
    let rule = authority(event);
    let who = ctx.signer;
    let case = case_of(state, event).and_then(|id| state.cases.get(&id));
    let in_case = |f: &dyn Fn(&CaseState) -> bool| case.is_some_and(f);
    let allowed = match rule {
        // Checked where the key is known (keys::signer, keys::key_added,
        // keys::key_revoked).
        Authority::TheNewParty | Authority::SameParty => true,
        Authority::AnyParty => true,
        // An event naming an unknown case fails on the case, not here.
        Authority::Member => case.is_none() || in_case(&|c| member(c, who)),
        Authority::ReportReceiver => case.is_none() || in_case(&|c| c.receivers.contains(&who)),
        Authority::NoticeRecipient => match event {
            Event::Acknowledged { notice, .. } => state
                .notices
                .get(&notice.record)
                .is_none_or(|n| registered(&n.recipient) == Some(who)),
            _ => false,
        },
        Authority::EmbargoMember => case.is_none() || in_case(&|c| member(c, who)),
        Authority::EmbargoParty => match event {
            Event::EmbargoRevised { embargo, .. } => state
                .embargoes
                .get(&embargo.record)
                .is_none_or(|e| e.proposer == who || e.acceptors.contains(&who)),
            _ => false,
        },
        Authority::Vendor => {
            case.is_none()
                || (in_case(&|c| member(c, who)) && class(state, who) == Some(PartyClass::Vendor))
        }
        Authority::VendorOrCoordinator => {
            case.is_none()
                || (in_case(&|c| member(c, who))
                    && matches!(
                        class(state, who),
                        Some(PartyClass::Vendor | PartyClass::Coordinator)
                    ))
        }
        Authority::SealingParty => match event {
            Event::Opening { record, field, .. } => state
                .sealed
                .get(&(record.record, *field))
                .is_none_or(|s| s.party == who),
            _ => false,
        },
        Authority::RecordSigner => match event {
            Event::Annotation { record, .. } => state
                .citable
                .get(record.record.0 as usize)
                .is_none_or(|r| r.signer == who),
            _ => false,
        },
    };
    if allowed {
        Ok(())
    } else {
        Err(ctx.unauthorized(event.name(), rule))
    }
}
