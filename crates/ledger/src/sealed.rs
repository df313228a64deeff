//! Sealed fields: embargoed details go into the log only as salted
//! commitments, opened later by an `Opening` statement (docs/FORMAT.md §15;
//! docs/DESIGN.md §2 for what the log may and may not reveal).
//!
//! ```text
//! commitment = SHA-256("forewarn/commit/v2" || event tag (1 byte)
//!                      || field number (1 byte) || signer key (32 bytes)
//!                      || salt (32 bytes) || value)
//! ```
//!
//! where `value` is the canonical encoding (docs/FORMAT.md §11) of the
//! field's type. The field ([`FieldTag`]) and the sealing statement's
//! signing key are inside the hash, so a commitment copied into another
//! field, or into another party's record, is opened by nothing its owner
//! publishes. The salt must be fresh and random for every field: without it
//! a guessable value (a CVE number, a product name) could be confirmed by
//! brute force. This crate never draws randomness: callers pass the salt.

use core::fmt;

use bincode::{Decode, Encode};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::encoding::{self, EncodingError};
use crate::types::{PublicKey, hex};

/// Domain-separation prefix of every commitment.
pub const COMMIT_PREFIX: &[u8] = b"forewarn/commit/v2";

/// Which sealed field a commitment is for: the event's wire tag and the
/// field's number within it (docs/FORMAT.md §15).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FieldTag {
    /// The event's wire tag ([`crate::event::Event::tag`]).
    pub event: u8,
    /// The field number ([`crate::event::Event::sealed_fields`]).
    pub field: u8,
}

/// A 32-byte salt. Secret until the field is opened.
pub type Salt = [u8; 32];

/// A SHA-256 commitment to a sealed value.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode)]
pub struct Commitment(pub [u8; 32]);

impl fmt::Debug for Commitment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Commitment({})", hex(&self.0[..8]))
    }
}

impl Serialize for Commitment {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex(&self.0))
    }
}

impl Commitment {
    /// Computes the commitment to already-encoded value bytes of `field`,
    /// sealed by a statement signed with `signer`, under `salt`.
    pub fn compute(
        field: FieldTag,
        signer: &PublicKey,
        salt: &Salt,
        value_bytes: &[u8],
    ) -> Commitment {
        let mut h = Sha256::new();
        h.update(COMMIT_PREFIX);
        h.update([field.event, field.field]);
        h.update(signer.0);
        h.update(salt);
        h.update(value_bytes);
        Commitment(h.finalize().into())
    }

    /// True if `salt` and `value_bytes` open this commitment to `field`
    /// sealed by `signer`.
    pub fn opens(
        &self,
        field: FieldTag,
        signer: &PublicKey,
        salt: &Salt,
        value_bytes: &[u8],
    ) -> bool {
        // Commitments are public; the comparison need not be constant time.
        Commitment::compute(field, signer, salt, value_bytes) == *self
    }
}

/// A field that is either in clear or sealed as a commitment.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sealed<T> {
    /// The value, public from the start (tag 0).
    Clear(T),
    /// A commitment to the value (tag 1).
    Sealed(Commitment),
}

impl<T: Encode> Sealed<T> {
    /// Seals `value` as `field` of a statement signed by `signer`, under
    /// `salt`.
    pub fn seal(
        value: &T,
        field: FieldTag,
        signer: &PublicKey,
        salt: &Salt,
    ) -> Result<Sealed<T>, EncodingError> {
        Ok(Sealed::Sealed(Commitment::compute(
            field,
            signer,
            salt,
            &encoding::encode(value)?,
        )))
    }

    /// The commitment, if sealed.
    pub fn commitment(&self) -> Option<&Commitment> {
        match self {
            Sealed::Clear(_) => None,
            Sealed::Sealed(c) => Some(c),
        }
    }

    /// The clear value, if not sealed.
    pub fn clear(&self) -> Option<&T> {
        match self {
            Sealed::Clear(v) => Some(v),
            Sealed::Sealed(_) => None,
        }
    }
}
