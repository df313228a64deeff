//! The driver: [`Auditor`] feeds records through preparation
//! ([`super::prepare`]), the integrity checks, the signer look-up
//! ([`super::keys`]) and the event table ([`super::dispatch`]), then commits
//! the record to the state and the compact range; it saves and resumes that
//! state, checks signed checkpoints (docs/FORMAT.md §16, last paragraph),
//! and evaluates deadline findings at a time the caller chooses.

use alloc::format;
use alloc::vec::Vec;

use forewarn_tlog::compact::CompactRange;
use forewarn_tlog::hash::Hash;
use forewarn_tlog::note::VerifierKey;

use super::context::Ctx;
use super::prepare::{Prepared, check_record, fail, late_record, prepare_records, statement_hash};
use super::state::{AuditState, Citable, STATE_VERSION, TrustedCheckpoint, duplicate_key};
use super::{AuditConfig, all_findings, dispatch, keys, permits};
use crate::encoding::{self, EncodingError};
use crate::event::EVENT_KINDS;
use crate::finding::{Finding, FindingKind, IntegrityFailure, IntegrityKind};
use crate::statement::{Record, Statement, leaf_hash};
use crate::types::{Millis, RecordRef};
use crate::verify::{KeyCache, SignatureItem, StatementItem, VerifyMode, verify_items};

/// Whether a rejected statement is refused (sequencing) or, if it breaks
/// only the authority table, reported and given no effect (auditing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Audit,
    Sequence,
}

/// What an auditor holding only a working set does around each record of
/// [`Auditor::push_batch_paged`]: load what the record's rules read
/// before it is folded, and note what it appended after.
pub trait Paging {
    /// Why loading failed.
    type Error;
    /// Called with each record, prepared, before it is folded.
    fn before(&mut self, auditor: &mut Auditor, prepared: &Prepared) -> Result<(), Self::Error>;
    /// Called after the record given to [`Paging::before`] was folded
    /// (it is then the auditor's last record).
    fn after(&mut self, auditor: &Auditor);
}

/// Why [`Auditor::push_batch_paged`] stopped.
#[derive(Debug)]
pub enum PagedError<E> {
    /// A record failed an integrity check: the auditor is poisoned.
    Integrity(IntegrityFailure),
    /// Loading what a record's rules read failed before it was folded.
    Paging(E),
}

/// The paging of an auditor that holds its whole state: nothing to do.
#[cfg(feature = "std")]
struct NoPaging;

#[cfg(feature = "std")]
impl Paging for NoPaging {
    type Error = core::convert::Infallible;
    fn before(&mut self, _: &mut Auditor, _: &Prepared) -> Result<(), Self::Error> {
        Ok(())
    }
    fn after(&mut self, _: &Auditor) {}
}

/// Prepares records ahead of an [`Auditor`] ([`Auditor::preparer`]): the
/// decoding, hashing and signature verification of
/// [`Auditor::push_batch`], which depend on the records alone, never on
/// the state. A driver prepares the next chunk of a log on a thread of
/// its own while the auditor folds this one
/// ([`Auditor::fold_prepared_paged`]), so that folding (and, for a paged
/// auditor, writing back) no longer leaves the verifying threads idle.
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct Preparer {
    mode: VerifyMode,
    caches: Vec<KeyCache>,
}

