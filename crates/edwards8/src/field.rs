//! GF(2^255 − 19) eight elements at a time: each `__m512i` holds one limb
//! of eight field elements, in radix 2^51 (five limbs), multiplied with the
//! AVX-512 IFMA instructions `vpmadd52luq`/`vpmadd52huq`.
//!
//! The scheme is that of curve25519-dalek's IFMA backend
//! (`backend/vector/ifma/field.rs`, by Henry de Valence and isis agora
//! lovecruft, BSD-3-Clause), widened from four lanes to eight: limbs of
//! 51 bits, multiplied by 52-bit multipliers, so a product `x_i·y_j` splits
//! at bit 52 into a low part of weight `2^(51(i+j))` and a high part of
//! weight `2·2^(51(i+j+1))`; `2^255 ≡ 19` folds the upper limbs down.
//!
//! **Invariant:** every [`Fe`] a function here returns is *reduced*: each
//! limb is below 2^52 (after one carry pass a limb is at most
//! `2^51 − 1 + 19·2^13`). The multipliers read only the low 52 bits of
//! their inputs, so this is what makes every product exact; every
//! operation therefore ends with [`carry`]. Values are not canonical
//! (they may exceed p) until [`canonical`] makes them so.
//!
//! Every function has `#[target_feature(enable = "avx512f,avx512ifma")]`;
//! they are called only from `crate::lanes`, whose callers hold a
//! [`crate::Lanes`] token (proof that the CPU has both features).

use core::arch::x86_64::*;

/// 2^51 − 1: one limb's bits.
const MASK51: i64 = (1 << 51) - 1;

/// Eight field elements, limb-major: `self.0[k]` holds limb `k` of each.
#[derive(Clone, Copy)]
pub(crate) struct Fe(pub(crate) [__m512i; 5]);

/// A field element's five limbs (radix 2^51), the form points are stored
/// and broadcast in outside the lanes.
pub(crate) type Limbs = [u64; 5];

/// `d = −121665/121666`, the curve constant (RFC 8032 §5.1), radix 2^51.
pub(crate) const D: Limbs = [
    929955233495203,
    466365720129213,
    1662059464998953,
    2033849074728123,
    1442794654840575,
];

/// `2d`.
pub(crate) const D2: Limbs = [
    1859910466990425,
    932731440258426,
    1072319116312658,
    1815898335770999,
    633789495995903,
];

/// A square root of −1 (RFC 8032 §5.1.3: `2^((p−1)/4)`).
pub(crate) const SQRT_M1: Limbs = [
    1718705420411056,
    234908883556509,
    2233514472574048,
    2117202627021982,
    765476049583133,
];

/// The limbs of 1.
pub(crate) const ONE: Limbs = [1, 0, 0, 0, 0];

/// The 32-byte little-endian encoding's value mod 2^255 (bit 255, the
/// sign of x in a point encoding, is ignored), as limbs. As in RFC 8032
/// §5.1.3 step 1 and curve25519-dalek, a y ≥ p is not rejected here;
/// callers that need canonical encodings check that themselves.
pub(crate) fn limbs_from_bytes(bytes: &[u8; 32]) -> Limbs {
    let word = |i: usize| u64::from_le_bytes(bytes[8 * i..8 * i + 8].try_into().expect("8 bytes"));
    let (w0, w1, w2, w3) = (word(0), word(1), word(2), word(3));
    let m = MASK51 as u64;
    [
        w0 & m,
        ((w0 >> 51) | (w1 << 13)) & m,
        ((w1 >> 38) | (w2 << 26)) & m,
        ((w2 >> 25) | (w3 << 39)) & m,
        (w3 >> 12) & m,
    ]
}

/// Little-endian bytes of canonical limbs (each below 2^51, value below p).
pub(crate) fn bytes_from_canonical(l: &Limbs) -> [u8; 32] {
    let words = [
        l[0] | (l[1] << 51),
        (l[1] >> 13) | (l[2] << 38),
        (l[2] >> 26) | (l[3] << 25),
        (l[3] >> 39) | (l[4] << 12),
    ];
    let mut out = [0u8; 32];
    for (chunk, w) in out.chunks_exact_mut(8).zip(words) {
        chunk.copy_from_slice(&w.to_le_bytes());
    }
    out
}

