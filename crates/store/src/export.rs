//! Static export as a C2SP tlog-tiles tree, and auditing such an export.
//!
//! `DIR/checkpoint`, `DIR/tile/<L>/<N>[.p/<W>]` (hash tiles) and
//! `DIR/tile/entries/<N>[.p/<W>]` (entry bundles: the record bytes) — what
//! any static web server can host and any tlog-tiles client can read.
//! The store keeps the log in this layout already, so an export is a
//! decompressing copy; the audit of an export uses nothing but its files
//! and the pinned log key.

use std::path::{Path, PathBuf};

use forewarn_ledger::auditor::{AuditConfig, Auditor, PagedError};
use forewarn_ledger::finding::IntegrityFailure;
use forewarn_ledger::statement::leaf_hash;
use forewarn_tlog::checkpoint::CheckpointError;
use forewarn_tlog::note::{MAX_NOTE_SIZE, VerifierKey};
use forewarn_tlog::tile::{
    MAX_ENTRY_SIZE, Tile, TileDataError, TileKind, new_entry_bundles, parse_entry_bundle,
    tiles_for_size,
};

use crate::error::{Corruption, Place, StoreError, io};
use crate::layout::{BUNDLE, bundle_key, tile_key};
use crate::open::Store;
use crate::paged::{Ahead, Fold, PagedReplay, fold_ahead};
use crate::reader::bundle_bytes;
use crate::tile_check::TileCheck;

impl Store {
    /// Writes the log as static tiles under `dir` (created if needed).
    /// Returns the number of files written.
    pub fn export_tiles(
        &self,
        dir: &Path,
        progress: &dyn Fn(u64, u64),
    ) -> Result<usize, StoreError> {
        let size = self.size();
        let db = &self.shared.db;
        let mut files = 0;
        let write = |tile: &Tile, data: &[u8]| -> Result<(), StoreError> {
            let path = dir.join(tile.path());
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
            }
            std::fs::write(&path, data).map_err(io(&path))
        };
        // The store keeps the log in the tlog-tiles layout: export is a copy,
        // read as one pass that lets sled's cache evict behind it
        // (`crate::scan`; the command opens the store with `PASS_CACHE`).
        let mut unevicted = 0;
        for tile in tiles_for_size(size) {
            let TileKind::Hashes { level } = tile.kind else {
                continue;
            };
            let at = Place::Tile {
                level,
                index: tile.index,
            };
            let key = tile_key(level, tile.index);
            let data = db
                .get(key)?
                .ok_or_else(|| StoreError::corrupt(Corruption::Missing, at.clone()))?;
            unevicted += data.len();
            if unevicted >= crate::scan::EVICT_EVERY {
                crate::scan::evict_behind(db, &key)?;
                unevicted = 0;
            }
            // Exactly the tile's width (a stored partial tile may be wider,
            // never narrower: see the reader module).
            let want = usize::from(tile.width) * 32;
            if data.len() < want {
                return Err(StoreError::corrupt(
                    Corruption::ShortTile {
                        got: data.len(),
                        want,
                    },
                    at,
                ));
            }
            write(&tile, &data[..want])?;
            files += 1;
        }
        for bundle in new_entry_bundles(0, size) {
            let data = bundle_bytes(db, bundle.index, usize::from(bundle.width))?;
            crate::scan::evict_behind(db, &bundle_key(bundle.index))?;
            write(&bundle, &data)?;
            files += 1;
            progress(bundle.index * BUNDLE + u64::from(bundle.width), size);
        }
        let path = dir.join("checkpoint");
        std::fs::write(&path, self.checkpoint()).map_err(io(&path))?;
        Ok(files + 1)
    }
}

/// Why an export failed its audit.
#[derive(Debug)]
#[non_exhaustive]
pub enum ExportAuditError {
    /// A file is missing or unreadable.
    Io(PathBuf, std::io::Error),
    /// The checkpoint file does not verify under the pinned key.
    Checkpoint(CheckpointError),
    /// A bundle or tile file is malformed.
    Malformed {
        /// The file, relative to the export.
        path: String,
        /// What is wrong.
        source: TileDataError,
    },
    /// A hash tile disagrees with the records.
    TileMismatch {
        /// The file, relative to the export.
        path: String,
    },
    /// The records fail the ledger's checks, or the checkpoint does not
    /// match them.
    Integrity(IntegrityFailure),
    /// A paged replay's scratch database could not be read or written.
    Scratch(StoreError),
}

