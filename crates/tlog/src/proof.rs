//! Offline proofs of logging (c2sp.org/tlog-proof@v1).
//!
//! A tlog-proof bundles the index of an entry, its Merkle inclusion proof,
//! and a checkpoint (with any cosignatures) that commits to it. Given the
//! entry's bytes and the log's key, anyone can check offline that the entry
//! was logged, without talking to the log.
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! [extra <base64>]
//! index <decimal>
//! <base64 hash>        (zero or more, leaf sibling first)
//!
//! <signed checkpoint note>
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::checkpoint::{CheckpointError, SignedCheckpoint, parse_canonical_u64};
use crate::hash::{Hash, record_hash};
use crate::note::{MAX_NOTE_SIZE, VerifierKey};
use crate::policy::{Policy, PolicyCheckError};
use crate::tree::{MAX_PROOF_HASHES, ProofError, verify_inclusion};

/// The first line of every tlog-proof.
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";
/// Largest proof accepted: a maximal note plus its header and hashes.
pub const MAX_PROOF_SIZE: usize = MAX_NOTE_SIZE + 8 * 1024;

/// A parsed tlog-proof (not yet verified).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlogProof {
    /// Opaque, unauthenticated extra data.
    pub extra: Option<Vec<u8>>,
    /// Index of the entry in the log.
    pub index: u64,
    /// Inclusion proof, leaf sibling first (RFC 9162 §2.1.3).
    pub inclusion: Vec<Hash>,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: Vec<u8>,
}

/// Why a tlog-proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlogProofError {
    /// Larger than [`MAX_PROOF_SIZE`].
    TooLarge,
    /// Not UTF-8.
    NotUtf8,
    /// The first line is not `c2sp.org/tlog-proof@v1`.
    BadHeader,
    /// The extra line is not canonical base64.
    BadExtra,
    /// The index line is missing or not canonical decimal.
    BadIndex,
    /// A proof line is not canonical base64 of 32 bytes (1-based line number).
    BadHash {
        /// 1-based line number in the file.
        line: usize,
    },
    /// More than 64 inclusion hashes.
    TooManyHashes,
    /// No blank line before the checkpoint.
    MissingCheckpoint,
    /// The checkpoint does not verify.
    Checkpoint(CheckpointError),
    /// The checkpoint does not satisfy the witness policy.
    Policy(PolicyCheckError),
    /// The entry is not in the checkpointed tree at that index.
    Inclusion(ProofError),
}

impl fmt::Display for TlogProofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlogProofError::TooLarge => write!(f, "proof is larger than {MAX_PROOF_SIZE} bytes"),
            TlogProofError::NotUtf8 => f.write_str("proof is not UTF-8 text"),
            TlogProofError::BadHeader => write!(f, "proof does not start with the line {HEADER}"),
            TlogProofError::BadExtra => f.write_str("proof extra line is not canonical base64"),
            TlogProofError::BadIndex => f.write_str(
                "proof has no 'index N' line with N a decimal number without leading zeros",
            ),
            TlogProofError::BadHash { line } => {
                write!(f, "proof line {line} is not the base64 of a 32-byte hash")
            }
            TlogProofError::TooManyHashes => {
                write!(f, "proof has more than {MAX_PROOF_HASHES} inclusion hashes")
            }
            TlogProofError::MissingCheckpoint => {
                f.write_str("proof has no blank line followed by a checkpoint")
            }
            TlogProofError::Checkpoint(e) => write!(f, "proof checkpoint: {e}"),
            TlogProofError::Policy(e) => write!(f, "proof checkpoint: {e}"),
            TlogProofError::Inclusion(e) => write!(f, "entry is not included: {e}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for TlogProofError {}

/// What a verified proof establishes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedProof {
    /// The entry's index.
    pub index: u64,
    /// The checkpoint that includes it.
    pub checkpoint: crate::checkpoint::Checkpoint,
    /// Witnesses whose cosignatures verified (with times), if a policy was used.
    pub witnessed: Vec<(String, u64)>,
}

