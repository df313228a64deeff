//! Seen-checkpoint evidence: portable proof that a signer's claim about
//! the tree it saw (`Statement.seen`, docs/FORMAT.md §12) is not the log's
//! own history (the auditor's `seen-root-mismatch`, docs/FORMAT.md §16
//! step 7).
//!
//! A statement may say "the last checkpoint I saw was size `m` with root
//! `R`". If the log's root at size `m` is some other `R'`, then either the
//! log showed the signer a fork (a split view), or the signer lied about
//! what it saw. Either way a third party can check the disagreement from
//! four things, all in a [`SeenRootEvidence`]:
//!
//! * the record holding the statement (its bytes carry the statement, its
//!   signature and the claimed `(m, R)`);
//! * a checkpoint of the log at a size `n` greater than the record's
//!   index, signed by the log key;
//! * the RFC 9162 inclusion proof of the record in that checkpoint: the
//!   log itself logged the claim;
//! * the prefix proof from `m` to `n` (the split-view prefix proof of
//!   docs/FORMAT.md §10, [`forewarn_tlog::evidence::prove_prefix`]): it
//!   must reproduce the checkpoint's signed root, so its hashes are the
//!   log's own, and the root it implies for the first `m` leaves is the
//!   log's `R'`.
//!
//! [`SeenRootEvidence::verify`] re-checks all of it from the evidence's
//! bytes and the log's vkey. All Merkle hashing is forewarn-tlog's
//! ([`forewarn_tlog::tree::verify_inclusion`],
//! [`forewarn_tlog::evidence::roots_from_prefix`]); the statement signature
//! is checked with `verify_strict` verdicts ([`crate::verify`]).
//!
//! What it does not prove: which of the two is at fault. A fork shown to
//! the signer and a signer that wrote a root it never saw look the same
//! here; a signed checkpoint of the fork (split-view evidence,
//! [`forewarn_tlog::evidence`]) is what would convict the log.
//!
//! # Text format
//!
//! ```text
//! forewarn.dev/seen-root@v1
//! record <base64 of the record bytes>
//! checkpoint <base64 of the signed checkpoint note>
//! inclusion <k>
//! <k lines: one base64 hash each>
//! prefix <j>
//! <j lines: one base64 hash each>
//! ```
//!
//! Every line ends with `\n`, base64 is RFC 4648 §4 with padding, counts
//! are decimal without leading zeros. Exactly one text encodes each
//! evidence value: anything else is refused by [`SeenRootEvidence::parse`].

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use forewarn_tlog::checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint};
use forewarn_tlog::evidence::{EvidenceError, prove_prefix, roots_from_prefix};
use forewarn_tlog::hash::{EMPTY_ROOT, Hash};
use forewarn_tlog::note::{MAX_NOTE_SIZE, VerifierKey};
use forewarn_tlog::tree::{
    HashReader, MAX_PROOF_HASHES, ProofError, prove_inclusion, verify_inclusion,
};

use crate::encoding::{EncodingError, MAX_ENCODED_SIZE};
use crate::statement::{Record, Statement, leaf_hash};
use crate::verify::{KeyCache, SignatureItem, StatementItem, VerifyMode, verify_items};

/// The first line of the evidence text format.
pub const HEADER: &str = "forewarn.dev/seen-root@v1";
/// Largest record accepted: the ledger's limit for encoded records.
pub const MAX_RECORD_SIZE: usize = MAX_ENCODED_SIZE;
/// Largest signed checkpoint accepted: a signed note's limit.
pub const MAX_CHECKPOINT_SIZE: usize = MAX_NOTE_SIZE;
/// Largest evidence text accepted (the largest fields, in base64, fit).
pub const MAX_EVIDENCE_SIZE: usize = 512 * 1024;

/// A part of the evidence, to say where something is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// The whole text.
    Text,
    /// The header line.
    Header,
    /// The record line.
    Record,
    /// The checkpoint line.
    Checkpoint,
    /// The inclusion proof (count line and hashes).
    Inclusion,
    /// The prefix proof (count line and hashes).
    Prefix,
}

