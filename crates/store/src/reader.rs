//! Readers: [`LogReader`], a cheap, cloneable, `Send + Sync` handle that
//! answers from the latest **durable, signed** state while one writer
//! appends — the checkpoint, hash tiles, entry bundles, records, inclusion
//! and consistency proofs, receipts.
//!
//! The writer publishes a new [`LogState`] (size, root, signed checkpoint)
//! by swapping one `Arc` under a lock, and only after the commit's
//! `flush` returned (see [`crate::commit`]). Everything a reader reads is
//! addressed by a size at or below the published one. sled may already
//! hold a later commit that is applied but not yet durable; the layout
//! makes that invisible: bundles and tiles only ever **grow in place**
//! (new entries and hashes are appended; earlier bytes never change), so a
//! read of width W at size N takes exactly the first W entries or hashes of
//! the stored value, and a value narrower than W is corruption, reported
//! as such rather than answered.

use std::cell::RefCell;
use std::sync::{Arc, RwLock};

use forewarn_tlog::hash::Hash;
use forewarn_tlog::note::VerifierKey;
use forewarn_tlog::tile::{
    Tile, TileHashReader, TileKind, TileReadError, TileReader, parse_entry_bundle,
};
use forewarn_tlog::tree::{HashReader, ProveError, prove_consistency, prove_inclusion};

use crate::HashMap;
use crate::error::{Corruption, Place, StoreError};
use crate::layout::{BUNDLE, bundle_key, bundle_prefix, tile_key, unpack_bundle};

/// A durable, signed state of the log: what readers answer from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogState {
    /// Number of records.
    pub size: u64,
    /// The Merkle root of those records.
    pub root: Hash,
    /// The signed checkpoint (C2SP tlog-checkpoint note) of `size` and `root`.
    pub checkpoint: Arc<[u8]>,
}

/// What a store's writer and its readers share.
pub(crate) struct Shared {
    pub(crate) db: sled::Db,
    pub(crate) origin: String,
    pub(crate) vkey: VerifierKey,
    published: RwLock<Arc<LogState>>,
}

impl Shared {
    pub(crate) fn new(db: sled::Db, origin: String, vkey: VerifierKey, state: LogState) -> Shared {
        Shared {
            db,
            origin,
            vkey,
            published: RwLock::new(Arc::new(state)),
        }
    }

    /// Publishes a new state. Called only after the commit that wrote it
    /// is durable (flushed).
    pub(crate) fn publish(&self, state: LogState) {
        let state = Arc::new(state);
        // A poisoned lock only means a reader panicked while holding it;
        // the value inside is a whole Arc either way.
        *self.published.write().unwrap_or_else(|p| p.into_inner()) = state;
    }

