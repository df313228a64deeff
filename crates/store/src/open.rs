//! Opening a store: the [`Store`] handle and its settings, `init`, `open`,
//! and the repairing open behind `forewarn rebuild`.
//!
//! Opening trusts nothing it can check cheaply, and reads nothing whose
//! size grows with the log: the checkpoint's signature under the log key,
//! that the last bundle holds exactly the records up to its size and
//! nothing lies beyond; then the projections' hot part (`m:hot`, parties and
//! keys, each value's seal, the digest binding parties and keys to
//! `m:hot`), the recent leaves from the level-0 tiles and the compact
//! ranges kept every 256 records, from which the tree is rebuilt and its
//! root compared with the signed checkpoint's. Old records are not read:
//! `check` replays them all and compares every derived value with the
//! replay, and `audit` does what a watchdog does.
//!
//! Before anything else is read, the database's checkpoint is compared
//! with the high-water mark kept beside it (`checkpoint.mark`, see the
//! `mark` module): a database rolled back behind what was durably
//! committed is refused; a missing or older mark is rewritten.
//!
//! The sled database itself (its lock, its failures at open) is the
//! `database` module's.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use forewarn_ledger::auditor::{AuditConfig, Auditor};
use forewarn_ledger::types::{Millis, PartyId};
use forewarn_ledger::verify::KeyCache;
use forewarn_tlog::checkpoint::{Checkpoint, SignedCheckpoint};
use forewarn_tlog::hash::Hash;
use forewarn_tlog::note::{SignatureType, SignerKey, VerifierKey};

use crate::database::open_db_waiting;
use crate::error::{Corruption, KeyError, Place, StoreError, io};
use crate::layout::{
    BUNDLE, DB_DIR, FORMAT, META_CHECKPOINT, META_SIZE, Packer, bundle_key, bundle_prefix,
    unpack_bundle,
};
use crate::mark::{MarkCheck, check_mark, write_mark};
use crate::projections::{self, Pager, Sealer};
use crate::reader::{LogReader, LogState, Shared, records_in};

/// File name of the log's signing key inside the store directory.
pub const KEY_FILE: &str = "log.key";
/// File name of the log's public key (vkey) inside the store directory.
pub const VKEY_FILE: &str = "log.vkey";

/// How long an open waits by default for another handle to release the
/// database lock (see [`StoreConfig::lock_wait`]).
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(10);

/// How long [`Store::close`] waits for sled to release its lock.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// The log's clock (ms since the Unix epoch). Tests pass their own.
pub type Clock = Arc<dyn Fn() -> Millis + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    })
}

/// Options for opening a store.
#[derive(Clone)]
pub struct StoreConfig {
    /// Auditor settings used to validate statements (skew, threads). Its
    /// `origin` is always set to the store's own at open: every statement
    /// must name the log it is appended to.
    pub audit: AuditConfig,
    /// The log's clock.
    pub clock: Clock,
    /// Called with (records replayed, total) while `check` or `rebuild`
    /// replays the log (opening replays nothing).
    pub progress: Option<Arc<dyn Fn(u64, u64) + Send + Sync>>,
    /// How long an open waits for another handle (a concurrent command, or
    /// a just-dropped handle whose threads are still stopping) to release
    /// the database lock before failing with [`StoreError::InUse`].
    /// Read-only commands hold the lock only while they copy what they need
    /// ([`crate::LogCopy`]), so writers waiting this long get through.
    pub lock_wait: Duration,
    /// The most of the database sled keeps in memory (bytes; sled's
    /// default, 1 GiB). A command that reads everything once (`check`)
    /// gains nothing from more than a little.
    pub cache_bytes: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            audit: AuditConfig {
                threads: std::thread::available_parallelism()
                    .map_or(1, |n| n.get())
                    .min(8),
                ..AuditConfig::default()
            },
            clock: system_clock(),
            progress: None,
            lock_wait: DEFAULT_LOCK_WAIT,
            cache_bytes: crate::database::SLED_CACHE,
        }
    }
}

