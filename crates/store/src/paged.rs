//! A full replay in bounded memory: the auditor holds only a working set,
//! and the keyed projections (docs/FORMAT.md §20) go to a scratch
//! database, exactly as a store keeps them.
//!
//! A full [`AuditState`] grows with the log (about 1 KB a record in the
//! ingest benchmark's mix): 12 GB at twelve million records. A
//! [`PagedReplay`] instead drives the auditor as the sequencer does
//! (`crate::projections`): before each record is folded, what its rules
//! read is loaded from the scratch database ([`Auditor::push_batch_paged`]),
//! and after each batch what the batch touched is written back. Memory is
//! then the parties and keys, the chain position, one batch's working set
//! and sled's cache, whatever the size of the log; the scratch database on
//! disk grows with it.
//!
//! The scratch database lives in a new directory (mode 0700, under the
//! system's temporary directory unless the caller names another), removed
//! when the replay is dropped. Its values are sealed under a key drawn
//! for this replay alone, so nothing written there by anyone else is
//! read back as the replay's own.
//!
//! The verdicts are the full auditor's: `tests/paged_replay.rs` compares
//! every projection value and every report with a replay that holds the
//! whole state.

use std::path::Path;

use forewarn_ledger::PartyId;
use forewarn_ledger::auditor::keyed::Counts;
use forewarn_ledger::auditor::{
    AuditConfig, AuditState, Auditor, PagedError, Paging, Prepared, Preparer,
};
use forewarn_ledger::finding::Finding;
use forewarn_ledger::report::PartyCase;
use forewarn_ledger::types::{CaseId, Millis, PublicKey};
use forewarn_tlog::note::{SignatureType, SignerKey};

use crate::error::{Corruption, StoreError};
use crate::layout::Packer;
use crate::projections::{self, Pager, Sealer};
use crate::seen::SeenStatements;

/// Records folded between two write-backs: a batch's working set holds at
/// most the entries of the cases these records touch.
pub const PAGED_BATCH: usize = 16_384;

/// sled's page cache for the scratch database.
const SCRATCH_CACHE: u64 = 128 << 20;

/// A replay whose projections are kept on disk (see the module docs).
pub struct PagedReplay {
    auditor: Auditor,
    db: sled::Db,
    sealer: Sealer,
    pager: Pager,
    packer: Packer,
    /// The statements folded, for the duplicate check (`None`: the
    /// store's own duplicate index is kept in the scratch database).
    seen: Option<SeenStatements>,
    /// The duplicate keys of the records folded since the last
    /// [`PagedReplay::take_keys`], if asked for ([`PagedReplay::keep_keys`]).
    kept: Option<Vec<(u128, u64)>>,
    // Dropped last: the directory goes once the database is closed.
    dir: tempfile::TempDir,
}

impl std::fmt::Debug for PagedReplay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PagedReplay")
            .field("size", &self.auditor.size())
            .finish_non_exhaustive()
    }
}

/// Loads what each record's rules read ([`projections::page_in`]) and
/// notes what it appended ([`projections::note_appended`]).
struct PageIn<'a> {
    db: &'a sled::Db,
    sealer: &'a Sealer,
    pager: &'a mut Pager,
    seen: Option<&'a mut SeenStatements>,
    appended: Option<(PublicKey, Option<CaseId>, Millis, u128)>,
}

impl Paging for PageIn<'_> {
    type Error = StoreError;

    fn before(&mut self, auditor: &mut Auditor, p: &Prepared) -> Result<(), StoreError> {
        self.appended = None;
        // A record or statement that does not decode fails the fold: it
        // reads nothing.
        if let (Some(record), Some(st)) = (p.record(), p.statement()) {
            let key = forewarn_ledger::auditor::duplicate_key(p.statement_hash());
            if let Some(seen) = &self.seen
                && let Some(first) = seen.first(key)?
            {
                auditor
                    .working_set()
                    .statements
                    .entry(key)
                    .or_insert(forewarn_ledger::types::RecordRef(first));
            }
            projections::page_in(
                self.db,
                self.sealer,
                self.pager,
                auditor,
                st,
                p.statement_hash(),
                p.signature_ok(),
            )?;
            self.appended = Some((st.signer, st.event.case(), record.logged_at, key));
        }
        Ok(())
    }

    fn after(&mut self, auditor: &Auditor) {
        if let Some((signer, case, logged_at, key)) = self.appended.take() {
            projections::note_appended(self.pager, auditor, signer, case, logged_at);
            if let Some(seen) = self.seen.as_deref_mut() {
                seen.note(key, auditor.size() - 1);
            }
        }
    }
}