impl Field {
    /// The field's name in the text format.
    pub fn name(self) -> &'static str {
        match self {
            Field::Text => "text",
            Field::Header => "header",
            Field::Record => "record",
            Field::Checkpoint => "checkpoint",
            Field::Inclusion => "inclusion",
            Field::Prefix => "prefix",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A signer's logged claim about the tree it saw, the log's signed
/// checkpoint, and the proofs that the two disagree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenRootEvidence {
    /// The record holding the statement (canonical record bytes, the
    /// Merkle leaf data).
    pub record: Vec<u8>,
    /// A checkpoint of the log, as a signed note, at a size above the
    /// record's index.
    pub checkpoint: Vec<u8>,
    /// The inclusion proof of the record's leaf in that checkpoint.
    pub inclusion: Vec<Hash>,
    /// The prefix proof from the claimed size to the checkpoint's size
    /// (empty if the claimed size is 0).
    pub prefix: Vec<Hash>,
}

/// What verified evidence shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The log's checkpoint the evidence was checked against.
    pub checkpoint: Checkpoint,
    /// The record's index in the log.
    pub index: u64,
    /// When the log says it sequenced the record (ms).
    pub logged_at: u64,
    /// The signed statement (its signature verified).
    pub statement: Statement,
    /// The tree size the signer says it saw.
    pub seen_size: u64,
    /// The root the signer says it saw at that size.
    pub claimed_root: Hash,
    /// The log's own root at that size.
    pub log_root: Hash,
}

