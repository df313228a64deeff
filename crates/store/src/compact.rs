//! Compaction (`forewarn compact`): the database rewritten with only its
//! live values, and put in place of the old one in one atomic step.
//!
//! Why: sled 0.34 appends every write to its log and reuses a segment of
//! that log only once every page in it has been superseded; its cleaner,
//! which moves the live pages out of mostly-stale segments, runs only in
//! its periodic flush thread, which the store does not start (every write
//! the store makes is flushed by the store itself). The growing values a
//! commit rewrites (the last entry bundle, tile and record-facts block, a
//! case's entry, a duplicate bucket) leave their older versions behind, so
//! the database grows to several times its live data: 2,673 MiB on disk
//! for 477 MiB of keys and values at 1,250,410 records. Reads that no
//! longer fit in the page cache then wait on the disk
//! (docs/PERFORMANCE.md). A compacted copy holds the live values once.
//!
//! How, and why it is safe:
//! 1. The database is opened, which takes sled's lock: no other handle can
//!    write while the copy is made, and one that tries waits, as it waits
//!    for any other command. Its head is read and its checkpoint verified,
//!    so only a forewarn store is compacted.
//! 2. Every tree is copied, value by value in key order, into a new
//!    database beside it (`db.compacting-<pid>-<n>`), which is flushed and
//!    then read back and compared with the old one, value by value.
//! 3. The two directories are exchanged in one `renameat2(RENAME_EXCHANGE)`
//!    (Linux) and the store directory is fsynced. Before the exchange the
//!    store is the old database, after it the verified copy; there is no
//!    moment at which `DIR/db` is missing or partly written, whenever the
//!    process is killed. A waiting handle's next attempt opens the new
//!    database (the old handle's lock stays on the old files, which nothing
//!    writes to again).
//! 4. The old database, now under the temporary name, is removed. A copy
//!    left by a process killed before the end (either an unfinished copy or
//!    the old database after the exchange) is removed by the next
//!    compaction or open, which hold the lock of the database in place.
//!
//! What this does not close: sled's lock is on the file `db/db`, not on
//! the store, so a process that opened that file before the exchange and
//! was stopped for the whole compaction before taking the lock would, once
//! it runs, hold the lock of the old database while sled reads and writes
//! some files by path in the new one. A store-level lock on a file that is
//! never renamed, taken by every open and held by compaction through the
//! exchange, is the remedy (not built yet).
//!
//! The copy is byte for byte: every value keeps its seal (a tag over its
//! key and payload), the signed checkpoint and the high-water mark beside
//! the database stay valid, and nothing is recomputed.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::database::{lock_held, open_db_caching};
use crate::error::{Corruption, DatabaseDamage, Place, StoreError, io};
use crate::layout::DB_DIR;
use crate::open::read_head;
use crate::scan::{PASS_CACHE, scan_prefix};

/// The name the new database is built under, before the exchange (and the
/// old one's after it), followed by the process id and a number.
pub(crate) const COMPACTING: &str = "db.compacting-";

/// Bytes of values copied per sled batch.
const BATCH_BYTES: usize = 8 << 20;

/// Bytes of values written to the copy between two reopenings of it.
/// sled keeps every page written in its cache, and accounts for a page
/// stored as a blob (most leaves of bundles and facts blocks) by the size
/// of its pointer (crates/store/src/scan.rs), so a copy written through one
/// handle held about as much memory as it wrote: 5.4 GB at 12.5M records.
/// A reopened database starts with an empty cache.
const REOPEN_EVERY: u64 = 256 << 20;

/// How long compaction waits for sled to release the new database's lock
/// after closing it. No other process uses the copy, so the wait only
/// bounds sled's own closing: its I/O thread settles the account of every
/// segment after the first write that follows an open, in time quadratic
/// in their number (`SegmentAccountant::stabilize`, sled 0.34.7), about
/// 80 ms at 12,000 segments (6.4 GB) and so about 2 s at five times that.
const CLOSE_WAIT: Duration = Duration::from_secs(120);

/// What a compaction did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compacted {
    /// Values copied (in every tree).
    pub values: u64,
    /// Bytes of keys and values copied.
    pub live_bytes: u64,
    /// Bytes of the database directory before.
    pub bytes_before: u64,
    /// Bytes of the database directory after.
    pub bytes_after: u64,
}

/// Compacts the store in `dir` (see the module docs), waiting up to
/// `lock_wait` for another handle to close it. `progress` is called with
/// the bytes of values copied so far and the bytes of the old database (a
/// bound, not the total: the copy holds only the live part).
pub fn compact(
    dir: &Path,
    lock_wait: Duration,
    progress: Option<&(dyn Fn(u64, u64) + Send + Sync)>,
) -> Result<Compacted, StoreError> {
    compact_in_steps(dir, lock_wait, progress, BATCH_BYTES, REOPEN_EVERY)
}