    pub(crate) fn state(&self) -> Arc<LogState> {
        self.published
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// A reader of the log's durable, signed state. Clone it freely (one
/// `Arc`); it stays valid while the writer appends, and keeps the database
/// open until the last reader and the store are dropped.
#[derive(Clone)]
pub struct LogReader {
    pub(crate) shared: Arc<Shared>,
}

impl LogReader {
    /// The log's origin.
    pub fn origin(&self) -> &str {
        &self.shared.origin
    }

    /// The log's public key.
    pub fn vkey(&self) -> &VerifierKey {
        &self.shared.vkey
    }

    /// The latest published state: durable, with its signed checkpoint.
    pub fn state(&self) -> Arc<LogState> {
        self.shared.state()
    }

    /// The latest signed checkpoint (C2SP note text).
    pub fn checkpoint(&self) -> Arc<[u8]> {
        self.state().checkpoint.clone()
    }

    fn within(&self, requested: u64) -> Result<u64, StoreError> {
        let size = self.state().size;
        if requested > size {
            return Err(StoreError::OutOfRange { requested, size });
        }
        Ok(size)
    }

    /// Hash tile `level`/`index` of width `width` (1..=256), in the C2SP
    /// tlog-tiles encoding: exactly `width` hashes, even while the stored
    /// partial tile is wider. The tile must lie within the published tree.
    pub fn tile(&self, level: u8, index: u64, width: u16) -> Result<Vec<u8>, StoreError> {
        let size = self.state().size;
        match tile_end(level, index, width) {
            Some(end) if end <= size => read_tile(&self.shared.db, level, index, width),
            _ => Err(StoreError::OutOfRange {
                requested: index,
                size,
            }),
        }
    }

    /// Entry bundle `index` of width `width` (1..=256), in the C2SP
    /// tlog-tiles encoding: exactly its first `width` records, even while
    /// the stored last bundle is wider.
    pub fn entry_bundle(&self, index: u64, width: u16) -> Result<Vec<u8>, StoreError> {
        let size = self.state().size;
        match tile_end(0, index, width) {
            Some(end) if end <= size => bundle_bytes(&self.shared.db, index, usize::from(width)),
            _ => Err(StoreError::OutOfRange {
                requested: index,
                size,
            }),
        }
    }

    /// Record `index` of the published log (`None` beyond it).
    pub fn record(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        read_record(&self.shared.db, index, self.state().size)
    }

    /// Records `from..to` of the published log, in order.
    pub fn records(
        &self,
        from: u64,
        to: u64,
    ) -> impl Iterator<Item = Result<Vec<u8>, StoreError>> + '_ {
        let size = self.state().size;
        records_in(&self.shared.db, from, to.min(size), size)
    }

    /// The RFC 9162 inclusion proof of record `index` in the tree of `size`
    /// leaves (at most the published size).
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, StoreError> {
        self.within(size)?;
        let tiles = SledTiles::new(&self.shared.db);
        prove_inclusion(size, index, &DbHashReader::committed(size, &tiles)).map_err(prove_err)
    }

    /// The RFC 9162 consistency proof from the tree of `old` leaves to the
    /// tree of `new` leaves (at most the published size).
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, StoreError> {
        self.within(new)?;
        let tiles = SledTiles::new(&self.shared.db);
        prove_consistency(old, new, &DbHashReader::committed(new, &tiles)).map_err(prove_err)
    }

    /// A receipt for record `index` at the latest published checkpoint.
    pub fn receipt(&self, index: u64) -> Result<Option<Receipt>, StoreError> {
        receipt_at(&self.shared.db, &self.state(), index)
    }
}

/// The number of records a tile `level`/`index` of width `width` covers
/// from the start of the log (`None` if the width is outside 1..=256 or
/// the count overflows).
fn tile_end(level: u8, index: u64, width: u16) -> Option<u64> {
    if !(1..=256).contains(&width) || level > 7 {
        return None;
    }
    let per = 1u64 << (8 * u32::from(level));
    index
        .checked_mul(BUNDLE)?
        .checked_add(u64::from(width))?
        .checked_mul(per)
}

/// The first `width` hashes of stored tile `level`/`index`.
fn read_tile(db: &sled::Db, level: u8, index: u64, width: u16) -> Result<Vec<u8>, StoreError> {
    let at = Place::Tile { level, index };
    let stored = db
        .get(tile_key(level, index))?
        .ok_or_else(|| StoreError::corrupt(Corruption::Missing, at.clone()))?;
    let want = usize::from(width) * 32;
    if stored.len() < want {
        return Err(StoreError::corrupt(
            Corruption::ShortTile {
                got: stored.len(),
                want,
            },
            at,
        ));
    }
    Ok(stored[..want].to_vec())
}

/// The first `count` entries of stored bundle `n`, tlog-tiles encoded.
pub(crate) fn bundle_bytes(db: &sled::Db, n: u64, count: usize) -> Result<Vec<u8>, StoreError> {
    let stored = db
        .get(bundle_key(n))?
        .ok_or_else(|| StoreError::corrupt(Corruption::Missing, Place::Bundle(n)))?;
    let mut data = unpack_bundle(n, &stored)?;
    let len = bundle_prefix(&data, count)
        .map_err(|e| StoreError::corrupt(Corruption::BadBundle(e), Place::Bundle(n)))?
        .len();
    data.truncate(len);
    Ok(data)
}

/// The entries of bundle `n` of a log of `size` records.
pub(crate) fn bundle_entries(db: &sled::Db, n: u64, size: u64) -> Result<Vec<Vec<u8>>, StoreError> {
    let count = (size - n * BUNDLE).min(BUNDLE) as usize;
    let data = bundle_bytes(db, n, count)?;
    let entries = parse_entry_bundle(&data, count)
        .map_err(|e| StoreError::corrupt(Corruption::BadBundle(e), Place::Bundle(n)))?;
    Ok(entries.into_iter().map(<[u8]>::to_vec).collect())
}

pub(crate) fn read_record(
    db: &sled::Db,
    index: u64,
    size: u64,
) -> Result<Option<Vec<u8>>, StoreError> {
    if index >= size {
        return Ok(None);
    }
    let mut b = bundle_entries(db, index / BUNDLE, size)?;
    Ok(Some(b.swap_remove((index % BUNDLE) as usize)))
}

/// Records `from..to` of a log of `size` records.
pub(crate) fn records_in(
    db: &sled::Db,
    from: u64,
    to: u64,
    size: u64,
) -> impl Iterator<Item = Result<Vec<u8>, StoreError>> + '_ {
    let first = from / BUNDLE;
    let last = to.div_ceil(BUNDLE);
    (first..last.max(first)).flat_map(move |n| {
        // A read of every bundle lets sled's cache evict as it goes
        // (`crate::scan`).
        let read = bundle_entries(db, n, size).and_then(|entries| {
            crate::scan::evict_behind(db, &bundle_key(n))?;
            Ok(entries)
        });
        let items: Vec<Result<Vec<u8>, StoreError>> = match read {
            Ok(entries) => entries
                .into_iter()
                .enumerate()
                .map(|(j, e)| (n * BUNDLE + j as u64, e))
                .filter(|(i, _)| *i >= from && *i < to)
                .map(|(_, e)| Ok(e))
                .collect(),
            Err(e) => vec![Err(e)],
        };
        items.into_iter()
    })
}