impl PagedReplay {
    /// A replay from the first record, its scratch database in a new
    /// directory under `scratch` (default: the system's temporary
    /// directory).
    ///
    /// `planned` is about how many records will be folded (the size of
    /// the log's checkpoint): it sizes the filter of the duplicate check.
    pub fn new(
        config: AuditConfig,
        scratch: Option<&Path>,
        planned: u64,
    ) -> Result<PagedReplay, StoreError> {
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut seed[..]).map_err(|e| StoreError::Io {
            path: std::env::temp_dir(),
            source: std::io::Error::other(format!("no randomness for the scratch key: {e}")),
        })?;
        let key = SignerKey::from_seed("forewarn/scratch", SignatureType::Ed25519, &seed)
            .expect("a fixed, valid key name");
        Self::with_sealer(config, scratch, Sealer::new(&key), Some(planned))
    }

    /// A replay sealing its values with `sealer`; with `planned`, its
    /// duplicate check is [`SeenStatements`], else the store's duplicate
    /// index, kept in the scratch database like every other value.
    pub(crate) fn with_sealer(
        config: AuditConfig,
        scratch: Option<&Path>,
        sealer: Sealer,
        planned: Option<u64>,
    ) -> Result<PagedReplay, StoreError> {
        let mut builder = tempfile::Builder::new();
        builder.prefix("forewarn-replay-");
        let parent = scratch.map_or_else(std::env::temp_dir, Path::to_path_buf);
        let dir = builder
            .tempdir_in(&parent)
            .map_err(|source| StoreError::Io {
                path: parent.clone(),
                source,
            })?;
        let db = sled::Config::new()
            .path(dir.path().join("db"))
            .cache_capacity(SCRATCH_CACHE)
            .open()?;
        let mut pager = Pager::empty();
        pager.duplicate_index = planned.is_none();
        Ok(PagedReplay {
            auditor: Auditor::new(config),
            db,
            sealer,
            pager,
            packer: Packer::new()?,
            seen: planned.map(|n| SeenStatements::new(dir.path(), n)),
            kept: None,
            dir,
        })
    }

    /// Folds `records` (the next ones of the log, in order), then writes
    /// what they touched back to the scratch database. Pass about
    /// [`PAGED_BATCH`] at a time: fewer pay the write-back more often,
    /// more hold a larger working set.
    pub fn push_batch(&mut self, records: &[&[u8]]) -> Result<(), PagedError<StoreError>> {
        self.fold_and_write_back(|auditor, paging| auditor.push_batch_paged(records, paging))
    }

    /// [`PagedReplay::push_batch`] of records that a
    /// [`PagedReplay::preparer`] prepared (`prepared[i]` for `records[i]`).
    pub fn push_prepared(
        &mut self,
        records: &[&[u8]],
        prepared: Vec<Prepared>,
    ) -> Result<(), PagedError<StoreError>> {
        self.fold_and_write_back(|auditor, paging| {
            auditor.fold_prepared_paged(records, prepared, paging)
        })
    }

    /// A preparer for [`PagedReplay::push_prepared`] (see [`Preparer`]).
    pub fn preparer(&self) -> Preparer {
        self.auditor.preparer()
    }

    /// Runs `fold` with the replay's paging, then writes back what it
    /// touched.
    fn fold_and_write_back(
        &mut self,
        fold: impl FnOnce(&mut Auditor, &mut PageIn<'_>) -> Result<(), PagedError<StoreError>>,
    ) -> Result<(), PagedError<StoreError>> {
        let mut paging = PageIn {
            db: &self.db,
            sealer: &self.sealer,
            pager: &mut self.pager,
            seen: self.seen.as_mut(),
            appended: None,
        };
        let folded = fold(&mut self.auditor, &mut paging);
        if let Err(PagedError::Paging(e)) = folded {
            return Err(PagedError::Paging(e));
        }
        // What was folded before a failure is written back too, so the
        // projections show the log up to the failing record.
        let mut batch = sled::Batch::default();
        projections::page_out(
            &self.db,
            &self.sealer,
            &mut self.pager,
            &mut self.auditor,
            &mut self.packer,
            &mut batch,
        )
        .map_err(PagedError::Paging)?;
        self.db
            .apply_batch(batch)
            .map_err(|e| PagedError::Paging(e.into()))?;
        if let Some(seen) = &mut self.seen {
            if let Some(kept) = &mut self.kept {
                kept.extend_from_slice(seen.batch());
            }
            seen.end_batch().map_err(PagedError::Paging)?;
        }
        folded
    }

    /// The same replay with its scratch database reopened under
    /// [`crate::PASS_CACHE`], for a pass that reads each value once
    /// (`check`'s comparison): what the replay cached is let go, and the
    /// pass keeps only the pages it touched last (`crate::scan`).
    pub(crate) fn into_one_pass(self) -> Result<PagedReplay, StoreError> {
        let PagedReplay {
            auditor,
            db,
            sealer,
            pager,
            packer,
            seen,
            kept,
            dir,
        } = self;
        db.flush()?;
        // sled allows one handle per database: the old one goes first.
        drop(db);
        let db = crate::database::open_db_caching(
            &dir.path().join("db"),
            crate::open::DEFAULT_LOCK_WAIT,
            crate::scan::PASS_CACHE,
        )?;
        Ok(PagedReplay {
            auditor,
            db,
            sealer,
            pager,
            packer,
            seen,
            kept,
            dir,
        })
    }

    /// From now on, keeps the duplicate key (the first 16 bytes of the
    /// statement's SHA-256) of every record folded, with its index, for
    /// [`PagedReplay::take_keys`]. Only with the replay's own duplicate
    /// check (`planned` given).
    pub(crate) fn keep_keys(&mut self) {
        self.kept = Some(Vec::new());
    }

    /// The keys kept since the last call, in record order.
    pub(crate) fn take_keys(&mut self) -> Vec<(u128, u64)> {
        self.kept.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// The auditor: its state holds the parties, keys and chain position
    /// (the rest is in [`PagedReplay::projections`]).
    pub fn auditor(&self) -> &Auditor {
        &self.auditor
    }

    /// The scratch database.
    pub(crate) fn db(&self) -> &sled::Db {
        &self.db
    }

    /// Records folded.
    pub fn size(&self) -> u64 {
        self.auditor.size()
    }

    /// An empty [`Spill`] in the scratch directory, for a report that
    /// writes in another order than it computes.
    pub fn spill(&self) -> Result<Spill, StoreError> {
        Ok(Spill {
            findings: Buckets::new(self.dir.path())?,
            histories: Buckets::new(self.dir.path())?,
            n: std::cell::Cell::new(0),
            records: self.auditor.size(),
            parties: self.auditor.state().parties.keys().copied().collect(),
            loaded: Default::default(),
        })
    }

    /// The replayed projections, read one case at a time.
    pub fn projections(&self) -> Projections<'_> {
        Projections {
            db: &self.db,
            sealer: &self.sealer,
            hot: self.auditor.state(),
            counts: self.pager.counts,
            random: false,
        }
    }
}

