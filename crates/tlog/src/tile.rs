//! Tiled logs (c2sp.org/tlog-tiles): the tree published as static files.
//!
//! A tile at level `L` holds up to 256 consecutive hashes at tree level
//! `8·L`; a full tile is 8,192 bytes. Level-0 tiles hold leaf hashes, and
//! entry bundles (`tile/entries/N`) hold the entries themselves, each
//! prefixed by its big-endian u16 length. Any static web server can host
//! them; a client fetches the tiles a proof needs and computes the proof.
//!
//! * [`Tile`]: coordinates, [`Tile::path`] / [`Tile::parse_path`] (with the
//!   `x001/x234/067` index encoding).
//! * [`tiles_for_size`] / [`new_tiles`]: which tiles a tree of a size has,
//!   and which change when it grows.
//! * [`read_tile_data`]: tile bytes from stored hashes (for export).
//! * [`tiles_for_tree_hash`], [`tiles_for_inclusion_proof`],
//!   [`tiles_for_consistency_proof`]: which tiles a root or proof needs, to
//!   fetch them in parallel.
//! * [`TileHashReader`]: stored hashes from tile bytes, so every proof
//!   function in [`crate::tree`] runs over a tile mirror.
//! * [`encode_entry_bundle`] / [`parse_entry_bundle`].
//!
//! Tiles are not authenticated by themselves: a proof computed from forged
//! tiles fails when it is verified against the signed checkpoint root.
//!
//! ```
//! use forewarn_tlog::tile::{Tile, tiles_for_size};
//! assert_eq!(Tile::hashes(0, 1234067, 256).path(), "tile/0/x001/x234/067");
//! assert_eq!(Tile::hashes(1, 1, 17).path(), "tile/1/001.p/17");
//! assert_eq!(Tile::entries(5, 256).path(), "tile/entries/005");
//! // c2sp.org/tlog-tiles: size 70,000 has 273 full level-0 tiles, a
//! // partial of width 112, a full and a partial (17) level-1 tile, and a
//! // partial level-2 tile of width 1.
//! let tiles = tiles_for_size(70_000);
//! assert_eq!(tiles.len(), 273 + 1 + 1 + 1 + 1);
//! ```

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::hash::{HASH_SIZE, Hash, node_hash};
use crate::tree::{
    HashReader, MAX_TREE_SIZE, ProveError, consistency_ranges, inclusion_ranges,
    split_stored_hash_index, stored_hash_index, subtree_indexes,
};

/// Tree levels per tile (fixed by c2sp.org/tlog-tiles).
pub const TILE_HEIGHT: u32 = 8;
/// Hashes or entries in a full tile or bundle.
pub const TILE_WIDTH: u64 = 256;
/// Largest entry an entry bundle can carry.
pub const MAX_ENTRY_SIZE: usize = u16::MAX as usize;

/// What a tile holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TileKind {
    /// Merkle tree hashes at tree level `8 · level`.
    Hashes {
        /// Tile level, 0 to 63.
        level: u8,
    },
    /// An entry bundle (the data behind a level-0 tile).
    Entries,
}

/// One tile or entry bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tile {
    /// Hashes (with level) or entries.
    pub kind: TileKind,
    /// Index within its level.
    pub index: u64,
    /// Number of hashes or entries, 1 to 256; below 256 is a partial tile.
    pub width: u16,
}

/// Why a tile path was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TilePathError {
    /// The path is not of the form `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`.
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
}

impl fmt::Display for TilePathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TilePathError::Malformed { reason } => write!(f, "bad tile path: {reason}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for TilePathError {}

/// Why tile data did not yield a hash, or a bundle did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TileDataError {
    /// Tile data is not a whole number of hashes covering the tile's width.
    WrongTileSize {
        /// Bytes given.
        got: usize,
        /// Bytes the tile's width requires.
        want: usize,
    },
    /// An entry bundle ends inside an entry or its length.
    TruncatedBundle {
        /// Entry number where the data ended.
        entry: usize,
    },
    /// An entry bundle holds a different number of entries than expected.
    WrongEntryCount {
        /// Entries found.
        got: usize,
        /// Entries expected.
        want: usize,
    },
    /// An entry is larger than 65,535 bytes and cannot be bundled.
    EntryTooLarge {
        /// Index of the entry within the bundle.
        entry: usize,
    },
}