/// An open ledger: the single writer, with the memory-resident part of the
/// projection state (parties, keys, the chain position) and a working set
/// of the rest, which lives in keyed form on disk
/// (the `projections` module). Readers for other threads come from
/// [`Store::reader`].
pub struct Store {
    pub(crate) dir: PathBuf,
    pub(crate) shared: Arc<Shared>,
    pub(crate) key: SignerKey,
    pub(crate) auditor: Auditor,
    /// The latest signed checkpoint (equal to the published state's).
    pub(crate) checkpoint: Arc<[u8]>,
    pub(crate) config: StoreConfig,
    pub(crate) caches: Vec<KeyCache>,
    /// Seals and opens the keyed projections (a MAC key derived from `key`).
    pub(crate) sealer: Sealer,
    /// What of the projections is on disk and what the working set holds.
    pub(crate) pager: Pager,
    /// Compresses entry bundles as they are written.
    pub(crate) packer: Packer,
    pub(crate) poisoned: bool,
}

impl Store {
    /// Creates a new ledger in `dir` with a log key from `seed` (32 random
    /// bytes from the caller). Writes `log.key` (0600) and `log.vkey`.
    pub fn init(
        dir: &Path,
        origin: &str,
        seed: &[u8; 32],
        config: StoreConfig,
    ) -> Result<Store, StoreError> {
        if dir.join(DB_DIR).exists() {
            return Err(StoreError::AlreadyExists(dir.to_path_buf()));
        }
        if dir.join(KEY_FILE).exists() {
            return Err(StoreError::corrupt(
                Corruption::KeyWithoutDatabase,
                Place::Directory(dir.to_path_buf()),
            ));
        }
        let key = SignerKey::from_seed(origin, SignatureType::Ed25519, seed).map_err(|source| {
            StoreError::Key(KeyError::BadOrigin {
                origin: origin.to_string(),
                source,
            })
        })?;
        let empty = Checkpoint::new(origin, 0, forewarn_tlog::hash::EMPTY_ROOT)
            .map_err(|source| {
                StoreError::Key(KeyError::BadCheckpointOrigin {
                    origin: origin.to_string(),
                    source,
                })
            })?
            .sign(&key)
            .to_bytes();
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        write_secret(&dir.join(KEY_FILE), key.to_text().as_bytes())?;
        let vkey = key.verifier();
        let vkey_path = dir.join(VKEY_FILE);
        std::fs::write(&vkey_path, format!("{vkey}\n")).map_err(io(&vkey_path))?;
        let db = open_db_waiting(&dir.join(DB_DIR), config.lock_wait)?;
        let mut b = sled::Batch::default();
        b.insert(b"m:format".as_slice(), FORMAT);
        b.insert(b"m:origin".as_slice(), origin.as_bytes());
        b.insert(b"m:vkey".as_slice(), vkey.to_string().as_bytes());
        b.insert(META_SIZE, &0u64.to_be_bytes());
        b.insert(META_CHECKPOINT, empty.as_slice());
        b.insert(
            projections::HOT,
            projections::initial_hot(&Sealer::new(&key)),
        );
        db.apply_batch(b)?;
        db.flush()?;
        write_mark(dir, &empty)?;
        // Opened with the same handle: dropping it and opening again could
        // find sled's lock still held by the closing handle's threads.
        Store::open_with(dir, config, Some(db), false)
    }

    /// Opens an existing ledger, verifying it (see the module docs).
    pub fn open(dir: &Path, config: StoreConfig) -> Result<Store, StoreError> {
        Store::open_with(dir, config, None, false)
    }

    /// Opens a store whose projections may be damaged and rebuilds them
    /// (and the hash tiles) from the records, then opens it as
    /// [`Store::open`] does: the repair `forewarn rebuild` runs. Everything
    /// that does not derive from the records (the checkpoint, its mark,
    /// the records themselves) is checked as at any open.
    pub fn open_and_rebuild(dir: &Path, config: StoreConfig) -> Result<Store, StoreError> {
        Store::open_with(dir, config, None, true)
    }