/// What a full audit folds records into: an [`Auditor`] holding the
/// whole state, or a [`PagedReplay`].
pub trait Fold {
    /// A preparer for [`Fold::fold_prepared`].
    fn preparer(&self) -> Preparer;
    /// Folds the next records, prepared by [`Fold::preparer`]'s preparer
    /// (`prepared[i]` for `records[i]`). A failure of the records is
    /// `PagedError::Integrity`; one of the scratch database, `Paging`.
    fn fold_prepared(
        &mut self,
        records: &[&[u8]],
        prepared: Vec<Prepared>,
    ) -> Result<(), PagedError<StoreError>>;
    /// The auditor (to check the signed checkpoint at the end).
    fn auditor_mut(&mut self) -> &mut Auditor;
}

impl Fold for Auditor {
    fn preparer(&self) -> Preparer {
        Auditor::preparer(self)
    }
    fn fold_prepared(
        &mut self,
        records: &[&[u8]],
        prepared: Vec<Prepared>,
    ) -> Result<(), PagedError<StoreError>> {
        Auditor::fold_prepared(self, records, prepared).map_err(PagedError::Integrity)
    }
    fn auditor_mut(&mut self) -> &mut Auditor {
        self
    }
}

impl Fold for PagedReplay {
    fn preparer(&self) -> Preparer {
        PagedReplay::preparer(self)
    }
    fn fold_prepared(
        &mut self,
        records: &[&[u8]],
        prepared: Vec<Prepared>,
    ) -> Result<(), PagedError<StoreError>> {
        self.push_prepared(records, prepared)
    }
    fn auditor_mut(&mut self) -> &mut Auditor {
        &mut self.auditor
    }
}

