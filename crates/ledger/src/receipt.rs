//! Receipts: offline proof that a record is in the log.
//!
//! A receipt is a C2SP tlog-proof@v1 (index, RFC 9162 inclusion proof,
//! signed checkpoint) whose `extra` field carries the record bytes, so one
//! file proves "this exact signed statement is record i of the log whose
//! checkpoint the log key signed". Verifying it needs only the log's vkey.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use forewarn_tlog::note::VerifierKey;
use forewarn_tlog::policy::Policy as WitnessPolicy;
use forewarn_tlog::proof::{TlogProof, TlogProofError};

use crate::encoding::EncodingError;
use crate::statement::{Record, Statement};
use crate::verify::{KeyCache, SignatureItem, StatementItem, VerifyMode, verify_items};

/// A verified receipt.
#[derive(Clone, Debug)]
pub struct VerifiedReceipt {
    /// The record.
    pub record: Record,
    /// Its statement.
    pub statement: Statement,
    /// Size of the checkpointed tree that includes it.
    pub tree_size: u64,
    /// Origin of the log.
    pub origin: String,
}

/// Why a receipt does not verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReceiptError {
    /// Not a tlog-proof, or the proof or checkpoint does not verify.
    Proof(TlogProofError),
    /// The proof carries no record (no `extra` line).
    NoRecord,
    /// The record or its statement does not decode canonically.
    Record(EncodingError),
    /// The record's index is not the proof's index.
    IndexMismatch {
        /// Index in the proof.
        proof: u64,
        /// Index in the record.
        record: u64,
    },
    /// The statement's signature does not verify (verify_strict).
    BadSignature,
}

impl fmt::Display for ReceiptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReceiptError::Proof(e) => write!(f, "{e}"),
            ReceiptError::NoRecord => f.write_str("the proof carries no record (no extra line)"),
            ReceiptError::Record(e) => write!(f, "record: {e}"),
            ReceiptError::IndexMismatch { proof, record } => {
                write!(f, "proof is for index {proof}, the record says {record}")
            }
            ReceiptError::BadSignature => f.write_str("the statement signature does not verify"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ReceiptError {}

/// Builds receipt bytes.
pub fn encode(
    record: &[u8],
    index: u64,
    inclusion: Vec<forewarn_tlog::hash::Hash>,
    checkpoint: Vec<u8>,
) -> Vec<u8> {
    TlogProof {
        extra: Some(record.to_vec()),
        index,
        inclusion,
        checkpoint,
    }
    .to_bytes()
}

/// Verifies a receipt: the checkpoint is signed by `log_key` (and meets
/// the witness policy, if given), the record is at its index in that tree,
/// and the statement's signature verifies. It does not check that the
/// signer was registered: that needs the log (an audit).
pub fn verify(
    receipt: &[u8],
    log_key: &VerifierKey,
    witnesses: Option<&WitnessPolicy>,
) -> Result<VerifiedReceipt, ReceiptError> {
    let proof = TlogProof::parse(receipt).map_err(ReceiptError::Proof)?;
    let record_bytes = proof.extra.clone().ok_or(ReceiptError::NoRecord)?;
    let verified = proof
        .verify(&record_bytes, log_key, witnesses)
        .map_err(ReceiptError::Proof)?;
    let record = Record::from_bytes(&record_bytes).map_err(ReceiptError::Record)?;
    if record.index != proof.index {
        return Err(ReceiptError::IndexMismatch {
            proof: proof.index,
            record: record.index,
        });
    }
    let statement = Statement::from_bytes(&record.statement).map_err(ReceiptError::Record)?;
    let item = SignatureItem::statement(statement.signer.0, &record.statement, record.signature);
    if !verify_items(&[item], VerifyMode::Strict, &mut KeyCache::new())[0] {
        return Err(ReceiptError::BadSignature);
    }
    Ok(VerifiedReceipt {
        record,
        statement,
        tree_size: verified.checkpoint.size(),
        origin: String::from(verified.checkpoint.origin()),
    })
}