impl fmt::Display for TileDataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TileDataError::WrongTileSize { got, want } => {
                write!(f, "tile data is {got} bytes, want {want}")
            }
            TileDataError::TruncatedBundle { entry } => {
                write!(f, "entry bundle ends inside entry {entry}")
            }
            TileDataError::WrongEntryCount { got, want } => {
                write!(f, "entry bundle has {got} entries, want {want}")
            }
            TileDataError::EntryTooLarge { entry } => {
                write!(f, "entry {entry} is larger than {MAX_ENTRY_SIZE} bytes")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for TileDataError {}

fn index_path(mut n: u64) -> String {
    // Three-digit groups, most significant first; all but the last get 'x'.
    let mut groups = Vec::new();
    loop {
        groups.push(n % 1000);
        n /= 1000;
        if n == 0 {
            break;
        }
    }
    let mut s = String::new();
    for (i, g) in groups.iter().rev().enumerate() {
        if i + 1 < groups.len() {
            s.push_str(&format!("x{g:03}/"));
        } else {
            s.push_str(&format!("{g:03}"));
        }
    }
    s
}

fn parse_small_decimal(s: &str, max: u64) -> Option<u64> {
    if s.is_empty() || s.len() > 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if s.len() > 1 && s.starts_with('0') {
        return None;
    }
    s.parse().ok().filter(|&v| v <= max)
}

impl Tile {
    /// A hash tile.
    pub fn hashes(level: u8, index: u64, width: u16) -> Tile {
        Tile {
            kind: TileKind::Hashes { level },
            index,
            width,
        }
    }

    /// An entry bundle.
    pub fn entries(index: u64, width: u16) -> Tile {
        Tile {
            kind: TileKind::Entries,
            index,
            width,
        }
    }

    /// True if the tile holds fewer than 256 hashes or entries.
    pub fn is_partial(&self) -> bool {
        u64::from(self.width) < TILE_WIDTH
    }

    /// The path below the log's prefix.
    pub fn path(&self) -> String {
        let level = match self.kind {
            TileKind::Hashes { level } => format!("{level}"),
            TileKind::Entries => String::from("entries"),
        };
        let mut p = format!("tile/{level}/{}", index_path(self.index));
        if self.is_partial() {
            p.push_str(&format!(".p/{}", self.width));
        }
        p
    }

    /// Parses a tile path strictly (canonical numbers only).
    pub fn parse_path(path: &str) -> Result<Tile, TilePathError> {
        let bad = |reason| TilePathError::Malformed { reason };
        let rest = path
            .strip_prefix("tile/")
            .ok_or(bad("does not start with tile/"))?;
        let (level, rest) = rest.split_once('/').ok_or(bad("missing level"))?;
        let kind = if level == "entries" {
            TileKind::Entries
        } else {
            let l = parse_small_decimal(level, 63).ok_or(bad("level is not 0 to 63"))?;
            TileKind::Hashes { level: l as u8 }
        };
        let (index_part, width) = match rest.split_once(".p/") {
            Some((i, w)) => {
                let w = parse_small_decimal(w, 255)
                    .filter(|&w| w >= 1)
                    .ok_or(bad("partial width is not 1 to 255"))?;
                (i, w as u16)
            }
            None => (rest, TILE_WIDTH as u16),
        };
        let groups: Vec<&str> = index_part.split('/').collect();
        if groups.len() > 7 {
            return Err(bad("index too large"));
        }
        let mut index: u64 = 0;
        for (i, g) in groups.iter().enumerate() {
            let last = i + 1 == groups.len();
            let digits = if last {
                *g
            } else {
                g.strip_prefix('x')
                    .ok_or(bad("index element lacks its x prefix"))?
            };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("index element is not three digits"));
            }
            if i == 0 && !last && digits == "000" {
                return Err(bad("index has a leading zero element"));
            }
            let v: u64 = digits
                .parse()
                .map_err(|_| bad("index element is not a number"))?;
            index = index
                .checked_mul(1000)
                .and_then(|x| x.checked_add(v))
                .ok_or(bad("index too large"))?;
        }
        let tile = Tile { kind, index, width };
        // Only the canonical spelling is accepted.
        if tile.path() != path {
            return Err(bad("not in canonical form"));
        }
        Ok(tile)
    }
}

