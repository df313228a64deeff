//! The streaming auditor: one state machine, fed records in order, that
//! checks every hash, link, signature and rule (DESIGN.md §4) and folds the
//! records into the projection state that reports are read from.
//!
//! Memory is the compact range of the Merkle tree (O(log n) hashes) plus
//! the projection state (parties, keys, cases, notices, embargoes, sealed
//! fields, findings) — never the records themselves. The state can be saved
//! and resumed, so a watchdog audits only what is new.
//!
//! Where the records come from (memory, a store, tiles, a file) is the
//! caller's business; so is the clock: time-dependent findings ("never
//! acknowledged") are evaluated at a time the caller passes in.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use bincode::{Decode, Encode};
use forewarn_tlog::compact::CompactRange;
use forewarn_tlog::hash::Hash;
use forewarn_tlog::note::VerifierKey;

use crate::encoding::{self, EncodingError};
use crate::event::{Counterparty, EVENT_KINDS, Event};
use crate::finding::{Finding, FindingKind, IntegrityFailure, IntegrityKind};
use crate::policy::Policy;
use crate::sealed::{Commitment, Sealed};
use crate::statement::{Record, Statement, leaf_hash};
use crate::types::*;
use crate::verify::{KeyCache, SignatureItem, StatementItem, VerifyMode, verify_items};

/// Default allowance for a statement claimed after the log's time (clocks
/// differ): five minutes.
pub const DEFAULT_MAX_SKEW_MS: u64 = 5 * 60 * 1000;

/// Saved-state format version.
const STATE_VERSION: u8 = 1;

/// Auditor settings. Not part of the saved state: a watchdog may audit the
/// same log under different policies.
#[derive(Clone, Debug)]
pub struct AuditConfig {
    /// Thresholds for policy findings.
    pub policy: Policy,
    /// Largest allowed `claimed_at - logged_at` (ms).
    pub max_skew_ms: u64,
    /// How signatures are verified (same verdicts either way; exact batches by default).
    pub verify_mode: VerifyMode,
    /// Threads for [`Auditor::push_batch`] (1 = no threads).
    pub threads: usize,
}

impl Default for AuditConfig {
    fn default() -> AuditConfig {
        AuditConfig {
            policy: Policy::default(),
            max_skew_ms: DEFAULT_MAX_SKEW_MS,
            verify_mode: VerifyMode::Batch,
            threads: 1,
        }
    }
}

/// A registered party.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct PartyState {
    /// Display name.
    pub name: String,
    /// Class.
    pub class: PartyClass,
    /// Claimed time of registration.
    pub registered_at: Millis,
    /// Every key ever added (revoked ones included).
    pub keys: Vec<PublicKey>,
}

/// A key's life.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct KeyState {
    /// Owner.
    pub party: PartyId,
    /// Record that added it.
    pub added_by: RecordRef,
    /// Revocation effective time, if revoked.
    pub revoked_from: Option<Millis>,
    /// Latest claimed time of a statement it signed.
    pub last_used: Millis,
}

/// The first time each Vultron case state was reached (claimed times).
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct CaseClock {
    /// V: a vendor is aware (vendor opened the case, received or acknowledged the report).
    pub vendor_aware: Option<Millis>,
    /// F: fix ready.
    pub fix_ready: Option<Millis>,
    /// D: fix released/deployed.
    pub fix_released: Option<Millis>,
    /// P: public.
    pub public: Option<Millis>,
    /// X: exploit public.
    pub exploit_public: Option<Millis>,
    /// A: attacks observed.
    pub attacks: Option<Millis>,
}

/// An identifier of a case.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct CaseIdentifier {
    /// Scheme.
    pub scheme: IdScheme,
    /// Value (clear or sealed).
    pub value: Sealed<String>,
    /// Record that assigned it.
    pub record: RecordRef,
}

/// Everything the log says about one case.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct CaseState {
    /// The `CaseOpened` record.
    pub opened: RecordRef,
    /// Who opened it.
    pub opener: PartyId,
    /// Claimed opening time.
    pub opened_at: Millis,
    /// Summary (clear or sealed).
    pub summary: Sealed<String>,
    /// Product (clear or sealed).
    pub product: Sealed<String>,
    /// Vultron case states.
    pub clock: CaseClock,
    /// The `PubliclyDisclosed` record and advisory URL, once public.
    pub advisory: Option<(RecordRef, String)>,
    /// Identifiers.
    pub identifiers: Vec<CaseIdentifier>,
    /// `Notified` records, in log order.
    pub notices: Vec<RecordRef>,
    /// `EmbargoProposed` records, in log order.
    pub embargoes: Vec<RecordRef>,
    /// Regulatory reports: stage and claimed time.
    pub regulatory: Vec<(RegulatoryStage, Millis)>,
    /// Sealed fields of the case's records: (record, field).
    pub sealed: Vec<(RecordRef, u8)>,
    /// Parties that signed statements about the case: first record and
    /// claimed time.
    pub participants: Vec<(PartyId, RecordRef, Millis)>,
}

/// One notice.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct NoticeState {
    /// The case.
    pub case: CaseId,
    /// Who sent it.
    pub sender: PartyId,
    /// Who received it.
    pub recipient: Counterparty,
    /// Information level.
    pub level: InfoLevel,
    /// TLP label.
    pub tlp: Tlp,
    /// Embargo it was sent under.
    pub embargo: Option<RecordRef>,
    /// Claimed time.
    pub claimed_at: Millis,
    /// Log time.
    pub logged_at: Millis,
    /// Leaf hash of the `Notified` record.
    pub leaf: [u8; 32],
    /// First acknowledgement: (record, received_at).
    pub acknowledged: Option<(RecordRef, Millis)>,
}

