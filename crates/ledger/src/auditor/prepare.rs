//! Record preparation and the integrity checks that need no rules:
//! docs/FORMAT.md §16 steps 1–8 (canonical record, index, hash link,
//! non-decreasing and plausible log time, canonical statement for this
//! log's origin and never logged before, plausible claimed time within the
//! skew, `seen` within the log and equal to the log's root at that size,
//! signature), and the facts behind the `logged-late` policy finding
//! (docs/AUDITING.md, "Findings"), which compares the same two times.
//!
//! Preparing (decoding, hashing, verifying the signature) is independent of
//! the state, so it runs on worker threads; the checks against the chain
//! position run in order, in [`check_record`].

use alloc::vec::Vec;

use forewarn_tlog::compact::CompactRange;
use forewarn_tlog::hash::Hash;
use sha2::{Digest, Sha256};

use super::AuditConfig;
use super::recent::SEEN_WINDOW;
use super::state::{AuditState, LATE_FLOOR_MS, LateRecord, duplicate_key};
use crate::encoding::EncodingError;
use crate::finding::{IntegrityFailure, IntegrityKind, TextField, TimeField};
use crate::statement::{Record, SeenCheckpoint, Statement, leaf_hash};
use crate::types::{PLAUSIBLE_TIMES, PartyId, RecordRef};
use crate::verify::{KeyCache, SignatureItem, StatementItem, VerifyMode, verify_items};

/// A record decoded and hashed, with its signature checked, ready to be
/// folded into the state. Preparing is independent of the state, so it can
/// run in parallel; folding is sequential.
#[derive(Debug)]
pub struct Prepared {
    pub(super) record: Result<Record, EncodingError>,
    pub(super) statement: Option<Result<Statement, EncodingError>>,
    pub(super) leaf: Hash,
    pub(super) statement_hash: [u8; 32],
    pub(super) signature_ok: bool,
}

impl Prepared {
    /// The decoded record, if it decoded.
    pub fn record(&self) -> Option<&Record> {
        self.record.as_ref().ok()
    }

    /// The decoded statement, if the record and its statement decoded.
    pub fn statement(&self) -> Option<&Statement> {
        self.statement.as_ref()?.as_ref().ok()
    }

    /// The record's leaf hash (RFC 9162 §2.1.1: SHA-256 of 0x00 and its
    /// bytes).
    pub fn leaf(&self) -> &Hash {
        &self.leaf
    }

    /// The SHA-256 of the statement's bytes ([`statement_hash`]).
    pub fn statement_hash(&self) -> &[u8; 32] {
        &self.statement_hash
    }

    /// Whether the statement's signature verified.
    pub fn signature_ok(&self) -> bool {
        self.signature_ok
    }
}

/// Decodes, hashes and verifies a slice of records (one thread's share).
pub fn prepare_records(records: &[&[u8]], mode: VerifyMode, cache: &mut KeyCache) -> Vec<Prepared> {
    let mut prepared: Vec<Prepared> = records
        .iter()
        .map(|bytes| {
            let record = Record::from_bytes(bytes);
            let statement = record
                .as_ref()
                .ok()
                .map(|r| Statement::from_bytes(&r.statement));
            let statement_hash = record
                .as_ref()
                .map_or([0; 32], |r| statement_hash(&r.statement));
            Prepared {
                record,
                statement,
                leaf: leaf_hash(bytes),
                statement_hash,
                signature_ok: false,
            }
        })
        .collect();
    let mut items = Vec::with_capacity(records.len());
    let mut owners = Vec::with_capacity(records.len());
    for (i, p) in prepared.iter().enumerate() {
        if let (Ok(r), Some(Ok(s))) = (&p.record, &p.statement) {
            items.push(SignatureItem::statement(
                s.signer.0,
                &r.statement,
                r.signature,
            ));
            owners.push(i);
        }
    }
    let verdicts = verify_items(&items, mode, cache);
    drop(items);
    for (i, ok) in owners.into_iter().zip(verdicts) {
        prepared[i].signature_ok = ok;
    }
    prepared
}

/// SHA-256 of a statement's bytes: how duplicates are recognised.
pub fn statement_hash(statement: &[u8]) -> [u8; 32] {
    Sha256::digest(statement).into()
}

/// An integrity failure of record `index`, with the bytes as evidence.
pub(super) fn fail(index: u64, kind: IntegrityKind, evidence: &[u8]) -> IntegrityFailure {
    IntegrityFailure {
        index,
        kind,
        evidence: evidence.to_vec(),
    }
}