/// The tile at `level` and `index` as it is in a tree of `size` leaves,
/// or `None` if that tree has no such tile.
pub fn tile_in_tree(level: u8, index: u64, size: u64) -> Option<Tile> {
    let shift = TILE_HEIGHT * u32::from(level);
    let count = if shift >= 64 { 0 } else { size >> shift };
    let start = index.checked_mul(TILE_WIDTH)?;
    if count <= start {
        return None;
    }
    let width = (count - start).min(TILE_WIDTH) as u16;
    Some(Tile::hashes(level, index, width))
}

/// Every hash tile of a tree of `size` leaves, level by level (full tiles
/// and the partial tile of each level, if any).
pub fn tiles_for_size(size: u64) -> Vec<Tile> {
    new_tiles(0, size)
}

/// The hash tiles that exist at `new` but not (with the same width) at `old`.
pub fn new_tiles(old: u64, new: u64) -> Vec<Tile> {
    let mut out = Vec::new();
    for level in 0..=63u8 {
        let shift = TILE_HEIGHT * u32::from(level);
        if shift >= 64 || new >> shift == 0 {
            break;
        }
        let old_count = if old > new { 0 } else { old >> shift };
        let new_count = new >> shift;
        let first = old_count / TILE_WIDTH;
        let last = (new_count - 1) / TILE_WIDTH;
        for index in first..=last {
            let Some(t) = tile_in_tree(level, index, new) else {
                continue;
            };
            let unchanged =
                tile_in_tree(level, index, old.min(new)).is_some_and(|o| o.width == t.width);
            if !unchanged {
                out.push(t);
            }
        }
    }
    out
}

/// The entry bundles of a tree of `size` leaves that are new or wider than
/// at `old` (full bundles and the final partial one).
pub fn new_entry_bundles(old: u64, new: u64) -> Vec<Tile> {
    new_tiles(old, new)
        .into_iter()
        .filter(|t| t.kind == (TileKind::Hashes { level: 0 }))
        .map(|t| Tile::entries(t.index, t.width))
        .collect()
}

/// The tiles holding the stored hashes at `indexes`, in a tree of `size`
/// leaves, without duplicates; `None` if a hash lies outside that tree.
fn tiles_for_stored_hashes(indexes: &[u64], size: u64) -> Option<Vec<Tile>> {
    let mut tiles: Vec<Tile> = Vec::new();
    for &index in indexes {
        let (tile, _) = locate(index, size)?;
        if !tiles.contains(&tile) {
            tiles.push(tile);
        }
    }
    Some(tiles)
}

/// The tiles a client must fetch to compute the root of a tree of `size`
/// leaves, so it can fetch them in parallel.
pub fn tiles_for_tree_hash(size: u64) -> Vec<Tile> {
    if size > MAX_TREE_SIZE {
        return Vec::new();
    }
    let mut indexes = Vec::new();
    subtree_indexes(0, size, &mut indexes);
    tiles_for_stored_hashes(&indexes, size).unwrap_or_default()
}

/// The tiles needed for the inclusion proof of `index` in a tree of `size`
/// leaves; empty if `index >= size`.
pub fn tiles_for_inclusion_proof(size: u64, index: u64) -> Vec<Tile> {
    if index >= size || size > MAX_TREE_SIZE {
        return Vec::new();
    }
    let mut indexes = Vec::new();
    for (lo, hi) in inclusion_ranges(size, index) {
        subtree_indexes(lo, hi, &mut indexes);
    }
    tiles_for_stored_hashes(&indexes, size).unwrap_or_default()
}