impl TlogProof {
    /// Parses a tlog-proof strictly.
    pub fn parse(bytes: &[u8]) -> Result<TlogProof, TlogProofError> {
        if bytes.len() > MAX_PROOF_SIZE {
            return Err(TlogProofError::TooLarge);
        }
        let text = core::str::from_utf8(bytes).map_err(|_| TlogProofError::NotUtf8)?;
        let (head, checkpoint) = text
            .split_once("\n\n")
            .ok_or(TlogProofError::MissingCheckpoint)?;
        if checkpoint.is_empty() {
            return Err(TlogProofError::MissingCheckpoint);
        }
        let mut lines = head.split('\n').enumerate().peekable();
        match lines.next() {
            Some((_, HEADER)) => {}
            _ => return Err(TlogProofError::BadHeader),
        }
        let mut extra = None;
        if let Some((_, l)) = lines.peek()
            && let Some(b64) = l.strip_prefix("extra ")
        {
            extra = Some(BASE64.decode(b64).map_err(|_| TlogProofError::BadExtra)?);
            lines.next();
        }
        let index = match lines.next() {
            Some((_, l)) => l
                .strip_prefix("index ")
                .and_then(parse_canonical_u64)
                .ok_or(TlogProofError::BadIndex)?,
            None => return Err(TlogProofError::BadIndex),
        };
        let mut inclusion = Vec::new();
        for (i, l) in lines {
            if inclusion.len() == MAX_PROOF_HASHES {
                return Err(TlogProofError::TooManyHashes);
            }
            inclusion.push(Hash::from_base64(l).ok_or(TlogProofError::BadHash { line: i + 1 })?);
        }
        Ok(TlogProof {
            extra,
            index,
            inclusion,
            checkpoint: checkpoint.as_bytes().to_vec(),
        })
    }

    /// The proof's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Sized up front, and every base64 line encoded in place: a receipt
        // is built per record on the ingest path.
        let extra = self
            .extra
            .as_ref()
            .map_or(0, |e| 7 + e.len().div_ceil(3) * 4);
        let mut s = String::with_capacity(
            HEADER.len() + 1 + extra + 27 + 45 * self.inclusion.len() + 1 + self.checkpoint.len(),
        );
        s.push_str(HEADER);
        s.push('\n');
        if let Some(extra) = &self.extra {
            s.push_str("extra ");
            BASE64.encode_string(extra, &mut s);
            s.push('\n');
        }
        {
            use core::fmt::Write as _;
            // Writing to a String cannot fail.
            let _ = writeln!(s, "index {}", self.index);
        }
        for h in &self.inclusion {
            BASE64.encode_string(h.0, &mut s);
            s.push('\n');
        }
        s.push('\n');
        let mut out = s.into_bytes();
        out.extend_from_slice(&self.checkpoint);
        out
    }

    /// Verifies the proof for `entry` (the leaf's bytes): the checkpoint
    /// is signed by `log_key` (and satisfies `policy`, if given), and the
    /// entry's leaf hash is at `index` in the checkpointed tree.
    pub fn verify(
        &self,
        entry: &[u8],
        log_key: &VerifierKey,
        policy: Option<&Policy>,
    ) -> Result<VerifiedProof, TlogProofError> {
        let (checkpoint, witnessed) = match policy {
            Some(p) => {
                let v = p
                    .check_checkpoint(&self.checkpoint)
                    .map_err(TlogProofError::Policy)?;
                if v.log != *log_key {
                    return Err(TlogProofError::Checkpoint(
                        CheckpointError::NotSignedByLog {
                            log: log_key.to_text(),
                        },
                    ));
                }
                (v.checkpoint, v.witnessed)
            }
            None => {
                let s = SignedCheckpoint::open(&self.checkpoint, log_key, None, &[])
                    .map_err(TlogProofError::Checkpoint)?;
                (s.checkpoint, Vec::new())
            }
        };
        verify_inclusion(
            checkpoint.size(),
            self.index,
            &record_hash(entry),
            &self.inclusion,
            checkpoint.root(),
        )
        .map_err(TlogProofError::Inclusion)?;
        Ok(VerifiedProof {
            index: self.index,
            checkpoint,
            witnessed,
        })
    }
}