pub(crate) fn receipt_at(
    db: &sled::Db,
    state: &LogState,
    index: u64,
) -> Result<Option<Receipt>, StoreError> {
    let Some(record) = read_record(db, index, state.size)? else {
        return Ok(None);
    };
    let tiles = SledTiles::new(db);
    let proof = prove_inclusion(
        state.size,
        index,
        &DbHashReader::committed(state.size, &tiles),
    )
    .map_err(prove_err)?;
    let bytes = forewarn_ledger::receipt::encode(&record, index, proof, state.checkpoint.to_vec());
    Ok(Some(Receipt {
        index,
        record,
        proof: bytes,
    }))
}

/// Proof that a statement is record `index` of the log: a C2SP tlog-proof
/// whose `extra` line carries the record bytes (see
/// `forewarn_ledger::receipt`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Record index.
    pub index: u64,
    /// The record bytes.
    pub record: Vec<u8>,
    /// The tlog-proof bytes.
    pub proof: Vec<u8>,
}

/// A receipt before its tlog-proof text is encoded. A commit returns these
/// so that the text can be encoded off the serial commit path: the
/// [`crate::Sequencer`] hands each submitter its own, and the submitter
/// encodes them ([`ReceiptParts::encode`]) while the commit thread already
/// writes the next batch.
#[derive(Debug, Clone)]
pub struct ReceiptParts {
    /// Record index.
    pub index: u64,
    /// The record bytes.
    pub record: Vec<u8>,
    /// The RFC 9162 inclusion proof of the record in the checkpoint's tree.
    pub inclusion: Vec<Hash>,
    /// The signed checkpoint (note text), shared by a commit's receipts.
    pub checkpoint: Arc<[u8]>,
}

impl ReceiptParts {
    /// Encodes the tlog-proof text.
    pub fn encode(self) -> Receipt {
        let proof = forewarn_ledger::receipt::encode(
            &self.record,
            self.index,
            self.inclusion,
            self.checkpoint.to_vec(),
        );
        Receipt {
            index: self.index,
            record: self.record,
            proof,
        }
    }
}

/// Reads tiles (`t` + level + index) from the database, caching them, and
/// cuts each to the width asked for (stored partial tiles may be wider).
pub(crate) struct SledTiles<'a> {
    db: &'a sled::Db,
    cache: RefCell<HashMap<(u8, u64), sled::IVec>>,
}

