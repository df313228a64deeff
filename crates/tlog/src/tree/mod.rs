//! Merkle tree math: stored-hash layout, tree heads, inclusion and
//! consistency proofs (RFC 9162 §2.1).
//!
//! # Layout
//! Storage holds every hash of every *complete* subtree, numbered as Go's
//! `sumdb/tlog` numbers them ([`stored_hash_index`]): appending record `n`
//! stores its leaf hash, then one hash for each subtree that leaf completes.
//! A log with `n` records holds `2n - popcount(n)` hashes. Storage never
//! chooses where a hash goes: it answers [`HashReader::read_hashes`] for the
//! indexes this module asks for, so the same proof code runs over memory,
//! sled, or static tiles ([`crate::tile::TileHashReader`]).
//!
//! # Proofs
//! Proof *generation* reads at most `2·log₂ n` stored hashes in one call.
//! Proof *verification* needs no storage: it checks the proof length
//! against the expected length before hashing anything, computes the root
//! the proof implies (`root_from_*`) and then compares it with the trusted
//! root in constant time (`verify_*`).
//!
//! ```
//! use forewarn_tlog::{record_hash, tree::{InMemoryTree, prove_inclusion, verify_inclusion}};
//! let mut tree = InMemoryTree::new();
//! for i in 0u32..10 { tree.append(record_hash(&i.to_be_bytes())); }
//! let root = tree.root();
//! let proof = prove_inclusion(10, 3, &tree).unwrap();
//! verify_inclusion(10, 3, &record_hash(&3u32.to_be_bytes()), &proof, &root).unwrap();
//! ```

use alloc::vec::Vec;
use core::fmt;

use crate::hash::{EMPTY_ROOT, Hash, node_hash};

/// Longest proof any tree of up to 2^64 leaves can need, per kind.
pub const MAX_PROOF_HASHES: usize = 64;

/// The largest tree whose stored hashes this module can address: 2^62
/// leaves (stored-hash indexes stay below 2^63). Checkpoints may claim
/// larger sizes; proving from storage at such sizes is refused with
/// [`ProveError::OutOfRange`], never a panic. Verification needs no
/// storage and works for every size.
pub const MAX_TREE_SIZE: u64 = 1 << 62;

/// Supplies stored hashes, by [`stored_hash_index`], to the tree math.
pub trait HashReader {
    /// The storage error type.
    type Error;
    /// Returns the hashes at `indexes`, in the same order and of the same
    /// number. Indexes come sorted in increasing order.
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Self::Error>;
}

/// Why a tree head or proof could not be produced from storage.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProveError<E> {
    /// A leaf index or tree size was outside the tree asked about.
    OutOfRange {
        /// The leaf index or (old) tree size requested.
        requested: u64,
        /// The size of the tree it had to fit in.
        size: u64,
    },
    /// The reader returned a different number of hashes than asked for.
    ShortRead {
        /// Hashes returned.
        got: usize,
        /// Hashes requested.
        want: usize,
    },
    /// The reader failed.
    Reader(E),
}

impl<E: fmt::Display> fmt::Display for ProveError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProveError::OutOfRange { requested, size } => {
                write!(f, "{requested} is out of range for a tree of size {size}")
            }
            ProveError::ShortRead { got, want } => {
                write!(f, "hash reader returned {got} hashes, want {want}")
            }
            ProveError::Reader(e) => write!(f, "reading stored hashes: {e}"),
        }
    }
}

#[cfg(feature = "std")]
impl<E: fmt::Debug + fmt::Display> std::error::Error for ProveError<E> {}

/// Why a proof does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProofError {
    /// The leaf index is not below the tree size.
    IndexOutOfRange {
        /// The claimed leaf index.
        index: u64,
        /// The claimed tree size.
        size: u64,
    },
    /// The old tree is larger than the new one.
    SizesOutOfOrder {
        /// The claimed old size.
        old: u64,
        /// The claimed new size.
        new: u64,
    },
    /// The proof has the wrong number of hashes for these sizes.
    WrongLength {
        /// Hashes in the proof.
        got: usize,
        /// Hashes these sizes require.
        want: usize,
    },
    /// The proof implies a different old root than the trusted one.
    OldRootMismatch {
        /// Root computed from the proof.
        got: Hash,
        /// Trusted old root.
        want: Hash,
    },
    /// The proof implies a different root than the trusted one.
    RootMismatch {
        /// Root computed from the proof.
        got: Hash,
        /// Trusted root.
        want: Hash,
    },
}