impl std::fmt::Display for ExportAuditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExportAuditError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            ExportAuditError::Checkpoint(e) => write!(f, "checkpoint: {e}"),
            ExportAuditError::Malformed { path, source } => write!(f, "{path}: {source}"),
            ExportAuditError::TileMismatch { path } => {
                write!(f, "{path}: the hash tile does not match the records")
            }
            ExportAuditError::Integrity(failure) => write!(f, "{failure}"),
            ExportAuditError::Scratch(e) => write!(f, "the audit's scratch database: {e}"),
        }
    }
}

impl std::error::Error for ExportAuditError {}

/// Reads at most `limit` bytes of a file; a longer file is an
/// `InvalidData` error.
fn read_capped(path: &Path, limit: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut data = Vec::new();
    std::fs::File::open(path)?
        .take(limit as u64 + 1)
        .read_to_end(&mut data)?;
    if data.len() > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {limit} bytes, the most a file of its kind holds"),
        ));
    }
    Ok(data)
}

/// Bundles handed to the auditor at once: 128 bundles, 32,768 records, as
/// in the store's own audit (`crate::copy`). Exact batch verification pays
/// a fixed cost per batch, so one bundle (256 records) at a time would run
/// at a third of the auditor's rate.
const CHUNK_BUNDLES: usize = 128;

/// At most this many bytes of bundle files in one chunk: an export is
/// untrusted, and one bundle file may be up to 256 × (2 + 65,535) bytes,
/// so a chunk is also cut by size (a real bundle is about 90 KB).
const CHUNK_BYTES: usize = 32 << 20;

/// Bundle files read ahead of the auditor, in order: each with its tile
/// and bytes (already parsed once, so well formed), or the error that
/// stopped the reading there.
type Chunk = Result<Vec<(Tile, Vec<u8>)>, ExportAuditError>;

/// Audits a tile export using only its files: the checkpoint (verified
/// with the pinned `log_key`), every entry bundle (records replayed through
/// the auditor), and every hash tile (recomputed from the records).
///
/// The verdict is the first failure in that order: a record, then the
/// checkpoint, then the hash tiles level by level, each level in index
/// order. A reader thread reads the bundle files ahead of the auditor,
/// hashes their records and checks the hash tiles as they complete
/// (`TileCheck`), so memory stays bounded by the open tile of each level
/// and the chunks in flight, whatever the size of the log.
pub fn audit_tiles(
    dir: &Path,
    log_key: &VerifierKey,
    config: AuditConfig,
    progress: &dyn Fn(u64, u64),
) -> Result<Auditor, ExportAuditError> {
    audit_tiles_into(dir, log_key, config, progress, |config, _| {
        Ok(Auditor::new(config))
    })
}

/// [`audit_tiles`] in bounded memory: a [`PagedReplay`] whose scratch
/// database is made under `scratch` (default: the system's temporary
/// directory).
pub fn audit_tiles_paged(
    dir: &Path,
    log_key: &VerifierKey,
    config: AuditConfig,
    scratch: Option<&Path>,
    progress: &dyn Fn(u64, u64),
) -> Result<PagedReplay, ExportAuditError> {
    audit_tiles_into(dir, log_key, config, progress, |config, size| {
        PagedReplay::new(config, scratch, size).map_err(ExportAuditError::Scratch)
    })
}

/// The records of a chunk of bundle files.
fn chunk_records(chunk: &Vec<(Tile, Vec<u8>)>) -> Result<Vec<&[u8]>, ExportAuditError> {
    let mut entries: Vec<&[u8]> = Vec::with_capacity(chunk.len() * BUNDLE as usize);
    for (bundle, data) in chunk {
        // Parsed on the reader thread already; parsed again here (a scan
        // of the length prefixes) to borrow the entries.
        let parsed = parse_entry_bundle(data, usize::from(bundle.width)).map_err(|source| {
            ExportAuditError::Malformed {
                path: bundle.path(),
                source,
            }
        })?;
        entries.extend(parsed);
    }
    Ok(entries)
}