impl<'a> SledTiles<'a> {
    pub(crate) fn new(db: &'a sled::Db) -> SledTiles<'a> {
        SledTiles {
            db,
            cache: Default::default(),
        }
    }
}

impl TileReader for SledTiles<'_> {
    type Error = StoreError;
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut out = Vec::with_capacity(tiles.len());
        for t in tiles {
            let TileKind::Hashes { level } = t.kind else {
                // The tree reader asks only for hash tiles.
                return Err(StoreError::corrupt(Corruption::Tree, Place::Tiles));
            };
            let at = Place::Tile {
                level,
                index: t.index,
            };
            let want = usize::from(t.width) * 32;
            let cached = self.cache.borrow().get(&(level, t.index)).cloned();
            let data = match cached {
                Some(d) => d,
                None => {
                    let d = self
                        .db
                        .get(tile_key(level, t.index))?
                        .ok_or_else(|| StoreError::corrupt(Corruption::Missing, at.clone()))?;
                    self.cache.borrow_mut().insert((level, t.index), d.clone());
                    d
                }
            };
            if data.len() < want {
                return Err(StoreError::corrupt(
                    Corruption::ShortTile {
                        got: data.len(),
                        want,
                    },
                    at,
                ));
            }
            out.push(data[..want].to_vec());
        }
        Ok(out)
    }
}

/// Reads stored hashes: those being written from an overlay, the rest from
/// the committed tiles of a tree of `size` leaves.
pub(crate) struct DbHashReader<'a> {
    pub(crate) overlay: Option<&'a HashMap<u64, Hash>>,
    pub(crate) size: u64,
    pub(crate) tiles: &'a SledTiles<'a>,
    /// Hashes already computed from tiles (a hash above a tile's own level
    /// costs up to 255 node hashes to recompute; proofs of neighbouring
    /// records share most of theirs).
    pub(crate) memo: RefCell<HashMap<u64, Hash>>,
}

impl<'a> DbHashReader<'a> {
    /// A reader of the committed tiles of a tree of `size` leaves.
    pub(crate) fn committed(size: u64, tiles: &'a SledTiles<'a>) -> DbHashReader<'a> {
        DbHashReader {
            overlay: None,
            size,
            tiles,
            memo: Default::default(),
        }
    }

    fn overlaid(&self, i: &u64) -> Option<&Hash> {
        self.overlay.and_then(|o| o.get(i))
    }
}

impl HashReader for DbHashReader<'_> {
    type Error = StoreError;
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, StoreError> {
        let memo = self.memo.borrow();
        let missing: Vec<u64> = indexes
            .iter()
            .copied()
            .filter(|i| self.overlaid(i).is_none() && !memo.contains_key(i))
            .collect();
        drop(memo);
        let found = if missing.is_empty() {
            Vec::new()
        } else {
            TileHashReader::new(self.size, self.tiles)
                .read_hashes(&missing)
                .map_err(|e| match e {
                    TileReadError::Reader(e) => e,
                    _ => StoreError::corrupt(Corruption::Tree, Place::Tiles),
                })?
        };
        if found.len() != missing.len() {
            return Err(StoreError::corrupt(Corruption::Tree, Place::Tiles));
        }
        let mut found = found.into_iter();
        let mut memo = self.memo.borrow_mut();
        let mut out = Vec::with_capacity(indexes.len());
        for i in indexes {
            let h = match self.overlaid(i).or_else(|| memo.get(i)) {
                Some(h) => *h,
                None => {
                    // One found hash per missing index, in order (checked above).
                    let h = found
                        .next()
                        .ok_or(StoreError::corrupt(Corruption::Tree, Place::Tiles))?;
                    memo.insert(*i, h);
                    h
                }
            };
            out.push(h);
        }
        Ok(out)
    }
}

/// A proof could not be built: a reader failure passes through; a request
/// outside the tree is a usage error; anything else means the stored
/// hashes do not cover the tree.
pub(crate) fn prove_err(e: ProveError<StoreError>) -> StoreError {
    match e {
        ProveError::Reader(e) => e,
        ProveError::OutOfRange { requested, size } => StoreError::OutOfRange { requested, size },
        _ => StoreError::corrupt(Corruption::Tree, Place::Tiles),
    }
}
