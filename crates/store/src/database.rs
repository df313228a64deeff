//! The sled database: opening it with the store's settings, its lock,
//! and its failures at open.
//!
//! sled 0.34 allows one open handle per database (an exclusive `flock` on
//! `db/db`) and may panic inside its page cache when its files are damaged
//! (a truncated `db/db`, say). Both are handled here: the lock is probed
//! with the same kind of lock sled takes ([`lock_held`]) and waited for a
//! bounded time ([`crate::StoreConfig::lock_wait`]); a panic during
//! sled's open and first reads is caught and reported as
//! [`Corruption::DamagedDatabase`], and so is an error sled itself
//! reports about its files.
//!
//! One kind of damage is sled's own and is repaired here before every
//! open: a snapshot file sled began and did not rename, left by a process
//! killed while sled wrote it (see [`settle_unfinished_snapshots`]).

use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{Corruption, DatabaseDamage, Place, StoreError};
use crate::layout::META_CHECKPOINT;
use crate::open::DEFAULT_LOCK_WAIT;

/// Opens a store's sled database (`DIR/db`) with the store's settings,
/// waiting up to [`DEFAULT_LOCK_WAIT`] for its lock. Public for tools that
/// inspect a store. See [`open_db_waiting`].
pub fn open_db(path: &Path) -> Result<sled::Db, StoreError> {
    open_db_waiting(path, DEFAULT_LOCK_WAIT)
}

/// Opens a store's sled database: LowSpace mode (the growing last bundle
/// and tiles are rewritten in place on every commit; this mode reclaims
/// the superseded versions sooner), sled's own compression off (bundles
/// arrive compressed), no periodic flush (every write the store makes is
/// followed by its own `flush`).
///
/// sled locks the database while a handle is open, and a handle that was
/// just dropped releases the lock only when its background threads have
/// stopped, a moment later. This waits up to `wait` for the lock, then
/// fails with [`StoreError::InUse`]. A panic inside sled while it opens
/// and first reads its files is caught and reported as corruption.
pub fn open_db_waiting(path: &Path, wait: Duration) -> Result<sled::Db, StoreError> {
    open_db_caching(path, wait, SLED_CACHE)
}

/// sled's default cache size (1 GiB): the most of the database it keeps in
/// memory.
pub(crate) const SLED_CACHE: u64 = 1 << 30;

