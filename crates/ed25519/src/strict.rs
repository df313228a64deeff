//! Keys parsed once, single verification with `verify_strict`, and the
//! byte-level checks on encodings that step 1 of the exact batch uses.

use alloc::borrow::Cow;
use alloc::collections::BTreeMap;

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use ed25519_dalek::{Signature, VerifyingKey};

use crate::SignatureItem;

/// A parsed public key with what batching needs to know about it.
#[derive(Clone, Debug)]
pub struct CachedKey {
    pub(crate) key: VerifyingKey,
    pub(crate) point: EdwardsPoint,
    /// Canonically encoded and torsion-free: safe to batch.
    pub(crate) batchable: bool,
}

impl CachedKey {
    /// `verify_strict` over `prefix || body`, copying the message only if
    /// it is in two non-empty parts.
    pub(crate) fn verify_strict(&self, item: &SignatureItem<'_>) -> bool {
        let message = if item.prefix.is_empty() {
            Cow::Borrowed(item.body)
        } else {
            Cow::Owned(item.message())
        };
        let signature = Signature::from_bytes(&item.signature);
        self.key.verify_strict(&message, &signature).is_ok()
    }
}

/// Parses keys once. Keys that do not decode or are of small order are
/// remembered as `None`, and every signature under them fails (as under
/// `verify_strict`).
///
/// Entries are keyed by the key's exact 32 bytes, and each holds the key
/// parsed from those bytes (`verify_strict` hashes the encoding as given,
/// so two encodings of one point are two keys here too). At most
/// [`MAX_CACHED_KEYS`] keys are held: a log's signatures are checked
/// before it knows whether their keys are registered, so without a bound
/// every submission naming a fresh key would grow a long-lived cache. A
/// full cache is emptied before the next new key; that costs parsing
/// again, never a verdict.
#[derive(Default, Debug, Clone)]
pub struct KeyCache {
    keys: BTreeMap<[u8; 32], Option<CachedKey>>,
}

/// The most keys a [`KeyCache`] holds (about 6 MB of parsed keys; a
/// ledger has far fewer signers).
pub const MAX_CACHED_KEYS: usize = 1 << 14;

impl KeyCache {
    /// An empty cache.
    pub fn new() -> KeyCache {
        KeyCache::default()
    }

    /// The key, parsed; `None` if it does not decode or is of small order.
    pub fn get(&mut self, bytes: &[u8; 32]) -> Option<&CachedKey> {
        if self.keys.len() >= MAX_CACHED_KEYS && !self.keys.contains_key(bytes) {
            self.keys.clear();
        }
        self.keys
            .entry(*bytes)
            .or_insert_with(|| parse_key(bytes))
            .as_ref()
    }

    /// How many keys the cache holds (at most [`MAX_CACHED_KEYS`]).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the cache holds no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// `verify_strict`'s verdict on `item`.
    pub(crate) fn verify_strict(&mut self, item: &SignatureItem<'_>) -> bool {
        self.get(&item.key).is_some_and(|k| k.verify_strict(item))
    }
}

fn parse_key(bytes: &[u8; 32]) -> Option<CachedKey> {
    let key = VerifyingKey::from_bytes(bytes).ok()?;
    // verify_strict rejects every signature under a small-order key.
    if key.is_weak() {
        return None;
    }
    let point = CompressedEdwardsY(*bytes).decompress()?;
    let batchable = y_canonical(bytes) && point.is_torsion_free();
    Some(CachedKey {
        key,
        point,
        batchable,
    })
}

/// The encoded `y` (sign bit cleared) is below p = 2^255 − 19 (RFC 8032
/// §5.1.3: a canonical encoding).
pub(crate) fn y_canonical(bytes: &[u8; 32]) -> bool {
    // p in little-endian: ed ff … ff 7f. y ≥ p iff the top 31 bytes are all
    // ff/7f and the low byte is ≥ 0xed.
    let top_max = bytes[31] & 0x7f == 0x7f && bytes[1..31].iter().all(|b| *b == 0xff);
    !(top_max && bytes[0] >= 0xed)
}

/// The `y` coordinates (little-endian, sign bit clear) of the eight points
/// of order dividing 8: 1 (the identity), −1 (order 2), 0 (order 4) and
/// ±y₈ (order 8). The set is closed under negation, so a point is of small
/// order exactly when its `y` is in it; for a canonical encoding that is a
/// byte comparison instead of `is_small_order`'s three doublings and
/// reductions. `tests::small_order_y_matches_is_small_order` derives the
/// table from `curve25519_dalek::constants::EIGHT_TORSION`.
const SMALL_ORDER_Y: [[u8; 32]; 5] = [
    [
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0,
    ],
    [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
    [0; 32],
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ],
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ],
];

/// Whether a canonical encoding names a point of small order (see
/// [`SMALL_ORDER_Y`]).
pub(crate) fn small_order_y(bytes: &[u8; 32]) -> bool {
    let mut y = *bytes;
    y[31] &= 0x7f;
    SMALL_ORDER_Y.contains(&y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};

    #[test]
    fn small_order_y_matches_is_small_order() {
        // The table is exactly the y's of the eight torsion points.
        let mut ys: Vec<[u8; 32]> = EIGHT_TORSION
            .iter()
            .map(|t| {
                let mut y = t.compress().to_bytes();
                y[31] &= 0x7f;
                y
            })
            .collect();
        ys.sort();
        ys.dedup();
        let mut table = SMALL_ORDER_Y.to_vec();
        table.sort();
        assert_eq!(ys, table);
        // And the byte test agrees with is_small_order on torsion points,
        // on points with a torsion component, and on prime-order points,
        // with either sign bit.
        let mut p = ED25519_BASEPOINT_POINT;
        let mut compared = 0;
        for i in 0..64 {
            for t in EIGHT_TORSION.iter() {
                for q in [*t, p, p + t] {
                    for sign in [0u8, 0x80] {
                        let mut bytes = q.compress().to_bytes();
                        bytes[31] ^= sign;
                        let Some(d) = CompressedEdwardsY(bytes).decompress() else {
                            continue;
                        };
                        if y_canonical(&bytes) {
                            assert_eq!(small_order_y(&bytes), d.is_small_order(), "round {i}");
                            compared += 1;
                        }
                    }
                }
            }
            p = p + p + ED25519_BASEPOINT_POINT;
        }
        assert!(compared > 64 * 8 * 3, "{compared} encodings compared");
    }

    #[test]
    fn y_canonical_is_y_below_p() {
        // p − 1 and p, with either sign bit.
        let mut below = [0xff; 32];
        below[0] = 0xec;
        below[31] = 0x7f;
        let mut at = below;
        at[0] = 0xed;
        for sign in [0u8, 0x80] {
            let mut b = below;
            b[31] ^= sign;
            assert!(y_canonical(&b));
            let mut a = at;
            a[31] ^= sign;
            assert!(!y_canonical(&a));
        }
        assert!(y_canonical(&[0; 32]));
        assert!(!y_canonical(&[0xff; 32]));
    }
}