/// The tiles needed for the consistency proof from `old` to `new` leaves,
/// read from the tree of `new` leaves; empty when no proof hashes are needed.
pub fn tiles_for_consistency_proof(old: u64, new: u64) -> Vec<Tile> {
    if old == 0 || old >= new || new > MAX_TREE_SIZE {
        return Vec::new();
    }
    let mut indexes = Vec::new();
    for (lo, hi) in consistency_ranges(old, new) {
        subtree_indexes(lo, hi, &mut indexes);
    }
    tiles_for_stored_hashes(&indexes, new).unwrap_or_default()
}

/// Tile bytes for `tile`, read from stored hashes: the concatenated hashes
/// at tree level `8·L`.
pub fn read_tile_data<R: HashReader>(
    tile: Tile,
    reader: &R,
) -> Result<Vec<u8>, ProveError<R::Error>> {
    let level = match tile.kind {
        TileKind::Hashes { level } => level,
        TileKind::Entries => 0,
    };
    let tree_level = (TILE_HEIGHT * u32::from(level)) as u8;
    let start = tile.index * TILE_WIDTH;
    let indexes: Vec<u64> = (start..start + u64::from(tile.width))
        .map(|n| stored_hash_index(tree_level, n))
        .collect();
    let hashes = reader.read_hashes(&indexes).map_err(ProveError::Reader)?;
    if hashes.len() != indexes.len() {
        return Err(ProveError::ShortRead {
            got: hashes.len(),
            want: indexes.len(),
        });
    }
    let mut out = Vec::with_capacity(hashes.len() * HASH_SIZE);
    for h in hashes {
        out.extend_from_slice(h.as_bytes());
    }
    Ok(out)
}

/// The smallest tile holding stored hash `index`, and the byte range of the
/// tile hashes that combine into it.
fn tile_for_stored_hash(index: u64) -> Option<(u8, u64, u16, core::ops::Range<usize>)> {
    let (level, n) = split_stored_hash_index(index)?;
    let tile_level = u32::from(level) / TILE_HEIGHT;
    let within = u32::from(level) - tile_level * TILE_HEIGHT;
    let tile_index = (n << within) >> TILE_HEIGHT;
    let n_in_tile = n - ((tile_index << TILE_HEIGHT) >> within);
    let min_width = ((n_in_tile + 1) << within) as u16;
    let start = ((n_in_tile << within) as usize) * HASH_SIZE;
    let end = (((n_in_tile + 1) << within) as usize) * HASH_SIZE;
    Some((tile_level as u8, tile_index, min_width, start..end))
}

/// The tile of a tree of `size` leaves that holds stored hash `index`, and
/// the byte range of the tile hashes that combine into it.
fn locate(index: u64, size: u64) -> Option<(Tile, core::ops::Range<usize>)> {
    let (level, tile_index, min_width, range) = tile_for_stored_hash(index)?;
    let tile = tile_in_tree(level, tile_index, size).filter(|t| t.width >= min_width)?;
    Some((tile, range))
}

/// The root of a run of tile hashes whose count is a power of two.
fn subtree_of_tile(data: &[u8]) -> Hash {
    let mut level: Vec<Hash> = data
        .chunks_exact(HASH_SIZE)
        .filter_map(Hash::from_slice)
        .collect();
    while level.len() > 1 {
        level = level
            .chunks_exact(2)
            .map(|p| node_hash(&p[0], &p[1]))
            .collect();
    }
    level.first().copied().unwrap_or_default()
}

/// Fetches tile bytes for a [`TileHashReader`].
pub trait TileReader {
    /// The fetch error.
    type Error;
    /// Returns the bytes of each tile, in order.
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, Self::Error>;
}

/// Errors of a [`TileHashReader`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TileReadError<E> {
    /// A requested hash lies outside the tree of the reader's size.
    OutsideTree {
        /// The stored-hash index.
        index: u64,
    },
    /// A tile's bytes have the wrong length.
    Data(TileDataError),
    /// The tile reader returned a different number of tiles than asked for.
    ShortRead {
        /// Tiles returned.
        got: usize,
        /// Tiles requested.
        want: usize,
    },
    /// The tile reader failed.
    Reader(E),
}