/// [`open_db_waiting`] with sled's cache limited to `cache` bytes (sled's
/// default is 1 GiB), for a pass that reads everything once.
pub(crate) fn open_db_caching(
    path: &Path,
    wait: Duration,
    cache: u64,
) -> Result<sled::Db, StoreError> {
    let config = sled::Config::new()
        .path(path)
        .mode(sled::Mode::LowSpace)
        .cache_capacity(cache)
        .flush_every_ms(None);
    let start = Instant::now();
    let mut settled_again = 0;
    loop {
        if !lock_held_else_tidy(path)? {
            match open_catching(&config, path)? {
                Ok(db) => return Ok(db),
                // Taken by another handle between the probe and sled's own
                // attempt: wait as if the probe had seen it.
                Err(sled::Error::Io(_)) if lock_held(path)? => {}
                Err(e @ sled::Error::Io(_)) => return Err(e.into()),
                // Another process opened the database between the probe's
                // settling and sled's own lock, and was killed while writing
                // its snapshot: settle that one too, a bounded number of
                // times.
                Err(sled::Error::Corruption { .. })
                    if settled_again < 3 && has_unfinished_snapshot(path) =>
                {
                    settled_again += 1;
                    continue;
                }
                Err(sled::Error::Corruption { .. })
                | Err(sled::Error::ReportableBug(_))
                | Err(sled::Error::Unsupported(_)) => {
                    return Err(StoreError::corrupt(
                        Corruption::DamagedDatabase(DatabaseDamage::Reported),
                        Place::DatabaseFiles(path.to_path_buf()),
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
        let waited = start.elapsed();
        if waited >= wait {
            return Err(StoreError::InUse {
                path: path.to_path_buf(),
                waited,
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether another handle holds sled's lock on the database at `path`.
///
/// sled 0.34.7 reports a held lock only as an `io::ErrorKind::Other` whose
/// message embeds the cause (`config.rs`, `try_lock`), so instead of
/// matching that text this asks the lock itself: sled takes an exclusive
/// `flock` on `PATH/db` with fs2's `try_lock_exclusive`; the probe takes
/// the same lock with the same call on a separate open file description,
/// so it fails as contended exactly while a sled handle (in this process
/// or another) holds it. The probe's own lock is released when the file is
/// dropped at the end of this function.
pub fn lock_held(path: &Path) -> Result<bool, StoreError> {
    probe_lock(path, |_| Ok(()))
}

/// [`lock_held`], and when the lock is free, [`settle_unfinished_snapshots`]
/// while holding it, so that no running sled handle can be writing the
/// snapshot that is settled.
fn lock_held_else_tidy(path: &Path) -> Result<bool, StoreError> {
    probe_lock(path, settle_unfinished_snapshots)
}

/// Takes sled's lock on the database at `path` if it is free, runs
/// `while_free` holding it, and releases it: `Ok(true)` if another handle
/// held it (and `while_free` did not run).
fn probe_lock(
    path: &Path,
    while_free: impl FnOnce(&Path) -> Result<(), StoreError>,
) -> Result<bool, StoreError> {
    let file_path = path.join("db");
    let file = match std::fs::File::open(&file_path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(source) => {
            return Err(StoreError::Io {
                path: file_path,
                source,
            });
        }
    };
    match fs2::FileExt::try_lock_exclusive(&file) {
        Ok(()) => {
            while_free(path)?;
            Ok(false)
        }
        Err(e) if e.kind() == fs2::lock_contended_error().kind() => Ok(true),
        Err(source) => Err(StoreError::Io {
            path: file_path,
            source,
        }),
    }
}

/// The suffix of a snapshot file sled is writing (`pagecache/snapshot.rs`,
/// `write_snapshot`).
const UNFINISHED: &str = ".generating";

/// The snapshot files sled began and did not rename (`snap.<LSN>.generating`),
/// which sled 0.34.7 would otherwise take for its newest snapshot: a
/// complete one is finished (renamed as sled would have), an incomplete one
/// removed.
///
/// sled writes a snapshot of its page table to `snap.<LSN>.generating`
/// (the bytes, their decompressed length as a little-endian u64, and a
/// CRC-32 of the bytes as a little-endian u32), fsyncs it and only then
/// renames it to `snap.<LSN>`; it does so on open whenever its log has
/// advanced since the last snapshot, and goes on to zero the torn tail of
/// its log. The next open lists every `snap.*` file
/// (`Config::get_snapshot_files` skips only the older `.in___motion`
/// suffix), sorts them and reads the last, which is the unfinished file
/// (a higher LSN, or the same digits and a longer name). One cut short
/// fails its checksum, and sled refuses the database as corrupt, for good
/// (sled's issue #1527).
///
/// - **Incomplete** (its checksum fails): a process was killed while
///   writing it, before the fsync and the rename, so sled never used it and
///   had not yet touched its log; removing it leaves the state of a kill a
///   moment earlier: sled recovers from the previous snapshot and replays
///   its log.
/// - **Complete**: written and fsynced, then either killed before the
///   rename or (after a power loss) the rename was not made durable while
///   the zeroing after it was. Renaming it gives the state just after
///   sled's own rename, the one sled's recovery is written for; removing it
///   could leave the zeroed log without the snapshot that accounts for it.
///   If a finished file of that name exists too, the unfinished one is a
///   leftover and is removed.
///
/// The directory is fsynced after any change. The caller holds sled's lock
/// (see [`lock_held_else_tidy`]), so no running handle is writing the file.
fn settle_unfinished_snapshots(path: &Path) -> Result<(), StoreError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| StoreError::Io { path, source }
    };
    let entries = match std::fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(StoreError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let mut changed = false;
    for entry in entries {
        let entry = entry.map_err(io(path))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(finished) = name
            .strip_suffix(UNFINISHED)
            .filter(|stem| stem.starts_with("snap."))
        else {
            continue;
        };
        let file = entry.path();
        let finished = path.join(finished);
        let bytes = std::fs::read(&file).map_err(io(&file))?;
        if is_complete_snapshot(&bytes) && !finished.exists() {
            std::fs::rename(&file, &finished).map_err(io(&file))?;
        } else {
            std::fs::remove_file(&file).map_err(io(&file))?;
        }
        changed = true;
    }
    if changed {
        std::fs::File::open(path)
            .and_then(|d| d.sync_all())
            .map_err(io(path))?;
    }
    Ok(())
}

/// Whether `bytes` end in the trailer sled 0.34.7 writes after a
/// snapshot: the length (8 bytes) and the CRC-32 of everything before
/// them (4 bytes, little-endian), as `read_snapshot` checks them.
fn is_complete_snapshot(bytes: &[u8]) -> bool {
    if bytes.len() <= 12 {
        return false;
    }
    let (body, trailer) = bytes.split_at(bytes.len() - 12);
    let crc = u32::from_le_bytes([trailer[8], trailer[9], trailer[10], trailer[11]]);
    crc32fast::hash(body) == crc
}

/// Whether an unfinished snapshot file is in the database directory.
fn has_unfinished_snapshot(path: &Path) -> bool {
    std::fs::read_dir(path).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with("snap.") && n.ends_with(UNFINISHED))
        })
    })
}

/// `sled::Config::open` and a first read, with any panic inside caught and
/// turned into corruption of the database files. The default panic hook's
/// report is suppressed for this thread meanwhile (see [`quiet_panics`]).
fn open_catching(
    config: &sled::Config,
    path: &Path,
) -> Result<Result<sled::Db, sled::Error>, StoreError> {
    let result = quiet_panics(|| {
        let db = config.open()?;
        // The first reads walk the recovered page table.
        db.get(b"m:format")?;
        db.get(META_CHECKPOINT)?;
        Ok(db)
    });
    result.map_err(|message| {
        StoreError::corrupt(
            Corruption::DamagedDatabase(DatabaseDamage::Panicked { message }),
            Place::DatabaseFiles(path.to_path_buf()),
        )
    })
}

thread_local! {
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, catching a panic as its message (at most 200 characters).
/// The process's panic hook is wrapped once so that it stays silent for a
/// thread inside this call and behaves as before everywhere else.
fn quiet_panics<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(|q| q.get()) {
                previous(info);
            }
        }));
    });
    let was = QUIET.with(|q| q.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was));
    result.map_err(|payload| {
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        text.chars().take(200).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_is_caught_as_its_message() {
        let caught = quiet_panics(|| -> u32 { panic!("segment {} out of range", 7) });
        assert_eq!(caught, Err("segment 7 out of range".to_string()));
        let long = quiet_panics(|| -> u32 { panic!("{}", "x".repeat(500)) });
        assert_eq!(long.unwrap_err().len(), 200);
        assert_eq!(quiet_panics(|| 5), Ok(5));
        // The hook is quiet only inside the call.
        assert!(!QUIET.with(|q| q.get()));
    }

    #[test]
    fn the_lock_probe_sees_a_sled_handle() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        assert!(!lock_held(&path).unwrap(), "no database yet");
        let db = open_db(&path).unwrap();
        assert!(lock_held(&path).unwrap());
        // sled's own second open fails while the probe says so.
        assert!(sled::Config::new().path(&path).open().is_err());
        drop(db);
        let start = Instant::now();
        while lock_held(&path).unwrap() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "the lock was never released"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        open_db(&path).unwrap();
    }
}
