//! Points of edwards25519 (`−x² + y² = 1 + d·x²y²`, RFC 8032 §5.1) eight
//! at a time, in the coordinates curve25519-dalek uses: extended
//! `(X : Y : Z : T)` with `x = X/Z`, `y = Y/Z`, `xy = T/Z` (Hisil, Wong,
//! Carter, Dawson, "Twisted Edwards curves revisited", 2008, §3), the
//! "completed" intermediate `((X : Z), (Y : T))` of an addition or a
//! doubling, and the Niels forms of an addend. The addition is the unified
//! one of HWCD §3.1 (complete on this curve: `a = −1` is a square and `d`
//! is not), so it needs no special cases for equal points or the identity.
//!
//! As in [`crate::field`], every function needs AVX-512F and IFMA.

use crate::field::{self as f, Fe, Limbs};

/// Eight points in extended coordinates.
#[derive(Clone, Copy)]
pub(crate) struct Ext {
    x: Fe,
    y: Fe,
    z: Fe,
    t: Fe,
}

/// Eight addends in projective Niels form `(Y + X, Y − X, Z, 2d·T)`.
#[derive(Clone, Copy)]
struct Niels {
    y_plus_x: Fe,
    y_minus_x: Fe,
    z: Fe,
    t2d: Fe,
}

/// Eight affine addends (`Z = 1`) in Niels form `(y + x, y − x, 2d·xy)`.
#[derive(Clone, Copy)]
pub(crate) struct AffineNiels {
    pub(crate) y_plus_x: Fe,
    pub(crate) y_minus_x: Fe,
    pub(crate) xy2d: Fe,
}

/// The result of an addition or doubling before the last four
/// multiplications: `x = X/Z`, `y = Y/T`.
struct Completed {
    x: Fe,
    y: Fe,
    z: Fe,
    t: Fe,
}

/// The identity `(0 : 1 : 1 : 0)` in every lane.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn identity() -> Ext {
    let zero = f::splat(&[0; 5]);
    let one = f::splat(&f::ONE);
    Ext {
        x: zero,
        y: one,
        z: one,
        t: zero,
    }
}

/// The identity's affine Niels form `(1, 1, 0)`, in every lane.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn affine_identity() -> AffineNiels {
    let one = f::splat(&f::ONE);
    AffineNiels {
        y_plus_x: one,
        y_minus_x: one,
        xy2d: f::splat(&[0; 5]),
    }
}

#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
fn to_extended(c: &Completed) -> Ext {
    Ext {
        x: f::mul(&c.x, &c.t),
        y: f::mul(&c.y, &c.z),
        z: f::mul(&c.z, &c.t),
        t: f::mul(&c.x, &c.y),
    }
}

#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
fn to_niels(p: &Ext) -> Niels {
    Niels {
        y_plus_x: f::add(&p.y, &p.x),
        y_minus_x: f::sub(&p.y, &p.x),
        z: p.z,
        t2d: f::mul(&p.t, &f::splat(&f::D2)),
    }
}

/// `p + q` (HWCD §3.1 with `k = 2d`; curve25519-dalek's
/// `EdwardsPoint + ProjectiveNielsPoint`): 8 multiplications.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
fn add(p: &Ext, q: &Niels) -> Ext {
    let pp = f::mul(&f::add(&p.y, &p.x), &q.y_plus_x);
    let mm = f::mul(&f::sub(&p.y, &p.x), &q.y_minus_x);
    let tt2d = f::mul(&p.t, &q.t2d);
    let zz = f::mul(&p.z, &q.z);
    let zz2 = f::add(&zz, &zz);
    to_extended(&Completed {
        x: f::sub(&pp, &mm),
        y: f::add(&pp, &mm),
        z: f::add(&zz2, &tt2d),
        t: f::sub(&zz2, &tt2d),
    })
}

