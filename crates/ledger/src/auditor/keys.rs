//! Parties and their keys: who may sign (docs/FORMAT.md §16 step 9) and
//! how the set of keys changes (step 10).
//!
//! - A `PartyRegistered` statement is signed by the key it registers, and
//!   that key belongs to no party yet; the party is named by the record.
//! - Every other statement is signed by a key of a registered party that is
//!   not revoked at the statement's claimed time.
//! - `KeyAdded` adds a key no party holds; `KeyRevoked` revokes a key of the
//!   signer's own party, and a later revocation may only bring the effective
//!   time forward.
//! - `key-revoked-retroactively` (docs/AUDITING.md, "Findings"): a
//!   revocation effective at or before a statement the key already signed.

use alloc::format;
use alloc::string::String;

use super::context::Ctx;
use super::state::{AuditState, KeyState, PartyState};
use crate::event::Event;
use crate::finding::{FindingKind, IntegrityFailure, IntegrityKind, TextField};
use crate::statement::Statement;
use crate::types::{PartyClass, PartyId, PublicKey, RecordRef};

/// Who signed `statement`, the record at `index` (step 9): for a
/// registration the new party itself, otherwise the owner of a registered,
/// unrevoked key. `fail` builds the failure for this record.
pub(super) fn signer(
    state: &AuditState,
    index: RecordRef,
    statement: &Statement,
    fail: impl Fn(IntegrityKind) -> IntegrityFailure,
) -> Result<PartyId, IntegrityFailure> {
    match &statement.event {
        Event::PartyRegistered { key, .. } => {
            if *key != statement.signer {
                return Err(fail(IntegrityKind::NotSelfSigned));
            }
            if let Some(k) = state.keys.get(key) {
                return Err(fail(IntegrityKind::KeyInUse {
                    key: key.0,
                    party: k.party,
                }));
            }
            Ok(PartyId::from(index))
        }
        _ => {
            let Some(k) = state.keys.get(&statement.signer) else {
                return Err(fail(IntegrityKind::UnknownKey {
                    key: statement.signer.0,
                }));
            };
            if let Some(effective_at) = k.revoked_from
                && statement.claimed_at >= effective_at
            {
                return Err(fail(IntegrityKind::RevokedKey {
                    key: statement.signer.0,
                    effective_at,
                }));
            }
            Ok(k.party)
        }
    }
}

/// After a record is accepted: the latest claimed time its key signed.
pub(super) fn note_use(state: &mut AuditState, statement: &Statement) {
    if let Some(k) = state.keys.get_mut(&statement.signer) {
        k.last_used = k.last_used.max(statement.claimed_at);
    }
}

/// `PartyRegistered`: a new party with its first key.
pub(super) fn party_registered(
    state: &mut AuditState,
    ctx: &mut Ctx<'_>,
    name: &str,
    class: PartyClass,
    key: PublicKey,
) -> Result<(), IntegrityFailure> {
    ctx.check_text(name, 256, false, TextField::PartyName)?;
    state.parties.insert(
        ctx.signer,
        PartyState {
            name: String::from(name),
            class,
            registered_at: ctx.t,
            keys: alloc::vec![key],
        },
    );
    state.keys.insert(
        key,
        KeyState {
            party: ctx.signer,
            added_by: ctx.index,
            revoked_from: None,
            last_used: ctx.t,
        },
    );
    Ok(())
}

/// `KeyAdded`: another key for the signer's party.
pub(super) fn key_added(
    state: &mut AuditState,
    ctx: &mut Ctx<'_>,
    key: PublicKey,
) -> Result<(), IntegrityFailure> {
    if let Some(k) = state.keys.get(&key) {
        return Err(ctx.fail(IntegrityKind::KeyInUse {
            key: key.0,
            party: k.party,
        }));
    }
    state.keys.insert(
        key,
        KeyState {
            party: ctx.signer,
            added_by: ctx.index,
            revoked_from: None,
            last_used: ctx.t,
        },
    );
    if let Some(p) = state.parties.get_mut(&ctx.signer) {
        p.keys.push(key);
    }
    Ok(())
}

/// `KeyRevoked`: one of the signer's own keys, from `effective_at`.
pub(super) fn key_revoked(
    state: &mut AuditState,
    ctx: &mut Ctx<'_>,
    key: PublicKey,
    effective_at: u64,
) -> Result<(), IntegrityFailure> {
    let Some(k) = state.keys.get(&key) else {
        return Err(ctx.fail(IntegrityKind::UnknownKey { key: key.0 }));
    };
    if k.party != ctx.signer {
        return Err(ctx.fail(IntegrityKind::ForeignKey { key: key.0 }));
    }
    let last_used = k.last_used;
    let k = state.keys.get_mut(&key).expect("looked up above");
    // A later revocation may only bring the effective time forward.
    k.revoked_from = Some(k.revoked_from.map_or(effective_at, |e| e.min(effective_at)));
    if effective_at <= last_used {
        let signer = ctx.signer;
        ctx.finding(
            FindingKind::KeyRevokedRetroactively,
            None,
            Some(signer),
            format!(
                "key revoked from {effective_at}, but it signed a statement claimed at {last_used}: those statements are now suspect"
            ),
        );
    }
    Ok(())
}