    fn open_with(
        dir: &Path,
        mut config: StoreConfig,
        db: Option<sled::Db>,
        rebuild: bool,
    ) -> Result<Store, StoreError> {
        if !dir.join(DB_DIR).exists() {
            return Err(StoreError::NotAStore(dir.to_path_buf()));
        }
        let key_path = dir.join(KEY_FILE);
        let key = read_key(&key_path)?;
        let db = match db {
            Some(db) => db,
            None => crate::database::open_db_caching(
                &dir.join(DB_DIR),
                config.lock_wait,
                config.cache_bytes,
            )?,
        };
        // A copy left by a compaction killed before its end (this handle
        // holds the lock every compaction holds until its exchange).
        crate::compact::remove_leftovers(dir)?;
        let vkey = key.verifier();
        // The checkpoint is verified under the recorded key, which must be
        // the key file's.
        let head = read_head(&db, None)?;
        if head.vkey != vkey.to_string().as_bytes() {
            return Err(StoreError::Key(KeyError::WrongKey { path: key_path }));
        }
        // Refused before the (long) replay if the database is older than
        // the high-water mark.
        let mark = check_mark(dir, &db, &vkey, &head.origin, &head.state)?;
        // The auditor knows the log's origin from the start: the sequencer
        // refuses a statement for another log (WrongOrigin) from record 0 on.
        config.audit.origin = Some(head.origin.clone());
        let size = head.state.size;
        let threads = config.audit.threads.max(1);
        let checkpoint = head.state.checkpoint.clone();
        let root = head.state.root;
        let sealer = Sealer::new(&key);
        let mut store = Store {
            dir: dir.to_path_buf(),
            shared: Arc::new(Shared::new(db, head.origin, vkey, head.state)),
            key,
            auditor: Auditor::new(config.audit.clone()),
            checkpoint,
            config,
            caches: (0..threads).map(|_| KeyCache::new()).collect(),
            sealer,
            pager: Pager::empty(),
            packer: Packer::new()?,
            poisoned: false,
        };
        if rebuild {
            store.rebuild()?;
        } else {
            store.load(size)?;
        }
        if store.auditor.root() != root {
            return Err(StoreError::corrupt(
                Corruption::RootMismatch,
                Place::Checkpoint,
            ));
        }
        if mark == MarkCheck::Behind {
            write_mark(dir, &store.checkpoint)?;
        }
        Ok(store)
    }

    /// Loads the memory-resident part of the state from the keyed
    /// projections (no replay: its cost does not grow with the log; see
    /// [`crate::projections::load_hot`]).
    pub(crate) fn load(&mut self, size: u64) -> Result<(), StoreError> {
        let (auditor, pager) =
            projections::load_hot(&self.shared.db, &self.sealer, size, &self.config.audit)?;
        self.auditor = auditor;
        self.pager = pager;
        Ok(())
    }

    /// A reader of the durable, signed state, for any thread; it follows
    /// every later commit of this store.
    pub fn reader(&self) -> LogReader {
        LogReader {
            shared: self.shared.clone(),
        }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The log's origin.
    pub fn origin(&self) -> &str {
        &self.shared.origin
    }

    /// The log's public key.
    pub fn vkey(&self) -> &VerifierKey {
        &self.shared.vkey
    }

    /// Number of records: the size of the latest durable, published
    /// checkpoint. (After a failed commit the in-memory auditor may be
    /// ahead of it; nothing is read or served beyond this size.)
    pub fn size(&self) -> u64 {
        self.shared.state().size
    }

    /// The latest signed checkpoint.
    pub fn checkpoint(&self) -> &[u8] {
        &self.checkpoint
    }

    /// The auditor with the memory-resident state: parties, keys (without
    /// their uses) and the chain position; cases, notices, embargoes and
    /// sealed fields are on disk ([`Store::state_of_cases`],
    /// [`Store::full_state`]). After a failed commit ([`StoreError::Poisoned`]) it may
    /// hold records that were never made durable: reopen the store.
    pub fn auditor(&self) -> &Auditor {
        &self.auditor
    }

    /// Record `index`.
    pub fn record(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        crate::reader::read_record(&self.shared.db, index, self.size())
    }

    /// Records `from..to`, in order.
    pub fn records(
        &self,
        from: u64,
        to: u64,
    ) -> impl Iterator<Item = Result<Vec<u8>, StoreError>> + '_ {
        records_in(&self.shared.db, from, to.min(self.size()), self.size())
    }