/// FORMAT.md §16 steps 1–8 for the next record: returns the decoded record
/// and statement if every check passes. Nothing is changed but `memo`, the
/// last root computed for a `seen` size.
pub(super) fn check_record(
    state: &AuditState,
    config: &AuditConfig,
    bytes: &[u8],
    p: Prepared,
    tree: &CompactRange,
    memo: &mut Option<(u64, Hash)>,
) -> Result<(Record, Statement), IntegrityFailure> {
    let max_skew_ms = config.max_skew_ms;
    let index = state.size;
    let record = p
        .record
        .map_err(|e| fail(index, IntegrityKind::RecordEncoding(e), bytes))?;
    if record.index != index {
        return Err(fail(
            index,
            IntegrityKind::IndexMismatch {
                expected: index,
                found: record.index,
            },
            bytes,
        ));
    }
    if record.prev != state.prev_leaf {
        return Err(fail(
            index,
            IntegrityKind::PrevMismatch {
                expected: state.prev_leaf,
                found: record.prev,
            },
            bytes,
        ));
    }
    if !PLAUSIBLE_TIMES.contains(&record.logged_at) {
        return Err(fail(
            index,
            IntegrityKind::ImplausibleTime {
                field: TimeField::Logged,
                value: record.logged_at,
            },
            bytes,
        ));
    }
    if record.logged_at < state.last_logged_at {
        return Err(fail(
            index,
            IntegrityKind::LoggedAtDecreased {
                previous: state.last_logged_at,
                found: record.logged_at,
            },
            bytes,
        ));
    }
    let statement = p
        .statement
        .expect("prepared with the record")
        .map_err(|e| fail(index, IntegrityKind::StatementEncoding(e), bytes))?;
    let origin = state.origin.as_deref().or(config.origin.as_deref());
    match origin {
        Some(o) if o != statement.origin => {
            return Err(fail(
                index,
                IntegrityKind::WrongOrigin {
                    expected: o.into(),
                    found: statement.origin.clone(),
                },
                bytes,
            ));
        }
        None if !TextField::Origin.accepts(&statement.origin) => {
            return Err(fail(
                index,
                IntegrityKind::InvalidField {
                    what: TextField::Origin,
                },
                bytes,
            ));
        }
        _ => {}
    }
    if let Some(first) = state.statements.get(&duplicate_key(&p.statement_hash)) {
        return Err(fail(
            index,
            IntegrityKind::DuplicateStatement { first: *first },
            bytes,
        ));
    }
    if !PLAUSIBLE_TIMES.contains(&statement.claimed_at) {
        return Err(fail(
            index,
            IntegrityKind::ImplausibleTime {
                field: TimeField::Claimed,
                value: statement.claimed_at,
            },
            bytes,
        ));
    }
    if statement.claimed_at > record.logged_at.saturating_add(max_skew_ms) {
        return Err(fail(
            index,
            IntegrityKind::ClaimedInFuture {
                claimed: statement.claimed_at,
                logged: record.logged_at,
                skew: max_skew_ms,
            },
            bytes,
        ));
    }
    if let Some(seen) = statement.seen
        && seen.size > index
    {
        return Err(fail(
            index,
            IntegrityKind::SeenBeyondLog {
                seen: seen.size,
                size: index,
            },
            bytes,
        ));
    }
    if let Some(seen) = statement.seen {
        check_seen(state, tree, seen, memo).map_err(|kind| fail(index, kind, bytes))?;
    }
    if !p.signature_ok {
        return Err(fail(index, IntegrityKind::BadSignature, bytes));
    }
    Ok((record, statement))
}

/// §16 step 7: the root a signer says it saw is the log's root at that
/// size, which the auditor can compute for sizes in its recent window; a
/// size more than [`SEEN_WINDOW`] records behind the log is refused.
fn check_seen(
    state: &AuditState,
    tree: &CompactRange,
    seen: SeenCheckpoint,
    memo: &mut Option<(u64, Hash)>,
) -> Result<(), IntegrityKind> {
    // The recent tree may hold a few more leaves than the window; the rule
    // is the window, so that every log of a given size refuses the same sizes.
    let oldest = state
        .recent
        .oldest()
        .max(tree.size().saturating_sub(SEEN_WINDOW));
    if seen.size < oldest {
        return Err(IntegrityKind::SeenTooOld {
            seen: seen.size,
            oldest,
        });
    }
    let actual = match *memo {
        Some((size, root)) if size == seen.size => root,
        _ => {
            let root = if seen.size == tree.size() {
                Some(tree.root())
            } else {
                state.recent.root_at(seen.size)
            };
            let Some(root) = root else {
                return Err(IntegrityKind::SeenTooOld {
                    seen: seen.size,
                    oldest: state.recent.oldest(),
                });
            };
            *memo = Some((seen.size, root));
            root
        }
    };
    if actual != seen.root {
        return Err(IntegrityKind::SeenRootMismatch {
            size: seen.size,
            claimed: seen.root,
            actual,
        });
    }
    Ok(())
}

/// The facts behind `logged-late`, if the record was logged more than
/// [`LATE_FLOOR_MS`] after its claimed time; the policy's threshold is
/// applied at report time (`super::evaluate`).
pub(super) fn late_record(
    record: &Record,
    statement: &Statement,
    signer: PartyId,
) -> Option<LateRecord> {
    let delay = record.logged_at.saturating_sub(statement.claimed_at);
    (delay > LATE_FLOOR_MS).then(|| LateRecord {
        record: RecordRef(record.index),
        event: statement.event.tag() as u8,
        case: statement.event.case(),
        party: signer,
        delay,
    })
}