/// One embargo.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct EmbargoState {
    /// The case.
    pub case: CaseId,
    /// Proposer.
    pub proposer: PartyId,
    /// Claimed proposal time.
    pub proposed_at: Millis,
    /// Current end.
    pub ends_at: Millis,
    /// First acceptance (claimed time), making it active.
    pub accepted_at: Option<Millis>,
    /// Parties that accepted.
    pub acceptors: Vec<PartyId>,
    /// Revisions that moved the end later.
    pub extensions: u32,
    /// Termination: claimed time and reason.
    pub terminated: Option<(Millis, TerminationReason)>,
}

impl EmbargoState {
    /// Active at `t`: accepted, not terminated, not past its end.
    pub fn active_at(&self, t: Millis) -> bool {
        self.accepted_at.is_some_and(|a| a <= t)
            && self.terminated.is_none_or(|(x, _)| x > t)
            && self.ends_at > t
    }
}

/// One sealed field.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct SealedState {
    /// The commitment.
    pub commitment: Commitment,
    /// The case, if the record belongs to one.
    pub case: Option<CaseId>,
    /// Opening record and the revealed bytes.
    pub opened: Option<(RecordRef, Vec<u8>)>,
}

/// The checkpoint the auditor last verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct TrustedCheckpoint {
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: [u8; 32],
}

/// The auditor's complete state: chain position plus projections. Saved
/// with [`Auditor::save`], restored with [`Auditor::resume`].
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct AuditState {
    /// [`STATE_VERSION`].
    pub version: u8,
    /// Records audited.
    pub size: u64,
    /// Leaf hash of the last record (zero before the first).
    pub prev_leaf: [u8; 32],
    /// `logged_at` of the last record.
    pub last_logged_at: Millis,
    /// Log time of the first record, if any.
    pub first_logged_at: Option<Millis>,
    /// Compact range of the Merkle tree (forewarn-tlog encoding).
    pub tree: Vec<u8>,
    /// Last verified checkpoint.
    pub checkpoint: Option<TrustedCheckpoint>,
    /// Parties by registration record.
    pub parties: BTreeMap<PartyId, PartyState>,
    /// Keys.
    pub keys: BTreeMap<PublicKey, KeyState>,
    /// Cases.
    pub cases: BTreeMap<CaseId, CaseState>,
    /// Notices by record.
    pub notices: BTreeMap<RecordRef, NoticeState>,
    /// Embargoes by proposal record.
    pub embargoes: BTreeMap<RecordRef, EmbargoState>,
    /// Sealed fields by (record, field).
    pub sealed: BTreeMap<(RecordRef, u8), SealedState>,
    /// Records per event tag.
    pub kind_counts: Vec<u64>,
    /// Findings raised while streaming (deadline findings come from
    /// [`Auditor::findings_as_of`]).
    pub findings: Vec<Finding>,
}

impl Default for AuditState {
    fn default() -> AuditState {
        AuditState {
            version: STATE_VERSION,
            size: 0,
            prev_leaf: [0; 32],
            last_logged_at: 0,
            first_logged_at: None,
            tree: Vec::new(),
            checkpoint: None,
            parties: BTreeMap::new(),
            keys: BTreeMap::new(),
            cases: BTreeMap::new(),
            notices: BTreeMap::new(),
            embargoes: BTreeMap::new(),
            sealed: BTreeMap::new(),
            kind_counts: alloc::vec![0; EVENT_KINDS],
            findings: Vec::new(),
        }
    }
}

/// A record decoded and hashed, with its signature checked, ready to be
/// folded into the state. Preparing is independent of the state, so it can
/// run in parallel; folding is sequential.
#[derive(Debug)]
pub struct Prepared {
    record: Result<Record, EncodingError>,
    statement: Option<Result<Statement, EncodingError>>,
    leaf: Hash,
    signature_ok: bool,
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

/// The streaming auditor. Cloning it forks the audit (tests use this to
/// try many continuations of one prefix).
#[derive(Debug, Clone)]
pub struct Auditor {
    config: AuditConfig,
    state: AuditState,
    tree: CompactRange,
    caches: Vec<KeyCache>,
    failed: Option<IntegrityFailure>,
}

fn fail(index: u64, kind: IntegrityKind, evidence: &[u8]) -> IntegrityFailure {
    IntegrityFailure {
        index,
        kind,
        evidence: evidence.to_vec(),
    }
}

fn valid_text(s: &str, max: usize, allow_newlines: bool) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.chars()
            .all(|c| !c.is_control() || (allow_newlines && c == '\n'))
}

impl Auditor {
    /// An auditor for a log from its first record.
    pub fn new(config: AuditConfig) -> Auditor {
        let threads = config.threads.max(1);
        Auditor {
            config,
            state: AuditState::default(),
            tree: CompactRange::new(),
            caches: (0..threads).map(|_| KeyCache::new()).collect(),
            failed: None,
        }
    }