/// [`compact`], writing sled batches of `batch_bytes` and reopening the
/// copy after every `reopen_every` bytes (so that tests reach many
/// batches and reopenings with a small store).
#[doc(hidden)]
pub fn compact_in_steps(
    dir: &Path,
    lock_wait: Duration,
    progress: Option<&(dyn Fn(u64, u64) + Send + Sync)>,
    batch_bytes: usize,
    reopen_every: u64,
) -> Result<Compacted, StoreError> {
    let db_dir = dir.join(DB_DIR);
    if !db_dir.exists() {
        return Err(StoreError::NotAStore(dir.to_path_buf()));
    }
    // Each value is read once: the old database is read as one pass
    // (crates/store/src/scan.rs).
    let old = open_db_caching(&db_dir, lock_wait, PASS_CACHE)?;
    read_head(&old, None)?;
    remove_leftovers(dir)?;
    let bytes_before = dir_bytes(&db_dir)?;
    let temp = dir.join(format!(
        "{COMPACTING}{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    let steps = (batch_bytes.max(1), reopen_every);
    let outcome = copy_and_exchange(&old, &db_dir, &temp, bytes_before, progress, steps);
    // Nothing was written to the old database; after an exchange its files
    // are under `temp`, and before one (a failure) `temp` is the copy.
    drop(old);
    let (values, live_bytes) = match outcome {
        Ok(copied) => copied,
        Err(e) => {
            let _ = remove_dir_tolerant(&temp);
            return Err(e);
        }
    };
    // The old database, now under the temporary name: a failure to remove
    // it leaves a leftover the next open removes, not a failed compaction.
    let _ = remove_dir_tolerant(&temp);
    Ok(Compacted {
        values,
        live_bytes,
        bytes_before,
        // Best effort: another process may already be writing to it.
        bytes_after: dir_bytes(&db_dir).unwrap_or(0),
    })
}

/// Steps 2 and 3 of the module docs: the copy, its comparison with the
/// old database, and the exchange. Returns the values and bytes copied.
fn copy_and_exchange(
    old: &sled::Db,
    db_dir: &Path,
    temp: &Path,
    bound: u64,
    progress: Option<&(dyn Fn(u64, u64) + Send + Sync)>,
    (batch_bytes, reopen_every): (usize, u64),
) -> Result<(u64, u64), StoreError> {
    let mut new = open_db_caching(temp, Duration::ZERO, PASS_CACHE)?;
    let mut values = 0u64;
    let mut bytes = 0u64;
    let mut since_reopen = 0u64;
    for name in old.tree_names() {
        let from = old.open_tree(&name)?;
        let mut to = new.open_tree(&name)?;
        let mut batch = sled::Batch::default();
        let mut in_batch = 0usize;
        for kv in scan_prefix(&from, []) {
            let (k, v) = kv?;
            in_batch += k.len() + v.len();
            bytes += (k.len() + v.len()) as u64;
            values += 1;
            batch.insert(k, v);
            if in_batch >= batch_bytes {
                to.apply_batch(std::mem::take(&mut batch))?;
                since_reopen += in_batch as u64;
                in_batch = 0;
                if let Some(p) = progress {
                    p(bytes, bound.max(bytes));
                }
                if since_reopen >= reopen_every {
                    drop(to);
                    new = reopen(new, temp)?;
                    to = new.open_tree(&name)?;
                    since_reopen = 0;
                }
            }
        }
        to.apply_batch(batch)?;
    }
    // Read back through a handle that holds none of what was written.
    let new = reopen(new, temp)?;
    compare(old, &new, temp)?;
    drop(new);
    wait_for_release(temp)?;
    // sled fsyncs its log file only: the blob files (values and pages
    // above a quarter of a segment, entry bundles among them), `conf` and
    // the directories are synced here, so that after the exchange and the
    // removal of the old database a power loss cannot leave a copy whose
    // files never reached the disk.
    sync_tree(temp)?;
    // Whatever the old handle had buffered is on disk before its files
    // move (it wrote nothing; this makes sure).
    old.flush()?;
    exchange(db_dir, temp)?;
    let parent = db_dir.parent().unwrap_or(Path::new("."));
    std::fs::File::open(parent)
        .and_then(|d| d.sync_all())
        .map_err(io(parent))?;
    if let Some(p) = progress {
        p(bytes, bytes);
    }
    Ok((values, bytes))
}

/// Flushes `db` (the copy at `path`), closes it and opens it again, with
/// an empty cache.
fn reopen(db: sled::Db, path: &Path) -> Result<sled::Db, StoreError> {
    db.flush()?;
    drop(db);
    wait_for_release(path)?;
    open_db_caching(path, Duration::ZERO, PASS_CACHE)
}

/// Waits up to [`CLOSE_WAIT`] for sled to release the lock of the
/// database at `path`, whose last handle was just dropped.
fn wait_for_release(path: &Path) -> Result<(), StoreError> {
    let start = Instant::now();
    while lock_held(path)? {
        if start.elapsed() > CLOSE_WAIT {
            return Err(StoreError::InUse {
                path: path.to_path_buf(),
                waited: start.elapsed(),
            });
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(())
}

/// Reads the copy back and compares it with the old database, tree by tree
/// and value by value: a copy that differs in anything is not put in place.
fn compare(old: &sled::Db, new: &sled::Db, temp: &Path) -> Result<(), StoreError> {
    let differs = || {
        StoreError::corrupt(
            Corruption::DamagedDatabase(DatabaseDamage::Reported),
            Place::DatabaseFiles(temp.to_path_buf()),
        )
    };
    let (mut names, mut copied) = (old.tree_names(), new.tree_names());
    names.sort();
    copied.sort();
    if names != copied {
        return Err(differs());
    }
    for name in names {
        let (a, b) = (old.open_tree(&name)?, new.open_tree(&name)?);
        let (mut a, mut b) = (scan_prefix(&a, []), scan_prefix(&b, []));
        loop {
            match (a.next().transpose()?, b.next().transpose()?) {
                (None, None) => break,
                (Some(x), Some(y)) if x == y => {}
                _ => return Err(differs()),
            }
        }
    }
    Ok(())
}

/// Exchanges two directories atomically (Linux `renameat2` with
/// `RENAME_EXCHANGE`). A file system without it gets an error and no
/// change.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> Result<(), StoreError> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(|e| StoreError::Io {
        path: a.to_path_buf(),
        source: e.into(),
    })
}

/// Exchanges two directories atomically: not available on this system, so
/// compaction stops before anything is changed.
#[cfg(not(target_os = "linux"))]
fn exchange(a: &Path, _b: &Path) -> Result<(), StoreError> {
    Err(StoreError::Io {
        path: a.to_path_buf(),
        source: std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "compaction needs an atomic exchange of two directories (Linux renameat2)",
        ),
    })
}