/// Why [`fold_ahead`] stopped.
#[derive(Debug)]
pub(crate) enum Ahead<E> {
    /// Reading a chunk, or finding its records, failed.
    Chunk(E),
    /// Folding failed.
    Fold(PagedError<StoreError>),
}

/// Folds into `auditor` the records of every chunk `chunks` yields, in
/// order, preparing (decoding, hashing, verifying) each chunk on threads
/// of their own while the chunk before it is folded, then calling `after`
/// with the auditor and the chunk's prepared leaf hashes.
///
/// Why: [`Auditor::push_batch_paged`] prepares and folds one batch at a
/// time, so the verifying threads wait while the batch's last records are
/// folded and, for a [`PagedReplay`], while its working set is written
/// back; on two cores that left about a third of the machine idle in
/// `audit` (21.4 s of CPU in 17 s of wall at 1,250,410 records, `perf`).
/// Here one chunk is prepared ahead (a rendezvous channel: at most the
/// chunk being folded, the one prepared and the one being prepared are
/// held), so the work is the same and only its order across threads
/// changes; the preparing threads run behind the fold
/// ([`crate::schedule::behind_the_serial_thread`]). `records_of` gives a chunk's records; it is called once on
/// the preparing thread and once on this one (it should be a cheap parse).
/// Failures come in log order: a chunk's failure (from `chunks` or
/// `records_of`) after every record before it is folded.
pub(crate) fn fold_ahead<F, C, E>(
    auditor: &mut F,
    chunks: impl Iterator<Item = Result<C, E>> + Send,
    records_of: impl Fn(&C) -> Result<Vec<&[u8]>, E> + Sync,
    mut after: impl FnMut(&mut F, &[forewarn_tlog::hash::Hash]) -> Result<(), E>,
) -> Result<(), Ahead<E>>
where
    F: Fold,
    C: Send,
    E: Send,
{
    let mut preparer = auditor.preparer();
    let records_of = &records_of;
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<(C, Vec<Prepared>), E>>(0);
        s.spawn(move || {
            crate::schedule::behind_the_serial_thread();
            for chunk in chunks {
                let ready = chunk.and_then(|c| {
                    let prepared = preparer.prepare(&records_of(&c)?);
                    Ok((c, prepared))
                });
                let stop = ready.is_err();
                if tx.send(ready).is_err() || stop {
                    return;
                }
            }
        });
        for ready in rx {
            let (chunk, prepared) = ready.map_err(Ahead::Chunk)?;
            let records = records_of(&chunk).map_err(Ahead::Chunk)?;
            let leaves: Vec<forewarn_tlog::hash::Hash> =
                prepared.iter().map(|p| *p.leaf()).collect();
            auditor
                .fold_prepared(&records, prepared)
                .map_err(Ahead::Fold)?;
            after(auditor, &leaves).map_err(Ahead::Chunk)?;
        }
        Ok(())
    })
}

/// Keyed projections to read from (a store's or a [`PagedReplay`]'s):
/// the parts of the whole state, one case at a time, so that a report of
/// everything holds one case in memory at once.
#[derive(Clone, Copy)]
pub struct Projections<'a> {
    pub(crate) db: &'a sled::Db,
    pub(crate) sealer: &'a Sealer,
    pub(crate) hot: &'a AuditState,
    pub(crate) counts: Counts,
    /// Cases are read in no order (see [`Projections::for_random_reads`]).
    pub(crate) random: bool,
}

