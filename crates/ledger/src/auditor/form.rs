//! The checks every statement passes before its signer's authority is
//! weighed (docs/FORMAT.md §16 step 10): each citation names an earlier
//! citable record by its leaf hash, each clear text field obeys its rules,
//! each time is plausible. A statement that breaks the authority table is
//! reported and given no effect, but it must still be well formed: a log
//! cannot carry junk (control characters, forged citations, times in the
//! year 9999) behind an `unauthorized` finding.
//!
//! This is the one place texts and times of events are checked; the
//! subject rules then check what each reference must point to.

use super::context::{Ctx, cite};
use super::state::AuditState;
use crate::event::{Counterparty, Event};
use crate::finding::{IntegrityFailure, IntegrityKind, Referent, TextField, TimeField};
use crate::sealed::Sealed;
use crate::types::Cite;

/// Fails if any citation, clear text or time of `event` is malformed.
pub(super) fn check(
    state: &AuditState,
    ctx: &Ctx<'_>,
    event: &Event,
) -> Result<(), IntegrityFailure> {
    // A citation of a record that exists must carry its leaf hash; one that
    // names no citable record is left to the subject rule, which says what
    // it had to point to.
    let cited = |c: &Cite| {
        let resolves = c.record < ctx.index
            && usize::try_from(c.record.0)
                .ok()
                .and_then(|i| state.citable.get(i))
                .is_some_and(|r| !matches!(r.event, 19 | 20));
        if resolves {
            cite(state, ctx, c, Referent::EarlierRecord).map(|_| ())
        } else {
            Ok(())
        }
    };
    let party = |c: &Counterparty| match c {
        Counterparty::Party(p) => cited(p),
        Counterparty::Unregistered {
            identity: Sealed::Clear(name),
            ..
        } => ctx.check_text(name, TextField::CounterpartyName),
        Counterparty::Unregistered { .. } => Ok(()),
    };
    let clear = |v: &Sealed<alloc::string::String>, field: TextField| match v {
        Sealed::Clear(text) => ctx.check_text(text, field),
        Sealed::Sealed(_) => Ok(()),
    };
    let end = |t: u64| {
        ctx.check_time(t, TimeField::EmbargoEnd)?;
        if t <= ctx.t {
            return Err(ctx.fail(IntegrityKind::ImplausibleTime {
                field: TimeField::EmbargoEnd,
                value: t,
            }));
        }
        Ok(())
    };
    match event {
        Event::PartyRegistered { name, .. } => ctx.check_text(name, TextField::PartyName),
        Event::KeyAdded { party, .. } => cited(party),
        Event::KeyRevoked { effective_at, .. } => {
            ctx.check_time(*effective_at, TimeField::Effective)
        }
        Event::CaseOpened {
            summary, product, ..
        } => {
            clear(summary, TextField::CaseText)?;
            clear(product, TextField::CaseText)
        }
        Event::ReportReceived { reporter, .. } => party(reporter),
        Event::Notified {
            recipient, embargo, ..
        } => {
            party(recipient)?;
            embargo.as_ref().map_or(Ok(()), cited)
        }
        Event::Acknowledged {
            notice,
            received_at,
        } => {
            ctx.check_time(*received_at, TimeField::Received)?;
            if *received_at > ctx.t {
                return Err(ctx.fail(IntegrityKind::ImplausibleTime {
                    field: TimeField::Received,
                    value: *received_at,
                }));
            }
            cited(notice)
        }
        Event::EmbargoProposed { ends_at, .. } => end(*ends_at),
        Event::EmbargoRevised { embargo, ends_at } => {
            end(*ends_at)?;
            cited(embargo)
        }
        Event::EmbargoAccepted { embargo } | Event::EmbargoTerminated { embargo, .. } => {
            cited(embargo)
        }
        Event::IdentifierAssigned { value, .. } => clear(value, TextField::Identifier),
        Event::PubliclyDisclosed { url, .. } => ctx.check_text(url, TextField::AdvisoryUrl),
        Event::RegulatoryReport { authority, .. } => {
            ctx.check_text(authority, TextField::Authority)
        }
        Event::Opening { record, .. } => cited(record),
        Event::Annotation { record, text, .. } => {
            cited(record)?;
            ctx.check_text(text, TextField::AnnotationText)
        }
        Event::ReportAcknowledged { .. }
        | Event::FixReady { .. }
        | Event::FixReleased { .. }
        | Event::ExploitPublic { .. }
        | Event::ExploitationObserved { .. } => Ok(()),
    }
}
