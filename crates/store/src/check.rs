//! `check` and `rebuild`: the store's own consistency walk, and the repair
//! of what is derived from the records.
//!
//! `check` trusts nothing derived: it replays every record from scratch,
//! compares the root with the signed checkpoint, every hash tile with a
//! recomputation, counts bundles and tiles (nothing beyond the log), and
//! compares the indexes, the in-memory projection state and the saved
//! auditor state with the fresh replay. An altered snapshot that opening
//! accepted (only the holder of the log key can re-bind one) is caught
//! here, and so is one whose binding is not signed by the log key. `rebuild` rewrites the tiles from the records and replays
//! the state without the snapshot.

use forewarn_ledger::auditor::Auditor;
use forewarn_ledger::statement::leaf_hash;
use forewarn_tlog::tile::{TileKind, read_tile_data, tiles_for_size};
use forewarn_tlog::tree::InMemoryTree;

use crate::error::{Corruption, Place, SnapshotProblem, StoreError};
use crate::indexes::Indexes;
use crate::layout::{BUNDLE, META_SNAPSHOT, decode_snapshot, tile_key};
use crate::open::{Store, replay_records};

impl Store {
    /// Walks the whole store (see the module docs). Returns the fresh
    /// auditor.
    pub fn check(&self) -> Result<Auditor, StoreError> {
        // After a failed commit the in-memory state is ahead of the
        // database: comparing them would report damage that is not there.
        if self.poisoned {
            return Err(StoreError::Poisoned);
        }
        let db = &self.shared.db;
        let mut fresh = Auditor::new(self.config.audit.clone());
        let mut tree = InMemoryTree::new();
        let size = self.size();
        replay_records(&mut fresh, self.records(0, size), size, None, |r| {
            tree.append(leaf_hash(r));
        })?;
        // The signed checkpoint (verified again: it is re-read).
        let head = crate::open::read_head(db, Some(self.vkey()))?;
        if head.state.size != size || fresh.root() != head.state.root {
            return Err(StoreError::corrupt(
                Corruption::RootMismatch,
                Place::Checkpoint,
            ));
        }
        let mut expected_tiles = 0u64;
        for tile in tiles_for_size(size) {
            let TileKind::Hashes { level } = tile.kind else {
                continue;
            };
            expected_tiles += 1;
            let at = Place::Tile {
                level,
                index: tile.index,
            };
            let want = read_tile_data(tile, &tree)
                .map_err(|_| StoreError::corrupt(Corruption::Tree, at.clone()))?;
            if db.get(tile_key(level, tile.index))?.as_deref() != Some(&want[..]) {
                return Err(StoreError::corrupt(Corruption::TileDiffers, at));
            }
        }
        let tiles = db.scan_prefix([b't']).count() as u64;
        if tiles != expected_tiles {
            return Err(StoreError::corrupt(
                Corruption::TooMany {
                    found: tiles,
                    expected: expected_tiles,
                },
                Place::Tiles,
            ));
        }
        let bundles = db.scan_prefix([b'e']).count() as u64;
        if bundles != size.div_ceil(BUNDLE) {
            return Err(StoreError::corrupt(
                Corruption::TooMany {
                    found: bundles,
                    expected: size.div_ceil(BUNDLE),
                },
                Place::Bundles,
            ));
        }
        if Indexes::fold(self.records(0, size), &fresh)? != self.indexes {
            return Err(StoreError::corrupt(
                Corruption::IndexesDiffer,
                Place::Indexes,
            ));
        }
        // The state this store serves (possibly resumed from the snapshot),
        // compared as saved: every projection and the tree.
        let replayed = fresh.save();
        if self.auditor.save() != replayed {
            return Err(StoreError::corrupt(
                Corruption::Snapshot(SnapshotProblem::DiffersFromReplay),
                Place::Snapshot,
            ));
        }
        // The saved state, if it is bound to this checkpoint (a snapshot of
        // an earlier checkpoint is never used, so it is not checked).
        if let Some(stored) = db.get(META_SNAPSHOT)? {
            check_snapshot(&stored, &fresh, &replayed, self.vkey(), &self.config.audit)?;
        }
        Ok(fresh)
    }

    /// Rebuilds the hash tiles and the in-memory state from the records,
    /// ignoring the saved auditor state.
    pub fn rebuild(&mut self) -> Result<(), StoreError> {
        if self.poisoned {
            return Err(StoreError::Poisoned);
        }
        let db = &self.shared.db;
        let size = self.size();
        let mut tree = InMemoryTree::new();
        for r in self.records(0, size) {
            tree.append(leaf_hash(&r?));
        }
        let mut b = sled::Batch::default();
        for item in db.scan_prefix([b't']) {
            b.remove(item?.0);
        }
        for tile in tiles_for_size(size) {
            if let TileKind::Hashes { level } = tile.kind {
                let data = read_tile_data(tile, &tree).map_err(|_| {
                    StoreError::corrupt(
                        Corruption::Tree,
                        Place::Tile {
                            level,
                            index: tile.index,
                        },
                    )
                })?;
                b.insert(&tile_key(level, tile.index)[..], data);
            }
        }
        // The snapshot is derived state too: dropped with the old tiles, in
        // the same atomic batch; `close` writes a fresh one.
        b.remove(META_SNAPSHOT);
        db.apply_batch(b)?;
        db.flush()?;
        let root = self.auditor.root();
        self.load(size, &root, false)
    }
}

/// A stored snapshot bound to the fresh replay's checkpoint must decode
/// and equal it.
fn check_snapshot(
    stored: &[u8],
    fresh: &Auditor,
    replayed: &[u8],
    vkey: &forewarn_tlog::note::VerifierKey,
    config: &forewarn_ledger::auditor::AuditConfig,
) -> Result<(), StoreError> {
    let bad = |p| StoreError::corrupt(Corruption::Snapshot(p), Place::Snapshot);
    let bytes = match decode_snapshot(stored, fresh.size(), &fresh.root(), vkey) {
        Ok(bytes) => bytes,
        Err(SnapshotProblem::NotBound { .. } | SnapshotProblem::OldFormat) => return Ok(()),
        Err(p) => return Err(bad(p)),
    };
    let saved =
        Auditor::resume(config.clone(), &bytes).map_err(|_| bad(SnapshotProblem::Undecodable))?;
    if saved.size() != fresh.size() || saved.root() != fresh.root() {
        return Err(bad(SnapshotProblem::Undecodable));
    }
    if saved.save() != replayed {
        return Err(bad(SnapshotProblem::DiffersFromReplay));
    }
    Ok(())
}