impl std::fmt::Debug for Projections<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Projections")
            .field("size", &self.hot.size)
            .finish_non_exhaustive()
    }
}

impl Projections<'_> {
    /// The memory-resident state: parties, keys and the chain position.
    pub fn hot(&self) -> &AuditState {
        self.hot
    }

    /// The case and notice counts.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Every case id, in key order.
    pub fn case_ids(&self) -> Result<Vec<CaseId>, StoreError> {
        projections::all_cases(self.db, self.sealer)
    }

    /// A state holding parties, keys and case `id` alone.
    pub fn case_part(&self, id: &CaseId) -> Result<AuditState, StoreError> {
        let mut state = projections::state_with(self.db, self.sealer, self.hot, &[], false)?;
        self.load_case_part(&mut state, id)?;
        Ok(state)
    }

    /// Puts case `id` alone into `part` (a [`Projections::case_part`]),
    /// in place of the case it held.
    pub fn load_case_part(&self, part: &mut AuditState, id: &CaseId) -> Result<(), StoreError> {
        projections::load_case_part(self.db, self.sealer, part, id)?;
        if self.random {
            crate::scan::touch_after_random_read(self.db, &projections::case_key(id))?;
        }
        Ok(())
    }

    /// The same projections, for reading cases in no particular order
    /// (the cases of one party): each case read lets sled's cache evict
    /// (crates/store/src/scan.rs), so that memory stays within the cache's
    /// capacity plus a bounded number of leaves, whatever the number of
    /// cases read. Open the store with a small cache
    /// ([`crate::RANDOM_READ_CACHE`]) for this to bound anything.
    pub fn for_random_reads(self) -> Self {
        Projections {
            random: true,
            ..self
        }
    }

    /// A state holding parties, keys and what names no case, and no case.
    pub fn loose_part(&self) -> Result<AuditState, StoreError> {
        projections::state_with(self.db, self.sealer, self.hot, &[], true)
    }

    /// The error for case `id`, listed before, found missing now.
    pub fn missing_case(id: &CaseId) -> StoreError {
        StoreError::corrupt(
            Corruption::Missing,
            projections::place_of(&projections::case_key(id)),
        )
    }

    /// The cases whose reports name `party`, in the order they were
    /// opened.
    pub fn cases_of_party(&self, party: PartyId) -> Result<Vec<CaseId>, StoreError> {
        projections::cases_of_party(self.db, self.sealer, party)
    }
}

/// What a full report writes in another order than it computes, kept on
/// disk in the replay's scratch directory until it is written: the
/// findings (read back in record order) and each party's history (read
/// back party by party, by the time it first knew).
///
/// Each goes to one of 64 files (`SPILL_BUCKETS`) by range (of record, or of
/// party in id order), as `u32 BE length ‖ sort key ‖ value` entries; a
/// bucket is read back whole, sorted and handed out, so memory holds one
/// bucket (about 1/64 of the findings, or the histories of 1/64 of the
/// parties). The sort keys are `record ‖ kind ‖ n` and `first known ‖ n`,
/// where `n` counts what was kept, so that entries equal in what they
/// sort by come out in the order they went in (as a stable sort leaves
/// them).
pub struct Spill {
    findings: Buckets,
    histories: Buckets,
    n: std::cell::Cell<u64>,
    records: u64,
    parties: Vec<PartyId>,
    /// The bucket of histories read back last, sorted.
    loaded: std::cell::RefCell<Option<(usize, Entries)>>,
}

impl std::fmt::Debug for Spill {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spill")
            .field("kept", &self.n.get())
            .finish_non_exhaustive()
    }
}

/// A spill bucket's `(sort key, value)` entries.
type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// Files a [`Spill`] spreads each kind over.
const SPILL_BUCKETS: usize = 64;

/// One kind of spilled entries: a file per bucket.
struct Buckets {
    dir: std::path::PathBuf,
    files: Vec<std::cell::RefCell<std::io::BufWriter<std::fs::File>>>,
}

