//! Static export as a C2SP tlog-tiles tree, and auditing such an export.
//!
//! `DIR/checkpoint`, `DIR/tile/<L>/<N>[.p/<W>]` (hash tiles) and
//! `DIR/tile/entries/<N>[.p/<W>]` (entry bundles: the record bytes) — what
//! any static web server can host and any tlog-tiles client can read.
//! The store keeps the log in this layout already, so an export is a
//! decompressing copy; the audit of an export uses nothing but its files
//! and the pinned log key.

use std::path::{Path, PathBuf};

use forewarn_ledger::auditor::{AuditConfig, Auditor};
use forewarn_ledger::finding::IntegrityFailure;
use forewarn_ledger::statement::leaf_hash;
use forewarn_tlog::checkpoint::CheckpointError;
use forewarn_tlog::note::{MAX_NOTE_SIZE, VerifierKey};
use forewarn_tlog::tile::{
    MAX_ENTRY_SIZE, Tile, TileDataError, TileKind, new_entry_bundles, parse_entry_bundle,
    read_tile_data, tiles_for_size,
};
use forewarn_tlog::tree::InMemoryTree;

use crate::error::{Corruption, Place, StoreError, io};
use crate::layout::{BUNDLE, tile_key};
use crate::open::Store;
use crate::reader::bundle_bytes;

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
        // The store keeps the log in the tlog-tiles layout: export is a copy.
        for tile in tiles_for_size(size) {
            let TileKind::Hashes { level } = tile.kind else {
                continue;
            };
            let at = Place::Tile {
                level,
                index: tile.index,
            };
            let data = db
                .get(tile_key(level, tile.index))?
                .ok_or_else(|| StoreError::corrupt(Corruption::Missing, at.clone()))?;
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

/// Audits a tile export using only its files: the checkpoint (verified
/// with the pinned `log_key`), every entry bundle (records replayed through
/// the auditor), and every hash tile (recomputed from the records).
pub fn audit_tiles(
    dir: &Path,
    log_key: &VerifierKey,
    config: AuditConfig,
    progress: &dyn Fn(u64, u64),
) -> Result<Auditor, ExportAuditError> {
    // An export is untrusted input: each file is read up to the largest
    // its kind can be, so a huge file or a link to /dev/zero is refused
    // instead of being read until memory runs out.
    let read =
        |p: PathBuf, limit: usize| read_capped(&p, limit).map_err(|e| ExportAuditError::Io(p, e));
    let checkpoint = read(dir.join("checkpoint"), MAX_NOTE_SIZE)?;
    let signed = forewarn_tlog::checkpoint::SignedCheckpoint::open(&checkpoint, log_key, None, &[])
        .map_err(ExportAuditError::Checkpoint)?;
    let size = signed.checkpoint.size();
    // Every statement must name the log the pinned key's checkpoint names.
    let mut auditor = Auditor::new(AuditConfig {
        origin: config
            .origin
            .or_else(|| Some(signed.checkpoint.origin().to_string())),
        ..config
    });
    let mut tree = InMemoryTree::new();
    for bundle in new_entry_bundles(0, size) {
        // At most 256 entries, each a 2-byte length and its bytes.
        let data = read(
            dir.join(bundle.path()),
            usize::from(bundle.width) * (2 + MAX_ENTRY_SIZE),
        )?;
        let entries = parse_entry_bundle(&data, usize::from(bundle.width)).map_err(|source| {
            ExportAuditError::Malformed {
                path: bundle.path(),
                source,
            }
        })?;
        for e in &entries {
            tree.append(leaf_hash(e));
        }
        auditor
            .push_batch(&entries)
            .map_err(ExportAuditError::Integrity)?;
        progress(auditor.size(), size);
    }
    auditor
        .verify_checkpoint(&checkpoint, log_key, None)
        .map_err(ExportAuditError::Integrity)?;
    for tile in tiles_for_size(size) {
        if let TileKind::Hashes { .. } = tile.kind {
            let data = read(dir.join(tile.path()), usize::from(tile.width) * 32)?;
            // The tree is built from every record, so each tile of its
            // size can be computed; a failure would mean it is not.
            let want = read_tile_data(tile, &tree)
                .map_err(|_| ExportAuditError::TileMismatch { path: tile.path() })?;
            if data != want {
                return Err(ExportAuditError::TileMismatch { path: tile.path() });
            }
        }
    }
    Ok(auditor)
}
