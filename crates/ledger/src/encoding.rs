//! The one place that turns ledger values into bytes and back.
//!
//! Format (docs/FORMAT.md §11): bincode 2.0.1 with its `legacy()`
//! configuration — fixed-width little-endian integers, `u64` lengths for
//! strings and vectors, `u32` enum tags, `u8` option tags and booleans,
//! fixed-size arrays without a length. That configuration is byte-identical
//! to bincode 1.3, so the format outlives the (unmaintained) crate, and
//! FORMAT.md describes every byte so it outlives any crate.
//!
//! Decoding is strict, because a record's bytes are what its Merkle leaf
//! commits to: input over [`MAX_ENCODED_SIZE`] is refused before any
//! allocation, trailing bytes are refused, and the decoded value must
//! re-encode to exactly the input (no second encoding of the same value).

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use bincode::config::{Configuration, Fixint, Limit, LittleEndian};

/// Largest encoded record or statement: the tlog-tiles entry limit (64 KiB).
pub const MAX_ENCODED_SIZE: usize = 64 * 1024;

type Config = Configuration<LittleEndian, Fixint, Limit<MAX_ENCODED_SIZE>>;

const CONFIG: Config = bincode::config::legacy().with_limit::<MAX_ENCODED_SIZE>();

/// Largest saved auditor state (1 GiB): state files are local and may be
/// large, but are still untrusted input.
pub const MAX_STATE_SIZE: usize = 1 << 30;

const STATE_CONFIG: Configuration<LittleEndian, Fixint, Limit<MAX_STATE_SIZE>> =
    bincode::config::legacy().with_limit::<MAX_STATE_SIZE>();

/// Why bytes are not a canonical encoding of the expected value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncodingError {
    /// The input (or the value to encode) is larger than [`MAX_ENCODED_SIZE`].
    TooLarge {
        /// Size of the input or encoding in bytes.
        size: usize,
    },
    /// The bytes do not decode (truncated, bad tag, bad UTF-8, length over
    /// the limit …). `detail` is bincode's explanation.
    Malformed {
        /// What the decoder found.
        detail: String,
    },
    /// A value decoded from a prefix of the input; the rest is left over.
    TrailingBytes {
        /// Bytes the value used.
        used: usize,
        /// Input length.
        len: usize,
    },
    /// The value decoded, but re-encodes to different bytes.
    NonCanonical,
    /// The leading version byte is not one this build understands.
    UnknownVersion {
        /// The version found.
        found: u8,
        /// The version expected.
        expected: u8,
    },
}

impl fmt::Display for EncodingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodingError::TooLarge { size } => write!(
                f,
                "{size} bytes is over the {MAX_ENCODED_SIZE}-byte limit for records and statements"
            ),
            EncodingError::Malformed { detail } => write!(f, "malformed encoding: {detail}"),
            EncodingError::TrailingBytes { used, len } => {
                write!(f, "{} trailing bytes after a {used}-byte value", len - used)
            }
            EncodingError::NonCanonical => {
                f.write_str("not the canonical encoding (re-encoding gives different bytes)")
            }
            EncodingError::UnknownVersion { found, expected } => {
                write!(
                    f,
                    "unknown format version {found} (this build reads version {expected})"
                )
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for EncodingError {}

/// Encodes a value canonically. Fails only if the encoding would exceed
/// [`MAX_ENCODED_SIZE`].
pub fn encode<T: bincode::Encode>(value: &T) -> Result<Vec<u8>, EncodingError> {
    // bincode enforces limits only when decoding; check the size here.
    let bytes = bincode::encode_to_vec(value, CONFIG).map_err(|e| EncodingError::Malformed {
        detail: e.to_string(),
    })?;
    if bytes.len() > MAX_ENCODED_SIZE {
        return Err(EncodingError::TooLarge { size: bytes.len() });
    }
    Ok(bytes)
}

/// Decodes a value and insists the bytes are its one canonical encoding.
pub fn decode<T: bincode::Decode<()> + bincode::Encode>(bytes: &[u8]) -> Result<T, EncodingError> {
    if bytes.len() > MAX_ENCODED_SIZE {
        return Err(EncodingError::TooLarge { size: bytes.len() });
    }
    strict_decode(bytes, CONFIG)
}

/// Checks the leading version byte before decoding the rest, so a future
/// format is reported as such and not as garbage.
pub fn decode_versioned<T: bincode::Decode<()> + bincode::Encode>(
    bytes: &[u8],
    expected: u8,
) -> Result<T, EncodingError> {
    check_version(bytes, expected)?;
    decode(bytes)
}

/// Encodes a saved state (same layout rules, [`MAX_STATE_SIZE`] limit).
pub fn encode_unbounded<T: bincode::Encode>(value: &T) -> Vec<u8> {
    bincode::encode_to_vec(value, STATE_CONFIG).expect("auditor state under 1 GiB")
}

/// Decodes a saved state strictly (version, limit, trailing bytes,
/// canonical form).
pub fn decode_versioned_unbounded<T: bincode::Decode<()> + bincode::Encode>(
    bytes: &[u8],
    expected: u8,
) -> Result<T, EncodingError> {
    check_version(bytes, expected)?;
    strict_decode(bytes, STATE_CONFIG)
}

/// Decodes a value of the saved-state family that carries no version of its
/// own (the caller checked one before it), strictly.
pub fn decode_unversioned_unbounded<T: bincode::Decode<()> + bincode::Encode>(
    bytes: &[u8],
) -> Result<T, EncodingError> {
    strict_decode(bytes, STATE_CONFIG)
}

fn check_version(bytes: &[u8], expected: u8) -> Result<(), EncodingError> {
    match bytes.first() {
        None => Err(EncodingError::Malformed {
            detail: "empty input".to_string(),
        }),
        Some(&v) if v != expected => Err(EncodingError::UnknownVersion { found: v, expected }),
        Some(_) => Ok(()),
    }
}

/// Decodes under `config` (whose limit bounds every allocation), refuses
/// trailing bytes, and refuses input whose re-encoding differs.
fn strict_decode<T, C>(bytes: &[u8], config: C) -> Result<T, EncodingError>
where
    T: bincode::Decode<()> + bincode::Encode,
    C: bincode::config::Config,
{
    let (value, used): (T, usize) =
        bincode::decode_from_slice(bytes, config).map_err(|e| EncodingError::Malformed {
            detail: e.to_string(),
        })?;
    if used != bytes.len() {
        return Err(EncodingError::TrailingBytes {
            used,
            len: bytes.len(),
        });
    }
    // Canonicality: every field type we use has one encoding per value, but
    // checking costs one re-encode and makes the property independent of
    // bincode's internals.
    if bincode::encode_to_vec(&value, config).ok().as_deref() != Some(bytes) {
        return Err(EncodingError::NonCanonical);
    }
    Ok(value)
}
