//! The high-water mark: the latest durable signed checkpoint, kept in a
//! small file beside the database ([`MARK_FILE`]), so that a database
//! that comes back **older** than what was acknowledged is refused instead
//! of served.
//!
//! Why: when sled finds its log cut short or its tail torn, it recovers the
//! last consistent state it can, which may be many commits old, and opens
//! without complaint. That state is internally consistent and signed, so
//! nothing inside the database can tell it was rolled back; yet receipts
//! issued since name records that no longer exist. The mark, outside
//! sled, remembers how far the log had durably got.
//!
//! Protocol:
//!
//! - **Write** after every durable commit: after the commit's `flush`
//!   returned and before it is published or any receipt is returned (see
//!   [`crate::commit`]), and at `init`. The new mark is written to
//!   `checkpoint.mark.tmp`; the old mark is renamed `checkpoint.mark.old`,
//!   the new one renamed into place, and the old one removed. At every
//!   step a whole mark exists (`checkpoint.mark`, else
//!   `checkpoint.mark.old`), never a mix. No rename replaces an existing
//!   file: on ext4 (`auto_da_alloc`) replacing a recently written file
//!   starts its writeback at once, 0.4–1.1 ms per commit measured on ext4,
//!   while these four steps took about 50 µs.
//! - **No fsync** is needed for soundness. The mark is only ever written
//!   after the database flush that made its checkpoint durable, so it can
//!   be ahead of the durable database only if the database lost data it
//!   had made durable, which is exactly what it is there to detect. A
//!   crash may instead lose the latest mark write (or leave an empty file
//!   on some file systems): the mark is then older than the database, which
//!   is accepted, and the mark is rewritten at open. The cost is one small
//!   file write and three metadata operations per group commit (not per
//!   record), next to the commit's own fsync (milliseconds).
//! - **Check** at open (and by [`crate::LogCopy::take`]): the mark must
//!   verify as a checkpoint of this log, under its key, and the database's
//!   checkpoint must be the mark's or extend it: a smaller size is
//!   [`Corruption::RolledBack`]; at the mark's size, the database's tree
//!   (the signed root, or below it the root computed from the stored hash
//!   tiles, or from the records if the tiles are damaged, so that the
//!   store still opens for `rebuild`) must have the mark's root, else
//!   [`Corruption::Forked`]. A
//!   missing or empty mark (a store written before marks existed, a crash
//!   as above) is accepted and recreated.
//!
//! The mark detects damage, not a dishonest operator, who can delete it
//! along with the data; that is what witnesses and verifiers' remembered
//! checkpoints are for.

use std::io::Read;
use std::path::{Path, PathBuf};

use forewarn_tlog::checkpoint::SignedCheckpoint;
use forewarn_tlog::hash::Hash;
use forewarn_tlog::note::VerifierKey;
use forewarn_tlog::tree::{InMemoryTree, tree_hash};

use crate::error::{Corruption, Place, StoreError, io};
use crate::reader::{DbHashReader, LogState, SledTiles, records_in};

/// File name of the high-water mark inside the store directory: the
/// latest durable signed checkpoint (C2SP tlog-checkpoint note).
pub const MARK_FILE: &str = "checkpoint.mark";
/// The file a new mark is written to before it is renamed into place.
const MARK_TEMP: &str = "checkpoint.mark.tmp";
/// The previous mark while a new one is put in place.
const MARK_OLD: &str = "checkpoint.mark.old";
/// Largest mark read (a signed note is far smaller).
const MAX_MARK_BYTES: u64 = 64 * 1024;

/// Replaces the mark in `dir` with `checkpoint` (see the module docs for
/// the steps). Call only once the database holding `checkpoint` has been
/// flushed.
pub(crate) fn write_mark(dir: &Path, checkpoint: &[u8]) -> Result<(), StoreError> {
    let (temp, path, old) = (dir.join(MARK_TEMP), dir.join(MARK_FILE), dir.join(MARK_OLD));
    std::fs::write(&temp, checkpoint).map_err(io(&temp))?;
    match std::fs::rename(&path, &old) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => return Err(StoreError::Io { path, source }),
    }
    std::fs::rename(&temp, &path).map_err(io(&path))?;
    match std::fs::remove_file(&old) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(StoreError::Io { path: old, source }),
    }
}

/// The mark's bytes and file: `checkpoint.mark`, else the previous mark
/// left by an interrupted [`write_mark`], else none (at most
/// [`MAX_MARK_BYTES`] + 1 bytes read).
fn read_mark(dir: &Path) -> Result<Option<(Vec<u8>, PathBuf)>, StoreError> {
    for name in [MARK_FILE, MARK_OLD] {
        let path = dir.join(name);
        match std::fs::File::open(&path) {
            Ok(f) => {
                let mut bytes = Vec::new();
                f.take(MAX_MARK_BYTES + 1)
                    .read_to_end(&mut bytes)
                    .map_err(io(&path))?;
                return Ok(Some((bytes, path)));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(StoreError::Io { path, source }),
        }
    }
    Ok(None)
}

/// Whether the mark in `dir` should be (re)written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MarkCheck {
    /// The mark names the database's checkpoint.
    Current,
    /// The mark is missing, empty, or names an earlier checkpoint of the
    /// same tree (a lost mark write): accepted, to be rewritten.
    Behind,
}

/// Checks the database's verified head `state` (of the log `origin` under
/// `vkey`) against the mark in `dir` (see the module docs).
pub(crate) fn check_mark(
    dir: &Path,
    db: &sled::Db,
    vkey: &VerifierKey,
    origin: &str,
    state: &LogState,
) -> Result<MarkCheck, StoreError> {
    let Some((bytes, path)) = read_mark(dir)? else {
        return Ok(MarkCheck::Behind);
    };
    if bytes.is_empty() {
        return Ok(MarkCheck::Behind);
    }
    let at = || Place::Mark(path.clone());
    if bytes.len() as u64 > MAX_MARK_BYTES {
        return Err(StoreError::corrupt(Corruption::Malformed, at()));
    }
    let mark = SignedCheckpoint::open(&bytes, vkey, Some(origin), &[])
        .map_err(|e| StoreError::corrupt(Corruption::BadCheckpoint(Box::new(e)), at()))?;
    let (mark_size, mark_root) = (mark.checkpoint.size(), *mark.checkpoint.root());
    if mark_size > state.size {
        return Err(StoreError::corrupt(
            Corruption::RolledBack {
                mark_size,
                db_size: state.size,
            },
            at(),
        ));
    }
    let root = if mark_size == state.size {
        state.root
    } else {
        let tiles = SledTiles::new(db);
        match tree_hash(mark_size, &DbHashReader::committed(state.size, &tiles)) {
            Ok(root) => root,
            // The tiles are derived state, repaired by `rebuild` (which
            // needs an open store): the records decide.
            Err(_) => root_from_records(db, mark_size, state.size)?,
        }
    };
    if root != mark_root {
        return Err(StoreError::corrupt(
            Corruption::Forked { size: mark_size },
            at(),
        ));
    }
    Ok(if mark_size == state.size {
        MarkCheck::Current
    } else {
        MarkCheck::Behind
    })
}

/// The root of the first `count` records of a log of `size` records,
/// hashed from the records themselves.
fn root_from_records(db: &sled::Db, count: u64, size: u64) -> Result<Hash, StoreError> {
    let mut tree = InMemoryTree::new();
    for r in records_in(db, 0, count, size) {
        tree.append(forewarn_ledger::statement::leaf_hash(&r?));
    }
    Ok(tree.root())
}
