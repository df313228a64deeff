//! Compact ranges: the root of a growing log in O(log n) memory.
//!
//! A [`CompactRange`] keeps only the roots of the perfect subtrees that
//! make up the tree so far (one per set bit of its size), the way a binary
//! counter keeps carries. A verifier streams every leaf hash of a log
//! through [`CompactRange::push`] and compares [`CompactRange::root`] with
//! a signed checkpoint, without ever holding the log. Its state serializes
//! to a few hundred bytes so an audit can stop and resume.
//!
//! ```
//! use forewarn_tlog::{record_hash, compact::CompactRange, tree::InMemoryTree};
//! let mut range = CompactRange::new();
//! let mut tree = InMemoryTree::new();
//! for i in 0u32..1000 {
//!     range.push(record_hash(&i.to_le_bytes()));
//!     tree.append(record_hash(&i.to_le_bytes()));
//! }
//! assert_eq!(range.root(), tree.root());
//! let resumed = CompactRange::from_bytes(&range.to_bytes()).unwrap();
//! assert_eq!(resumed, range);
//! ```

use alloc::vec::Vec;
use core::fmt;

use crate::hash::{EMPTY_ROOT, HASH_SIZE, Hash, node_hash};

/// The perfect-subtree roots of a tree of `size` leaves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompactRange {
    size: u64,
    /// Roots of the perfect subtrees, largest (leftmost) first; one per set
    /// bit of `size`.
    peaks: Vec<Hash>,
}

/// Why serialized compact-range state was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CompactRangeError {
    /// Fewer than the 8 bytes of the size.
    Truncated,
    /// The size exceeds [`crate::tree::MAX_TREE_SIZE`].
    TooLarge {
        /// The size found.
        size: u64,
    },
    /// The byte length does not match the number of peaks the size implies.
    WrongLength {
        /// Bytes given.
        got: usize,
        /// Bytes the encoded size requires.
        want: usize,
    },
}

impl fmt::Display for CompactRangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompactRangeError::Truncated => {
                f.write_str("compact range state is shorter than its 8-byte size")
            }
            CompactRangeError::TooLarge { size } => write!(
                f,
                "compact range size {size} exceeds the supported 2^62 leaves"
            ),
            CompactRangeError::WrongLength { got, want } => write!(
                f,
                "compact range state is {got} bytes, its size field requires {want}"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for CompactRangeError {}

impl CompactRange {
    /// The empty range.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves pushed.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The perfect-subtree roots, leftmost first.
    pub fn peaks(&self) -> &[Hash] {
        &self.peaks
    }

    /// Appends one leaf hash (RFC 9162 §2.1.1 leaf hash, not raw data).
    /// Sizes count up to 2^64 − 1; a range restored from bytes starts at
    /// most at [`crate::tree::MAX_TREE_SIZE`], centuries of pushes below that.
    pub fn push(&mut self, leaf: Hash) {
        let mut h = leaf;
        // Each trailing one bit of the old size is a peak that merges with
        // the new leaf's subtree: amortized one node hash per leaf.
        for _ in 0..self.size.trailing_ones() {
            let Some(left) = self.peaks.pop() else { break };
            h = node_hash(&left, &h);
        }
        self.peaks.push(h);
        self.size += 1;
    }

    /// The root of the tree so far (RFC 9162 §2.1.1 MTH).
    pub fn root(&self) -> Hash {
        let mut iter = self.peaks.iter().rev();
        let Some(last) = iter.next() else {
            return EMPTY_ROOT;
        };
        let mut h = *last;
        for left in iter {
            h = node_hash(left, &h);
        }
        h
    }

    /// Serialized state: big-endian u64 size, then each peak's 32 bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + HASH_SIZE * self.peaks.len());
        out.extend_from_slice(&self.size.to_be_bytes());
        for p in &self.peaks {
            out.extend_from_slice(p.as_bytes());
        }
        out
    }

    /// Parses [`CompactRange::to_bytes`] output, checking the peak count
    /// matches the size.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CompactRangeError> {
        let (size, rest) = bytes
            .split_first_chunk::<8>()
            .ok_or(CompactRangeError::Truncated)?;
        let size = u64::from_be_bytes(*size);
        if size > crate::tree::MAX_TREE_SIZE {
            return Err(CompactRangeError::TooLarge { size });
        }
        let want_peaks = size.count_ones() as usize;
        if rest.len() != want_peaks * HASH_SIZE {
            return Err(CompactRangeError::WrongLength {
                got: bytes.len(),
                want: 8 + want_peaks * HASH_SIZE,
            });
        }
        let peaks = rest
            .chunks_exact(HASH_SIZE)
            .filter_map(Hash::from_slice)
            .collect();
        Ok(CompactRange { size, peaks })
    }
}
