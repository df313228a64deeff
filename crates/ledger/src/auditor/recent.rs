//! The recent past of the tree, so that the root a signer says it saw
//! (`Statement.seen`) can be checked against the log's own root at that
//! size (docs/FORMAT.md §16 step 7) in bounded memory.
//!
//! The auditor keeps the last [`SEEN_WINDOW`] leaf hashes and, every
//! [`SNAPSHOT_EVERY`] leaves, the compact range of the tree at that size.
//! The root at any size in the window is then one snapshot plus at most
//! `SNAPSHOT_EVERY - 1` pushes: about 300 hashes, and the last answer is
//! remembered because neighbouring statements usually cite the same
//! checkpoint. A `seen` size older than the window is refused: the signer
//! must fetch a fresher checkpoint (a log's sequencer applies the same
//! rule, so an honest log never holds such a statement).
//!
//! Memory: 32 bytes per leaf of the window (2 MiB) plus one compact range
//! (a few hundred bytes) per snapshot, whatever the size of the log.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use bincode::{Decode, Encode};
use forewarn_tlog::compact::CompactRange;
use forewarn_tlog::hash::Hash;

/// How far back (in records) a statement's `seen` size may be.
pub const SEEN_WINDOW: u64 = 65_536;
/// Distance between kept compact ranges.
pub const SNAPSHOT_EVERY: u64 = 256;

/// The window of recent leaves and the compact ranges inside it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct RecentTree {
    /// Tree size at the first snapshot (a multiple of [`SNAPSHOT_EVERY`]).
    pub first: u64,
    /// Leaf hashes from index `first` on.
    pub leaves: VecDeque<Hash>,
    /// Encoded compact ranges at sizes `first`, `first + SNAPSHOT_EVERY`, …
    pub snapshots: VecDeque<Vec<u8>>,
}

impl RecentTree {
    /// Records the next leaf; `tree` is the tree before it is pushed.
    pub fn push(&mut self, tree: &CompactRange, leaf: Hash) {
        let size = tree.size();
        if size.is_multiple_of(SNAPSHOT_EVERY) {
            if self.snapshots.is_empty() {
                self.first = size;
            }
            self.snapshots.push_back(tree.to_bytes());
        }
        self.leaves.push_back(leaf);
        // Keep whole snapshot intervals covering at least the window.
        while self.leaves.len() as u64 >= SEEN_WINDOW + 2 * SNAPSHOT_EVERY {
            self.leaves.drain(..SNAPSHOT_EVERY as usize);
            self.snapshots.pop_front();
            self.first += SNAPSHOT_EVERY;
        }
    }

    /// Smallest size whose root [`RecentTree::root_at`] can compute.
    pub fn oldest(&self) -> u64 {
        self.first
    }

    /// The root of the tree at `size`, if `size` is inside the window.
    pub fn root_at(&self, size: u64) -> Option<Hash> {
        let end = self.first + self.leaves.len() as u64;
        if size < self.first || size > end || self.snapshots.is_empty() {
            return None;
        }
        // The window's end may fall on a snapshot boundary whose snapshot
        // is not taken yet (it is taken when the next leaf arrives): then
        // the last snapshot and its full interval of leaves give the root.
        let i = ((size - self.first) / SNAPSHOT_EVERY).min(self.snapshots.len() as u64 - 1);
        let mut range = CompactRange::from_bytes(self.snapshots.get(i as usize)?).ok()?;
        let from = (i * SNAPSHOT_EVERY) as usize;
        let to = (size - self.first) as usize;
        for leaf in self.leaves.range(from..to) {
            range.push(*leaf);
        }
        Some(range.root())
    }

    /// The first size of the window after `size` leaves were pushed (what
    /// [`RecentTree::oldest`] then returns): the window keeps whole
    /// intervals of [`SNAPSHOT_EVERY`] leaves, fewer than
    /// `SEEN_WINDOW + 2 * SNAPSHOT_EVERY` in all.
    pub fn window_start(size: u64) -> u64 {
        let keep = SEEN_WINDOW + 2 * SNAPSHOT_EVERY;
        if size < keep {
            0
        } else {
            ((size - keep) / SNAPSHOT_EVERY + 1) * SNAPSHOT_EVERY
        }
    }

