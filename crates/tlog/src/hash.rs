//! SHA-256 hashes and the RFC 9162 §2.1.1 Merkle hash functions.
//!
//! Every hash in a forewarn tree is a [`Hash`](struct@Hash): 32 bytes, compared in
//! constant time, shown as base64 (the form checkpoints and tlog-proof use).
//! Leaves and interior nodes are hashed with distinct one-byte prefixes so a
//! leaf can never be mistaken for a node (second-preimage resistance).
//!
//! ```
//! use forewarn_tlog::{record_hash, node_hash, Hash, EMPTY_ROOT};
//! let a = record_hash(b"a");
//! let b = record_hash(b"b");
//! assert_ne!(node_hash(&a, &b), node_hash(&b, &a));
//! assert_eq!(EMPTY_ROOT.to_base64(), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
//! ```

use alloc::string::String;
use core::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Length of a SHA-256 hash in bytes.
pub const HASH_SIZE: usize = 32;

/// A SHA-256 hash: a leaf hash, an interior node hash or a tree root.
///
/// Equality is constant-time, so comparing a computed root against a
/// signed one leaks nothing about where they differ.
#[derive(Clone, Copy, Default)]
pub struct Hash(pub [u8; HASH_SIZE]);

/// The root of the empty tree: `SHA-256("")` (RFC 9162 §2.1.1).
pub const EMPTY_ROOT: Hash = Hash([
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
]);

impl Hash {
    /// The hash's 32 bytes.
    pub fn as_bytes(&self) -> &[u8; HASH_SIZE] {
        &self.0
    }

    /// The hash in `bytes`, if it is exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Option<Hash> {
        <[u8; HASH_SIZE]>::try_from(bytes).ok().map(Hash)
    }

    /// Standard base64 with padding (RFC 4648 §4), as in checkpoints.
    pub fn to_base64(&self) -> String {
        BASE64.encode(self.0)
    }

    /// Parses exactly one canonical base64 encoding of 32 bytes.
    pub fn from_base64(text: &str) -> Option<Hash> {
        // 32 bytes encode to 44 characters; checking first bounds the work.
        if text.len() != 44 {
            return None;
        }
        let mut out = [0u8; HASH_SIZE];
        match BASE64.decode_slice(text, &mut out) {
            Ok(HASH_SIZE) => Some(Hash(out)),
            _ => None,
        }
    }

    /// Lowercase hexadecimal, for logs and human reports.
    pub fn to_hex(&self) -> String {
        base16ct::lower::encode_string(&self.0)
    }
}

impl PartialEq for Hash {
    fn eq(&self, other: &Hash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}
impl Eq for Hash {}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

/// The hash of a log entry (a Merkle leaf).
///
/// RFC 9162 §2.1.1: `MTH({d(0)}) = SHA-256(0x00 || d(0))`.
pub fn record_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    Hash(h.finalize().into())
}

/// The hash of an interior node from its left and right children.
///
/// RFC 9162 §2.1.1: `SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    // The input is always 65 bytes, so its SHA-256 padding (FIPS 180-4
    // §5.1.1) is fixed: block 0 is 0x01 || left || right[..31], block 1 is
    // right[31] || 0x80 || zeros || the 64-bit big-endian bit length 520.
    // Compressing the two blocks directly skips the generic hasher's
    // buffering: 70 ns instead of 86 ns here (docs/PERFORMANCE.md).
    let mut blocks = [[0u8; 64]; 2];
    blocks[0][0] = 0x01;
    blocks[0][1..33].copy_from_slice(&left.0);
    blocks[0][33..].copy_from_slice(&right.0[..31]);
    blocks[1][0] = right.0[31];
    blocks[1][1] = 0x80;
    blocks[1][56..].copy_from_slice(&(65u64 * 8).to_be_bytes());
    let mut state = SHA256_IV;
    sha2::block_api::compress256(&mut state, &blocks);
    let mut out = [0u8; HASH_SIZE];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    Hash(out)
}

/// SHA-256 initial hash value (FIPS 180-4 §5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// Plain SHA-256, used for key IDs and by callers that need the raw function.
pub fn sha256(data: &[u8]) -> [u8; HASH_SIZE] {
    Sha256::digest(data).into()
}

/// With the `bincode` feature, a hash encodes as its 32 bytes and nothing
/// else: byte for byte the encoding of `[u8; 32]` (fixed-size arrays carry no
/// length), so a format may switch a field from `[u8; 32]` to [`Hash`](struct@Hash)
/// without changing a byte.
#[cfg(feature = "bincode")]
mod bincode_impl {
    use super::{HASH_SIZE, Hash};
    use bincode::de::Decoder;
    use bincode::enc::Encoder;
    use bincode::error::{DecodeError, EncodeError};

    impl bincode::Encode for Hash {
        fn encode<E: Encoder>(&self, encoder: &mut E) -> Result<(), EncodeError> {
            bincode::Encode::encode(&self.0, encoder)
        }
    }

    impl<Context> bincode::Decode<Context> for Hash {
        fn decode<D: Decoder<Context = Context>>(decoder: &mut D) -> Result<Hash, DecodeError> {
            Ok(Hash(<[u8; HASH_SIZE] as bincode::Decode<Context>>::decode(
                decoder,
            )?))
        }
    }

    bincode::impl_borrow_decode!(Hash);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT.0, sha256(b""));
    }

    #[test]
    fn node_hash_equals_generic_sha256_of_prefixed_children() {
        let mut l = record_hash(b"left");
        let mut r = record_hash(b"right");
        for i in 0..200u8 {
            let mut buf = [0u8; 65];
            buf[0] = 1;
            buf[1..33].copy_from_slice(&l.0);
            buf[33..].copy_from_slice(&r.0);
            assert_eq!(node_hash(&l, &r).0, sha256(&buf), "round {i}");
            l = node_hash(&r, &l);
            r.0[usize::from(i % 32)] ^= i;
        }
    }

    #[test]
    fn base64_is_strict() {
        let h = record_hash(b"x");
        assert_eq!(Hash::from_base64(&h.to_base64()), Some(h));
        // Wrong length, bad alphabet, missing padding, non-canonical last char.
        assert_eq!(Hash::from_base64("AAAA"), None);
        assert_eq!(Hash::from_base64(&h.to_base64().replace('=', "")), None);
        let mut s = h.to_base64();
        s.replace_range(0..1, "*");
        assert_eq!(Hash::from_base64(&s), None);
        // 'B' before the pad carries a non-zero trailing bit for 32 bytes.
        let zero = Hash([0; 32]).to_base64();
        assert_eq!(zero, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        assert_eq!(
            Hash::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB="),
            None
        );
    }
}