    /// The index of the record holding exactly these statement bytes.
    pub fn find_statement(&self, statement: &[u8]) -> Result<Option<u64>, StoreError> {
        projections::find_statement(&self.shared.db, &self.sealer, self.size(), statement)
    }

    /// The sealed fields of record `record`, by field number.
    pub fn sealed_of(
        &self,
        record: u64,
    ) -> Result<std::collections::BTreeMap<u8, forewarn_ledger::auditor::SealedState>, StoreError>
    {
        projections::sealed_of(&self.shared.db, &self.sealer, self.size(), record)
    }

    /// A state for reports about `cases`: parties, keys, the chain
    /// position, those cases with their notices, embargoes, sealed fields,
    /// late records and findings, and everything without a case. Reads only
    /// those cases' entries.
    pub fn state_of_cases(
        &self,
        cases: &[forewarn_ledger::types::CaseId],
    ) -> Result<forewarn_ledger::auditor::AuditState, StoreError> {
        projections::state_with(
            &self.shared.db,
            &self.sealer,
            self.auditor.state(),
            cases,
            true,
        )
    }

    /// The keyed projections, to read one part at a time: every case id,
    /// a state holding one case, the state of what names no case
    /// ([`crate::Projections`]). Memory stays that of one case.
    pub fn projections(&self) -> crate::paged::Projections<'_> {
        crate::paged::Projections {
            db: &self.shared.db,
            sealer: &self.sealer,
            hot: self.auditor.state(),
            counts: self.pager.counts,
            random: false,
        }
    }

    /// The case and notice counts kept with the projections (in `m:hot`,
    /// updated by every commit): what `report summary` shows without
    /// reading any case.
    pub fn counts(&self) -> forewarn_ledger::auditor::keyed::Counts {
        self.pager.counts
    }

    /// [`Store::state_of_cases`] of every case: the whole projection state
    /// (what a report of everything needs; it grows with the log).
    pub fn full_state(&self) -> Result<forewarn_ledger::auditor::AuditState, StoreError> {
        let cases = projections::all_cases(&self.shared.db, &self.sealer)?;
        self.state_of_cases(&cases)
    }

    /// The cases whose reports name `party` (as a participant or a
    /// registered recipient), from the party's index.
    pub fn cases_of_party(
        &self,
        party: PartyId,
    ) -> Result<Vec<forewarn_ledger::types::CaseId>, StoreError> {
        projections::cases_of_party(&self.shared.db, &self.sealer, party)
    }

    /// A receipt for record `index` at the latest checkpoint.
    pub fn receipt(&self, index: u64) -> Result<Option<Receipt>, StoreError> {
        self.reader().receipt(index)
    }

    /// A consistency proof from an older size to the current checkpoint.
    pub fn consistency_proof(&self, old: u64) -> Result<Vec<Hash>, StoreError> {
        self.reader().consistency_proof(old, self.size())
    }

    /// Closes the store. Every commit already wrote its projections; this
    /// flushes sled (nothing is left to save, so closing costs the same on
    /// any size of log) and, if no reader still holds the database, waits
    /// up to 2 s for sled to release its lock.
    pub fn close(self) -> Result<(), StoreError> {
        self.flush_unless_poisoned()?;
        let db_dir = self.dir.join(DB_DIR);
        let last = Arc::strong_count(&self.shared) == 1;
        drop(self);
        // sled releases its file lock when its own threads stop, a moment
        // after the last handle is dropped. Waiting for that (bounded) lets
        // the next open, in this process or another, find the store free
        // instead of waiting and saying so.
        if last {
            let start = std::time::Instant::now();
            while crate::database::lock_held(&db_dir)? && start.elapsed() < CLOSE_WAIT {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        Ok(())
    }

    /// Closes the store of a process that is about to exit: flushes sled,
    /// as [`Store::close`] does, then leaves the store's memory and sled's
    /// file lock to the operating system instead of freeing them.
    ///
    /// Freeing is what grows with the log: sled's page table and cache
    /// (75 ms at 12.5M records), and, after a write, the wait for sled's
    /// I/O thread to settle its account of every segment, which the first
    /// write after an open does for all of them (about 80 ms at 12.5M
    /// records; `SegmentAccountant::stabilize` in sled 0.34.7). After the
    /// flush nothing is dirty, so sled's own drop would write nothing, and
    /// every commit was flushed before its receipt; what the exit cuts
    /// short is that accounting, which may free log segments and truncate
    /// the file's tail. Exiting is then a crash after a flush, which sled
    /// recovers from like any other (the CLI's tests run every command
    /// this way and check the ledger after).
    ///
    /// The lock stays held until the process exits, so use it only for
    /// the last use of a store, in a process that prints little after it:
    /// another process's writer waits for the lock meanwhile, and a later
    /// open in the same process waits for it and fails. `report` closes
    /// with [`Store::close_in_background`] for that reason, before it
    /// prints.
    pub fn close_at_exit(self) -> Result<(), StoreError> {
        self.flush_unless_poisoned()?;
        // The keys are wiped as usual; what is left to the system is what
        // grows with the log.
        let Store {
            shared,
            auditor,
            caches,
            pager,
            ..
        } = self;
        std::mem::forget((shared, auditor, caches, pager));
        Ok(())
    }

    /// Closes a store that was only read, on a thread of its own: sled's
    /// lock is released once sled has freed its memory (about 200 ms at
    /// 12.5M records) or at the process's exit, whichever comes first,
    /// while the caller goes on (`report` builds and prints meanwhile).
    /// So a reader whose output stalls holds the lock no longer than that,
    /// and does not wait for the freeing either.
    pub fn close_in_background(self) -> Result<(), StoreError> {
        self.flush_unless_poisoned()?;
        std::thread::spawn(move || drop(self));
        Ok(())
    }

    /// Flushes sled unless the store is poisoned (a commit failed after
    /// validation, see `commit`): how every close starts.
    fn flush_unless_poisoned(&self) -> Result<(), StoreError> {
        if !self.poisoned {
            self.shared.db.flush()?;
        }
        Ok(())
    }
}

use crate::reader::Receipt;

/// The resumed saved state, if it is bound to the checkpoint (`size`,
/// `root`), its digest matches, its binding is signed by `vkey`, and it
/// decodes to that tree.
const MAX_KEY_BYTES: u64 = 4096;

fn read_key(path: &Path) -> Result<SignerKey, StoreError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(io(path))?;
    // Sized up front, so the secret is never left behind in a grown buffer.
    let mut text = zeroize::Zeroizing::new(String::with_capacity(MAX_KEY_BYTES as usize));
    file.take(MAX_KEY_BYTES)
        .read_to_string(&mut text)
        .map_err(io(path))?;
    SignerKey::parse(text.trim_end()).map_err(|source| {
        StoreError::Key(KeyError::Malformed {
            path: path.to_path_buf(),
            source,
        })
    })
}