impl<E: fmt::Display> fmt::Display for TileReadError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TileReadError::OutsideTree { index } => {
                write!(f, "stored hash {index} is outside the tree")
            }
            TileReadError::Data(e) => write!(f, "{e}"),
            TileReadError::ShortRead { got, want } => {
                write!(f, "tile reader returned {got} tiles, want {want}")
            }
            TileReadError::Reader(e) => write!(f, "reading tiles: {e}"),
        }
    }
}

/// A [`HashReader`] that computes stored hashes from the tiles of a tree
/// of a given size.
pub struct TileHashReader<'a, T> {
    size: u64,
    tiles: &'a T,
}

impl<'a, T: TileReader> TileHashReader<'a, T> {
    /// A reader over the tiles of the tree of `size` leaves.
    pub fn new(size: u64, tiles: &'a T) -> Self {
        TileHashReader { size, tiles }
    }
}

impl<T: TileReader> HashReader for TileHashReader<'_, T> {
    type Error = TileReadError<T::Error>;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Self::Error> {
        let mut wanted: Vec<Tile> = Vec::new();
        let mut plan = Vec::with_capacity(indexes.len());
        for &index in indexes {
            let (tile, range) =
                locate(index, self.size).ok_or(TileReadError::OutsideTree { index })?;
            let slot = match wanted.iter().position(|t| *t == tile) {
                Some(i) => i,
                None => {
                    wanted.push(tile);
                    wanted.len() - 1
                }
            };
            plan.push((slot, range));
        }
        let data = self
            .tiles
            .read_tiles(&wanted)
            .map_err(TileReadError::Reader)?;
        if data.len() != wanted.len() {
            return Err(TileReadError::ShortRead {
                got: data.len(),
                want: wanted.len(),
            });
        }
        for (tile, bytes) in wanted.iter().zip(&data) {
            // A wider tile than asked for (e.g. the full tile in place of a
            // partial one a mirror has since replaced) holds the same hashes
            // as a prefix, as in Go's tlog.HashFromTile.
            let want = usize::from(tile.width) * HASH_SIZE;
            let max = TILE_WIDTH as usize * HASH_SIZE;
            if bytes.len() < want || bytes.len() > max || bytes.len() % HASH_SIZE != 0 {
                return Err(TileReadError::Data(TileDataError::WrongTileSize {
                    got: bytes.len(),
                    want,
                }));
            }
        }
        Ok(plan
            .into_iter()
            .map(|(slot, range)| subtree_of_tile(&data[slot][range]))
            .collect())
    }
}

/// Encodes entries as a bundle: each prefixed by its big-endian u16 length.
pub fn encode_entry_bundle<E: AsRef<[u8]>>(entries: &[E]) -> Result<Vec<u8>, TileDataError> {
    let mut out = Vec::with_capacity(entries.iter().map(|e| 2 + e.as_ref().len()).sum());
    for (i, e) in entries.iter().enumerate() {
        let e = e.as_ref();
        let len = u16::try_from(e.len()).map_err(|_| TileDataError::EntryTooLarge { entry: i })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// Parses an entry bundle that must hold exactly `count` entries (the
/// tile's width): no truncation, no trailing bytes.
pub fn parse_entry_bundle(bytes: &[u8], count: usize) -> Result<Vec<&[u8]>, TileDataError> {
    let mut out = Vec::with_capacity(count.min(TILE_WIDTH as usize));
    let mut rest = bytes;
    while !rest.is_empty() {
        if out.len() == count {
            return Err(TileDataError::WrongEntryCount {
                got: count + 1,
                want: count,
            });
        }
        let entry = out.len();
        let (len, tail) = rest
            .split_first_chunk::<2>()
            .ok_or(TileDataError::TruncatedBundle { entry })?;
        let len = usize::from(u16::from_be_bytes(*len));
        if tail.len() < len {
            return Err(TileDataError::TruncatedBundle { entry });
        }
        out.push(&tail[..len]);
        rest = &tail[len..];
    }
    if out.len() != count {
        return Err(TileDataError::WrongEntryCount {
            got: out.len(),
            want: count,
        });
    }
    Ok(out)
}