fn audit_tiles_into<F: Fold>(
    dir: &Path,
    log_key: &VerifierKey,
    config: AuditConfig,
    progress: &dyn Fn(u64, u64),
    make: impl FnOnce(AuditConfig, u64) -> Result<F, ExportAuditError>,
) -> Result<F, ExportAuditError> {
    let checkpoint = read_file(dir.join("checkpoint"), MAX_NOTE_SIZE)?;
    let signed = forewarn_tlog::checkpoint::SignedCheckpoint::open(&checkpoint, log_key, None, &[])
        .map_err(ExportAuditError::Checkpoint)?;
    let size = signed.checkpoint.size();
    // Every statement must name the log the pinned key's checkpoint names.
    let mut auditor = make(
        AuditConfig {
            origin: config
                .origin
                .or_else(|| Some(signed.checkpoint.origin().to_string())),
            ..config
        },
        size,
    )?;
    // Rendezvous channels: the reader fills the next chunk while the one
    // before it is prepared and the one before that folded, so at most
    // three chunks are held.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Chunk>(0);
    let tiles = std::thread::scope(|s| {
        let reader = s.spawn(move || read_ahead(dir, size, &tx));
        fold_ahead(&mut auditor, rx.into_iter(), chunk_records, |auditor, _| {
            progress(auditor.auditor_mut().size(), size);
            Ok(())
        })
        .map_err(|e| match e {
            Ahead::Chunk(e) => e,
            Ahead::Fold(PagedError::Integrity(f)) => ExportAuditError::Integrity(f),
            Ahead::Fold(PagedError::Paging(e)) => ExportAuditError::Scratch(e),
        })?;
        // The channel closed: every bundle was sent (an error would have
        // been sent, and returned above). A reader that panicked is a bug,
        // passed on as one.
        Ok(reader
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p)))
    })?;
    auditor
        .auditor_mut()
        .verify_checkpoint(&checkpoint, log_key, None)
        .map_err(ExportAuditError::Integrity)?;
    tiles?;
    Ok(auditor)
}

/// Reads at most `limit` bytes of the file at `p` (see [`read_capped`]).
fn read_file(p: PathBuf, limit: usize) -> Result<Vec<u8>, ExportAuditError> {
    read_capped(&p, limit).map_err(|e| ExportAuditError::Io(p, e))
}

/// The reader thread of [`audit_tiles`]: sends the entry bundles of a log
/// of `size` records in chunks, in order, up to the first one that cannot
/// be read or parsed (then that error); meanwhile hashes every record and
/// checks the hash tiles. Returns the hash tiles' verdict, which the
/// caller reports only after the records' and the checkpoint's.
fn read_ahead(
    dir: &Path,
    size: u64,
    tx: &std::sync::mpsc::SyncSender<Chunk>,
) -> Result<(), ExportAuditError> {
    let mut tiles = TileCheck::new(|tile: Tile, want: &[u8]| {
        match read_file(dir.join(tile.path()), want.len()) {
            Err(e) => Some(e),
            Ok(data) if data != want => Some(ExportAuditError::TileMismatch { path: tile.path() }),
            Ok(_) => None,
        }
    });
    let mut chunk = Vec::with_capacity(CHUNK_BUNDLES);
    let mut bytes = 0;
    for bundle in new_entry_bundles(0, size) {
        // At most 256 entries, each a 2-byte length and its bytes.
        let read = read_file(
            dir.join(bundle.path()),
            usize::from(bundle.width) * (2 + MAX_ENTRY_SIZE),
        )
        .and_then(|data| {
            let entries =
                parse_entry_bundle(&data, usize::from(bundle.width)).map_err(|source| {
                    ExportAuditError::Malformed {
                        path: bundle.path(),
                        source,
                    }
                })?;
            for e in &entries {
                tiles.push(0, leaf_hash(e));
            }
            Ok(data)
        });
        match read {
            Ok(data) => {
                bytes += data.len();
                chunk.push((bundle, data));
            }
            Err(e) => {
                // The records before this bundle are audited first: a
                // failure among them is the verdict, as it comes first.
                if !chunk.is_empty() && tx.send(Ok(chunk)).is_err() {
                    return Ok(());
                }
                let _ = tx.send(Err(e));
                return Ok(());
            }
        }
        if chunk.len() == CHUNK_BUNDLES || bytes >= CHUNK_BYTES {
            let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_BUNDLES));
            bytes = 0;
            // A closed channel: the auditor stopped at a failure.
            if tx.send(Ok(full)).is_err() {
                return Ok(());
            }
        }
    }
    if !chunk.is_empty() {
        let _ = tx.send(Ok(chunk));
    }
    tiles.finish()
}

#[cfg(test)]
mod tests {
    use forewarn_tlog::hash::Hash;
    use forewarn_tlog::tile::{TileKind, read_tile_data, tiles_for_size};
    use forewarn_tlog::tree::InMemoryTree;
    use sha2::{Digest, Sha256};

    use super::*;

    /// Synthetic leaf hashes: the tile check never looks inside a leaf.
    fn leaves(size: u64) -> Vec<Hash> {
        (0..size)
            .map(|i| Hash(Sha256::digest(i.to_be_bytes()).into()))
            .collect()
    }

