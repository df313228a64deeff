//! `check` and `rebuild`: the store's own consistency walk, and the repair
//! of what is derived from the records.
//!
//! `check` trusts nothing derived: it replays every record from scratch,
//! compares the root with the signed checkpoint, every hash tile with a
//! recomputation, counts bundles and tiles (nothing beyond the log), and
//! compares every keyed projection value (`crate::projections`) with what
//! the replay implies: nothing missing, nothing extra, every byte equal,
//! every tag the log key's. An edited, damaged, rolled-back or left-over
//! projection is found here. `rebuild` rewrites the tiles and every
//! projection from the records.

use forewarn_ledger::auditor::keyed::RecordFacts;
use forewarn_ledger::auditor::{Auditor, PagedError, SNAPSHOT_EVERY};
use forewarn_ledger::statement::{Record, Statement, leaf_hash};
use forewarn_tlog::compact::CompactRange;
use forewarn_tlog::tile::{Tile, TileKind, read_tile_data, tiles_for_size};
use forewarn_tlog::tree::InMemoryTree;

use crate::error::{Corruption, Place, StoreError};
use crate::layout::{BUNDLE, tile_key};
use crate::open::{Store, replay_records};
use crate::paged::{Ahead, PAGED_BATCH, PagedReplay, fold_ahead};
use crate::projections;
use crate::tile_check::TileCheck;

/// A full replay of the records, with what the derived state is made
/// from: the tree (for the tiles), and the records' facts and compact
/// ranges beside the replayed state (for the projections).
pub(crate) struct Replayed {
    pub(crate) fresh: Auditor,
    pub(crate) tree: InMemoryTree,
    pub(crate) facts: Vec<RecordFacts>,
    pub(crate) ranges: Vec<Vec<u8>>,
}

/// What [`Store::check`] proved: the records, replayed from scratch, hash
/// to this root, the signed checkpoint's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checked {
    /// Records.
    pub size: u64,
    /// Their Merkle root.
    pub root: forewarn_tlog::hash::Hash,
}

impl Store {
    /// Walks the whole store (see the module docs). The replay is paged
    /// ([`PagedReplay`], under the store's own seal, with the replay's own
    /// duplicate check), the store's duplicate index is compared with the
    /// replayed statements one generation at a time (`DuplicateIndexCheck`),
    /// and the tiles are checked as the leaves stream past, so memory stays
    /// bounded whatever the size of the log.
    pub fn check(&self) -> Result<Checked, StoreError> {
        // After a failed commit the in-memory state is ahead of the
        // database: comparing them would report damage that is not there.
        if self.poisoned {
            return Err(StoreError::Poisoned);
        }
        let db = &self.shared.db;
        let size = self.size();
        let scratch = |e: StoreError| StoreError::Scratch(Box::new(e));
        // The replay checks duplicates its own way (`SeenStatements`); the
        // store's duplicate index is compared with its statements as they
        // are folded, one generation at a time.
        let mut fresh = PagedReplay::with_sealer(
            self.config.audit.clone(),
            None,
            self.sealer.clone(),
            Some(size),
        )
        .map_err(scratch)?;
        fresh.keep_keys();
        let mut duplicates = projections::DuplicateIndexCheck::new(db, &self.sealer)?;
        let mut tiles = TileCheck::new(|tile: Tile, want: &[u8]| {
            let TileKind::Hashes { level } = tile.kind else {
                return None;
            };
            let key = tile_key(level, tile.index);
            let read = db
                .get(key)
                .and_then(|v| crate::scan::evict_behind(db, &key).map(|()| v));
            match read {
                Err(e) => Some(StoreError::from(e)),
                Ok(v) if v.as_deref() == Some(want) => None,
                Ok(_) => Some(StoreError::corrupt(
                    Corruption::TileDiffers,
                    Place::Tile {
                        level,
                        index: tile.index,
                    },
                )),
            }
        });
        let progress = self.config.progress.as_deref();
        // The records in chunks of PAGED_BATCH, read (and their bundles
        // unpacked) on the thread that prepares them, ahead of the fold.
        let mut records = crate::reader::records_in(db, 0, size, size);
        let chunks = std::iter::from_fn(move || {
            let mut chunk = Vec::with_capacity(PAGED_BATCH);
            for r in records.by_ref() {
                match r {
                    Ok(r) => chunk.push(r),
                    Err(e) => return Some(Err(e)),
                }
                if chunk.len() == PAGED_BATCH {
                    break;
                }
            }
            (!chunk.is_empty()).then_some(Ok(chunk))
        });
        fn records_of(chunk: &[Vec<u8>]) -> Result<Vec<&[u8]>, StoreError> {
            Ok(chunk.iter().map(Vec::as_slice).collect())
        }
        fold_ahead(
            &mut fresh,
            chunks,
            |c: &Vec<Vec<u8>>| records_of(c),
            |fresh, leaves| {
                for leaf in leaves {
                    tiles.push(0, *leaf);
                }
                for (key, record) in fresh.take_keys() {
                    duplicates.push(key, record)?;
                }
                if let Some(p) = progress {
                    p(fresh.size(), size);
                }
                Ok(())
            },
        )
        .map_err(|e| match e {
            Ahead::Chunk(e) => e,
            Ahead::Fold(PagedError::Integrity(f)) => {
                StoreError::corrupt(Corruption::Replay(Box::new(f)), Place::Bundles)
            }
            // The replay reads and writes only its scratch database.
            Ahead::Fold(PagedError::Paging(e)) => scratch(e),
        })?;
        if size == 0 {
            // No chunk was folded: the empty replay's projections (its hot
            // value) are written back all the same, to be compared.
            fresh.push_batch(&[]).map_err(|e| match e {
                PagedError::Integrity(f) => {
                    StoreError::corrupt(Corruption::Replay(Box::new(f)), Place::Bundles)
                }
                PagedError::Paging(e) => scratch(e),
            })?;
        }
        duplicates.finish()?;
        if fresh.size() != size {
            return Err(StoreError::corrupt(
                Corruption::RecordCount {
                    found: fresh.size(),
                    expected: size,
                },
                Place::Bundles,
            ));
        }
        // The signed checkpoint (verified again: it is re-read).
        let head = crate::open::read_head(db, Some(self.vkey()))?;
        if head.state.size != size || fresh.auditor().root() != head.state.root {
            return Err(StoreError::corrupt(
                Corruption::RootMismatch,
                Place::Checkpoint,
            ));
        }
        tiles.finish()?;
        let expected_tiles = tiles_for_size(size)
            .into_iter()
            .filter(|t| matches!(t.kind, TileKind::Hashes { .. }))
            .count() as u64;
        let tiles = crate::scan::scan_prefix(db, [b't']).count() as u64;
        if tiles != expected_tiles {
            return Err(StoreError::corrupt(
                Corruption::TooMany {
                    found: tiles,
                    expected: expected_tiles,
                },
                Place::Tiles,
            ));
        }
        let bundles = crate::scan::scan_prefix(db, [b'e']).count() as u64;
        if bundles != size.div_ceil(BUNDLE) {
            return Err(StoreError::corrupt(
                Corruption::TooMany {
                    found: bundles,
                    expected: size.div_ceil(BUNDLE),
                },
                Place::Bundles,
            ));
        }
        let fresh = fresh.into_one_pass().map_err(scratch)?;
        projections::compare_replayed(db, &self.sealer, fresh.db())?;
        // The memory-resident state this store serves: parties, keys and
        // the chain position, as a replay has them.
        let mine = self.auditor.state();
        let theirs = fresh.auditor().state();
        let same_keys = mine.keys.len() == theirs.keys.len()
            && mine.keys.iter().zip(&theirs.keys).all(|((a, x), (b, y))| {
                a == b
                    && x.party == y.party
                    && x.added_by == y.added_by
                    && x.added_at == y.added_at
                    && x.revoked == y.revoked
            });
        if mine.parties != theirs.parties
            || !same_keys
            || mine.prev_leaf != theirs.prev_leaf
            || mine.recent != theirs.recent
            || self.auditor.root() != fresh.auditor().root()
        {
            return Err(StoreError::corrupt(
                Corruption::ProjectionDiffers,
                crate::projections::place_of(crate::projections::HOT),
            ));
        }
        Ok(Checked {
            size,
            root: fresh.auditor().root(),
        })
    }