/// What the metadata says, verified: the log's identity and its latest
/// signed state.
pub(crate) struct Head {
    pub(crate) origin: String,
    pub(crate) vkey: Vec<u8>,
    pub(crate) state: LogState,
}

/// Reads and verifies the metadata: the format, the origin, the size, the
/// checkpoint's signature under `vkey` (or under `m:vkey` when `None`),
/// that the checkpoint's size is the stored size, and that the last bundle
/// exists and holds exactly the records up to that size, none beyond.
pub(crate) fn read_head(db: &sled::Db, vkey: Option<&VerifierKey>) -> Result<Head, StoreError> {
    let meta = |name: &'static str| -> Result<Vec<u8>, StoreError> {
        db.get(format!("m:{name}"))?
            .map(|v| v.to_vec())
            .ok_or(StoreError::corrupt(
                Corruption::Missing,
                Place::Metadata(name),
            ))
    };
    let malformed = |name| StoreError::corrupt(Corruption::Malformed, Place::Metadata(name));
    let format = meta("format")?;
    if format != FORMAT {
        return Err(StoreError::UnsupportedFormat { found: format });
    }
    let origin = String::from_utf8(meta("origin")?).map_err(|_| malformed("origin"))?;
    let stored_vkey = meta("vkey")?;
    let vkey = match vkey {
        Some(v) => v.clone(),
        None => std::str::from_utf8(&stored_vkey)
            .ok()
            .and_then(|t| VerifierKey::parse(t).ok())
            .ok_or_else(|| malformed("vkey"))?,
    };
    let size = u64::from_be_bytes(meta("size")?.try_into().map_err(|_| malformed("size"))?);
    let checkpoint = meta("checkpoint")?;
    let signed = SignedCheckpoint::open(&checkpoint, &vkey, Some(&origin), &[]).map_err(|e| {
        StoreError::corrupt(Corruption::BadCheckpoint(Box::new(e)), Place::Checkpoint)
    })?;
    if signed.checkpoint.size() != size {
        return Err(StoreError::corrupt(
            Corruption::SizeMismatch {
                checkpoint: signed.checkpoint.size(),
                stored: size,
            },
            Place::Checkpoint,
        ));
    }
    // Bundles 0..⌈size/256⌉ exist, the last holds exactly the records up
    // to `size`, and nothing lies beyond.
    let bundles = size.div_ceil(BUNDLE);
    if size > 0 {
        let last = bundles - 1;
        let stored = db.get(bundle_key(last))?.ok_or(StoreError::corrupt(
            Corruption::Missing,
            Place::Bundle(last),
        ))?;
        let data = unpack_bundle(last, &stored)?;
        let count = (size - last * BUNDLE) as usize;
        let prefix = bundle_prefix(&data, count)
            .map_err(|e| StoreError::corrupt(Corruption::BadBundle(e), Place::Bundle(last)))?;
        if prefix.len() != data.len() {
            return Err(StoreError::corrupt(
                Corruption::BeyondSize { size },
                Place::Bundle(last),
            ));
        }
    }
    if db.get(bundle_key(bundles))?.is_some() {
        return Err(StoreError::corrupt(
            Corruption::BeyondSize { size },
            Place::Bundle(bundles),
        ));
    }
    Ok(Head {
        origin,
        vkey: stored_vkey,
        state: LogState {
            size,
            root: *signed.checkpoint.root(),
            checkpoint: checkpoint.into(),
        },
    })
}