/// The same element in all eight lanes.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn splat(l: &Limbs) -> Fe {
    Fe(l.map(|x| _mm512_set1_epi64(x as i64)))
}

/// Eight elements, lane `j` from `ls[j]`.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn from_lanes(ls: &[Limbs; 8]) -> Fe {
    Fe(core::array::from_fn(|k| {
        _mm512_set_epi64(
            ls[7][k] as i64,
            ls[6][k] as i64,
            ls[5][k] as i64,
            ls[4][k] as i64,
            ls[3][k] as i64,
            ls[2][k] as i64,
            ls[1][k] as i64,
            ls[0][k] as i64,
        )
    }))
}

/// The eight 64-bit lanes of a vector.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn lanes_of(v: __m512i) -> [u64; 8] {
    let lo = _mm512_extracti64x4_epi64::<0>(v);
    let hi = _mm512_extracti64x4_epi64::<1>(v);
    [
        _mm256_extract_epi64::<0>(lo) as u64,
        _mm256_extract_epi64::<1>(lo) as u64,
        _mm256_extract_epi64::<2>(lo) as u64,
        _mm256_extract_epi64::<3>(lo) as u64,
        _mm256_extract_epi64::<0>(hi) as u64,
        _mm256_extract_epi64::<1>(hi) as u64,
        _mm256_extract_epi64::<2>(hi) as u64,
        _mm256_extract_epi64::<3>(hi) as u64,
    ]
}

/// Lane `j`'s limbs, for each `j`.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn to_lanes(a: &Fe) -> [Limbs; 8] {
    // A closure, not the function itself: `#[target_feature]` functions
    // do not implement the `Fn` traits (closures inherit the features).
    #[allow(clippy::redundant_closure)]
    let cols = a.0.map(|v| lanes_of(v));
    core::array::from_fn(|j| core::array::from_fn(|k| cols[k][j]))
}

/// One carry pass: limb k keeps its low 51 bits and passes the rest up;
/// the carry out of limb 4 comes back into limb 0 times 19 (2^255 ≡ 19).
/// Takes limbs below 2^64; gives reduced limbs (module invariant).
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
fn carry(x: [__m512i; 5]) -> Fe {
    let mask = _mm512_set1_epi64(MASK51);
    let c = x.map(|l| _mm512_srli_epi64::<51>(l));
    // c[4] < 2^13, so 19·c[4] fits the low 52 bits of the product.
    Fe([
        _mm512_madd52lo_epu64(_mm512_and_si512(x[0], mask), c[4], _mm512_set1_epi64(19)),
        _mm512_add_epi64(_mm512_and_si512(x[1], mask), c[0]),
        _mm512_add_epi64(_mm512_and_si512(x[2], mask), c[1]),
        _mm512_add_epi64(_mm512_and_si512(x[3], mask), c[2]),
        _mm512_add_epi64(_mm512_and_si512(x[4], mask), c[3]),
    ])
}

/// `a + b`.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn add(a: &Fe, b: &Fe) -> Fe {
    carry(core::array::from_fn(|k| _mm512_add_epi64(a.0[k], b.0[k])))
}

/// `a − b`, as `a + 16p − b` (16p's limbs exceed any reduced limb, so no
/// lane underflows).
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn sub(a: &Fe, b: &Fe) -> Fe {
    let p16_lo = _mm512_set1_epi64(16 * (MASK51 - 18));
    let p16_hi = _mm512_set1_epi64(16 * MASK51);
    carry(core::array::from_fn(|k| {
        let bias = if k == 0 { p16_lo } else { p16_hi };
        _mm512_sub_epi64(_mm512_add_epi64(a.0[k], bias), b.0[k])
    }))
}

/// `−a`.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn neg(a: &Fe) -> Fe {
    sub(&Fe([_mm512_setzero_si512(); 5]), a)
}