/// `p + q` for an affine `q` (HWCD §3.1 with `Z₂ = 1`): 7 multiplications.
/// The same formula as [`add`], written out again on purpose: this is the
/// hot loop of [`crate::Lanes::row_sum`], and sharing one helper with `add`
/// (`#[inline(always)]` is not allowed on `#[target_feature]` functions)
/// cost 5 % there (criterion, row sum over 1,024 points: 123 → 130 µs).
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn add_affine(p: &Ext, q: &AffineNiels) -> Ext {
    let pp = f::mul(&f::add(&p.y, &p.x), &q.y_plus_x);
    let mm = f::mul(&f::sub(&p.y, &p.x), &q.y_minus_x);
    let txy2d = f::mul(&p.t, &q.xy2d);
    let z2 = f::add(&p.z, &p.z);
    to_extended(&Completed {
        x: f::sub(&pp, &mm),
        y: f::add(&pp, &mm),
        z: f::add(&z2, &txy2d),
        t: f::sub(&z2, &txy2d),
    })
}

/// `2p` (HWCD §3.3, `dbl-2008-hwcd` with `a = −1`): 4 squarings and 4
/// multiplications.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn double(p: &Ext) -> Ext {
    let xx = f::square(&p.x);
    let yy = f::square(&p.y);
    let zz = f::square(&p.z);
    let zz2 = f::add(&zz, &zz);
    let x_plus_y_sq = f::square(&f::add(&p.x, &p.y));
    let yy_plus_xx = f::add(&yy, &xx);
    let yy_minus_xx = f::sub(&yy, &xx);
    to_extended(&Completed {
        x: f::sub(&x_plus_y_sq, &yy_plus_xx),
        y: yy_plus_xx,
        z: yy_minus_xx,
        t: f::sub(&zz2, &yy_minus_xx),
    })
}

/// Lane by lane: `b` where `mask` has the lane's bit, else `a`.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn select(mask: u8, a: &Ext, b: &Ext) -> Ext {
    Ext {
        x: f::select(mask, &a.x, &b.x),
        y: f::select(mask, &a.y, &b.y),
        z: f::select(mask, &a.z, &b.z),
        t: f::select(mask, &a.t, &b.t),
    }
}

/// Lanes holding the identity: `X = 0` and `Y = Z`.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn is_identity(p: &Ext) -> u8 {
    f::is_zero(&p.x) & f::equal(&p.y, &p.z)
}

/// The group order ℓ = 2^252 + 27742317777372353535851937790883648493
/// (RFC 8032 §5.1), little-endian.
pub(crate) const ELL: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// `[ℓ]p`, by 4-bit fixed windows over ℓ (252 doublings; ℓ's nibbles 32
/// to 62 are zero, so about 30 additions) with a table of `0p … 15p`.
/// Lanes where the result is the identity are the torsion-free points.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn mul_by_ell(p: &Ext) -> Ext {
    let base = to_niels(p);
    let mut table = [base; 16];
    let mut acc = *p;
    for entry in table.iter_mut().skip(2) {
        acc = add(&acc, &base);
        *entry = to_niels(&acc);
    }
    let mut q = identity();
    for i in (0..64).rev() {
        if i != 63 {
            for _ in 0..4 {
                q = double(&q);
            }
        }
        let nibble = (ELL[i / 2] >> (4 * (i % 2))) & 15;
        if nibble != 0 {
            q = add(&q, &table[nibble as usize]);
        }
    }
    q
}

/// Eight encodings decompressed as curve25519-dalek's
/// `CompressedEdwardsY::decompress` does (RFC 8032 §5.1.3): `y` from the
/// low 255 bits, `x = ±√((y² − 1)/(d·y² + 1))` with the sign bit choosing
/// the root. Returns the points as affine Niels limbs and the lanes that
/// decompressed (the others hold garbage).
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn decompress(encodings: &[[u8; 32]; 8]) -> ([[Limbs; 3]; 8], u8) {
    let y = f::from_lanes(&encodings.map(|e| f::limbs_from_bytes(&e)));
    let sign = encodings
        .iter()
        .enumerate()
        .fold(0u8, |m, (j, e)| m | ((e[31] >> 7) << j));
    let one = f::splat(&f::ONE);
    let yy = f::square(&y);
    let u = f::sub(&yy, &one);
    let v = f::add(&f::mul(&yy, &f::splat(&f::D)), &one);
    let (valid, r) = sqrt_ratio_i(&u, &v);
    // r is the non-negative root; the sign bit asks for −r where set.
    let x = f::select(sign, &r, &f::neg(&r));
    let xy2d = f::mul(&f::mul(&x, &y), &f::splat(&f::D2));
    let y_plus_x = f::to_lanes(&f::add(&y, &x));
    let y_minus_x = f::to_lanes(&f::sub(&y, &x));
    let xy2d = f::to_lanes(&xy2d);
    (
        core::array::from_fn(|j| [y_plus_x[j], y_minus_x[j], xy2d[j]]),
        valid,
    )
}