/// Why the evidence does not prove a seen-root mismatch.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The text is not in the canonical format.
    Malformed {
        /// The line (from 1) where the problem is; 0 for the whole text.
        line: usize,
        /// The part of the evidence.
        field: Field,
        /// What is wrong.
        reason: &'static str,
    },
    /// A field or the text is over its size limit.
    TooLarge {
        /// The part of the evidence.
        field: Field,
        /// Its size (bytes, or hashes for proofs).
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The checkpoint does not verify with the log key, or is malformed.
    Checkpoint(CheckpointError),
    /// The record is not a canonical record.
    Record(EncodingError),
    /// The record's statement is not a canonical statement.
    Statement(EncodingError),
    /// The checkpoint's tree does not hold the record's index.
    RecordNotInCheckpoint {
        /// The record's index.
        index: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// The inclusion proof does not place the record in the checkpoint.
    NotIncluded(ProofError),
    /// The statement is for another log than the checkpoint's.
    OtherLog {
        /// The statement's origin.
        statement: String,
        /// The checkpoint's origin.
        checkpoint: String,
    },
    /// The statement's signature does not verify under its signer key.
    BadSignature {
        /// The record's index.
        index: u64,
    },
    /// The statement claims no seen checkpoint.
    NoSeen {
        /// The record's index.
        index: u64,
    },
    /// The claimed size is beyond the log when the record was logged (a
    /// different failure, `seen-beyond-log`, needing no proof).
    SeenBeyondRecord {
        /// The claimed size.
        seen: u64,
        /// The record's index (the log's size when it was logged).
        index: u64,
    },
    /// The prefix proof is malformed for these sizes.
    Prefix(EvidenceError),
    /// The prefix proof does not reproduce the checkpoint's root, so it
    /// says nothing about the log.
    ProofNotFromCheckpoint,
    /// The log's root at the claimed size is the claimed root: the claim
    /// is true, and this is not evidence of anything.
    RootsAgree {
        /// The claimed size.
        size: u64,
    },
    /// Building evidence: the log's stored hashes could not be read.
    Proving {
        /// The reader's error.
        reason: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Malformed {
                line: 0,
                field,
                reason,
            } => write!(f, "malformed evidence ({field}): {reason}"),
            Error::Malformed {
                line,
                field,
                reason,
            } => write!(f, "malformed evidence, line {line} ({field}): {reason}"),
            Error::TooLarge { field, size, limit } => {
                let unit = match field {
                    Field::Inclusion | Field::Prefix => "hashes",
                    _ => "bytes",
                };
                write!(
                    f,
                    "evidence {field} has {size} {unit}, over the limit of {limit}"
                )
            }
            Error::Checkpoint(e) => write!(f, "the checkpoint does not verify: {e}"),
            Error::Record(e) => write!(f, "the record is not a canonical record: {e}"),
            Error::Statement(e) => {
                write!(
                    f,
                    "the record's statement is not a canonical statement: {e}"
                )
            }
            Error::RecordNotInCheckpoint { index, size } => write!(
                f,
                "record {index} is not in the checkpoint's tree of {size} records"
            ),
            Error::NotIncluded(e) => write!(
                f,
                "the inclusion proof does not place the record in the checkpoint: {e}"
            ),
            Error::OtherLog {
                statement,
                checkpoint,
            } => write!(
                f,
                "the statement is for the log {statement:?}, the checkpoint is of {checkpoint:?}"
            ),
            Error::BadSignature { index } => write!(
                f,
                "the statement in record {index} is not signed by the key it names"
            ),
            Error::NoSeen { index } => {
                write!(
                    f,
                    "the statement in record {index} claims no seen checkpoint"
                )
            }
            Error::SeenBeyondRecord { seen, index } => write!(
                f,
                "the statement in record {index} claims a tree of {seen} records, more than the log held when it was logged"
            ),
            Error::Prefix(e) => write!(f, "the prefix proof is malformed: {e}"),
            Error::ProofNotFromCheckpoint => f.write_str(
                "the prefix proof does not reproduce the checkpoint's root, so it proves nothing",
            ),
            Error::RootsAgree { size } => write!(
                f,
                "the log's root at size {size} is the root the signer claims; this is not evidence of a mismatch"
            ),
            Error::Proving { reason } => write!(f, "cannot read the log's hashes: {reason}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}

/// A decoded record with its statement, and the claim.
struct Claim {
    record: Record,
    statement: Statement,
    seen_size: u64,
    claimed_root: Hash,
}

/// Decodes the record and statement strictly and takes out the claim.
fn claim(record_bytes: &[u8]) -> Result<Claim, Error> {
    if record_bytes.len() > MAX_RECORD_SIZE {
        return Err(Error::TooLarge {
            field: Field::Record,
            size: record_bytes.len(),
            limit: MAX_RECORD_SIZE,
        });
    }
    let record = Record::from_bytes(record_bytes).map_err(Error::Record)?;
    let statement = Statement::from_bytes(&record.statement).map_err(Error::Statement)?;
    let seen = statement.seen.ok_or(Error::NoSeen {
        index: record.index,
    })?;
    if seen.size > record.index {
        return Err(Error::SeenBeyondRecord {
            seen: seen.size,
            index: record.index,
        });
    }
    Ok(Claim {
        record,
        statement,
        seen_size: seen.size,
        claimed_root: seen.root,
    })
}

/// Opens the checkpoint under the log key.
fn open_checkpoint(bytes: &[u8], log_key: &VerifierKey) -> Result<Checkpoint, Error> {
    if bytes.len() > MAX_CHECKPOINT_SIZE {
        return Err(Error::TooLarge {
            field: Field::Checkpoint,
            size: bytes.len(),
            limit: MAX_CHECKPOINT_SIZE,
        });
    }
    SignedCheckpoint::open(bytes, log_key, None, &[])
        .map(|s| s.checkpoint)
        .map_err(Error::Checkpoint)
}

impl SeenRootEvidence {
    /// Builds the evidence for the record `record` (its bytes) from a log's
    /// signed `checkpoint` and the log's stored hashes (`reader`, a tree of
    /// at least the checkpoint's size), then verifies it. Fails, like
    /// [`SeenRootEvidence::verify`], if the claim is true.
    pub fn prove<R: HashReader>(
        record: Vec<u8>,
        checkpoint: Vec<u8>,
        log_key: &VerifierKey,
        reader: &R,
    ) -> Result<(SeenRootEvidence, Verdict), Error>
    where
        R::Error: fmt::Display,
    {
        let c = claim(&record)?;
        let cp = open_checkpoint(&checkpoint, log_key)?;
        let (index, size) = (c.record.index, cp.size());
        if index >= size {
            return Err(Error::RecordNotInCheckpoint { index, size });
        }
        let proving = |e: forewarn_tlog::tree::ProveError<R::Error>| Error::Proving {
            reason: e.to_string(),
        };
        let inclusion = prove_inclusion(size, index, reader).map_err(proving)?;
        let prefix = if c.seen_size == 0 {
            Vec::new()
        } else {
            prove_prefix(c.seen_size, size, reader).map_err(proving)?
        };
        let evidence = SeenRootEvidence {
            record,
            checkpoint,
            inclusion,
            prefix,
        };
        let verdict = evidence.verify(log_key)?;
        Ok((evidence, verdict))
    }

    /// Re-verifies the evidence from its own bytes and the log's key:
    /// the checkpoint's signature, the record's inclusion in it, the
    /// record and statement (strict decoding, the statement's signature,
    /// its origin), the claim, and that the prefix proof reproduces the
    /// checkpoint's root and gives the log a different root at the
    /// claimed size.
    pub fn verify(&self, log_key: &VerifierKey) -> Result<Verdict, Error> {
        for (field, proof) in [
            (Field::Inclusion, &self.inclusion),
            (Field::Prefix, &self.prefix),
        ] {
            if proof.len() > MAX_PROOF_HASHES {
                return Err(Error::TooLarge {
                    field,
                    size: proof.len(),
                    limit: MAX_PROOF_HASHES,
                });
            }
        }
        let checkpoint = open_checkpoint(&self.checkpoint, log_key)?;
        let c = claim(&self.record)?;
        let (index, size) = (c.record.index, checkpoint.size());
        if index >= size {
            return Err(Error::RecordNotInCheckpoint { index, size });
        }
        verify_inclusion(
            size,
            index,
            &leaf_hash(&self.record),
            &self.inclusion,
            checkpoint.root(),
        )
        .map_err(Error::NotIncluded)?;
        if c.statement.origin != checkpoint.origin() {
            return Err(Error::OtherLog {
                statement: c.statement.origin.clone(),
                checkpoint: checkpoint.origin().to_string(),
            });
        }
        let item = SignatureItem::statement(
            c.statement.signer.0,
            &c.record.statement,
            c.record.signature,
        );
        if verify_items(&[item], VerifyMode::Strict, &mut KeyCache::new()) != [true] {
            return Err(Error::BadSignature { index });
        }
        // seen_size <= index < size.
        let log_root = if c.seen_size == 0 {
            if !self.prefix.is_empty() {
                return Err(Error::Prefix(EvidenceError::WrongProofLength {
                    got: self.prefix.len(),
                    want: 0,
                }));
            }
            EMPTY_ROOT
        } else {
            let (old, new) =
                roots_from_prefix(c.seen_size, size, &self.prefix).map_err(Error::Prefix)?;
            if new != *checkpoint.root() {
                return Err(Error::ProofNotFromCheckpoint);
            }
            old
        };
        if log_root == c.claimed_root {
            return Err(Error::RootsAgree { size: c.seen_size });
        }
        Ok(Verdict {
            checkpoint,
            index,
            logged_at: c.record.logged_at,
            statement: c.statement,
            seen_size: c.seen_size,
            claimed_root: c.claimed_root,
            log_root,
        })
    }

    /// The text form (module docs, "Text format").
    pub fn to_text(&self) -> String {
        let mut s = alloc::format!(
            "{HEADER}\nrecord {}\ncheckpoint {}\n",
            BASE64.encode(&self.record),
            BASE64.encode(&self.checkpoint)
        );
        for (name, proof) in [("inclusion", &self.inclusion), ("prefix", &self.prefix)] {
            s.push_str(&alloc::format!("{name} {}\n", proof.len()));
            for h in proof {
                s.push_str(&h.to_base64());
                s.push('\n');
            }
        }
        s
    }

    /// Parses [`SeenRootEvidence::to_text`] output, and nothing else (it
    /// does not verify).
    pub fn parse(text: &str) -> Result<SeenRootEvidence, Error> {
        if text.len() > MAX_EVIDENCE_SIZE {
            return Err(Error::TooLarge {
                field: Field::Text,
                size: text.len(),
                limit: MAX_EVIDENCE_SIZE,
            });
        }
        let body = text.strip_suffix('\n').ok_or(Error::Malformed {
            line: 0,
            field: Field::Text,
            reason: "no final newline",
        })?;
        let mut lines = Lines {
            lines: body.split('\n'),
            line: 0,
        };
        let header = lines.next(Field::Header)?;
        if header != HEADER {
            return Err(lines.bad(Field::Header, "not forewarn.dev/seen-root@v1"));
        }
        let record = lines.base64_field(Field::Record, MAX_RECORD_SIZE)?;
        let checkpoint = lines.base64_field(Field::Checkpoint, MAX_CHECKPOINT_SIZE)?;
        let inclusion = lines.hashes(Field::Inclusion)?;
        let prefix = lines.hashes(Field::Prefix)?;
        if lines.lines.next().is_some() {
            return Err(Error::Malformed {
                line: lines.line + 1,
                field: Field::Text,
                reason: "text after the prefix proof",
            });
        }
        let evidence = SeenRootEvidence {
            record,
            checkpoint,
            inclusion,
            prefix,
        };
        // One text per value: whatever the decoders tolerated is refused.
        if evidence.to_text() != text {
            return Err(Error::Malformed {
                line: 0,
                field: Field::Text,
                reason: "not the canonical encoding",
            });
        }
        Ok(evidence)
    }
}

/// The evidence text's lines, numbered for errors.
struct Lines<'a> {
    lines: core::str::Split<'a, char>,
    line: usize,
}

impl<'a> Lines<'a> {
    fn bad(&self, field: Field, reason: &'static str) -> Error {
        Error::Malformed {
            line: self.line,
            field,
            reason,
        }
    }

    fn next(&mut self, field: Field) -> Result<&'a str, Error> {
        self.line += 1;
        self.lines
            .next()
            .ok_or_else(|| self.bad(field, "missing line"))
    }

    /// `<name> <value>`: the value.
    fn value(&mut self, field: Field) -> Result<&'a str, Error> {
        let l = self.next(field)?;
        l.strip_prefix(field.name())
            .and_then(|v| v.strip_prefix(' '))
            .ok_or_else(|| self.bad(field, "the line does not start with the field's name"))
    }

    fn base64_field(&mut self, field: Field, limit: usize) -> Result<Vec<u8>, Error> {
        let v = self.value(field)?;
        // Checked before decoding, so an oversized field costs nothing.
        if v.len() > limit.div_ceil(3) * 4 {
            return Err(Error::TooLarge {
                field,
                size: v.len() / 4 * 3,
                limit,
            });
        }
        let bytes = BASE64
            .decode(v)
            .map_err(|_| self.bad(field, "not canonical base64"))?;
        if bytes.len() > limit {
            return Err(Error::TooLarge {
                field,
                size: bytes.len(),
                limit,
            });
        }
        Ok(bytes)
    }

    fn hashes(&mut self, field: Field) -> Result<Vec<Hash>, Error> {
        let v = self.value(field)?;
        let canonical = v == "0" || (!v.starts_with('0') && v.len() <= 20);
        let count: usize = v
            .parse()
            .ok()
            .filter(|_| canonical && v.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| self.bad(field, "the count is not a decimal number"))?;
        if count > MAX_PROOF_HASHES {
            return Err(Error::TooLarge {
                field,
                size: count,
                limit: MAX_PROOF_HASHES,
            });
        }
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            let l = self.next(field)?;
            out.push(Hash::from_base64(l).ok_or_else(|| self.bad(field, "not a base64 hash"))?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
