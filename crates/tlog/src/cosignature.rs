//! Witness cosignatures, version 1 (c2sp.org/tlog-cosignature, Ed25519).
//!
//! A witness that has checked a checkpoint is consistent with everything it
//! saw before signs `cosignature/v1\ntime <t>\n<checkpoint text>`. The
//! signature line's payload is 76 bytes: key ID (4, computed with type byte
//! 0x04), timestamp (8, big-endian POSIX seconds), Ed25519 signature (64).
//!
//! ```
//! use forewarn_tlog::cosignature::{message, Cosignature};
//! let body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
//! assert_eq!(message(body, 1679315147),
//!     "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n");
//! ```

use alloc::format;
use alloc::string::String;
use core::fmt;

use ed25519_dalek::{Signature, VerifyingKey};

use crate::note::{KeyId, NoteSignature};

/// Largest timestamp a cosignature may carry: 2^63 − 1 (tlog-cosignature §Format).
pub const MAX_TIMESTAMP: u64 = (1 << 63) - 1;

/// Bytes of a cosignature line's decoded payload.
pub const PAYLOAD_SIZE: usize = 4 + 8 + 64;

/// The signed message: header line, timestamp line, checkpoint text.
pub fn message(checkpoint_text: &str, time: u64) -> String {
    format!("cosignature/v1\ntime {time}\n{checkpoint_text}")
}

/// A decoded cosignature payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cosignature {
    /// The witness key ID (type 0x04).
    pub key_id: KeyId,
    /// When the witness signed, POSIX seconds.
    pub time: u64,
    /// The Ed25519 signature over [`message`].
    pub signature: [u8; 64],
}

/// Why bytes are not a cosignature payload.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CosignatureError {
    /// The payload is not 76 bytes (or a signature field not 72).
    WrongLength {
        /// Bytes given.
        got: usize,
        /// Bytes required.
        want: usize,
    },
    /// The timestamp exceeds 2^63 − 1.
    TimestampTooLarge {
        /// The timestamp found.
        time: u64,
    },
}

impl fmt::Display for CosignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CosignatureError::WrongLength { got, want } => {
                write!(f, "cosignature is {got} bytes, want {want}")
            }
            CosignatureError::TimestampTooLarge { time } => {
                write!(f, "cosignature timestamp {time} exceeds 2^63-1")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for CosignatureError {}

impl Cosignature {
    /// Decodes the 76-byte payload (key ID, timestamp, signature).
    pub fn from_payload(bytes: &[u8]) -> Result<Cosignature, CosignatureError> {
        if bytes.len() != PAYLOAD_SIZE {
            return Err(CosignatureError::WrongLength {
                got: bytes.len(),
                want: PAYLOAD_SIZE,
            });
        }
        let mut id = [0u8; 4];
        id.copy_from_slice(&bytes[..4]);
        Self::from_signature_field(KeyId(id), &bytes[4..])
    }

    /// Decodes the part after the key ID of a note signature line.
    pub fn from_note_signature(sig: &NoteSignature) -> Result<Cosignature, CosignatureError> {
        Self::from_signature_field(sig.key_id, &sig.signature)
    }

    fn from_signature_field(key_id: KeyId, field: &[u8]) -> Result<Cosignature, CosignatureError> {
        if field.len() != 72 {
            return Err(CosignatureError::WrongLength {
                got: field.len() + 4,
                want: PAYLOAD_SIZE,
            });
        }
        let mut t = [0u8; 8];
        t.copy_from_slice(&field[..8]);
        let time = u64::from_be_bytes(t);
        if time > MAX_TIMESTAMP {
            return Err(CosignatureError::TimestampTooLarge { time });
        }
        let mut signature = [0u8; 64];
        signature.copy_from_slice(&field[8..]);
        Ok(Cosignature {
            key_id,
            time,
            signature,
        })
    }

    /// The 76-byte payload.
    pub fn to_payload(&self) -> [u8; PAYLOAD_SIZE] {
        let mut out = [0u8; PAYLOAD_SIZE];
        out[..4].copy_from_slice(&self.key_id.0);
        out[4..12].copy_from_slice(&self.time.to_be_bytes());
        out[12..].copy_from_slice(&self.signature);
        out
    }
}

/// Verifies a cosignature signature field (timestamp || signature) over
/// `checkpoint_text`; returns the timestamp if it verifies (`verify_strict`).
pub fn verify_timestamped(key: &VerifyingKey, checkpoint_text: &str, field: &[u8]) -> Option<u64> {
    if field.len() != 72 {
        return None;
    }
    let mut t = [0u8; 8];
    t.copy_from_slice(&field[..8]);
    let time = u64::from_be_bytes(t);
    if time > MAX_TIMESTAMP {
        return None;
    }
    let sig = Signature::from_slice(&field[8..]).ok()?;
    key.verify_strict(message(checkpoint_text, time).as_bytes(), &sig)
        .ok()
        .map(|_| time)
}
