//! Long reads without holding the database: [`LogCopy`], and the full
//! audit of stored bundles.
//!
//! sled 0.34 lets one handle at a time open a database, so a command that
//! keeps it open for a long audit or report locks every writer out. A
//! [`LogCopy`] instead opens the database, verifies and takes the signed
//! checkpoint and the compressed entry bundles up to its size, and closes the database again — about one second per
//! million records, mostly reading — before any long CPU work. Writers
//! meanwhile wait for the lock ([`crate::StoreConfig::lock_wait`]). The
//! copy is a consistent, signed state: everything in it is read at the
//! checkpoint's size, and the last bundle is cut to it. The compressed
//! bundles (about half the size of the records) go to an unnamed
//! temporary file, which the system removes when the copy is dropped, so
//! the copy's memory does not grow with the log. A database older than
//! its high-water mark (`crate::mark`) is refused.

use std::path::Path;

use forewarn_ledger::auditor::{AuditConfig, Auditor, PagedError};
use forewarn_ledger::finding::IntegrityFailure;
use forewarn_tlog::note::VerifierKey;
use forewarn_tlog::tile::parse_entry_bundle;

use crate::database::open_db_caching;
use crate::error::{Corruption, Place, StoreError};
use crate::layout::{BUNDLE, DB_DIR, bundle_key, unpack_bundle};
use crate::mark::check_mark;
use crate::open::{Store, read_head};
use crate::paged::{Ahead, Fold, PagedReplay, fold_ahead};
use crate::reader::LogState;

/// What a full audit found wrong: the records fail the ledger's checks,
/// or the stored bundles could not be read.
#[derive(Debug)]
#[non_exhaustive]
pub enum AuditError {
    /// The records fail an integrity check (with the evidence).
    Integrity(IntegrityFailure),
    /// The store could not be read.
    Store(StoreError),
    /// A paged replay's scratch database could not be read or written.
    Scratch(StoreError),
}

impl From<PagedError<StoreError>> for AuditError {
    fn from(e: PagedError<StoreError>) -> AuditError {
        match e {
            PagedError::Integrity(f) => AuditError::Integrity(f),
            PagedError::Paging(e) => AuditError::Scratch(e),
        }
    }
}

impl std::fmt::Display for AuditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditError::Integrity(failure) => write!(f, "{failure}"),
            AuditError::Store(e) => write!(f, "{e}"),
            AuditError::Scratch(e) => write!(f, "the audit's scratch database: {e}"),
        }
    }
}

impl std::error::Error for AuditError {}

/// A signed state of a ledger copied out of its database, which is closed
/// again: audit or replay it for as long as needed.
pub struct LogCopy {
    origin: String,
    vkey: VerifierKey,
    state: LogState,
    /// The stored (compressed) bundles `0..⌈size/256⌉`, one after the
    /// other.
    file: std::fs::File,
    /// Where each bundle ends in `file`.
    ends: Vec<u64>,
    /// The directory `file` is in (for errors).
    parent: std::path::PathBuf,
}

impl LogCopy {
    /// Copies the ledger in `dir` (waiting up to `lock_wait` for a writer
    /// to finish). The checkpoint is verified under the log key in
    /// `m:vkey`; callers that pin a key compare it with [`LogCopy::vkey`].
    pub fn take(dir: &Path, lock_wait: std::time::Duration) -> Result<LogCopy, StoreError> {
        Self::take_into(dir, lock_wait, None)
    }