impl fmt::Display for ProofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProofError::IndexOutOfRange { index, size } => {
                write!(f, "leaf index {index} is not below tree size {size}")
            }
            ProofError::SizesOutOfOrder { old, new } => {
                write!(f, "old tree size {old} is larger than new tree size {new}")
            }
            ProofError::WrongLength { got, want } => {
                write!(f, "proof has {got} hashes, these sizes need {want}")
            }
            ProofError::OldRootMismatch { got, want } => {
                write!(
                    f,
                    "proof implies old root {got}, trusted old root is {want}"
                )
            }
            ProofError::RootMismatch { got, want } => {
                write!(f, "proof implies root {got}, trusted root is {want}")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ProofError {}

// ---------------------------------------------------------------------------
// Stored-hash layout (the numbering of golang.org/x/mod/sumdb/tlog).
// ---------------------------------------------------------------------------

/// The storage index of the hash of the complete subtree at `level` whose
/// leftmost leaf is `n << level`.
///
/// Record `n`'s leaf hash is stored at `stored_hash_index(0, n)`; the hashes
/// it completes follow it immediately. Defined for subtrees within
/// [`MAX_TREE_SIZE`] leaves; beyond, the result wraps (it never panics).
pub fn stored_hash_index(level: u8, n: u64) -> u64 {
    // Hashes stored before the leaf hash of record m = n << level (that is,
    // by records 0..m-1), plus the level. Records 0..m-1 stored
    // 2m - popcount(m) hashes.
    let mut m = n;
    for _ in 0..level {
        m = m.wrapping_mul(2).wrapping_add(1);
    }
    // m is now the last record of the subtree; index of its leaf hash is
    // sum over shifts of m (see Go's StoredHashIndex), then + level.
    let mut i = 0u64;
    let mut x = m;
    while x > 0 {
        i = i.wrapping_add(x);
        x >>= 1;
    }
    i.wrapping_add(u64::from(level))
}

/// Inverse of [`stored_hash_index`]: `(level, n)` for a storage index, or
/// `None` for an index beyond a tree of [`MAX_TREE_SIZE`] leaves.
pub fn split_stored_hash_index(index: u64) -> Option<(u8, u64)> {
    if index >= stored_hash_count(MAX_TREE_SIZE) {
        return None;
    }
    // stored_hash_index(0, n) lies in [n, 2n], so the record whose
    // hashes include `index` is in [index/2, index].
    let mut n = index / 2;
    let mut index_n = stored_hash_index(0, n);
    while index_n > index {
        n -= 1;
        index_n = stored_hash_index(0, n);
    }
    loop {
        // Record n stores 1 + trailing_ones(n) hashes.
        let next = index_n + 1 + u64::from((n + 1).trailing_zeros());
        if next > index {
            break;
        }
        n += 1;
        index_n = next;
    }
    let level = (index - index_n) as u8;
    Some((level, n >> level))
}

/// How many hashes a tree of `n` records stores.
pub fn stored_hash_count(n: u64) -> u64 {
    // 2n - popcount(n): every leaf, plus one per completed subtree.
    // Wraps (never panics) beyond 2^63 records.
    n.wrapping_mul(2).wrapping_sub(u64::from(n.count_ones()))
}

/// The hashes to store when appending record `n` whose leaf hash is
/// `leaf`: the leaf hash first, then one per subtree the leaf completes.
/// They go at indexes `stored_hash_count(n)..stored_hash_count(n + 1)`.
pub fn stored_hashes_for_record<R: HashReader>(
    n: u64,
    leaf: Hash,
    reader: &R,
) -> Result<Vec<Hash>, ProveError<R::Error>> {
    if n >= MAX_TREE_SIZE {
        return Err(ProveError::OutOfRange {
            requested: n,
            size: MAX_TREE_SIZE,
        });
    }
    let completed = (n + 1).trailing_zeros() as usize;
    let mut indexes = Vec::with_capacity(completed);
    for i in 0..completed {
        // The left sibling at level i: subtree (n >> i) - 1.
        indexes.push(stored_hash_index(i as u8, (n >> i) - 1));
    }
    indexes.sort_unstable();
    let old = read_exact(reader, &indexes)?;
    // old is sorted by index, which is by increasing position, i.e. by
    // decreasing level. Combine from the lowest level up.
    let mut out = Vec::with_capacity(1 + completed);
    let mut h = leaf;
    out.push(h);
    for sibling in old.iter().rev() {
        h = node_hash(sibling, &h);
        out.push(h);
    }
    Ok(out)
}

fn read_exact<R: HashReader>(
    reader: &R,
    indexes: &[u64],
) -> Result<Vec<Hash>, ProveError<R::Error>> {
    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    let hashes = reader.read_hashes(indexes).map_err(ProveError::Reader)?;
    if hashes.len() != indexes.len() {
        return Err(ProveError::ShortRead {
            got: hashes.len(),
            want: indexes.len(),
        });
    }
    Ok(hashes)
}

// ---------------------------------------------------------------------------
// Ranges of leaves and the complete subtrees that cover them.
// ---------------------------------------------------------------------------

/// Largest power of two strictly below `n` (for n ≥ 2): RFC 9162's `k`.
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Appends the stored-hash indexes of the complete subtrees covering
/// leaves `[lo, hi)`, left to right, largest first.
pub(crate) fn subtree_indexes(mut lo: u64, hi: u64, out: &mut Vec<u64>) -> usize {
    let mut count = 0;
    while lo < hi {
        // Largest aligned power of two that starts at lo and fits.
        let mut level = 63 - (hi - lo).leading_zeros();
        if lo != 0 {
            level = level.min(lo.trailing_zeros());
        }
        out.push(stored_hash_index(level as u8, lo >> level));
        lo += 1u64 << level;
        count += 1;
    }
    count
}

/// Folds complete-subtree hashes (left to right) into the hash of their
/// range: RFC 9162's MTH for ranges that arise from its recursive split.
fn fold_subtrees(hashes: &[Hash]) -> Hash {
    let mut iter = hashes.iter().rev();
    let Some(last) = iter.next() else {
        return EMPTY_ROOT;
    };
    let mut h = *last;
    for left in iter {
        h = node_hash(left, &h);
    }
    h
}

/// Reads the hashes of several leaf ranges with one reader call and
/// returns each range's Merkle tree hash.
fn range_hashes<R: HashReader>(
    ranges: &[(u64, u64)],
    reader: &R,
) -> Result<Vec<Hash>, ProveError<R::Error>> {
    let mut indexes = Vec::new();
    let mut counts = Vec::with_capacity(ranges.len());
    for &(lo, hi) in ranges {
        counts.push(subtree_indexes(lo, hi, &mut indexes));
    }
    // Readers may rely on sorted indexes; remember where each one was.
    let mut order: Vec<usize> = (0..indexes.len()).collect();
    order.sort_unstable_by_key(|&i| indexes[i]);
    let sorted: Vec<u64> = order.iter().map(|&i| indexes[i]).collect();
    let read = read_exact(reader, &sorted)?;
    let mut hashes = alloc::vec![Hash::default(); indexes.len()];
    for (pos, &i) in order.iter().enumerate() {
        hashes[i] = read[pos];
    }
    let mut out = Vec::with_capacity(ranges.len());
    let mut at = 0;
    for count in counts {
        out.push(fold_subtrees(&hashes[at..at + count]));
        at += count;
    }
    Ok(out)
}

fn check_supported<E>(size: u64) -> Result<(), ProveError<E>> {
    if size > MAX_TREE_SIZE {
        return Err(ProveError::OutOfRange {
            requested: size,
            size: MAX_TREE_SIZE,
        });
    }
    Ok(())
}

/// The root hash of the tree of the first `size` records.
pub fn tree_hash<R: HashReader>(size: u64, reader: &R) -> Result<Hash, ProveError<R::Error>> {
    if size == 0 {
        return Ok(EMPTY_ROOT);
    }
    check_supported(size)?;
    Ok(range_hashes(&[(0, size)], reader)?[0])
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves:
/// RFC 9162 §2.1.3.1 `PATH(m, D[n])`, sibling of the leaf first.
pub fn prove_inclusion<R: HashReader>(
    size: u64,
    index: u64,
    reader: &R,
) -> Result<Vec<Hash>, ProveError<R::Error>> {
    if index >= size {
        return Err(ProveError::OutOfRange {
            requested: index,
            size,
        });
    }
    check_supported(size)?;
    range_hashes(&inclusion_ranges(size, index), reader)
}

/// The inclusion proofs of every leaf in `leaves` (a range of consecutive
/// leaves, e.g. one commit's records) in the tree of `size` leaves, each as
/// [`prove_inclusion`] gives it. Neighbouring leaves share most of their
/// proof's subtrees: one walk down RFC 9162's recursive split (§2.1.3.1)
/// visits each subtree that holds some of the leaves once, collecting the
/// sibling ranges without repeats, and one reader call reads them all.
pub fn prove_inclusions<R: HashReader>(
    size: u64,
    leaves: core::ops::Range<u64>,
    reader: &R,
) -> Result<Vec<Vec<Hash>>, ProveError<R::Error>> {
    if leaves.end > size || leaves.start > leaves.end {
        return Err(ProveError::OutOfRange {
            requested: leaves.end.max(leaves.start),
            size,
        });
    }
    check_supported(size)?;
    if leaves.is_empty() {
        return Ok(Vec::new());
    }
    let mut walk = ProofWalk {
        ranges: Vec::new(),
        path: Vec::new(),
        proofs: Vec::with_capacity((leaves.end - leaves.start) as usize),
    };
    walk.visit(0, size, leaves.start, leaves.end);
    let hashes = range_hashes(&walk.ranges, reader)?;
    Ok(walk
        .proofs
        .iter()
        .map(|p| p.iter().map(|&r| hashes[r]).collect())
        .collect())
}

/// State of [`prove_inclusions`]'s walk: the distinct sibling ranges found
/// so far, the ranges (by position in `ranges`) on the way down to the
/// current subtree, and each finished leaf's proof as positions in
/// `ranges`, bottom-up.
struct ProofWalk {
    ranges: Vec<(u64, u64)>,
    path: Vec<usize>,
    proofs: Vec<Vec<usize>>,
}

impl ProofWalk {
    /// Visits subtree `[lo, hi)`, which holds leaves `[a, b)` of the run
    /// (non-empty). Depth is at most 64, the height of the largest tree.
    fn visit(&mut self, lo: u64, hi: u64, a: u64, b: u64) {
        if hi - lo == 1 {
            self.proofs.push(self.path.iter().rev().copied().collect());
            return;
        }
        let mid = lo + split_point(hi - lo);
        if a < mid {
            self.ranges.push((mid, hi));
            self.path.push(self.ranges.len() - 1);
            self.visit(lo, mid, a, b.min(mid));
            self.path.pop();
        }
        if b > mid {
            self.ranges.push((lo, mid));
            self.path.push(self.ranges.len() - 1);
            self.visit(mid, hi, a.max(mid), b);
            self.path.pop();
        }
    }
}

/// The leaf ranges whose hashes form the inclusion proof of `index` in a
/// tree of `size` leaves, in proof order. Requires `index < size`.
pub(crate) fn inclusion_ranges(size: u64, index: u64) -> Vec<(u64, u64)> {
    // Walk from the root down: at each split, the proof needs the hash of
    // the half that does not hold the leaf.
    let mut ranges = Vec::new();
    let (mut lo, mut hi) = (0, size);
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if index < lo + k {
            ranges.push((lo + k, hi));
            hi = lo + k;
        } else {
            ranges.push((lo, lo + k));
            lo += k;
        }
    }
    ranges.reverse();
    ranges
}

/// The consistency proof from the tree of `old` leaves to the tree of
/// `new` leaves: RFC 9162 §2.1.4.1 `PROOF(m, D[n])`. Empty when
/// `old == 0` or `old == new`.
pub fn prove_consistency<R: HashReader>(
    old: u64,
    new: u64,
    reader: &R,
) -> Result<Vec<Hash>, ProveError<R::Error>> {
    if old > new {
        return Err(ProveError::OutOfRange {
            requested: old,
            size: new,
        });
    }
    if old == 0 || old == new {
        return Ok(Vec::new());
    }
    check_supported(new)?;
    range_hashes(&consistency_ranges(old, new), reader)
}

/// The leaf ranges whose hashes form the consistency proof from `old` to
/// `new`, in proof order. Requires `0 < old < new`.
pub(crate) fn consistency_ranges(old: u64, new: u64) -> Vec<(u64, u64)> {
    // SUBPROOF(m, D[lo:hi], b), unrolled. Hashes collected top-down are
    // emitted bottom-up, after the innermost one.
    let mut outer = Vec::new();
    let (mut lo, mut hi, mut m, mut complete) = (0, new, old, true);
    let inner = loop {
        if m == hi - lo {
            break if complete { None } else { Some((lo, hi)) };
        }
        let k = split_point(hi - lo);
        if m <= k {
            outer.push((lo + k, hi));
            hi = lo + k;
        } else {
            outer.push((lo, lo + k));
            lo += k;
            m -= k;
            complete = false;
        }
    };
    let mut ranges = Vec::with_capacity(outer.len() + 1);
    ranges.extend(inner);
    ranges.extend(outer.into_iter().rev());
    ranges
}

// ---------------------------------------------------------------------------
// Verification (no storage needed).
// ---------------------------------------------------------------------------

/// Splits an inclusion proof for `index` in a tree of `size` into the
/// `inner` part (below the point where the leaf's path leaves the tree's
/// right border) and the `border` part. `size > index` is required.
pub(crate) fn decompose_inclusion(index: u64, size: u64) -> (usize, usize) {
    let inner = 64 - (index ^ (size - 1)).leading_zeros();
    // inner can be 64 (sizes above 2^63), where a plain shift would overflow.
    let border = index.checked_shr(inner).unwrap_or(0).count_ones() as usize;
    (inner as usize, border)
}

pub(crate) fn chain_inner(mut seed: Hash, proof: &[Hash], index: u64) -> Hash {
    for (i, h) in proof.iter().enumerate() {
        seed = if (index >> i) & 1 == 0 {
            node_hash(&seed, h)
        } else {
            node_hash(h, &seed)
        };
    }
    seed
}

pub(crate) fn chain_inner_right(mut seed: Hash, proof: &[Hash], index: u64) -> Hash {
    for (i, h) in proof.iter().enumerate() {
        if (index >> i) & 1 == 1 {
            seed = node_hash(h, &seed);
        }
    }
    seed
}

pub(crate) fn chain_border_right(mut seed: Hash, proof: &[Hash]) -> Hash {
    for h in proof {
        seed = node_hash(h, &seed);
    }
    seed
}

/// The root implied by an inclusion proof (RFC 9162 §2.1.3.2), after
/// checking the proof has exactly the length `index` and `size` require.
pub fn root_from_inclusion(
    size: u64,
    index: u64,
    leaf: &Hash,
    proof: &[Hash],
) -> Result<Hash, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (inner, border) = decompose_inclusion(index, size);
    if proof.len() != inner + border {
        return Err(ProofError::WrongLength {
            got: proof.len(),
            want: inner + border,
        });
    }
    let h = chain_inner(*leaf, &proof[..inner], index);
    Ok(chain_border_right(h, &proof[inner..]))
}

