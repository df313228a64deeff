//! Parties and their keys: who may sign (docs/FORMAT.md §16 step 9) and
//! how the set of keys changes (step 10).
//!
//! - A `PartyRegistered` statement is signed by the key it registers, and
//!   that key belongs to no party yet; the party is named by the record.
//! - Every other statement is signed by a key of a registered party that
//!   no earlier record revoked: revocation is by **log position**, so a
//!   thief cannot outlive a revocation by backdating `claimed_at`. A key
//!   added by `KeyAdded` signs nothing claimed before that record.
//! - `KeyAdded` cites the signer's own party, adds a key no party holds,
//!   and carries the new key's proof of possession
//!   ([`crate::statement::possession_message`]), so nobody can claim a key
//!   it does not hold. `KeyRevoked` revokes a key of the signer's own
//!   party.
//! - `signed-by-revoked-key` (docs/AUDITING.md, "Findings"): a revocation
//!   whose `effective_at` is earlier than its own log time flags every
//!   record the key signed that was logged from `effective_at` on. History
//!   is not rewritten: those records keep their effect, and the finding
//!   says they are suspect. A key that such a flagged record added is
//!   revoked too (with its own records flagged, and so on down), since the
//!   thief may hold it — except the key that signs the revocation.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use ed25519_dalek::{Signature as DalekSignature, VerifyingKey};

use super::context::{Ctx, cite};
use super::state::{AuditState, KeyState, PartyState};
use crate::authority::Authority;
use crate::event::Event;
use crate::finding::{FindingKind, IntegrityFailure, IntegrityKind, Referent};
use crate::statement::{Statement, possession_message};
use crate::types::{Cite, PartyClass, PartyId, PublicKey, RecordRef, Signature, hex};

/// Who signed `statement`, the record at `index` (step 9): for a
/// registration the new party itself, otherwise the owner of a registered
/// key that no earlier record revoked. `fail` builds the failure for this
/// record.
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
            if let Some((revoked_by, _)) = k.revoked {
                return Err(fail(IntegrityKind::RevokedKey {
                    key: statement.signer.0,
                    revoked_by,
                }));
            }
            if k.added_by != k.party.registration() && statement.claimed_at < k.added_at {
                return Err(fail(IntegrityKind::KeyNotYetAdded {
                    key: statement.signer.0,
                    added_at: k.added_at,
                }));
            }
            Ok(k.party)
        }
    }
}

/// After a record is accepted: the record joins its key's uses.
pub(super) fn note_use(state: &mut AuditState, key: &PublicKey, index: RecordRef, logged: u64) {
    if let Some(k) = state.keys.get_mut(key) {
        k.uses.push((index, logged));
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
    state.parties.insert(
        ctx.signer,
        PartyState {
            name: String::from(name),
            class,
            registered_at: ctx.t,
            leaf: ctx.leaf,
            keys: alloc::vec![key],
        },
    );
    state.keys.insert(
        key,
        KeyState {
            party: ctx.signer,
            added_by: ctx.index,
            added_at: ctx.t,
            revoked: None,
            uses: Vec::new(),
        },
    );
    Ok(())
}

/// `KeyAdded`: another key for the signer's own party, with its proof of
/// possession.
pub(super) fn key_added(
    state: &mut AuditState,
    ctx: &mut Ctx<'_>,
    party: &Cite,
    key: PublicKey,
    possession: &Signature,
) -> Result<(), IntegrityFailure> {
    cite(state, ctx, party, Referent::Party)?;
    if party.party() != ctx.signer {
        return Err(ctx.unauthorized("KeyAdded", Authority::SameParty));
    }
    if let Some(k) = state.keys.get(&key) {
        return Err(ctx.fail(IntegrityKind::KeyInUse {
            key: key.0,
            party: k.party,
        }));
    }
    // The proof of possession is checked with verify_strict semantics, as
    // every statement signature is (docs/DESIGN.md §5).
    let proves = VerifyingKey::from_bytes(&key.0).is_ok_and(|vk| {
        vk.verify_strict(
            &possession_message(ctx.origin, party, &key),
            &DalekSignature::from_bytes(&possession.0),
        )
        .is_ok()
    });
    if !proves {
        return Err(ctx.fail(IntegrityKind::BadPossession { key: key.0 }));
    }
    state.keys.insert(
        key,
        KeyState {
            party: ctx.signer,
            added_by: ctx.index,
            added_at: ctx.t.max(ctx.logged.saturating_sub(ctx.skew)),
            revoked: None,
            uses: Vec::new(),
        },
    );
    if let Some(p) = state.parties.get_mut(&ctx.signer) {
        p.keys.push(key);
    }
    Ok(())
}

/// `KeyRevoked`: one of the signer's own keys, from this record on; the
/// records it signed that were logged from `effective_at` on are flagged.
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
        return Err(ctx.unauthorized("KeyRevoked", Authority::SameParty));
    }
    // A second revocation (of a key revoked by an earlier record cannot
    // sign it, but another key of the party can) may only bring the
    // effective time forward; the newly covered records are flagged.
    //
    // A key that the compromised key added by a record it signed in the
    // flagged span is revoked with it, and so on down: whoever held the
    // stolen key may have added it.
    let mut worklist = alloc::vec![(key, None::<PublicKey>)];
    while let Some((key, via)) = worklist.pop() {
        let Some(k) = state.keys.get(&key) else {
            continue;
        };
        let already = k.revoked.map(|(_, e)| e);
        if already.is_some_and(|e| e <= effective_at) {
            continue;
        }
        let suspect: Vec<RecordRef> = k
            .uses
            .iter()
            .filter(|(_, logged)| *logged >= effective_at && already.is_none_or(|e| *logged < e))
            .map(|(r, _)| *r)
            .collect();
        let owner = k.party;
        let revoked_by = k.revoked.map_or(ctx.index, |(r, _)| r);
        state.keys.get_mut(&key).expect("looked up above").revoked =
            Some((revoked_by, effective_at));
        let how = match via {
            None => alloc::string::String::new(),
            Some(parent) => format!(" with the key {} that added it", hex(&parent.0[..8])),
        };
        for r in suspect {
            ctx.findings.push(crate::finding::Finding {
                kind: FindingKind::SignedByRevokedKey,
                record: r,
                case: None,
                party: Some(owner),
                detail: format!(
                    "signed by key {}, which record {} revoked as compromised from {effective_at}{how}",
                    hex(&key.0[..8]),
                    ctx.index
                ),
            });
            let added_a_key = usize::try_from(r.0)
                .ok()
                .and_then(|i| state.citable.get(i))
                .is_some_and(|c| c.event == 1);
            // The key that signs this revocation is not among them: its
            // holder vouches for it by revoking with it (the usual rotation:
            // add K2 with K1, then revoke K1 with K2).
            if added_a_key
                && let Some((child, _)) = state.keys.iter().find(|(_, c)| c.added_by == r)
                && *child != ctx.key
            {
                worklist.push((*child, Some(key)));
            }
        }
    }
    Ok(())
}