    /// [`LogCopy::take`], its file of bundles made under `scratch`
    /// (default: the system's temporary directory).
    pub fn take_into(
        dir: &Path,
        lock_wait: std::time::Duration,
        scratch: Option<&Path>,
    ) -> Result<LogCopy, StoreError> {
        use std::io::Write as _;
        if !dir.join(DB_DIR).exists() {
            return Err(StoreError::NotAStore(dir.to_path_buf()));
        }
        // Every bundle is read once: sled's cache keeps only the pages it
        // touched last (`crate::scan`).
        let db = open_db_caching(&dir.join(DB_DIR), lock_wait, crate::scan::PASS_CACHE)?;
        let head = read_head(&db, None)?;
        let vkey = std::str::from_utf8(&head.vkey)
            .ok()
            .and_then(|t| VerifierKey::parse(t).ok())
            .ok_or(StoreError::corrupt(
                Corruption::Malformed,
                Place::Metadata("vkey"),
            ))?;
        // A database rolled back behind the high-water mark is refused
        // here too; a missing or older mark is left for the writer.
        check_mark(dir, &db, &vkey, &head.origin, &head.state)?;
        let count = head.state.size.div_ceil(BUNDLE);
        let parent = scratch.map_or_else(std::env::temp_dir, Path::to_path_buf);
        let io = |source| StoreError::Io {
            path: parent.clone(),
            source,
        };
        let file = tempfile::tempfile_in(&parent).map_err(io)?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, &file);
        // `count` comes from the signed size: grown as bundles are read.
        let mut ends = Vec::with_capacity(count.min(1 << 16) as usize);
        let mut end = 0u64;
        for n in 0..count {
            let bundle = db
                .get(bundle_key(n))?
                .ok_or(StoreError::corrupt(Corruption::Missing, Place::Bundle(n)))?;
            crate::scan::evict_behind(&db, &bundle_key(n))?;
            out.write_all(&bundle).map_err(io)?;
            end += bundle.len() as u64;
            ends.push(end);
        }
        out.flush().map_err(io)?;
        drop(out);
        drop(db);
        Ok(LogCopy {
            origin: head.origin,
            vkey,
            state: head.state,
            file,
            ends,
            parent,
        })
    }

    /// Stored bundle `n`, read back from the copy's file.
    fn bundle(&self, n: u64) -> Result<Vec<u8>, StoreError> {
        use std::os::unix::fs::FileExt as _;
        let n = n as usize;
        let start = if n == 0 { 0 } else { self.ends[n - 1] };
        let mut out = vec![0; (self.ends[n] - start) as usize];
        self.file
            .read_exact_at(&mut out, start)
            .map_err(|source| StoreError::Io {
                path: self.parent.clone(),
                source,
            })?;
        Ok(out)
    }

    /// The log's origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The log key the checkpoint verified under.
    pub fn vkey(&self) -> &VerifierKey {
        &self.vkey
    }

    /// The copied signed state.
    pub fn state(&self) -> &LogState {
        &self.state
    }

    /// The copied records `0..size`, in order, each bundle unpacked when
    /// it is reached (for evidence about a record, say, which needs the
    /// leaves of the whole tree).
    pub fn records(&self) -> impl Iterator<Item = Result<Vec<u8>, StoreError>> + '_ {
        let size = self.state.size;
        (0..self.ends.len() as u64).flat_map(move |n| {
            let count = (size - n * BUNDLE).min(BUNDLE) as usize;
            let entries = self
                .bundle(n)
                .and_then(|stored| unpack_bundle(n, &stored))
                .and_then(|data| {
                    crate::layout::bundle_prefix(&data, count)
                        .and_then(|p| parse_entry_bundle(p, count))
                        .map(|es| es.into_iter().map(<[u8]>::to_vec).collect::<Vec<_>>())
                        .map_err(|e| {
                            StoreError::corrupt(Corruption::BadBundle(e), Place::Bundle(n))
                        })
                });
            let items: Vec<Result<Vec<u8>, StoreError>> = match entries {
                Ok(es) => es.into_iter().map(Ok).collect(),
                Err(e) => vec![Err(e)],
            };
            items
        })
    }

    /// Audits every record from scratch with a fresh auditor, as a
    /// watchdog would, ending with the signed checkpoint.
    pub fn audit(
        &self,
        config: AuditConfig,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<Auditor, AuditError> {
        let config = with_origin(config, &self.origin);
        audit_bundles(
            self.state.size,
            |n| self.bundle(n).map(|b| Some(b.into())),
            &self.state.checkpoint,
            &self.vkey,
            Auditor::new(config),
            progress,
        )
    }

    /// [`LogCopy::audit`] in bounded memory: a [`PagedReplay`] whose
    /// scratch database is made under `scratch` (default: the system's
    /// temporary directory).
    pub fn audit_paged(
        &self,
        config: AuditConfig,
        scratch: Option<&Path>,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<PagedReplay, AuditError> {
        let config = with_origin(config, &self.origin);
        audit_bundles(
            self.state.size,
            |n| self.bundle(n).map(|b| Some(b.into())),
            &self.state.checkpoint,
            &self.vkey,
            PagedReplay::new(config, scratch, self.state.size).map_err(AuditError::Scratch)?,
            progress,
        )
    }
}

impl Store {
    /// Audits every record from scratch with a fresh auditor, as a watchdog
    /// would: bundles are read and unpacked on one thread while the
    /// auditor verifies and folds the previous chunk. Ends by checking the
    /// signed checkpoint. `progress(done, total)` is called per chunk.
    /// (This holds the database; [`LogCopy::audit`] does not.)
    pub fn audit(
        &self,
        config: AuditConfig,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<Auditor, AuditError> {
        let db = &self.shared.db;
        let config = with_origin(config, self.origin());
        audit_bundles(
            self.size(),
            |n| Ok(db.get(bundle_key(n))?),
            self.checkpoint(),
            self.vkey(),
            Auditor::new(config),
            progress,
        )
    }
}

/// The full audit of the log of `size` records whose stored bundle N
/// `bundle(N)` returns, against `checkpoint` under `vkey`.
/// `config` with the log's `origin` unless the caller named one (an
/// auditor that expects another origin then fails at record 0, which is
/// the right answer).
fn with_origin(config: AuditConfig, origin: &str) -> AuditConfig {
    AuditConfig {
        origin: config.origin.or_else(|| Some(origin.to_string())),
        ..config
    }
}

fn audit_bundles<F: Fold>(
    size: u64,
    bundle: impl Fn(u64) -> Result<Option<sled::IVec>, StoreError> + Sync,
    checkpoint: &[u8],
    vkey: &VerifierKey,
    mut auditor: F,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<F, AuditError> {
    // 128 bundles = 32,768 records per chunk.
    const BUNDLES: u64 = 128;
    type Part = Result<Vec<(Vec<u8>, usize)>, StoreError>;
    /// The records of part `i`: each bundle's and its record count.
    fn part_records((i, part): &(usize, Vec<(Vec<u8>, usize)>)) -> Result<Vec<&[u8]>, StoreError> {
        let mut entries: Vec<&[u8]> = Vec::with_capacity(part.len() * BUNDLE as usize);
        for (j, (data, count)) in part.iter().enumerate() {
            let n = (i * BUNDLES as usize + j) as u64;
            // The last bundle may be wider than `size` (it grows in
            // place): only its first `count` entries belong to the log.
            let prefix = crate::layout::bundle_prefix(data, *count)
                .and_then(|p| parse_entry_bundle(p, *count))
                .map_err(|e| StoreError::corrupt(Corruption::BadBundle(e), Place::Bundle(n)))?;
            entries.extend(prefix);
        }
        Ok(entries)
    }
    // One part read ahead of the one being prepared ahead of the fold.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Part>(1);
    let bundle = &bundle;
    std::thread::scope(|s| {
        s.spawn(move || {
            let total = size.div_ceil(BUNDLE);
            let mut n = 0;
            while n < total {
                let mut part = Vec::with_capacity(BUNDLES as usize);
                for b in n..(n + BUNDLES).min(total) {
                    let count = (size - b * BUNDLE).min(BUNDLE) as usize;
                    // Unpacked here, overlapping the audit.
                    let data = bundle(b).and_then(|v| {
                        let v =
                            v.ok_or(StoreError::corrupt(Corruption::Missing, Place::Bundle(b)))?;
                        unpack_bundle(b, &v)
                    });
                    match data {
                        Ok(data) => part.push((data, count)),
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    }
                }
                n += BUNDLES;
                if tx.send(Ok(part)).is_err() {
                    return;
                }
            }
        });
        // Each part's records are prepared while the part before is folded.
        let parts = rx.into_iter().enumerate().map(|(i, p)| p.map(|p| (i, p)));
        fold_ahead(&mut auditor, parts, part_records, |auditor, _| {
            progress(auditor.auditor_mut().size(), size);
            Ok(())
        })
        .map_err(|e| match e {
            Ahead::Chunk(e) => AuditError::Store(e),
            Ahead::Fold(e) => AuditError::from(e),
        })
    })?;
    auditor
        .auditor_mut()
        .verify_checkpoint(checkpoint, vkey, None)
        .map_err(AuditError::Integrity)?;
    Ok(auditor)
}
