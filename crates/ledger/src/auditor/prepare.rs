//! Record preparation and the integrity checks that need no rules:
//! docs/FORMAT.md §16 steps 1–8 (canonical record, index, hash link,
//! non-decreasing log time, canonical statement, claimed time within the
//! skew, `seen` within the log, signature), and the `logged-late` policy
//! finding (docs/AUDITING.md, "Findings"), which compares the same two times.
//!
//! Preparing (decoding, hashing, verifying the signature) is independent of
//! the state, so it runs on worker threads; the checks against the chain
//! position run in order, in [`check_record`].

use alloc::format;
use alloc::vec::Vec;

use forewarn_tlog::hash::Hash;

use super::state::AuditState;
use crate::encoding::EncodingError;
use crate::finding::{Finding, FindingKind, IntegrityFailure, IntegrityKind};
use crate::policy::AuditPolicy;
use crate::statement::{Record, Statement, leaf_hash};
use crate::types::{HOUR_MS, PartyId, RecordRef};
use crate::verify::{KeyCache, SignatureItem, StatementItem, VerifyMode, verify_items};

/// A record decoded and hashed, with its signature checked, ready to be
/// folded into the state. Preparing is independent of the state, so it can
/// run in parallel; folding is sequential.
#[derive(Debug)]
pub struct Prepared {
    pub(super) record: Result<Record, EncodingError>,
    pub(super) statement: Option<Result<Statement, EncodingError>>,
    pub(super) leaf: Hash,
    pub(super) signature_ok: bool,
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
            Prepared {
                record,
                statement,
                leaf: leaf_hash(bytes),
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

/// An integrity failure of record `index`, with the bytes as evidence.
pub(super) fn fail(index: u64, kind: IntegrityKind, evidence: &[u8]) -> IntegrityFailure {
    IntegrityFailure {
        index,
        kind,
        evidence: evidence.to_vec(),
    }
}

/// FORMAT.md §16 steps 1–8 for the next record: returns the decoded record
/// and statement if every check passes. Nothing is changed.
pub(super) fn check_record(
    state: &AuditState,
    max_skew_ms: u64,
    bytes: &[u8],
    p: Prepared,
) -> Result<(Record, Statement), IntegrityFailure> {
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
    if !p.signature_ok {
        return Err(fail(index, IntegrityKind::BadSignature, bytes));
    }
    Ok((record, statement))
}

/// `logged-late`: more than `max_log_delay_hours` between the claimed time
/// and the log's time.
pub(super) fn logged_late(
    policy: &AuditPolicy,
    record: &Record,
    statement: &Statement,
    signer: PartyId,
) -> Option<Finding> {
    let max = policy.max_log_delay_hours?;
    let delay = record.logged_at.saturating_sub(statement.claimed_at);
    (delay > u64::from(max) * HOUR_MS).then(|| Finding {
        kind: FindingKind::LoggedLate,
        record: RecordRef(record.index),
        case: statement.event.case(),
        party: Some(signer),
        detail: format!(
            "{} logged {} h after its claimed time (policy: {max} h)",
            statement.event.name(),
            delay / HOUR_MS
        ),
    })
}