    /// Resumes from [`Auditor::save`] output.
    pub fn resume(config: AuditConfig, saved: &[u8]) -> Result<Auditor, EncodingError> {
        let state: AuditState = encoding::decode_versioned_unbounded(saved, STATE_VERSION)?;
        let tree = CompactRange::from_bytes(&state.tree).map_err(|_| EncodingError::Malformed {
            detail: "saved compact range is invalid".into(),
        })?;
        if state.kind_counts.len() != EVENT_KINDS {
            return Err(EncodingError::Malformed {
                detail: format!(
                    "saved state counts {} event kinds, this build has {EVENT_KINDS}",
                    state.kind_counts.len()
                ),
            });
        }
        if tree.size() != state.size {
            return Err(EncodingError::Malformed {
                detail: format!(
                    "saved compact range has size {} but the state has {}",
                    tree.size(),
                    state.size
                ),
            });
        }
        let mut a = Auditor::new(config);
        a.state = state;
        a.tree = tree;
        Ok(a)
    }

    /// Serializes the state for [`Auditor::resume`].
    pub fn save(&self) -> Vec<u8> {
        let mut state = self.state.clone();
        state.tree = self.tree.to_bytes();
        encoding::encode_unbounded(&state)
    }

    /// The projection state.
    pub fn state(&self) -> &AuditState {
        &self.state
    }

    /// The configuration.
    pub fn config(&self) -> &AuditConfig {
        &self.config
    }

    /// Records audited so far.
    pub fn size(&self) -> u64 {
        self.state.size
    }

    /// Bytes of the Merkle part of the state (the compact range: one hash
    /// per one bit of the size, so O(log n)).
    pub fn tree_state_len(&self) -> usize {
        self.tree.to_bytes().len()
    }

    /// Merkle root of the records audited so far (RFC 9162 §2.1.1).
    pub fn root(&self) -> Hash {
        self.tree.root()
    }

    /// The first integrity failure, if any. After one, the auditor refuses
    /// further input: nothing past a broken record can be trusted.
    pub fn failure(&self) -> Option<&IntegrityFailure> {
        self.failed.as_ref()
    }

    /// Audits the next record.
    pub fn push(&mut self, record: &[u8]) -> Result<(), IntegrityFailure> {
        if let Some(f) = &self.failed {
            return Err(f.clone());
        }
        let mode = self.config.verify_mode;
        let prepared = prepare_records(&[record], mode, &mut self.caches[0])
            .pop()
            .expect("one record in, one out");
        self.apply(record, prepared)
    }