    /// The window a tree of `size` leaves has, rebuilt from its parts: the
    /// leaves from [`RecentTree::window_start`]`(size)` on, and the
    /// compact ranges at every multiple of [`SNAPSHOT_EVERY`] from there
    /// below `size`, as a store keeps them. The same window as pushing
    /// every leaf from the first; `None` if the parts do not fit `size`.
    pub fn rebuild(size: u64, leaves: Vec<Hash>, snapshots: Vec<Vec<u8>>) -> Option<RecentTree> {
        let first = RecentTree::window_start(size);
        if leaves.len() as u64 != size - first
            || snapshots.len() as u64 != (size - first).div_ceil(SNAPSHOT_EVERY)
        {
            return None;
        }
        Some(RecentTree {
            first,
            leaves: leaves.into(),
            snapshots: snapshots.into(),
        })
    }

    /// Checks the window against the tree it was built beside: a tree of
    /// size 0 has an empty window and any other one snapshot at least;
    /// every snapshot decodes and sits at its size; and the last snapshot
    /// with the leaves after it leads to `tree`. (The contents of earlier
    /// snapshots and leaves are not re-derived: a saved state is its
    /// auditor's own, and one that lies about them misleads only its own
    /// `seen` checks.)
    pub fn consistent_with(&self, tree: &CompactRange) -> bool {
        if self.snapshots.is_empty() {
            return self.leaves.is_empty() && tree.size() == 0;
        }
        let end = self.first + self.leaves.len() as u64;
        end == tree.size()
            && self.first.is_multiple_of(SNAPSHOT_EVERY)
            && self.snapshots.len() as u64
                == (self.leaves.len() as u64).div_ceil(SNAPSHOT_EVERY).max(1)
            && (self.snapshots.iter().zip(0u64..)).all(|(s, i)| {
                CompactRange::from_bytes(s)
                    .is_ok_and(|r| r.size() == self.first + i * SNAPSHOT_EVERY)
            })
            && self.root_at(end) == Some(tree.root())
    }
}

#[cfg(test)]
mod tests {
    use forewarn_tlog::hash::record_hash;
    use forewarn_tlog::tree::InMemoryTree;

    use super::*;

    #[test]
    fn roots_in_the_window_match_the_full_tree() {
        let mut full = InMemoryTree::new();
        let mut range = CompactRange::new();
        let mut recent = RecentTree::default();
        let n = SEEN_WINDOW + 3 * SNAPSHOT_EVERY + 17;
        for i in 0..n {
            let leaf = record_hash(&i.to_le_bytes());
            recent.push(&range, leaf);
            range.push(leaf);
            full.append(leaf);
        }
        assert!(recent.consistent_with(&range));
        assert!(recent.oldest() > 0 && n - recent.oldest() >= SEEN_WINDOW);
        for size in [n, n - 1, n - 255, n - 256, n - 1000, n - SEEN_WINDOW] {
            assert_eq!(
                recent.root_at(size),
                Some(full.root_at(size).unwrap()),
                "{size}"
            );
        }
        assert_eq!(recent.root_at(recent.oldest() - 1), None);
        assert_eq!(recent.root_at(n + 1), None);
    }

    /// A store rebuilds the window from the leaves and kept compact ranges
    /// at open; it must be exactly the window the pushes built, or the
    /// `seen-too-old` verdicts of the store and of a full audit would differ.
    #[test]
    fn a_rebuilt_window_is_the_pushed_one() {
        let mut range = CompactRange::new();
        let mut recent = RecentTree::default();
        let mut leaves = Vec::new();
        let mut ranges: Vec<Vec<u8>> = Vec::new();
        let keep = SEEN_WINDOW + 2 * SNAPSHOT_EVERY;
        let checked = [
            0,
            1,
            255,
            256,
            257,
            keep - 1,
            keep,
            keep + 1,
            keep + 255,
            keep + 256,
            keep + 600,
        ];
        for i in 0..=keep + 600 {
            if checked.contains(&i) {
                let first = RecentTree::window_start(i);
                assert_eq!(recent.oldest(), first, "size {i}");
                let snaps: Vec<Vec<u8>> = (first..i)
                    .step_by(SNAPSHOT_EVERY as usize)
                    .map(|s| ranges[(s / SNAPSHOT_EVERY) as usize].clone())
                    .collect();
                let rebuilt =
                    RecentTree::rebuild(i, leaves[first as usize..].to_vec(), snaps).unwrap();
                assert_eq!(rebuilt, recent, "size {i}");
                assert!(RecentTree::rebuild(i, Vec::new(), Vec::new()).is_none() || i == 0);
            }
            if i.is_multiple_of(SNAPSHOT_EVERY) {
                ranges.push(range.to_bytes());
            }
            let leaf = record_hash(&i.to_le_bytes());
            recent.push(&range, leaf);
            range.push(leaf);
            leaves.push(leaf);
        }
    }
}