#[cfg(feature = "std")]
impl Preparer {
    /// The records prepared, in order: split in one contiguous share per
    /// thread, the first on the calling thread. Exact batch verification
    /// pays a fixed cost per batch, so pass a few thousand records per
    /// thread.
    pub fn prepare(&mut self, records: &[&[u8]]) -> Vec<Prepared> {
        let mode = self.mode;
        let workers = self.caches.len();
        if workers <= 1 || records.len() < 64 {
            return prepare_records(records, mode, &mut self.caches[0]);
        }
        let share = records.len().div_ceil(workers);
        let (mine, others) = self.caches.split_at_mut(1);
        std::thread::scope(|s| {
            let mut shares = records.chunks(share);
            let first = shares.next().unwrap_or(&[]);
            let helpers: Vec<_> = shares
                .zip(others.iter_mut())
                .map(|(share, cache)| s.spawn(move || prepare_records(share, mode, cache)))
                .collect();
            let mut out = prepare_records(first, mode, &mut mine[0]);
            for h in helpers {
                out.extend(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
            }
            out
        })
    }
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
    /// The last root computed for a `seen` size.
    seen_memo: Option<(u64, Hash)>,
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
            seen_memo: None,
        }
    }

    /// Resumes from [`Auditor::save`] output. A damaged state, or one of
    /// another log than `config.origin` names, is refused.
    pub fn resume(config: AuditConfig, saved: &[u8]) -> Result<Auditor, EncodingError> {
        let state: AuditState = encoding::decode_versioned_unbounded(saved, STATE_VERSION)?;
        Auditor::from_state(config, state)
    }

    /// An auditor going on from `state`, after the checks [`Auditor::resume`]
    /// makes: the compact range, the event counts, the citation table and
    /// the recent leaves must agree with the size and the last leaf, and the
    /// origin with `config.origin`.
    ///
    /// A store that keeps the projections in keyed form on disk builds
    /// `state` from them with only a working set held: every party and key
    /// (keys without their uses), the chain position, and an empty
    /// [`CitationTable::on_disk`](super::CitationTable::on_disk); see
    /// [`Auditor::working_set`].
    pub fn from_state(config: AuditConfig, state: AuditState) -> Result<Auditor, EncodingError> {
        let malformed = |detail: alloc::string::String| EncodingError::Malformed { detail };
        let tree = CompactRange::from_bytes(&state.tree)
            .map_err(|_| malformed("saved compact range is invalid".into()))?;
        if state.kind_counts.len() != EVENT_KINDS {
            return Err(malformed(format!(
                "saved state counts {} event kinds, this build has {EVENT_KINDS}",
                state.kind_counts.len()
            )));
        }
        if tree.size() != state.size {
            return Err(malformed(format!(
                "saved compact range has size {} but the state has {}",
                tree.size(),
                state.size
            )));
        }
        if state.citable.len() as u64 != state.size || !state.citable.is_canonical() {
            return Err(malformed(format!(
                "saved state cites {} records but has {}",
                state.citable.len(),
                state.size
            )));
        }
        if let (Some(saved), Some(configured)) = (&state.origin, &config.origin)
            && saved != configured
        {
            return Err(malformed(format!(
                "saved state is of the log {saved:?}, not the configured {configured:?}"
            )));
        }
        if !state.recent.consistent_with(&tree) {
            return Err(malformed(
                "saved recent leaves do not lead to the saved tree".into(),
            ));
        }
        // The chain goes on from the last record's leaf.
        let last = match state.citable.last() {
            Some(c) => c.leaf,
            None if state.size == 0 => Hash([0; 32]),
            // Nothing held: the last recent leaf is the last record's.
            None => state.recent.leaves.back().copied().unwrap_or(Hash([0; 32])),
        };
        if state.prev_leaf != last || state.recent.leaves.back().is_some_and(|l| *l != last) {
            return Err(malformed(
                "saved previous leaf is not the last record's".into(),
            ));
        }
        let mut a = Auditor::new(config);
        a.state = state;
        a.tree = tree;
        Ok(a)
    }

    /// The state, for a store that keeps it in keyed form on disk and holds
    /// only a working set in memory: before a statement is applied, the
    /// store loads into it everything the statement's rules read (the
    /// cases it names or reaches through its citations, with their
    /// notices, embargoes and sealed fields; the records it cites; the
    /// duplicate entry of its hash; for a revocation, the uses of the
    /// party's keys), and after a commit it writes back what changed and
    /// empties the working set again. The rules cannot tell the
    /// difference: the paged replay's tests (crates/store/src/paged.rs)
    /// prove it against a full replay, and `check` proves a store against
    /// a paged replay.
    pub fn working_set(&mut self) -> &mut AuditState {
        &mut self.state
    }

    /// The case `event` acts on, directly or through the embargo, notice
    /// or sealed field it cites (as the authority rules see it).
    pub fn case_of(&self, event: &crate::event::Event) -> Option<crate::types::CaseId> {
        permits::case_of(&self.state, event)
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
        self.push_batch_paged(records, &mut NoPaging)
            .map_err(|e| match e {
                PagedError::Integrity(f) => f,
                PagedError::Paging(never) => match never {},
            })
    }

    /// [`Auditor::push_batch`] for an auditor that holds only a working
    /// set (see [`super::keyed`]): `paging.before` is called with each
    /// record, prepared, just before it is folded (to load what its rules
    /// read), and `paging.after` once it has been. An error from `paging`
    /// stops the batch there; the record it was called for is not folded.
    #[cfg(feature = "std")]
    pub fn push_batch_paged<P: Paging>(
        &mut self,
        records: &[&[u8]],
        paging: &mut P,
    ) -> Result<(), PagedError<P::Error>> {
        use alloc::collections::BTreeMap;
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        if let Some(f) = &self.failed {
            return Err(PagedError::Integrity(f.clone()));
        }
        let mode = self.config.verify_mode;
        let workers = self.caches.len();
        if workers <= 1 || records.len() < 64 {
            let prepared = prepare_records(records, mode, &mut self.caches[0]);
            for (bytes, p) in records.iter().zip(prepared) {
                self.fold_paged(bytes, p, paging)?;
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
                        if let Err(e) = self.fold_paged(bytes, p, paging) {
                            stop.store(true, Ordering::Relaxed);
                            return Err(e);
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

    /// A [`Preparer`] for this auditor's records: its verify mode, on as
    /// many threads as [`AuditConfig::threads`], with key caches of its own.
    #[cfg(feature = "std")]
    pub fn preparer(&self) -> Preparer {
        Preparer {
            mode: self.config.verify_mode,
            caches: (0..self.caches.len()).map(|_| KeyCache::new()).collect(),
        }
    }

    /// Folds records that a [`Preparer`] prepared (`prepared[i]` is what
    /// [`Preparer::prepare`] gave for `records[i]`), with `paging` called
    /// around each as in [`Auditor::push_batch_paged`]. Preparing first
    /// and folding here gives the verdicts of [`Auditor::push_batch_paged`]
    /// on the same records; a driver that prepares the next chunk of a log
    /// on other threads while this one folds keeps both busy.
    ///
    /// # Panics
    /// If `prepared` does not hold one entry per record.
    #[cfg(feature = "std")]
    pub fn fold_prepared_paged<P: Paging>(
        &mut self,
        records: &[&[u8]],
        prepared: Vec<Prepared>,
        paging: &mut P,
    ) -> Result<(), PagedError<P::Error>> {
        if let Some(f) = &self.failed {
            return Err(PagedError::Integrity(f.clone()));
        }
        assert_eq!(
            records.len(),
            prepared.len(),
            "one prepared record per record"
        );
        for (bytes, p) in records.iter().zip(prepared) {
            self.fold_paged(bytes, p, paging)?;
        }
        Ok(())
    }

    /// [`Auditor::fold_prepared_paged`] for an auditor holding its whole
    /// state.
    #[cfg(feature = "std")]
    pub fn fold_prepared(
        &mut self,
        records: &[&[u8]],
        prepared: Vec<Prepared>,
    ) -> Result<(), IntegrityFailure> {
        self.fold_prepared_paged(records, prepared, &mut NoPaging)
            .map_err(|e| match e {
                PagedError::Integrity(f) => f,
                PagedError::Paging(never) => match never {},
            })
    }

    /// One record of [`Auditor::push_batch_paged`].
    #[cfg(feature = "std")]
    fn fold_paged<P: Paging>(
        &mut self,
        bytes: &[u8],
        p: Prepared,
        paging: &mut P,
    ) -> Result<(), PagedError<P::Error>> {
        paging.before(self, &p).map_err(PagedError::Paging)?;
        self.apply(bytes, p).map_err(PagedError::Integrity)?;
        paging.after(self);
        Ok(())
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
        let hash = statement_hash(statement);
        self.append_parsed(statement, parsed, hash, signature, logged_at, signature_ok)
    }

    /// [`Auditor::append_statement`] for a statement the caller has already
    /// decoded (`parsed` is `Statement::from_bytes(statement)`), hashed
    /// (`hash` is [`statement_hash`]`(statement)`, which the duplicate check
    /// uses) and whose signature it has checked, so a sequencer can do all
    /// three on other threads and keep only the in-order fold here.
    pub fn append_parsed(
        &mut self,
        statement: &[u8],
        parsed: Result<Statement, EncodingError>,
        hash: [u8; 32],
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
            statement_hash: hash,
            signature_ok,
        };
        self.apply_inner(&bytes, prepared, Mode::Sequence)?;
        Ok(bytes)
    }

    /// Folds one prepared record into the state. On failure the state is
    /// unchanged and the auditor is poisoned.
    pub fn apply(&mut self, bytes: &[u8], p: Prepared) -> Result<(), IntegrityFailure> {
        if let Some(f) = &self.failed {
            return Err(f.clone());
        }
        match self.apply_inner(bytes, p, Mode::Audit) {
            Ok(()) => Ok(()),
            Err(f) => {
                self.failed = Some(f.clone());
                Err(f)
            }
        }
    }

    fn apply_inner(
        &mut self,
        bytes: &[u8],
        p: Prepared,
        mode: Mode,
    ) -> Result<(), IntegrityFailure> {
        let leaf = p.leaf;
        let statement_hash = p.statement_hash;
        let (record, statement) = check_record(
            &self.state,
            &self.config,
            bytes,
            p,
            &self.tree,
            &mut self.seen_memo,
        )?;
        let index = RecordRef(record.index);
        let signer = keys::signer(&self.state, index, &statement, |kind| {
            fail(index.0, kind, bytes)
        })?;
        let mut ctx = Ctx {
            index,
            bytes,
            logged: record.logged_at,
            leaf,
            t: statement.claimed_at,
            signer,
            key: statement.signer,
            origin: &statement.origin,
            skew: self.config.max_skew_ms,
            findings: Vec::new(),
        };
        let mut authorized = true;
        let mut findings = match dispatch::apply_event(&mut self.state, &mut ctx, &statement.event)
        {
            Ok(()) => ctx.findings,
            // A statement its signer had no authority for: a sequencer
            // refuses it; in a log, it is reported and has no effect (the
            // rules change nothing before the authority check).
            Err(f)
                if mode == Mode::Audit && matches!(f.kind, IntegrityKind::Unauthorized { .. }) =>
            {
                authorized = false;
                alloc::vec![Finding {
                    kind: FindingKind::Unauthorized,
                    record: index,
                    case: permits::case_of(&self.state, &statement.event),
                    party: Some(signer),
                    detail: format!("{}; it has no effect", f.kind),
                }]
            }
            Err(f) => return Err(f),
        };

        // Everything checked: commit.
        keys::note_use(&mut self.state, &statement.signer, index, record.logged_at);
        // A statement without effect tells no story, so its log delay is
        // not a `logged-late` fact about the case it names.
        if authorized {
            self.state
                .late
                .extend(late_record(&record, &statement, signer));
        }
        self.state.findings.append(&mut findings);
        self.state
            .statements
            .insert(duplicate_key(&statement_hash), index);
        self.state.citable.push(Citable {
            leaf,
            signer,
            event: statement.event.tag() as u8,
        });
        if self.state.origin.is_none() {
            self.state.origin = Some(statement.origin.clone());
        }
        self.state.recent.push(&self.tree, leaf);
        self.tree.push(leaf);
        self.state.prev_leaf = leaf;
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
        // The log's origin: the first record's, or the configured one
        // before any record was read.
        if let Some(origin) = self
            .state
            .origin
            .as_deref()
            .or(self.config.origin.as_deref())
            && cp.origin() != origin
        {
            return Err(fail(
                size,
                IntegrityKind::CheckpointSignature {
                    detail: format!(
                        "checkpoint origin {:?} is not the origin {origin:?} its statements name",
                        cp.origin()
                    ),
                },
                note,
            ));
        }
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
                    expected: *cp.root(),
                    computed,
                },
                note,
            );
            self.failed = Some(f.clone());
            return Err(f);
        }
        let trusted = TrustedCheckpoint {
            size,
            root: computed,
        };
        self.state.checkpoint = Some(trusted);
        Ok(trusted)
    }

    /// Every finding as of `as_of`: those raised while streaming and the
    /// deadline findings, in record order (see [`all_findings`]).
    pub fn findings_as_of(&self, as_of: Millis) -> Vec<Finding> {
        all_findings(&self.state, &self.config.policy, as_of)
    }
}