/// curve25519-dalek's `FieldElement::sqrt_ratio_i`: lanes where `u/v` is a
/// square (or `u = 0`), and the non-negative `r` with `r² = u/v` there.
/// `r = (u·v³)·(u·v⁷)^((p−5)/8)` is a root of `±u/v` or `±i·u/v`; the
/// check `v·r²` says which (RFC 8032 §5.1.3 step 3).
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
fn sqrt_ratio_i(u: &Fe, v: &Fe) -> (u8, Fe) {
    let v3 = f::mul(&f::square(v), v);
    let v7 = f::mul(&f::square(&v3), v);
    let r = f::mul(&f::mul(u, &v3), &f::pow_p58(&f::mul(u, &v7)));
    let check = f::mul(v, &f::square(&r));
    let sqrt_m1 = f::splat(&f::SQRT_M1);
    let neg_u = f::neg(u);
    let correct = f::equal(&check, u);
    let flipped = f::equal(&check, &neg_u);
    let flipped_i = f::equal(&check, &f::mul(&neg_u, &sqrt_m1));
    let r = f::select(flipped | flipped_i, &r, &f::mul(&r, &sqrt_m1));
    let r = f::select(f::is_negative(&r), &r, &f::neg(&r));
    (correct | flipped, r)
}

/// Lanes of `acc` where an affine `q` is added: `q` is broadcast to the
/// lanes of `mask` and the identity stands in the others.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn add_where(acc: &Ext, mask: u8, q: &[Limbs; 3], id: &AffineNiels) -> Ext {
    let addend = AffineNiels {
        y_plus_x: f::splat_where(mask, &q[0], &id.y_plus_x),
        y_minus_x: f::splat_where(mask, &q[1], &id.y_minus_x),
        xy2d: f::splat_where(mask, &q[2], &id.xy2d),
    };
    add_affine(acc, &addend)
}

/// The sum of the eight lanes, in every lane: three rounds of adding the
/// lanes `j ^ 4`, `j ^ 2`, `j ^ 1`.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn sum_lanes(p: &Ext) -> Ext {
    let mut acc = *p;
    for shift in [4, 2, 1] {
        let other = Ext {
            x: f::swap_lanes(&acc.x, shift),
            y: f::swap_lanes(&acc.y, shift),
            z: f::swap_lanes(&acc.z, shift),
            t: f::swap_lanes(&acc.t, shift),
        };
        acc = add(&acc, &to_niels(&other));
    }
    acc
}

/// The RFC 8032 §5.1.2 encodings of the eight points: `y` with the sign of
/// `x` in bit 255.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub(crate) fn compress(p: &Ext) -> [[u8; 32]; 8] {
    let z_inv = f::invert(&p.z);
    let x = f::mul(&p.x, &z_inv);
    let y = f::canonical(&f::mul(&p.y, &z_inv));
    let negative = f::is_negative(&x);
    let ys = f::to_lanes(&y);
    core::array::from_fn(|j| {
        let mut bytes = f::bytes_from_canonical(&ys[j]);
        bytes[31] |= ((negative >> j) & 1) << 7;
        bytes
    })
}

/// Eight affine points from their Niels limbs (`y = (p + m)/2`,
/// `x = (p − m)/2`).
#[target_feature(enable = "avx512f,avx512ifma")]
pub(crate) fn from_affine_niels(ps: &[[Limbs; 3]; 8]) -> Ext {
    let pp = f::from_lanes(&ps.map(|p| p[0]));
    let mm = f::from_lanes(&ps.map(|p| p[1]));
    let half = f::invert(&f::splat(&[2, 0, 0, 0, 0]));
    let x = f::mul(&f::sub(&pp, &mm), &half);
    let y = f::mul(&f::add(&pp, &mm), &half);
    Ext {
        x,
        y,
        z: f::splat(&f::ONE),
        t: f::mul(&x, &y),
    }
}

/// Unused lanes of a partial octet get a fixed valid encoding (the base
/// point's), so that every lane computes on a real point.
pub(crate) const FILLER: [u8; 32] = [
    0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
    0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
];