/// Replays `records` (the store's, from `auditor.size()` on) through
/// `auditor` in chunks, calling `each` on every record, and insists that
/// exactly `size` records resulted.
pub(crate) fn replay_records(
    auditor: &mut Auditor,
    records: impl Iterator<Item = Result<Vec<u8>, StoreError>>,
    size: u64,
    progress: Option<&(dyn Fn(u64, u64) + Send + Sync)>,
    mut each: impl FnMut(&[u8]),
) -> Result<(), StoreError> {
    let mut chunk = Vec::new();
    let push = |a: &mut Auditor, chunk: &mut Vec<Vec<u8>>| -> Result<(), StoreError> {
        if chunk.is_empty() {
            return Ok(());
        }
        let refs: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
        a.push_batch(&refs)
            .map_err(|f| StoreError::corrupt(Corruption::Replay(Box::new(f)), Place::Bundles))?;
        chunk.clear();
        if let Some(p) = progress {
            p(a.size(), size);
        }
        Ok(())
    };
    for r in records {
        let r = r?;
        each(&r);
        chunk.push(r);
        if chunk.len() == 16_384 {
            push(auditor, &mut chunk)?;
        }
    }
    push(auditor, &mut chunk)?;
    if auditor.size() != size {
        return Err(StoreError::corrupt(
            Corruption::RecordCount {
                found: auditor.size(),
                expected: size,
            },
            Place::Bundles,
        ));
    }
    Ok(())
}

/// Writes a secret file with mode 0600, refusing to overwrite.
pub fn write_secret(path: &Path, contents: &[u8]) -> Result<(), StoreError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).map_err(io(path))?;
    f.write_all(contents).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}
