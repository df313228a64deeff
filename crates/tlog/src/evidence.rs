//! Split-view evidence: portable proof that a log signed two checkpoints
//! that cannot both be true.
//!
//! A log that shows different histories to different people must, sooner
//! or later, sign two checkpoints that no single append-only tree matches:
//!
//! * the same size with different roots, or
//! * a larger tree whose first `m` leaves hash to something other than the
//!   root the log signed for size `m`.
//!
//! The second case is shown with a *prefix proof*: the RFC 9162 consistency
//! proof from `m` to `n`, always starting with the hash of the largest
//! complete subtree holding leaf `m − 1` (RFC 9162 omits it when `m` is a
//! power of two; here it is explicit, because in a fork it is exactly what
//! differs). The proof must reproduce the larger checkpoint's signed root,
//! so its hashes are the larger tree's own; the old root it implies then
//! differs from the one the log signed for size `m`. A proof that merely
//! fails to verify proves nothing and is refused.
//!
//! [`SplitViewEvidence::verify`] re-checks everything from the evidence's
//! own bytes and the log's vkey, so a third party needs nothing else.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint};
use crate::hash::{EMPTY_ROOT, Hash};
use crate::note::VerifierKey;
use crate::tree::{
    HashReader, ProveError, chain_border_right, chain_inner, chain_inner_right,
    decompose_inclusion, prove_consistency, tree_hash,
};

/// The first line of the evidence text format.
pub const HEADER: &str = "forewarn.dev/split-view@v1";
/// Largest evidence text accepted.
pub const MAX_EVIDENCE_SIZE: usize = 1024 * 1024;

/// Two checkpoints by one log key, and what shows they conflict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitViewEvidence {
    /// The log's verifier key.
    pub log_key: VerifierKey,
    /// One signed checkpoint note.
    pub first: Vec<u8>,
    /// The other signed checkpoint note.
    pub second: Vec<u8>,
    /// Prefix proof from the smaller tree to the larger (empty for equal sizes).
    pub prefix_proof: Vec<Hash>,
}

/// How the two checkpoints conflict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Conflict {
    /// Same tree size, different roots.
    SameSizeDifferentRoots,
    /// A size-0 checkpoint whose root is not the empty-tree root.
    BadEmptyRoot,
    /// The larger tree's prefix of the smaller size has another root.
    PrefixMismatch {
        /// The smaller tree's root as implied by the larger tree.
        implied: Hash,
    },
}

/// A verified fork.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fork {
    /// The smaller (or first, if equal) checkpoint.
    pub smaller: Checkpoint,
    /// The larger checkpoint.
    pub larger: Checkpoint,
    /// How they conflict.
    pub conflict: Conflict,
}

/// Why evidence does not prove a split view.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EvidenceError {
    /// A checkpoint does not verify with the log key.
    Checkpoint(CheckpointError),
    /// The checkpoints name different origins.
    DifferentOrigins,
    /// The checkpoints are consistent: no misbehaviour is shown.
    Consistent,
    /// The prefix proof has the wrong number of hashes.
    WrongProofLength {
        /// Hashes given.
        got: usize,
        /// Hashes required.
        want: usize,
    },
    /// The prefix proof does not reproduce the larger checkpoint's root,
    /// so it says nothing about the log.
    ProofNotFromLargerTree,
    /// The evidence text is malformed.
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
}