    /// Rebuilds the hash tiles and every keyed projection from the
    /// records.
    pub fn rebuild(&mut self) -> Result<(), StoreError> {
        if self.poisoned {
            return Err(StoreError::Poisoned);
        }
        let size = self.size();
        let Replayed {
            mut fresh,
            tree,
            facts,
            ranges,
        } = replay_full(
            self.config.audit.clone(),
            self.records(0, self.size()),
            self.size(),
            self.config.progress.as_deref(),
        )?;
        let expected =
            projections::expected_values(&self.sealer, fresh.working_set(), &facts, &ranges)?;
        let db = &self.shared.db;
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
        db.apply_batch(b)?;
        // The projections, replaced whole in one batch of their own: a
        // crash between the two leaves tiles that `check` accepts and old
        // projections that it reports, and running `rebuild` again repairs.
        projections::rewrite(db, &self.sealer, expected)?;
        self.load(size)
    }
}

/// Replays `records` (`size` of them) from scratch, collecting the tree,
/// the records' facts and the compact ranges every 256 records.
pub(crate) fn replay_full(
    config: forewarn_ledger::auditor::AuditConfig,
    records: impl Iterator<Item = Result<Vec<u8>, StoreError>>,
    size: u64,
    progress: Option<&(dyn Fn(u64, u64) + Send + Sync)>,
) -> Result<Replayed, StoreError> {
    let mut fresh = Auditor::new(config);
    let mut tree = InMemoryTree::new();
    let mut range = CompactRange::new();
    let mut ranges = Vec::new();
    let mut facts: Vec<RecordFacts> = Vec::with_capacity(size as usize);
    replay_records(&mut fresh, records, size, progress, |r| {
        let leaf = leaf_hash(r);
        tree.append(leaf);
        if range.size().is_multiple_of(SNAPSHOT_EVERY) {
            ranges.push(range.to_bytes());
        }
        range.push(leaf);
        // Records that do not decode fail the replay itself.
        if let Ok(rec) = Record::from_bytes(r)
            && let Ok(st) = Statement::from_bytes(&rec.statement)
        {
            facts.push(RecordFacts {
                leaf,
                key: st.signer,
                logged_at: rec.logged_at,
                party: forewarn_ledger::PartyId(0),
                event: st.event.tag() as u8,
                case: st.event.case(),
            });
        }
    })?;
    let citable = &fresh.state().citable;
    for (i, f) in facts.iter_mut().enumerate() {
        f.party = citable.get(i).map(|c| c.signer).unwrap_or(f.party);
    }
    Ok(Replayed {
        fresh,
        tree,
        facts,
        ranges,
    })
}