    /// Every hash tile of the tree of `leaves`, from the in-memory tree
    /// (the oracle), written under `dir`.
    fn write_tiles(dir: &Path, leaves: &[Hash]) -> Vec<Tile> {
        let mut tree = InMemoryTree::new();
        for l in leaves {
            tree.append(*l);
        }
        let tiles = tiles_for_size(leaves.len() as u64);
        for &tile in &tiles {
            let path = dir.join(tile.path());
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, read_tile_data(tile, &tree).unwrap()).unwrap();
        }
        tiles
    }

    fn check(dir: &Path, leaves: &[Hash]) -> Result<(), ExportAuditError> {
        let mut c = TileCheck::new(|tile: Tile, want: &[u8]| {
            match read_file(dir.join(tile.path()), want.len()) {
                Err(e) => Some(e),
                Ok(data) if data != want => {
                    Some(ExportAuditError::TileMismatch { path: tile.path() })
                }
                Ok(_) => None,
            }
        });
        for l in leaves {
            c.push(0, *l);
        }
        c.finish()
    }

    fn flip(dir: &Path, tile: Tile) {
        let p = dir.join(tile.path());
        let mut bytes = std::fs::read(&p).unwrap();
        let i = bytes.len() / 2;
        bytes[i] ^= 1;
        std::fs::write(&p, bytes).unwrap();
    }

    // Sizes around each tile boundary, up to three levels (2^16 leaves
    // make the first level-2 hash).
    const SIZES: [u64; 9] = [
        0,
        1,
        255,
        256,
        257,
        65_535,
        65_536,
        65_537,
        65_536 + 256 * 3 + 5,
    ];

    #[test]
    fn every_tile_of_the_tree_is_checked_and_accepted() {
        for size in SIZES {
            let dir = tempfile::tempdir().unwrap();
            let leaves = leaves(size);
            let tiles = write_tiles(dir.path(), &leaves);
            check(dir.path(), &leaves).unwrap_or_else(|e| panic!("size {size}: {e}"));
            // Each tile is compared with its file: the first, the last, and
            // the last of each level, damaged one at a time, are found.
            let mut picks: Vec<Tile> = tiles.first().into_iter().copied().collect();
            for level in 0..3 {
                picks.extend(
                    tiles
                        .iter()
                        .rfind(|t| t.kind == (TileKind::Hashes { level })),
                );
            }
            for tile in picks {
                flip(dir.path(), tile);
                match check(dir.path(), &leaves) {
                    Err(ExportAuditError::TileMismatch { path }) => {
                        assert_eq!(path, tile.path(), "size {size}")
                    }
                    other => panic!("size {size}, {}: {other:?}", tile.path()),
                }
                flip(dir.path(), tile);
            }
            // A missing tile is a failure to read that file.
            if let Some(last) = tiles.last() {
                std::fs::remove_file(dir.path().join(last.path())).unwrap();
                match check(dir.path(), &leaves) {
                    Err(ExportAuditError::Io(p, _)) => assert!(p.ends_with(last.path())),
                    other => panic!("size {size}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn the_first_failure_is_the_first_in_tiles_for_size_order() {
        // Level-1 tile 0 is complete (at leaf 65,536) long before the last
        // level-0 tiles, yet a failure in any level-0 tile is the verdict.
        let size = 65_536 + 256 * 3 + 5;
        let dir = tempfile::tempdir().unwrap();
        let leaves = leaves(size);
        let tiles = write_tiles(dir.path(), &leaves);
        let at = |level: u8, index: u64| {
            *tiles
                .iter()
                .find(|t| t.kind == (TileKind::Hashes { level }) && t.index == index)
                .unwrap()
        };
        for damaged in [
            vec![at(1, 0), at(0, 256)],
            vec![at(2, 0), at(1, 1), at(0, 258)],
            vec![at(2, 0), at(1, 0)],
            vec![at(0, 7), at(0, 3)],
        ] {
            for &t in &damaged {
                flip(dir.path(), t);
            }
            let first = tiles.iter().find(|t| damaged.contains(t)).unwrap();
            match check(dir.path(), &leaves) {
                Err(ExportAuditError::TileMismatch { path }) => assert_eq!(path, first.path()),
                other => panic!("{other:?}"),
            }
            for &t in &damaged {
                flip(dir.path(), t);
            }
        }
        check(dir.path(), &leaves).unwrap();
    }

    #[test]
    fn a_tile_longer_or_shorter_than_its_width_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let leaves = leaves(300);
        let tiles = write_tiles(dir.path(), &leaves);
        let p = dir.path().join(tiles[0].path());
        let good = std::fs::read(&p).unwrap();
        let mut longer = good.clone();
        longer.push(0);
        std::fs::write(&p, &longer).unwrap();
        assert!(
            matches!(check(dir.path(), &leaves), Err(ExportAuditError::Io(..))),
            "a file longer than its tile is refused before it is compared"
        );
        std::fs::write(&p, &good[..good.len() - 32]).unwrap();
        assert!(matches!(
            check(dir.path(), &leaves),
            Err(ExportAuditError::TileMismatch { .. })
        ));
    }
}