impl fmt::Display for EvidenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvidenceError::Checkpoint(e) => write!(f, "{e}"),
            EvidenceError::DifferentOrigins => f.write_str("the checkpoints are from different origins"),
            EvidenceError::Consistent => {
                f.write_str("the checkpoints are consistent; this is not evidence of a split view")
            }
            EvidenceError::WrongProofLength { got, want } => {
                write!(f, "prefix proof has {got} hashes, want {want}")
            }
            EvidenceError::ProofNotFromLargerTree => f.write_str(
                "prefix proof does not reproduce the larger checkpoint's root, so it proves nothing",
            ),
            EvidenceError::Malformed { reason } => write!(f, "malformed evidence: {reason}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for EvidenceError {}

/// The prefix proof from `old` to `new` out of the larger tree's stored
/// hashes: the RFC 9162 consistency proof, with the seed hash made explicit
/// when `old` is a power of two.
pub fn prove_prefix<R: HashReader>(
    old: u64,
    new: u64,
    reader: &R,
) -> Result<Vec<Hash>, ProveError<R::Error>> {
    let mut proof = prove_consistency(old, new, reader)?;
    if old > 0 && old < new && old.is_power_of_two() {
        proof.insert(0, tree_hash(old, reader)?);
    }
    Ok(proof)
}

/// Both roots a prefix proof (see [`prove_prefix`]) implies, `(old, new)`:
/// the root of the first `old` leaves and the root of all `new` leaves of
/// the tree the proof's hashes come from. Nothing is trusted: a caller
/// compares the new root with a signed one before believing the old.
/// The length is checked before any hashing; sizes outside
/// `0 < old < new` have no prefix proof and are refused.
pub fn roots_from_prefix(
    old: u64,
    new: u64,
    proof: &[Hash],
) -> Result<(Hash, Hash), EvidenceError> {
    if old == 0 || old >= new {
        return Err(EvidenceError::Malformed {
            reason: "a prefix proof needs 0 < old size < new size",
        });
    }
    let (inner, border) = decompose_inclusion(old - 1, new);
    let shift = old.trailing_zeros() as usize;
    let inner = inner - shift;
    let want = 1 + inner + border;
    if proof.len() != want {
        return Err(EvidenceError::WrongProofLength {
            got: proof.len(),
            want,
        });
    }
    let (seed, rest) = (proof[0], &proof[1..]);
    let mask = (old - 1) >> shift;
    let h1 = chain_border_right(
        chain_inner_right(seed, &rest[..inner], mask),
        &rest[inner..],
    );
    let h2 = chain_border_right(chain_inner(seed, &rest[..inner], mask), &rest[inner..]);
    Ok((h1, h2))
}

impl SplitViewEvidence {
    /// Builds evidence and checks that it proves a fork.
    pub fn new(
        log_key: VerifierKey,
        first: Vec<u8>,
        second: Vec<u8>,
        prefix_proof: Vec<Hash>,
    ) -> Result<(SplitViewEvidence, Fork), EvidenceError> {
        let e = SplitViewEvidence {
            log_key,
            first,
            second,
            prefix_proof,
        };
        let fork = e.verify()?;
        Ok((e, fork))
    }

    /// Re-verifies the evidence from its own bytes.
    pub fn verify(&self) -> Result<Fork, EvidenceError> {
        let open = |b: &[u8]| {
            SignedCheckpoint::open(b, &self.log_key, None, &[])
                .map(|s| s.checkpoint)
                .map_err(EvidenceError::Checkpoint)
        };
        let a = open(&self.first)?;
        let b = open(&self.second)?;
        if a.origin() != b.origin() {
            return Err(EvidenceError::DifferentOrigins);
        }
        let (smaller, larger) = if a.size() <= b.size() { (a, b) } else { (b, a) };
        let conflict = if smaller.size() == larger.size() {
            if !self.prefix_proof.is_empty() {
                return Err(EvidenceError::WrongProofLength {
                    got: self.prefix_proof.len(),
                    want: 0,
                });
            }
            if smaller.root() == larger.root() {
                return Err(EvidenceError::Consistent);
            }
            Conflict::SameSizeDifferentRoots
        } else if smaller.size() == 0 {
            if *smaller.root() == EMPTY_ROOT {
                return Err(EvidenceError::Consistent);
            }
            Conflict::BadEmptyRoot
        } else {
            let (implied, new_root) =
                roots_from_prefix(smaller.size(), larger.size(), &self.prefix_proof)?;
            if new_root != *larger.root() {
                return Err(EvidenceError::ProofNotFromLargerTree);
            }
            if implied == *smaller.root() {
                return Err(EvidenceError::Consistent);
            }
            Conflict::PrefixMismatch { implied }
        };
        Ok(Fork {
            smaller,
            larger,
            conflict,
        })
    }

    /// Text form: header, `log <vkey>`, `first`/`second` base64 notes,
    /// then one base64 hash per line.
    pub fn to_text(&self) -> String {
        let mut s = alloc::format!(
            "{HEADER}\nlog {}\nfirst {}\nsecond {}\n",
            self.log_key,
            BASE64.encode(&self.first),
            BASE64.encode(&self.second)
        );
        for h in &self.prefix_proof {
            s.push_str(&h.to_base64());
            s.push('\n');
        }
        s
    }

    /// Parses [`SplitViewEvidence::to_text`] output (it does not verify).
    pub fn parse(text: &str) -> Result<SplitViewEvidence, EvidenceError> {
        let bad = |reason| EvidenceError::Malformed { reason };
        if text.len() > MAX_EVIDENCE_SIZE {
            return Err(bad("larger than 1 MiB"));
        }
        let body = text.strip_suffix('\n').ok_or(bad("no final newline"))?;
        let mut lines = body.split('\n');
        if lines.next() != Some(HEADER) {
            return Err(bad("first line is not forewarn.dev/split-view@v1"));
        }
        let mut field = |name: &str| -> Result<&str, EvidenceError> {
            lines
                .next()
                .and_then(|l| l.strip_prefix(name))
                .ok_or(bad("missing log, first or second line"))
        };
        let log_key = VerifierKey::parse(field("log ")?).map_err(|_| bad("bad log key"))?;
        let first = BASE64
            .decode(field("first ")?)
            .map_err(|_| bad("bad base64 note"))?;
        let second = BASE64
            .decode(field("second ")?)
            .map_err(|_| bad("bad base64 note"))?;
        let mut prefix_proof = Vec::new();
        for l in lines {
            if prefix_proof.len() >= crate::tree::MAX_PROOF_HASHES {
                return Err(bad("too many proof hashes"));
            }
            prefix_proof.push(Hash::from_base64(l).ok_or(bad("bad proof hash"))?);
        }
        Ok(SplitViewEvidence {
            log_key,
            first,
            second,
            prefix_proof,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::record_hash;
    use crate::tree::InMemoryTree;

    #[test]
    fn roots_from_prefix_gives_both_roots_and_refuses_sizes_without_a_proof() {
        let mut tree = InMemoryTree::new();
        for i in 0u32..9 {
            tree.append(record_hash(&i.to_be_bytes()));
        }
        for (old, new) in [(1, 2), (4, 9), (5, 9), (8, 9), (3, 4)] {
            let proof = prove_prefix(old, new, &tree).unwrap();
            let want = (tree.root_at(old).unwrap(), tree.root_at(new).unwrap());
            assert_eq!(
                roots_from_prefix(old, new, &proof),
                Ok(want),
                "{old}..{new}"
            );
        }
        // No prefix proof exists for these sizes: refused, never a panic.
        for (old, new) in [(0, 5), (5, 5), (6, 5), (u64::MAX, 1), (0, 0)] {
            assert!(matches!(
                roots_from_prefix(old, new, &[]),
                Err(EvidenceError::Malformed { .. })
            ));
        }
    }
}
