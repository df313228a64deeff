//! The hash tiles of a log, checked as its leaf hashes stream past, for
//! the audit of an export (against its files) and for `check` (against
//! the store's tiles).

use forewarn_tlog::hash::{Hash, node_hash};
use forewarn_tlog::tile::{TILE_WIDTH, Tile};

/// The hash tiles of a log, checked as the leaf hashes stream past
/// (C2SP tlog-tiles: the tile at level L, index N holds the hashes of the
/// 256 subtrees of 256^L leaves from leaf 256^(L+1)·N on). Each level keeps
/// only its open tile: when it fills, it is compared (by `compare`, which
/// returns the failure if the stored tile is not these bytes) and its root
/// becomes the next hash of the level above; at the end the open tiles are
/// the partial tiles. So every tile of `tiles_for_size(size)` is checked,
/// with at most 256 hashes held per level.
pub(crate) struct TileCheck<E, C: FnMut(Tile, &[u8]) -> Option<E>> {
    compare: C,
    /// Per level: the hashes of its open tile, and how many tiles of the
    /// level are complete (the open tile's index).
    levels: Vec<(Vec<Hash>, u64)>,
    /// The first failure at the lowest level found so far: the first of
    /// all in `tiles_for_size` order, which is level by level and, within
    /// a level, by index, the order in which a level's tiles complete.
    failure: Option<(u8, E)>,
}

impl<E, C: FnMut(Tile, &[u8]) -> Option<E>> TileCheck<E, C> {
    pub(crate) fn new(compare: C) -> Self {
        TileCheck {
            compare,
            levels: Vec::new(),
            failure: None,
        }
    }

    /// Adds the next hash of tile level `level` (0: a leaf hash).
    pub(crate) fn push(&mut self, level: u8, hash: Hash) {
        let at = usize::from(level);
        if self.levels.len() == at {
            self.levels
                .push((Vec::with_capacity(TILE_WIDTH as usize), 0));
        }
        self.levels[at].0.push(hash);
        if self.levels[at].0.len() == TILE_WIDTH as usize {
            let mut hashes = std::mem::take(&mut self.levels[at].0);
            let index = self.levels[at].1;
            self.check(level, index, &hashes);
            let root = subtree_root(&mut hashes);
            hashes.clear();
            self.levels[at] = (hashes, index + 1);
            self.push(level + 1, root);
        }
    }

    /// Compares the tile at `level` and `index` holding `hashes`, unless
    /// a failure at this level or below is already known.
    fn check(&mut self, level: u8, index: u64, hashes: &[Hash]) {
        if self.failure.as_ref().is_some_and(|(l, _)| *l <= level) {
            return;
        }
        // `hashes` holds 1 to 256 hashes.
        let tile = Tile::hashes(level, index, hashes.len() as u16);
        let want: Vec<u8> = hashes.iter().flat_map(|h| *h.as_bytes()).collect();
        if let Some(failure) = (self.compare)(tile, &want) {
            self.failure = Some((level, failure));
        }
    }

    /// Checks the partial tile of each level; the verdict.
    pub(crate) fn finish(mut self) -> Result<(), E> {
        for at in 0..self.levels.len() {
            let (hashes, index) = std::mem::take(&mut self.levels[at]);
            if !hashes.is_empty() {
                // At most 9 levels for a 64-bit size.
                self.check(at as u8, index, &hashes);
            }
        }
        self.failure.map_or(Ok(()), |(_, e)| Err(e))
    }
}

/// The root of a full tile's 256 hashes (a power of two: RFC 9162 §2.1.1
/// reduces to pairwise node hashes), computed in place.
fn subtree_root(hashes: &mut [Hash]) -> Hash {
    let mut n = hashes.len();
    while n > 1 {
        for i in 0..n / 2 {
            hashes[i] = node_hash(&hashes[2 * i], &hashes[2 * i + 1]);
        }
        n /= 2;
    }
    hashes[0]
}