/// Removes what a compaction killed before its end left in `dir` (see the
/// module docs). The caller holds the lock of the database in place, so no
/// running compaction owns any of them: a compaction holds that lock from
/// before it creates its copy until the exchange, after which its copy's
/// name holds the old database.
pub(crate) fn remove_leftovers(dir: &Path) -> Result<(), StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(StoreError::Io {
                path: dir.to_path_buf(),
                source,
            });
        }
    };
    let leftovers: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| is_our_name(&e.file_name().to_string_lossy()))
        // Only real directories (no link, no file of that name).
        .filter(|e| std::fs::symlink_metadata(e.path()).is_ok_and(|m| m.is_dir()))
        .map(|e| e.path())
        .collect();
    for path in leftovers {
        // One that cannot be removed (permissions, a read-only file
        // system) does not stop the store from opening.
        let _ = remove_dir_tolerant(&path);
    }
    Ok(())
}

/// Whether `name` is one compaction gives its copy:
/// `db.compacting-<digits>-<digits>`.
fn is_our_name(name: &str) -> bool {
    name.strip_prefix(COMPACTING)
        .and_then(|rest| rest.split_once('-'))
        .is_some_and(|(pid, n)| {
            !pid.is_empty()
                && !n.is_empty()
                && pid.bytes().all(|b| b.is_ascii_digit())
                && n.bytes().all(|b| b.is_ascii_digit())
        })
}

/// fsyncs every file and directory under `path`, and `path` itself.
fn sync_tree(path: &Path) -> Result<(), StoreError> {
    for entry in std::fs::read_dir(path).map_err(io(path))? {
        let entry = entry.map_err(io(path))?;
        let meta = entry.metadata().map_err(io(&entry.path()))?;
        if meta.is_dir() {
            sync_tree(&entry.path())?;
        } else {
            std::fs::File::open(entry.path())
                .and_then(|f| f.sync_all())
                .map_err(io(&entry.path()))?;
        }
    }
    std::fs::File::open(path)
        .and_then(|d| d.sync_all())
        .map_err(io(path))
}

/// `remove_dir_all`, where a path already gone (removed by another
/// process) is no failure.
fn remove_dir_tolerant(path: &Path) -> Result<(), StoreError> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(StoreError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Bytes of the files under `path`.
fn dir_bytes(path: &Path) -> Result<u64, StoreError> {
    let mut total = 0;
    for entry in std::fs::read_dir(path).map_err(io(path))? {
        let entry = entry.map_err(io(path))?;
        let meta = entry.metadata().map_err(io(&entry.path()))?;
        total += if meta.is_dir() {
            dir_bytes(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}