impl Buckets {
    fn new(dir: &Path) -> Result<Buckets, StoreError> {
        let io = |source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut files = Vec::with_capacity(SPILL_BUCKETS);
        for _ in 0..SPILL_BUCKETS {
            let f = tempfile::tempfile_in(dir).map_err(io)?;
            files.push(std::cell::RefCell::new(std::io::BufWriter::with_capacity(
                1 << 16,
                f,
            )));
        }
        Ok(Buckets {
            dir: dir.to_path_buf(),
            files,
        })
    }

    fn io(&self, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: self.dir.clone(),
            source,
        }
    }

    fn push(&self, bucket: usize, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        use std::io::Write as _;
        let mut f = self.files[bucket].borrow_mut();
        let len = u32::try_from(key.len() + value.len()).expect("a small entry");
        f.write_all(&len.to_be_bytes())
            .and_then(|()| f.write_all(&(key.len() as u8).to_be_bytes()))
            .and_then(|()| f.write_all(key))
            .and_then(|()| f.write_all(value))
            .map_err(|e| self.io(e))
    }

    /// Bucket `b`'s entries, `(key, value)`, sorted by key.
    fn read(&self, b: usize) -> Result<Entries, StoreError> {
        use std::io::{Read as _, Seek as _, Write as _};
        let mut f = self.files[b].borrow_mut();
        f.flush().map_err(|e| self.io(e))?;
        let file = f.get_mut();
        file.rewind().map_err(|e| self.io(e))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(|e| self.io(e))?;
        let bad = || {
            self.io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "a spill file was changed while the audit ran",
            ))
        };
        let mut out = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let head = bytes.get(at..at + 5).ok_or_else(bad)?;
            let len = u32::from_be_bytes(head[..4].try_into().expect("4 bytes")) as usize;
            let key_len = usize::from(head[4]);
            let body = bytes.get(at + 5..at + 5 + len).ok_or_else(bad)?;
            let (k, v) = body.split_at_checked(key_len).ok_or_else(bad)?;
            out.push((k.to_vec(), v.to_vec()));
            at += 5 + len;
        }
        out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}

fn decode<T: forewarn_ledger::auditor::keyed::Value>(v: &[u8]) -> Result<T, StoreError> {
    forewarn_ledger::auditor::keyed::decode_value(v).map_err(|_| StoreError::Io {
        path: std::env::temp_dir(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "a spilled report value does not decode",
        ),
    })
}

impl Spill {
    fn next(&self) -> u64 {
        let n = self.n.get();
        self.n.set(n + 1);
        n
    }

    /// Keeps `found` for [`Spill::findings`].
    pub fn keep_findings(&self, found: &[Finding]) -> Result<(), StoreError> {
        for f in found {
            let mut key = f.record.0.to_be_bytes().to_vec();
            key.push(f.kind as u8);
            key.extend_from_slice(&self.next().to_be_bytes());
            let b = (u128::from(f.record.0.min(self.records.saturating_sub(1)))
                * SPILL_BUCKETS as u128
                / u128::from(self.records.max(1))) as usize;
            self.findings.push(
                b.min(SPILL_BUCKETS - 1),
                &key,
                &forewarn_ledger::auditor::keyed::encode_value(f),
            )?;
        }
        Ok(())
    }

    fn party_bucket(&self, party: PartyId) -> Option<usize> {
        let i = self.parties.binary_search(&party).ok()?;
        Some(i * SPILL_BUCKETS / self.parties.len())
    }

    /// Keeps a case of `party`'s history (a registered party) for
    /// [`Spill::party_cases`].
    pub fn keep_party_case(&self, party: PartyId, c: &PartyCase) -> Result<(), StoreError> {
        let Some(b) = self.party_bucket(party) else {
            return Ok(());
        };
        let mut key = party.0.to_be_bytes().to_vec();
        key.extend_from_slice(&c.first_known_at.to_be_bytes());
        key.extend_from_slice(&self.next().to_be_bytes());
        self.histories
            .push(b, &key, &forewarn_ledger::auditor::keyed::encode_value(c))
    }

