//! Statements (what a party signs) and records (what the log stores).
//!
//! Layouts: docs/FORMAT.md §12–§13. Signature: Ed25519 (RFC 8032) over
//! `"forewarn/statement/v2\n" || statement bytes`, verified with
//! `verify_strict` semantics (see [`crate::verify`]). A statement names the
//! log it is for (its checkpoint origin), so it means nothing in another
//! log, and a `KeyAdded` carries the new key's proof of possession over
//! [`possession_message`].

use alloc::string::String;
use alloc::vec::Vec;

use bincode::{Decode, Encode};
use ed25519_dalek::{Signer, SigningKey};
use forewarn_tlog::hash::{Hash, record_hash};

use crate::encoding::{self, EncodingError};
use crate::event::Event;
use crate::types::{Cite, Millis, PublicKey, Signature};

/// Statement format version.
pub const STATEMENT_VERSION: u8 = 2;
/// Record format version.
pub const RECORD_VERSION: u8 = 2;
/// Domain separation for statement signatures.
pub const STATEMENT_SIGNING_PREFIX: &[u8] = b"forewarn/statement/v2\n";
/// Domain separation for `KeyAdded` proofs of possession.
pub const POSSESSION_PREFIX: &[u8] = b"forewarn/key-possession/v2\n";
/// Longest origin a statement may name (bytes), as for checkpoint origins.
pub const MAX_ORIGIN_LEN: usize = 256;

/// The tree the signer last saw: a lower bound on when it signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct SeenCheckpoint {
    /// Tree size.
    pub size: u64,
    /// Root hash at that size.
    pub root: Hash,
}

/// What a party signs.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Statement {
    /// [`STATEMENT_VERSION`].
    pub version: u8,
    /// The log the statement is for: its checkpoint origin line
    /// (C2SP tlog-checkpoint), 1–256 bytes without control characters.
    pub origin: String,
    /// What happened.
    pub event: Event,
    /// When the signer says it happened (ms since the Unix epoch, UTC).
    pub claimed_at: Millis,
    /// The signing key; must belong to a registered, unrevoked party.
    pub signer: PublicKey,
    /// The last checkpoint the signer saw, if any.
    pub seen: Option<SeenCheckpoint>,
}

impl Statement {
    /// A version-2 statement for the log `origin`.
    pub fn new(origin: &str, event: Event, claimed_at: Millis, signer: PublicKey) -> Statement {
        Statement {
            version: STATEMENT_VERSION,
            origin: String::from(origin),
            event,
            claimed_at,
            signer,
            seen: None,
        }
    }

    /// Canonical bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodingError> {
        encoding::encode(self)
    }

    /// Decodes canonical bytes of a known version.
    pub fn from_bytes(bytes: &[u8]) -> Result<Statement, EncodingError> {
        encoding::decode_versioned(bytes, STATEMENT_VERSION)
    }

    /// Encodes and signs. The statement's `signer` must be `key`'s public
    /// key, or the auditor will reject it.
    pub fn sign(&self, key: &SigningKey) -> Result<SignedStatement, EncodingError> {
        let bytes = self.to_bytes()?;
        let signature = key.sign(&signing_message(&bytes)).to_bytes();
        Ok(SignedStatement { bytes, signature })
    }
}

/// The message an Ed25519 statement signature covers.
pub fn signing_message(statement_bytes: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(STATEMENT_SIGNING_PREFIX.len() + statement_bytes.len());
    m.extend_from_slice(STATEMENT_SIGNING_PREFIX);
    m.extend_from_slice(statement_bytes);
    m
}

/// The message a `KeyAdded` proof of possession signs: the prefix, then
/// the canonical encoding (docs/FORMAT.md §11) of the origin, the party's
/// citation and the new key — so the proof is for one party in one log.
pub fn possession_message(origin: &str, party: &Cite, key: &PublicKey) -> Vec<u8> {
    let mut m = Vec::with_capacity(POSSESSION_PREFIX.len() + 8 + origin.len() + 72);
    m.extend_from_slice(POSSESSION_PREFIX);
    m.extend_from_slice(&(origin.len() as u64).to_le_bytes());
    m.extend_from_slice(origin.as_bytes());
    m.extend_from_slice(&party.record.0.to_le_bytes());
    m.extend_from_slice(&party.leaf.0);
    m.extend_from_slice(&key.0);
    m
}

/// Signs the proof of possession of `new_key` for `party` in log `origin`.
pub fn prove_possession(origin: &str, party: &Cite, new_key: &SigningKey) -> Signature {
    let key = PublicKey(new_key.verifying_key().to_bytes());
    Signature(
        new_key
            .sign(&possession_message(origin, party, &key))
            .to_bytes(),
    )
}

/// A statement's bytes with its signature, as submitted to the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedStatement {
    /// Canonical statement bytes.
    pub bytes: Vec<u8>,
    /// Ed25519 signature over [`signing_message`].
    pub signature: [u8; 64],
}

/// What the log stores at index `index`: the Merkle leaf.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Record {
    /// [`RECORD_VERSION`].
    pub version: u8,
    /// Position in the log, from 0.
    pub index: u64,
    /// Leaf hash of record `index - 1`; all zero for record 0.
    pub prev: Hash,
    /// When the log sequenced it (ms); never decreases along the log.
    pub logged_at: Millis,
    /// Canonical statement bytes.
    pub statement: Vec<u8>,
    /// The signer's signature over the statement.
    pub signature: [u8; 64],
}

impl Record {
    /// Canonical bytes (the Merkle leaf data).
    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodingError> {
        encoding::encode(self)
    }

    /// Decodes canonical bytes of a known version.
    pub fn from_bytes(bytes: &[u8]) -> Result<Record, EncodingError> {
        encoding::decode_versioned(bytes, RECORD_VERSION)
    }
}

/// RFC 9162 §2.1.1 leaf hash of record bytes: `SHA-256(0x00 || bytes)`.
pub fn leaf_hash(record_bytes: &[u8]) -> Hash {
    record_hash(record_bytes)
}