/// `a · b`: 25 low and 25 high 52-bit products, then the upper limbs
/// folded down by 19.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn mul(a: &Fe, b: &Fe) -> Fe {
    let (x, y) = (&a.0, &b.0);
    let zero = _mm512_setzero_si512();
    // lo[k]: terms of weight 2^(51k); hi[k]: terms of weight 2·2^(51k).
    // Each is a sum of at most five 52-bit values: below 2^55.
    let mut lo = [zero; 10];
    let mut hi = [zero; 10];
    for i in 0..5 {
        for j in 0..5 {
            lo[i + j] = _mm512_madd52lo_epu64(lo[i + j], x[i], y[j]);
            hi[i + j + 1] = _mm512_madd52hi_epu64(hi[i + j + 1], x[i], y[j]);
        }
    }
    fold(lo, hi)
}

/// `a²`.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn square(a: &Fe) -> Fe {
    let x = &a.0;
    let zero = _mm512_setzero_si512();
    // The cross terms x_i·x_j (i < j) occur twice: they are summed once
    // into lo2/hi2 and doubled, 15 products instead of 25.
    let mut lo = [zero; 10];
    let mut hi = [zero; 10];
    let mut lo2 = [zero; 10];
    let mut hi2 = [zero; 10];
    for i in 0..5 {
        lo[2 * i] = _mm512_madd52lo_epu64(lo[2 * i], x[i], x[i]);
        hi[2 * i + 1] = _mm512_madd52hi_epu64(hi[2 * i + 1], x[i], x[i]);
        for j in i + 1..5 {
            lo2[i + j] = _mm512_madd52lo_epu64(lo2[i + j], x[i], x[j]);
            hi2[i + j + 1] = _mm512_madd52hi_epu64(hi2[i + j + 1], x[i], x[j]);
        }
    }
    for k in 0..10 {
        lo[k] = _mm512_add_epi64(lo[k], _mm512_add_epi64(lo2[k], lo2[k]));
        hi[k] = _mm512_add_epi64(hi[k], _mm512_add_epi64(hi2[k], hi2[k]));
    }
    fold(lo, hi)
}

/// Folds a double-width product (terms `lo[k]` of weight 2^(51k), `hi[k]`
/// of weight 2·2^(51k), each below 2^56) to five limbs, using
/// `2^255 ≡ 19`, and carries once.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
fn fold(lo: [__m512i; 10], hi: [__m512i; 10]) -> Fe {
    let r19 = _mm512_set1_epi64(19);
    let mut out1: [__m512i; 5] = core::array::from_fn(|k| lo[k]);
    // hi[5..] are in z below; out2[5] gathers the weight-2^255 terms.
    let zero = _mm512_setzero_si512();
    let mut out2: [__m512i; 6] = core::array::from_fn(|k| if k < 5 { hi[k] } else { zero });
    for k in 5..10 {
        // z_k = lo + 2·hi < 2^58, of weight 2^(51k) ≡ 19·2^(51(k−5)).
        let z = _mm512_add_epi64(lo[k], _mm512_add_epi64(hi[k], hi[k]));
        // 19·z = 19·(z mod 2^52) + 19·(z >> 52)·2^52. The multiplier reads
        // z's low 52 bits; its low half has weight 2^(51(k−5)), its high
        // half and the top bits' product weight 2·2^(51(k−4)).
        out1[k - 5] = _mm512_madd52lo_epu64(out1[k - 5], r19, z);
        out2[k - 4] = _mm512_madd52hi_epu64(out2[k - 4], r19, z);
        out2[k - 4] = _mm512_madd52lo_epu64(out2[k - 4], r19, _mm512_srli_epi64::<52>(z));
    }
    // out2[5] (weight 2·2^255 ≡ 2·19) is small: fold it into limb 0.
    out2[0] = _mm512_madd52lo_epu64(out2[0], r19, out2[5]);
    carry(core::array::from_fn(|k| {
        _mm512_add_epi64(out1[k], _mm512_add_epi64(out2[k], out2[k]))
    }))
}

/// `a^(2^k)`.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
fn pow2k(a: &Fe, k: u32) -> Fe {
    let mut x = *a;
    for _ in 0..k {
        x = square(&x);
    }
    x
}