    /// Every finding kept, in record order (then kind, then as kept).
    pub fn findings(&self) -> impl Iterator<Item = Result<Finding, StoreError>> + '_ {
        (0..SPILL_BUCKETS).flat_map(move |b| {
            let items: Vec<Result<Finding, StoreError>> = match self.findings.read(b) {
                Ok(entries) => entries.into_iter().map(|(_, v)| decode(&v)).collect(),
                Err(e) => vec![Err(e)],
            };
            items
        })
    }

    /// `party`'s cases kept, by the time it first knew (then as kept).
    /// Parties are read in id order: each bucket is read once.
    pub fn party_cases(&self, party: PartyId) -> Result<Vec<PartyCase>, StoreError> {
        let Some(b) = self.party_bucket(party) else {
            return Ok(Vec::new());
        };
        let mut loaded = self.loaded.borrow_mut();
        if loaded.as_ref().is_none_or(|(held, _)| *held != b) {
            *loaded = Some((b, self.histories.read(b)?));
        }
        let (_, entries) = loaded.as_ref().expect("just loaded");
        let prefix = party.0.to_be_bytes();
        let from = entries.partition_point(|(k, _)| k[..8] < prefix[..]);
        entries[from..]
            .iter()
            .take_while(|(k, _)| k[..8] == prefix[..])
            .map(|(_, v)| decode(v))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use forewarn_ledger::testkit::golden_scenario;
    use forewarn_tlog::note::SignatureType;

    use super::*;
    use crate::check::replay_full;

    const ORIGIN: &str = "example.org/ledger";

    fn config() -> AuditConfig {
        AuditConfig {
            origin: Some(ORIGIN.into()),
            threads: 2,
            ..AuditConfig::default()
        }
    }

    fn sealer() -> Sealer {
        Sealer::new(&SignerKey::from_seed(ORIGIN, SignatureType::Ed25519, &[7; 32]).unwrap())
    }

    use forewarn_ledger::testkit::with_backdated_revocation as generated;

    /// Replays `records` paged, `batch` at a time, and compares every
    /// scratch value with what a full replay implies, and the
    /// memory-resident state with the full replay's.
    fn paged_equals_full(records: &[Vec<u8>], batch: usize) {
        paged_equals_full_with(records, batch, None);
        paged_equals_full_with(records, batch, Some(records.len() as u64 / 4));
    }

    /// The same with the duplicate check of `planned` records, or the
    /// store's duplicate index.
    fn paged_equals_full_with(records: &[Vec<u8>], batch: usize, planned: Option<u64>) {
        let size = records.len() as u64;
        let mut full = replay_full(config(), records.iter().cloned().map(Ok), size, None).unwrap();
        let mut paged = PagedReplay::with_sealer(config(), None, sealer(), planned).unwrap();
        for chunk in records.chunks(batch) {
            let refs: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
            paged.push_batch(&refs).unwrap();
        }
        assert_eq!(paged.size(), size);
        assert_eq!(paged.auditor().root(), full.fresh.root());
        let (mine, theirs) = (paged.auditor().state(), full.fresh.state());
        assert_eq!(mine.parties, theirs.parties);
        assert_eq!(mine.recent, theirs.recent);
        assert_eq!(mine.prev_leaf, theirs.prev_leaf);
        assert_eq!(mine.kind_counts, theirs.kind_counts);
        for (k, v) in &theirs.keys {
            let m = &mine.keys[k];
            assert_eq!(
                (m.party, m.added_by, m.added_at, m.revoked),
                (v.party, v.added_by, v.added_at, v.revoked)
            );
        }
        assert_eq!(mine.keys.len(), theirs.keys.len());
        projections::compare(
            &paged.db,
            &paged.sealer,
            full.fresh.working_set(),
            &full.facts,
            &full.ranges,
            planned.is_none(),
        )
        .unwrap_or_else(|e| panic!("batch {batch}: {e}"));
    }

    #[test]
    fn the_golden_log_paged_equals_a_full_replay() {
        let s = golden_scenario();
        for batch in [1, 5, 64, PAGED_BATCH] {
            paged_equals_full(s.records(), batch);
        }
    }

    /// The preparing threads of a `fold_ahead` run behind the fold, which
    /// keeps its own priority; the fold's result is the plain fold's.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_fold_goes_before_its_preparing_threads() {
        let nice = || rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap();
        let records: Vec<Vec<u8>> = golden_scenario().records().to_vec();
        let chunks: Vec<&[Vec<u8>]> = records.chunks(4).collect();
        let base = nice();
        let seen = std::sync::Mutex::new(Vec::new());
        let mut ahead = Auditor::new(config());
        let folded = fold_ahead(
            &mut ahead,
            chunks.iter().map(Ok::<_, StoreError>),
            |c| {
                seen.lock()
                    .unwrap()
                    .push((std::thread::current().id(), nice()));
                Ok(c.iter().map(Vec::as_slice).collect())
            },
            |_, _| Ok(()),
        );
        assert!(folded.is_ok());
        let me = std::thread::current().id();
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.len(), 2 * chunks.len());
        for (thread, n) in seen {
            if thread == me {
                assert_eq!(n, base, "the fold keeps its priority");
            } else {
                assert_eq!(
                    n,
                    (base + crate::schedule::NICE_BEHIND).min(19),
                    "the preparing thread is lowered"
                );
            }
        }
        assert_eq!(nice(), base);
        let mut plain = Auditor::new(config());
        let all: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
        plain.push_batch(&all).unwrap();
        assert_eq!(ahead.state(), plain.state());
    }

    #[test]
    fn generated_logs_paged_equal_a_full_replay() {
        for (seed, records, batch) in [(1, 3_000, 700), (2, 1_500, 13)] {
            let s = generated(seed, records);
            paged_equals_full(s.records(), batch);
        }
    }

    /// A record that breaks the chain stops the replay there, with the
    /// auditor's own integrity failure, and what came before it is kept.
    #[test]
    fn a_broken_record_stops_the_replay_with_the_auditors_verdict() {
        let s = generated(3, 600);
        let mut records = s.records().to_vec();
        records.swap(300, 301);
        let mut paged = PagedReplay::new(config(), None, 600).unwrap();
        let refs: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
        let mut full = Auditor::new(config());
        let want = full.push_batch(&refs).unwrap_err();
        match paged.push_batch(&refs) {
            Err(PagedError::Integrity(f)) => assert_eq!(f, want),
            other => panic!("{other:?}"),
        }
        assert_eq!(paged.size(), 300);
        assert_eq!(
            paged.projections().counts().cases,
            full.state().cases.len() as u64
        );
    }

    /// A statement logged again (an operator replaying one) fails the
    /// paged replay exactly as it fails the full auditor, whether the
    /// first copy was folded in an earlier batch or in the same one, and
    /// whether or not the filter had to be passed through.
    #[test]
    fn a_replayed_statement_is_the_full_auditors_failure() {
        for (first, batch) in [(10u64, 100usize), (250, 100), (255, 1_000), (3, 7)] {
            let mut s = generated(4, 300);
            let r = forewarn_ledger::statement::Record::from_bytes(&s.records()[first as usize])
                .unwrap();
            let last = s.records().last().unwrap();
            let at = forewarn_ledger::statement::Record::from_bytes(last)
                .unwrap()
                .logged_at;
            s.append_raw(r.statement, r.signature, at);
            let refs: Vec<&[u8]> = s.records().iter().map(Vec::as_slice).collect();
            let want = Auditor::new(config()).push_batch(&refs).unwrap_err();
            assert!(
                matches!(
                    want.kind,
                    forewarn_ledger::finding::IntegrityKind::DuplicateStatement { first: f }
                        if f.0 == first
                ),
                "{want:?}"
            );
            let mut paged = PagedReplay::new(config(), None, refs.len() as u64).unwrap();
            let mut got = None;
            for chunk in refs.chunks(batch) {
                if let Err(e) = paged.push_batch(chunk) {
                    got = Some(e);
                    break;
                }
            }
            match got {
                Some(PagedError::Integrity(f)) => assert_eq!(f, want, "first {first}"),
                other => panic!("first {first}: {other:?}"),
            }
        }
    }

    /// The scratch directory is made under the one named, and is gone
    /// once the replay is dropped.
    #[test]
    fn the_scratch_directory_goes_with_the_replay() {
        let parent = tempfile::tempdir().unwrap();
        let paged = PagedReplay::new(config(), Some(parent.path()), 0).unwrap();
        assert_eq!(std::fs::read_dir(parent.path()).unwrap().count(), 1);
        drop(paged);
        assert_eq!(std::fs::read_dir(parent.path()).unwrap().count(), 0);
    }
}