/// Verifies that `leaf` is at `index` in the tree of `size` leaves whose
/// root is `root`: compute the root, then compare.
pub fn verify_inclusion(
    size: u64,
    index: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    let got = root_from_inclusion(size, index, leaf, proof)?;
    if got != *root {
        return Err(ProofError::RootMismatch { got, want: *root });
    }
    Ok(())
}

/// Checks a consistency proof against the trusted `old_root` and returns
/// the new root it implies (RFC 9162 §2.1.4.2).
pub fn root_from_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    proof: &[Hash],
) -> Result<Hash, ProofError> {
    if old > new {
        return Err(ProofError::SizesOutOfOrder { old, new });
    }
    if old == new || old == 0 {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength {
                got: proof.len(),
                want: 0,
            });
        }
        // Sizes equal: the new root is the old one. Old empty: every tree
        // extends it, and the proof says nothing about the new root.
        return Ok(if old == 0 { EMPTY_ROOT } else { *old_root });
    }
    let (inner, border) = decompose_inclusion(old - 1, new);
    let shift = old.trailing_zeros() as usize;
    let inner = inner - shift; // shift < inner whenever old < new
    // Unless the old tree is a complete subtree, the proof starts with the
    // hash of the largest complete subtree holding leaf old-1.
    let (seed, start) = if old == 1u64 << shift {
        (*old_root, 0)
    } else {
        match proof.first() {
            Some(h) => (*h, 1),
            None => {
                return Err(ProofError::WrongLength {
                    got: 0,
                    want: 1 + inner + border,
                });
            }
        }
    };
    if proof.len() != start + inner + border {
        return Err(ProofError::WrongLength {
            got: proof.len(),
            want: start + inner + border,
        });
    }
    let rest = &proof[start..];
    let mask = (old - 1) >> shift;
    let h1 = chain_border_right(
        chain_inner_right(seed, &rest[..inner], mask),
        &rest[inner..],
    );
    if h1 != *old_root {
        return Err(ProofError::OldRootMismatch {
            got: h1,
            want: *old_root,
        });
    }
    Ok(chain_border_right(
        chain_inner(seed, &rest[..inner], mask),
        &rest[inner..],
    ))
}

/// Verifies that the tree of `new` leaves with root `new_root` extends the
/// tree of `old` leaves with root `old_root`.
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old == 0 {
        // The empty tree is a prefix of every tree; a root for size 0 other
        // than the empty root is not a root of the empty tree.
        if *old_root != EMPTY_ROOT {
            return Err(ProofError::OldRootMismatch {
                got: EMPTY_ROOT,
                want: *old_root,
            });
        }
        return root_from_consistency(old, new, old_root, proof).map(|_| ());
    }
    let got = root_from_consistency(old, new, old_root, proof)?;
    if got != *new_root {
        return Err(ProofError::RootMismatch {
            got,
            want: *new_root,
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// In-memory stored hashes.

mod memory;
pub use memory::{InMemoryTree, NeverFails};

#[cfg(test)]
mod tests;