    /// Audits many records: they are prepared (decoded, hashed, their
    /// signatures verified) on `config.threads` worker threads in
    /// sub-chunks, while this thread folds the prepared sub-chunks in order
    /// as they arrive. Verdicts are exactly those of [`Auditor::push`] one
    /// by one. Exact batch verification pays a fixed cost per batch, so
    /// pass at least a few thousand records per thread.
    #[cfg(feature = "std")]
    pub fn push_batch(&mut self, records: &[&[u8]]) -> Result<(), IntegrityFailure> {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        if let Some(f) = &self.failed {
            return Err(f.clone());
        }
        let mode = self.config.verify_mode;
        let workers = self.caches.len();
        if workers <= 1 || records.len() < 64 {
            let prepared = prepare_records(records, mode, &mut self.caches[0]);
            for (bytes, p) in records.iter().zip(prepared) {
                self.apply(bytes, p)?;
            }
            return Ok(());
        }
        // Two sub-chunks per worker (so folding overlaps preparing), each at
        // least MIN_SUB_CHUNK records (batches amortize their fixed cost).
        const MIN_SUB_CHUNK: usize = 2048;
        let sub = records
            .len()
            .div_ceil(2 * workers)
            .max(MIN_SUB_CHUNK.min(records.len().div_ceil(workers)));
        let chunks: Vec<&[&[u8]]> = records.chunks(sub).collect();
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let mut caches = core::mem::take(&mut self.caches);
        let result = std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::channel::<(usize, Vec<Prepared>)>();
            for cache in caches.iter_mut() {
                let tx = tx.clone();
                let (next, stop, chunks) = (&next, &stop, &chunks);
                s.spawn(move || {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= chunks.len() || stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let prepared = prepare_records(chunks[i], mode, cache);
                        if tx.send((i, prepared)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            let mut pending: BTreeMap<usize, Vec<Prepared>> = BTreeMap::new();
            let mut want = 0;
            for (i, prepared) in rx {
                pending.insert(i, prepared);
                while let Some(prepared) = pending.remove(&want) {
                    for (bytes, p) in chunks[want].iter().zip(prepared) {
                        if let Err(f) = self.apply(bytes, p) {
                            stop.store(true, Ordering::Relaxed);
                            return Err(f);
                        }
                    }
                    want += 1;
                }
            }
            Ok(())
        });
        self.caches = caches;
        result
    }

    /// For a sequencer: validates a signed statement as the next record,
    /// logged at `logged_at`, and appends it if valid, returning the record
    /// bytes. Unlike [`Auditor::push`], a rejection does not poison the
    /// auditor (the state is unchanged, so the next statement can be tried).
    /// `signature_ok` is the caller's `verify_strict` verdict on the
    /// statement signature (from a parallel or batched check); `None`
    /// verifies it here.
    pub fn append_statement(
        &mut self,
        statement: &[u8],
        signature: [u8; 64],
        logged_at: Millis,
        signature_ok: Option<bool>,
    ) -> Result<Vec<u8>, IntegrityFailure> {
        let parsed = Statement::from_bytes(statement);
        let signature_ok = match (signature_ok, &parsed) {
            (Some(ok), _) => ok,
            (None, Ok(st)) => {
                let item = SignatureItem::statement(st.signer.0, statement, signature);
                verify_items(&[item], VerifyMode::Strict, &mut self.caches[0])[0]
            }
            (None, Err(_)) => false,
        };
        self.append_parsed(statement, parsed, signature, logged_at, signature_ok)
    }

    /// [`Auditor::append_statement`] for a statement the caller has already
    /// decoded (`parsed` is `Statement::from_bytes(statement)`) and whose
    /// signature it has checked, so a sequencer can do both on other
    /// threads and keep only the in-order fold here.
    pub fn append_parsed(
        &mut self,
        statement: &[u8],
        parsed: Result<Statement, EncodingError>,
        signature: [u8; 64],
        logged_at: Millis,
        signature_ok: bool,
    ) -> Result<Vec<u8>, IntegrityFailure> {
        if let Some(f) = &self.failed {
            return Err(f.clone());
        }
        let index = self.state.size;
        let record = Record {
            version: crate::statement::RECORD_VERSION,
            index,
            prev: self.state.prev_leaf,
            logged_at,
            statement: statement.to_vec(),
            signature,
        };
        let bytes = record
            .to_bytes()
            .map_err(|e| fail(index, IntegrityKind::RecordEncoding(e), statement))?;
        let prepared = Prepared {
            leaf: leaf_hash(&bytes),
            record: Ok(record),
            statement: Some(parsed),
            signature_ok,
        };
        self.apply_inner(&bytes, prepared)?;
        Ok(bytes)
    }

    /// Folds one prepared record into the state. On failure the state is
    /// unchanged and the auditor is poisoned.
    pub fn apply(&mut self, bytes: &[u8], p: Prepared) -> Result<(), IntegrityFailure> {
        if let Some(f) = &self.failed {
            return Err(f.clone());
        }
        match self.apply_inner(bytes, p) {
            Ok(()) => Ok(()),
            Err(f) => {
                self.failed = Some(f.clone());
                Err(f)
            }
        }
    }

    fn apply_inner(&mut self, bytes: &[u8], p: Prepared) -> Result<(), IntegrityFailure> {
        let index = self.state.size;
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
        if record.prev != self.state.prev_leaf {
            return Err(fail(
                index,
                IntegrityKind::PrevMismatch {
                    expected: self.state.prev_leaf,
                    found: record.prev,
                },
                bytes,
            ));
        }
        if record.logged_at < self.state.last_logged_at {
            return Err(fail(
                index,
                IntegrityKind::LoggedAtDecreased {
                    previous: self.state.last_logged_at,
                    found: record.logged_at,
                },
                bytes,
            ));
        }
        let statement = p
            .statement
            .expect("prepared with the record")
            .map_err(|e| fail(index, IntegrityKind::StatementEncoding(e), bytes))?;
        if statement.claimed_at > record.logged_at.saturating_add(self.config.max_skew_ms) {
            return Err(fail(
                index,
                IntegrityKind::ClaimedInFuture {
                    claimed: statement.claimed_at,
                    logged: record.logged_at,
                    skew: self.config.max_skew_ms,
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
        let ctx = Ctx {
            index,
            bytes,
            logged: record.logged_at,
            leaf: p.leaf.0,
        };
        // Who signed: a registered, unrevoked key (or a self-signed registration).
        let signer = match &statement.event {
            Event::PartyRegistered { key, .. } => {
                if *key != statement.signer {
                    return Err(ctx.fail(IntegrityKind::NotSelfSigned));
                }
                if let Some(k) = self.state.keys.get(key) {
                    return Err(ctx.fail(IntegrityKind::KeyInUse {
                        key: key.0,
                        party: k.party,
                    }));
                }
                index
            }
            _ => {
                let Some(k) = self.state.keys.get(&statement.signer) else {
                    return Err(ctx.fail(IntegrityKind::UnknownKey {
                        key: statement.signer.0,
                    }));
                };
                if let Some(effective_at) = k.revoked_from
                    && statement.claimed_at >= effective_at
                {
                    return Err(ctx.fail(IntegrityKind::RevokedKey {
                        key: statement.signer.0,
                        effective_at,
                    }));
                }
                k.party
            }
        };
        let mut findings = Vec::new();
        self.apply_event(&ctx, signer, &statement, &mut findings)?;

        // Everything checked: commit.
        if let Some(k) = self.state.keys.get_mut(&statement.signer) {
            k.last_used = k.last_used.max(statement.claimed_at);
        }
        if let Some(max) = self.config.policy.max_log_delay_hours {
            let delay = record.logged_at.saturating_sub(statement.claimed_at);
            if delay > u64::from(max) * HOUR_MS {
                findings.push(Finding {
                    kind: FindingKind::LoggedLate,
                    record: index,
                    case: statement.event.case(),
                    party: Some(signer),
                    detail: format!(
                        "{} logged {} h after its claimed time (policy: {max} h)",
                        statement.event.name(),
                        delay / HOUR_MS
                    ),
                });
            }
        }
        self.state.findings.append(&mut findings);
        self.tree.push(p.leaf);
        self.state.prev_leaf = p.leaf.0;
        self.state.last_logged_at = record.logged_at;
        self.state.first_logged_at.get_or_insert(record.logged_at);
        self.state.kind_counts[statement.event.tag() as usize] += 1;
        self.state.size += 1;
        Ok(())
    }

    /// Checks a signed checkpoint against the records audited so far: its
    /// size must be the number audited, its root the computed root, its
    /// signature the pinned log key's, and, if given, its cosignatures
    /// must satisfy the witness policy. Since the auditor has replayed every
    /// record, a matching root also proves consistency with every earlier
    /// checkpoint it verified.
    pub fn verify_checkpoint(
        &mut self,
        note: &[u8],
        log_key: &VerifierKey,
        witnesses: Option<&forewarn_tlog::policy::Policy>,
    ) -> Result<TrustedCheckpoint, IntegrityFailure> {
        let size = self.state.size;
        let opened = forewarn_tlog::checkpoint::SignedCheckpoint::open(note, log_key, None, &[])
            .map_err(|e| {
                fail(
                    size,
                    IntegrityKind::CheckpointSignature {
                        detail: format!("{e}"),
                    },
                    note,
                )
            })?;
        if let Some(policy) = witnesses {
            policy.check_checkpoint(note).map_err(|e| {
                fail(
                    size,
                    IntegrityKind::CheckpointSignature {
                        detail: format!("witness policy: {e}"),
                    },
                    note,
                )
            })?;
        }
        let cp = &opened.checkpoint;
        if cp.size() != size {
            return Err(fail(
                size,
                IntegrityKind::CheckpointSize {
                    audited: size,
                    checkpoint: cp.size(),
                },
                note,
            ));
        }
        let computed = self.tree.root();
        if computed != *cp.root() {
            let f = fail(
                size,
                IntegrityKind::RootMismatch {
                    expected: cp.root().0,
                    computed: computed.0,
                },
                note,
            );
            self.failed = Some(f.clone());
            return Err(f);
        }
        let trusted = TrustedCheckpoint {
            size,
            root: computed.0,
        };
        self.state.checkpoint = Some(trusted);
        Ok(trusted)
    }

    fn case(&self, ctx: &Ctx<'_>, case: &CaseId) -> Result<&CaseState, IntegrityFailure> {
        self.state
            .cases
            .get(case)
            .ok_or_else(|| ctx.fail(IntegrityKind::UnknownCase { case: *case }))
    }

    fn embargo(&self, ctx: &Ctx<'_>, r: RecordRef) -> Result<&EmbargoState, IntegrityFailure> {
        self.state.embargoes.get(&r).ok_or_else(|| {
            ctx.fail(IntegrityKind::BadReference {
                reference: r,
                expected: "an earlier EmbargoProposed record",
            })
        })
    }

    fn party_class(&self, c: &Counterparty) -> Option<PartyClass> {
        match c {
            Counterparty::Party(id) => self.state.parties.get(id).map(|p| p.class),
            Counterparty::Unregistered { class, .. } => Some(*class),
        }
    }

    fn check_counterparty(&self, ctx: &Ctx<'_>, c: &Counterparty) -> Result<(), IntegrityFailure> {
        match c {
            Counterparty::Party(id) if !self.state.parties.contains_key(id) => {
                Err(ctx.fail(IntegrityKind::BadReference {
                    reference: *id,
                    expected: "an earlier PartyRegistered record",
                }))
            }
            Counterparty::Unregistered {
                identity: Sealed::Clear(name),
                ..
            } if !valid_text(name, 256, false) => Err(ctx.fail(IntegrityKind::InvalidField {
                what: "counterparty name must be 1-256 bytes without control characters",
            })),
            _ => Ok(()),
        }
    }

    /// Validates the event against the state, then applies it. All checks
    /// come before the first change.
    fn apply_event(
        &mut self,
        ctx: &Ctx<'_>,
        signer: PartyId,
        st: &Statement,
        findings: &mut Vec<Finding>,
    ) -> Result<(), IntegrityFailure> {
        let t = st.claimed_at;
        let index = ctx.index;
        let policy = &self.config.policy;
        let mut finding = |kind, case: Option<CaseId>, party: Option<PartyId>, detail: String| {
            findings.push(Finding {
                kind,
                record: index,
                case,
                party,
                detail,
            })
        };
        // Checks shared by every event about a case.
        if let Some(case) = st.event.case()
            && !matches!(st.event, Event::CaseOpened { .. })
        {
            self.case(ctx, &case)?;
        }
        let signer_class = self
            .state
            .parties
            .get(&signer)
            .map(|p| p.class)
            .unwrap_or(PartyClass::Other);
        match &st.event {
            Event::PartyRegistered { name, class, key } => {
                if !valid_text(name, 256, false) {
                    return Err(ctx.fail(IntegrityKind::InvalidField {
                        what: "party name must be 1-256 bytes without control characters",
                    }));
                }
                self.state.parties.insert(
                    index,
                    PartyState {
                        name: name.clone(),
                        class: *class,
                        registered_at: t,
                        keys: alloc::vec![*key],
                    },
                );
                self.state.keys.insert(
                    *key,
                    KeyState {
                        party: index,
                        added_by: index,
                        revoked_from: None,
                        last_used: t,
                    },
                );
            }
            Event::KeyAdded { key } => {
                if let Some(k) = self.state.keys.get(key) {
                    return Err(ctx.fail(IntegrityKind::KeyInUse {
                        key: key.0,
                        party: k.party,
                    }));
                }
                self.state.keys.insert(
                    *key,
                    KeyState {
                        party: signer,
                        added_by: index,
                        revoked_from: None,
                        last_used: t,
                    },
                );
                if let Some(p) = self.state.parties.get_mut(&signer) {
                    p.keys.push(*key);
                }
            }
            Event::KeyRevoked { key, effective_at } => {
                let Some(k) = self.state.keys.get(key) else {
                    return Err(ctx.fail(IntegrityKind::UnknownKey { key: key.0 }));
                };
                if k.party != signer {
                    return Err(ctx.fail(IntegrityKind::ForeignKey { key: key.0 }));
                }
                let last_used = k.last_used;
                let k = self.state.keys.get_mut(key).expect("looked up above");
                // A later revocation may only bring the effective time forward.
                k.revoked_from = Some(
                    k.revoked_from
                        .map_or(*effective_at, |e| e.min(*effective_at)),
                );
                if *effective_at <= last_used {
                    finding(
                        FindingKind::KeyRevokedRetroactively,
                        None,
                        Some(signer),
                        format!(
                            "key revoked from {effective_at}, but it signed a statement claimed at {last_used}: those statements are now suspect"
                        ),
                    );
                }
            }
            Event::CaseOpened {
                case,
                summary,
                product,
            } => {
                if self.state.cases.contains_key(case) {
                    return Err(ctx.fail(IntegrityKind::DuplicateCase { case: *case }));
                }
                for s in [summary, product] {
                    if let Sealed::Clear(text) = s
                        && !valid_text(text, 4096, true)
                    {
                        return Err(ctx.fail(IntegrityKind::InvalidField {
                            what: "case summary and product must be 1-4096 bytes",
                        }));
                    }
                }
                let mut clock = CaseClock::default();
                if signer_class == PartyClass::Vendor {
                    clock.vendor_aware = Some(t);
                }
                self.state.cases.insert(
                    *case,
                    CaseState {
                        opened: index,
                        opener: signer,
                        opened_at: t,
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
            }
            Event::ReportReceived { case, reporter, .. } => {
                self.check_counterparty(ctx, reporter)?;
                if signer_class == PartyClass::Vendor {
                    let c = self.state.cases.get_mut(case).expect("checked");
                    c.clock.vendor_aware.get_or_insert(t);
                }
            }
            Event::ReportAcknowledged { case } => {
                if signer_class == PartyClass::Vendor {
                    let c = self.state.cases.get_mut(case).expect("checked");
                    c.clock.vendor_aware.get_or_insert(t);
                }
            }
            Event::Notified {
                case,
                recipient,
                level,
                tlp,
                embargo,
                ..
            } => {
                self.check_counterparty(ctx, recipient)?;
                if let Some(e) = embargo
                    && self.embargo(ctx, *e)?.case != *case
                {
                    return Err(ctx.fail(IntegrityKind::BadReference {
                        reference: *e,
                        expected: "an EmbargoProposed record of the same case",
                    }));
                }
                let class = self.party_class(recipient).unwrap_or(PartyClass::Other);
                let c = self.case(ctx, case)?;
                if let Some(p) = c.clock.public
                    && p <= t
                {
                    finding(
                        FindingKind::NoticeAfterPublic,
                        Some(*case),
                        recipient_party(recipient),
                        format!(
                            "notice sent {} h after the case became public",
                            (t - p) / HOUR_MS
                        ),
                    );
                }
                if policy.privileged_before_fix
                    && class.is_privileged()
                    && c.clock.fix_ready.is_none_or(|f| f > t)
                {
                    finding(
                        FindingKind::PrivilegedBeforeFix,
                        Some(*case),
                        recipient_party(recipient),
                        format!(
                            "a {} recipient was told before any fix was ready",
                            class.name()
                        ),
                    );
                }
                let c = self.state.cases.get_mut(case).expect("checked");
                c.notices.push(index);
                self.state.notices.insert(
                    index,
                    NoticeState {
                        case: *case,
                        sender: signer,
                        recipient: recipient.clone(),
                        level: *level,
                        tlp: *tlp,
                        embargo: *embargo,
                        claimed_at: t,
                        logged_at: ctx.logged,
                        leaf: ctx.leaf,
                        acknowledged: None,
                    },
                );
            }
            Event::Acknowledged {
                notice,
                notice_leaf,
                received_at,
            } => {
                let Some(n) = self.state.notices.get(notice) else {
                    return Err(ctx.fail(IntegrityKind::BadReference {
                        reference: *notice,
                        expected: "an earlier Notified record",
                    }));
                };
                if n.recipient != Counterparty::Party(signer) {
                    return Err(ctx.fail(IntegrityKind::AckNotByRecipient { notice: *notice }));
                }
                if n.leaf != *notice_leaf {
                    return Err(ctx.fail(IntegrityKind::AckLeafMismatch {
                        expected: n.leaf,
                        found: *notice_leaf,
                    }));
                }
                if *received_at < n.claimed_at {
                    finding(
                        FindingKind::AckBeforeNotice,
                        Some(n.case),
                        Some(signer),
                        format!(
                            "received at {received_at}, before the notice's claimed time {}",
                            n.claimed_at
                        ),
                    );
                }
                if let Some(days) = policy.ack_within_days
                    && n.acknowledged.is_none()
                    && t.saturating_sub(n.claimed_at) > u64::from(days) * DAY_MS
                {
                    finding(
                        FindingKind::AcknowledgedLate,
                        Some(n.case),
                        Some(signer),
                        format!(
                            "acknowledged {} days after the notice (policy: {days} days)",
                            (t - n.claimed_at) / DAY_MS
                        ),
                    );
                }
                let n = self.state.notices.get_mut(notice).expect("checked");
                n.acknowledged.get_or_insert((index, *received_at));
            }
            Event::EmbargoProposed { case, ends_at } => {
                let c = self.state.cases.get_mut(case).expect("checked");
                c.embargoes.push(index);
                self.state.embargoes.insert(
                    index,
                    EmbargoState {
                        case: *case,
                        proposer: signer,
                        proposed_at: t,
                        ends_at: *ends_at,
                        accepted_at: None,
                        acceptors: Vec::new(),
                        extensions: 0,
                        terminated: None,
                    },
                );
            }
            Event::EmbargoAccepted { embargo } => {
                let e = self.embargo(ctx, *embargo)?;
                let case = e.case;
                let first = e.accepted_at.is_none();
                if first {
                    let c = self.case(ctx, &case)?;
                    let others = c
                        .embargoes
                        .iter()
                        .filter(|r| **r != *embargo)
                        .filter(|r| self.state.embargoes.get(*r).is_some_and(|e| e.active_at(t)))
                        .count();
                    if others > 0 {
                        finding(
                            FindingKind::MultipleActiveEmbargoes,
                            Some(case),
                            Some(signer),
                            format!(
                                "embargo {embargo} became active while {others} other embargo(es) of the case were active"
                            ),
                        );
                    }
                    if let Some(days) = policy.max_embargo_days
                        && e.ends_at.saturating_sub(e.proposed_at) > u64::from(days) * DAY_MS
                    {
                        finding(
                            FindingKind::EmbargoTooLong,
                            Some(case),
                            Some(e.proposer),
                            format!(
                                "embargo of {} days (policy: {days})",
                                (e.ends_at - e.proposed_at) / DAY_MS
                            ),
                        );
                    }
                }
                let e = self.state.embargoes.get_mut(embargo).expect("checked");
                e.accepted_at.get_or_insert(t);
                if !e.acceptors.contains(&signer) {
                    e.acceptors.push(signer);
                }
            }
            Event::EmbargoRevised { embargo, ends_at } => {
                let e = self.embargo(ctx, *embargo)?;
                let extends = *ends_at > e.ends_at;
                let extensions = e.extensions + u32::from(extends);
                if extends {
                    if let Some(max) = policy.max_extensions
                        && extensions > max
                    {
                        finding(
                            FindingKind::TooManyExtensions,
                            Some(e.case),
                            Some(signer),
                            format!("extension number {extensions} (policy: at most {max})"),
                        );
                    }
                    if let Some(days) = policy.max_embargo_days
                        && ends_at.saturating_sub(e.proposed_at) > u64::from(days) * DAY_MS
                    {
                        finding(
                            FindingKind::EmbargoTooLong,
                            Some(e.case),
                            Some(signer),
                            format!(
                                "embargo extended to {} days (policy: {days})",
                                (ends_at - e.proposed_at) / DAY_MS
                            ),
                        );
                    }
                }
                let e = self.state.embargoes.get_mut(embargo).expect("checked");
                e.ends_at = *ends_at;
                e.extensions = extensions;
            }
            Event::EmbargoTerminated { embargo, reason } => {
                self.embargo(ctx, *embargo)?;
                let e = self.state.embargoes.get_mut(embargo).expect("checked");
                e.terminated.get_or_insert((t, *reason));
            }
            Event::IdentifierAssigned {
                case,
                scheme,
                value,
            } => {
                if let Sealed::Clear(v) = value
                    && !valid_text(v, 256, false)
                {
                    return Err(ctx.fail(IntegrityKind::InvalidField {
                        what: "identifier must be 1-256 bytes without control characters",
                    }));
                }
                let c = self.state.cases.get_mut(case).expect("checked");
                c.identifiers.push(CaseIdentifier {
                    scheme: *scheme,
                    value: value.clone(),
                    record: index,
                });
            }
            Event::FixReady { case } => {
                let c = self.state.cases.get_mut(case).expect("checked");
                if c.clock.vendor_aware.is_none_or(|v| v > t) {
                    finding(
                        FindingKind::OutOfCausalOrder,
                        Some(*case),
                        Some(signer),
                        "fix ready (F) before any vendor was aware (V)".into(),
                    );
                }
                c.clock.fix_ready.get_or_insert(t);
            }
            Event::FixReleased { case } => {
                let c = self.state.cases.get_mut(case).expect("checked");
                if c.clock.fix_ready.is_none_or(|f| f > t) {
                    finding(
                        FindingKind::OutOfCausalOrder,
                        Some(*case),
                        Some(signer),
                        "fix released (D) before a fix was ready (F)".into(),
                    );
                }
                c.clock.fix_released.get_or_insert(t);
            }
            Event::PubliclyDisclosed { case, url, .. } => {
                if !valid_text(url, 2048, false) {
                    return Err(ctx.fail(IntegrityKind::InvalidField {
                        what: "advisory URL must be 1-2048 bytes without control characters",
                    }));
                }
                let c = self.case(ctx, case)?;
                if c.clock.public.is_none() {
                    for (r, e) in c
                        .embargoes
                        .iter()
                        .filter_map(|r| self.state.embargoes.get(r).map(|e| (r, e)))
                    {
                        if e.active_at(t) {
                            finding(
                                FindingKind::PublishedDuringEmbargo,
                                Some(*case),
                                Some(signer),
                                format!(
                                    "published {} h before embargo {r} ends, without a termination",
                                    (e.ends_at - t) / HOUR_MS
                                ),
                            );
                        }
                    }
                    if c.clock.fix_ready.is_none_or(|f| f > t) {
                        finding(
                            FindingKind::PublicBeforeFix,
                            Some(*case),
                            Some(signer),
                            "public (P) before a fix was ready (F)".into(),
                        );
                    }
                }
                let c = self.state.cases.get_mut(case).expect("checked");
                if c.clock.public.is_none() {
                    c.clock.public = Some(t);
                    c.advisory = Some((index, url.clone()));
                }
            }
            Event::ExploitPublic { case } => {
                let c = self.state.cases.get_mut(case).expect("checked");
                c.clock.exploit_public.get_or_insert(t);
            }
            Event::ExploitationObserved { case } => {
                let c = self.state.cases.get_mut(case).expect("checked");
                c.clock.attacks.get_or_insert(t);
            }
            Event::RegulatoryReport {
                case,
                stage,
                authority,
            } => {
                if !valid_text(authority, 256, false) {
                    return Err(ctx.fail(IntegrityKind::InvalidField {
                        what: "authority must be 1-256 bytes without control characters",
                    }));
                }
                let c = self.state.cases.get_mut(case).expect("checked");
                if policy.cra {
                    let (start, limit, kind) = match stage {
                        RegulatoryStage::EarlyWarning => (
                            c.clock.attacks,
                            24 * HOUR_MS,
                            FindingKind::CraEarlyWarningLate,
                        ),
                        RegulatoryStage::Notification => (
                            c.clock.attacks,
                            72 * HOUR_MS,
                            FindingKind::CraNotificationLate,
                        ),
                        RegulatoryStage::FinalReport => (
                            c.clock.fix_released.filter(|_| c.clock.attacks.is_some()),
                            14 * DAY_MS,
                            FindingKind::CraFinalReportLate,
                        ),
                    };
                    let first = !c.regulatory.iter().any(|(s, _)| s == stage);
                    if first
                        && let Some(s) = start
                        && t.saturating_sub(s) > limit
                    {
                        finding(
                            kind,
                            Some(*case),
                            Some(signer),
                            format!(
                                "filed {} h after the clock started (limit {} h)",
                                (t - s) / HOUR_MS,
                                limit / HOUR_MS
                            ),
                        );
                    }
                }
                c.regulatory.push((*stage, t));
            }
            Event::Opening {
                record,
                field,
                salt,
                value,
            } => {
                let Some(s) = self.state.sealed.get(&(*record, *field)) else {
                    return Err(ctx.fail(IntegrityKind::BadReference {
                        reference: *record,
                        expected: "an earlier record with that sealed field",
                    }));
                };
                if !s.commitment.opens(salt, value) {
                    return Err(ctx.fail(IntegrityKind::OpeningMismatch {
                        record: *record,
                        field: *field,
                    }));
                }
                let s = self
                    .state
                    .sealed
                    .get_mut(&(*record, *field))
                    .expect("checked");
                s.opened.get_or_insert((index, value.clone()));
            }
            Event::Annotation { record, text, .. } => {
                if *record >= index {
                    return Err(ctx.fail(IntegrityKind::BadReference {
                        reference: *record,
                        expected: "an earlier record",
                    }));
                }
                if !valid_text(text, 4096, true) {
                    return Err(ctx.fail(IntegrityKind::InvalidField {
                        what: "annotation text must be 1-4096 bytes",
                    }));
                }
            }
        }
        // Who took part: the signer, for events about a case (directly or
        // through the embargo or notice they name), and a registered
        // reporter.
        let case = st.event.case();
        let involved_case = case.or(match &st.event {
            Event::EmbargoAccepted { embargo }
            | Event::EmbargoRevised { embargo, .. }
            | Event::EmbargoTerminated { embargo, .. } => {
                self.state.embargoes.get(embargo).map(|e| e.case)
            }
            Event::Acknowledged { notice, .. } => self.state.notices.get(notice).map(|n| n.case),
            _ => None,
        });
        let mut involved = alloc::vec![signer];
        if let Event::ReportReceived {
            reporter: Counterparty::Party(p),
            ..
        } = &st.event
        {
            involved.push(*p);
        }
        if let Some(c) = involved_case.and_then(|c| self.state.cases.get_mut(&c)) {
            for p in involved {
                if !c.participants.iter().any(|(q, _, _)| *q == p) {
                    c.participants.push((p, index, t));
                }
            }
        }
        // Remember sealed fields so that openings can be checked.
        for (field, commitment) in st.event.sealed_fields() {
            self.state.sealed.insert(
                (index, field),
                SealedState {
                    commitment,
                    case,
                    opened: None,
                },
            );
            if let Some(c) = case.and_then(|c| self.state.cases.get_mut(&c)) {
                c.sealed.push((index, field));
            }
        }
        Ok(())
    }
}

fn recipient_party(c: &Counterparty) -> Option<PartyId> {
    match c {
        Counterparty::Party(id) => Some(*id),
        Counterparty::Unregistered { .. } => None,
    }
}

struct Ctx<'a> {
    index: u64,
    bytes: &'a [u8],
    logged: Millis,
    leaf: [u8; 32],
}

impl Ctx<'_> {
    fn fail(&self, kind: IntegrityKind) -> IntegrityFailure {
        fail(self.index, kind, self.bytes)
    }
}
