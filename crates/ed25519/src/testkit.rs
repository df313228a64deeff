//! Signatures for parity tests and fuzzing (feature `testkit`).

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use sha2::{Digest, Sha512};

/// A signature that `verify_strict` rejects but a plain random-linear-
/// combination batch accepts whenever its coefficient is even: `R` carries
/// the order-2 point `(0, −1)` and `S` is computed honestly for that `R`,
/// so `[S]B − [k]A = R − T ≠ R`. Returns `(public key, signature)` over
/// `msg`; the secret scalar and nonce derive from `seed`. For tests only.
pub fn mixed_order_signature(msg: &[u8], seed: u8) -> ([u8; 32], [u8; 64]) {
    let a = Scalar::from_bytes_mod_order([seed | 1; 32]);
    let big_a = EdwardsPoint::mul_base(&a);
    let r = Scalar::from_bytes_mod_order([seed.wrapping_add(9); 32]);
    // (0, −1): y = p − 1 = 2^255 − 20, little-endian.
    let mut t = [0xff; 32];
    t[0] = 0xec;
    t[31] = 0x7f;
    let t = CompressedEdwardsY(t).decompress().expect("a curve point");
    let big_r = EdwardsPoint::mul_base(&r) + t;
    let k = Scalar::from_hash(
        Sha512::new()
            .chain_update(big_r.compress().as_bytes())
            .chain_update(big_a.compress().as_bytes())
            .chain_update(msg),
    );
    let s = r + k * a;
    let mut sig = [0; 64];
    sig[..32].copy_from_slice(big_r.compress().as_bytes());
    sig[32..].copy_from_slice(s.as_bytes());
    (big_a.compress().to_bytes(), sig)
}
