//! The in-memory tree: a whole tree's stored hashes in a `Vec`, for tests,
//! benchmarks and small logs (a store keeps the same layout on disk).

use alloc::vec::Vec;
use core::fmt;

use super::{HashReader, stored_hash_index, tree_hash};
use crate::hash::{EMPTY_ROOT, Hash, node_hash};

/// A whole tree's stored hashes in memory, in [`stored_hash_index`] order.
/// For tests, benchmarks, and small logs; a store keeps the same layout on disk.
#[derive(Clone, Debug, Default)]
pub struct InMemoryTree {
    hashes: Vec<Hash>,
    size: u64,
}

/// The in-memory tree never fails; this is its (uninhabited) read error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NeverFails {}

impl fmt::Display for NeverFails {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {}
    }
}

impl InMemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a leaf hash; returns its index.
    pub fn append(&mut self, leaf: Hash) -> u64 {
        let n = self.size;
        let mut h = leaf;
        self.hashes.push(h);
        // Each trailing one bit of n completes a subtree whose left sibling
        // is already stored (its index is below the current length).
        for level in 0..(n + 1).trailing_zeros() {
            let at = stored_hash_index(level as u8, (n >> level) - 1) as usize;
            h = node_hash(&self.hashes[at], &h);
            self.hashes.push(h);
        }
        self.size += 1;
        n
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// All stored hashes, by stored-hash index.
    pub fn stored_hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// The current root.
    pub fn root(&self) -> Hash {
        self.root_at(self.size).unwrap_or(EMPTY_ROOT)
    }

    /// The root at an earlier size; `None` if `size` is larger than the tree.
    pub fn root_at(&self, size: u64) -> Option<Hash> {
        if size > self.size {
            return None;
        }
        tree_hash(size, self).ok()
    }
}

impl HashReader for &[Hash] {
    type Error = NeverFails;
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, NeverFails> {
        // Indexes outside the slice cannot be produced for sizes within the
        // tree; returning fewer hashes surfaces as ShortRead, not a panic.
        Ok(indexes
            .iter()
            .map_while(|&i| usize::try_from(i).ok().and_then(|i| self.get(i)).copied())
            .collect())
    }
}

impl HashReader for InMemoryTree {
    type Error = NeverFails;
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, NeverFails> {
        self.hashes.as_slice().read_hashes(indexes)
    }
}