/// `(a^(2^250 − 1), a^11)`, the addition chain shared by inversion and
/// the square root (curve25519-dalek's `pow22501`).
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
fn pow22501(a: &Fe) -> (Fe, Fe) {
    let t0 = square(a); // 2
    let t1 = pow2k(&t0, 2); // 8
    let t2 = mul(a, &t1); // 9
    let t3 = mul(&t0, &t2); // 11
    let t4 = square(&t3); // 22
    let t5 = mul(&t2, &t4); // 2^5 − 1
    let t7 = mul(&pow2k(&t5, 5), &t5); // 2^10 − 1
    let t9 = mul(&pow2k(&t7, 10), &t7); // 2^20 − 1
    let t11 = mul(&pow2k(&t9, 20), &t9); // 2^40 − 1
    let t13 = mul(&pow2k(&t11, 10), &t7); // 2^50 − 1
    let t15 = mul(&pow2k(&t13, 50), &t13); // 2^100 − 1
    let t17 = mul(&pow2k(&t15, 100), &t15); // 2^200 − 1
    let t19 = mul(&pow2k(&t17, 50), &t13); // 2^250 − 1
    (t19, t3)
}

/// `a^(p − 2) = a⁻¹` (0 for 0).
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn invert(a: &Fe) -> Fe {
    let (t19, t3) = pow22501(a);
    // (2^250 − 1)·2^5 + 11 = 2^255 − 21 = p − 2.
    mul(&pow2k(&t19, 5), &t3)
}

/// `a^((p − 5)/8) = a^(2^252 − 3)`, for the square root.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn pow_p58(a: &Fe) -> Fe {
    let (t19, _) = pow22501(a);
    mul(&pow2k(&t19, 2), a)
}

/// The canonical representative (value below p, limbs below 2^51), as in
/// curve25519-dalek's `FieldElement51::to_bytes`: a second carry pass
/// brings the value below 2p, then `q = ⌊(a + 19)/2^255⌋` (0 or 1) says
/// whether to subtract p.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn canonical(a: &Fe) -> Fe {
    let x = carry(a.0).0;
    let mask = _mm512_set1_epi64(MASK51);
    let mut q = _mm512_srli_epi64::<51>(_mm512_add_epi64(x[0], _mm512_set1_epi64(19)));
    for limb in &x[1..] {
        q = _mm512_srli_epi64::<51>(_mm512_add_epi64(*limb, q));
    }
    let mut l = x;
    l[0] = _mm512_madd52lo_epu64(l[0], q, _mm512_set1_epi64(19));
    for k in 0..4 {
        l[k + 1] = _mm512_add_epi64(l[k + 1], _mm512_srli_epi64::<51>(l[k]));
        l[k] = _mm512_and_si512(l[k], mask);
    }
    l[4] = _mm512_and_si512(l[4], mask);
    Fe(l)
}

/// Lanes where `a = 0` (mod p).
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn is_zero(a: &Fe) -> u8 {
    let c = canonical(a).0;
    let any = c[1..].iter().fold(c[0], |acc, l| _mm512_or_si512(acc, *l));
    _mm512_cmpeq_epi64_mask(any, _mm512_setzero_si512())
}

/// Lanes where `a = b` (mod p).
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn equal(a: &Fe, b: &Fe) -> u8 {
    is_zero(&sub(a, b))
}

/// Lanes where `a` is negative in RFC 8032's sense: its canonical value
/// is odd (§5.1.2, the sign bit of x).
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn is_negative(a: &Fe) -> u8 {
    _mm512_test_epi64_mask(canonical(a).0[0], _mm512_set1_epi64(1))
}

/// Lane by lane: `b` where `mask` has the lane's bit, else `a`.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn select(mask: u8, a: &Fe, b: &Fe) -> Fe {
    Fe(core::array::from_fn(|k| {
        _mm512_mask_blend_epi64(mask, a.0[k], b.0[k])
    }))
}

/// `l` in the lanes of `mask`, `other` elsewhere.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn splat_where(mask: u8, l: &Limbs, other: &Fe) -> Fe {
    Fe(core::array::from_fn(|k| {
        _mm512_mask_set1_epi64(other.0[k], mask, l[k] as i64)
    }))
}

/// Lane `j` of the result is lane `j ^ shift` of `a`.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn swap_lanes(a: &Fe, shift: usize) -> Fe {
    let s = shift as i64;
    let idx = _mm512_set_epi64(7 ^ s, 6 ^ s, 5 ^ s, 4 ^ s, 3 ^ s, 2 ^ s, 1 ^ s, s);
    Fe(a.0.map(|l| _mm512_permutexvar_epi64(idx, l)))
}
