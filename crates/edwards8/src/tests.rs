//! Differential tests against curve25519-dalek.

use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::VartimeMultiscalarMul;
use proptest::prelude::*;

use super::{Lanes, Point};

/// The lanes on this CPU (bypassing the environment switch), or `None` —
/// then the test says so and checks nothing, as there is nothing here to
/// run it on.
fn lanes() -> Option<Lanes> {
    let l = Lanes::cpu();
    if l.is_none() {
        eprintln!("this CPU has no AVX-512 IFMA: nothing to test");
    }
    l
}

/// What curve25519-dalek makes of an encoding: the point's canonical
/// encoding, or `None`.
fn dalek(bytes: &[u8; 32]) -> Option<[u8; 32]> {
    CompressedEdwardsY(*bytes)
        .decompress()
        .map(|p| p.compress().to_bytes())
}

fn ours(l: &Lanes, encodings: &[[u8; 32]]) -> Vec<Option<[u8; 32]>> {
    l.decompress(encodings)
        .iter()
        .map(|p| p.map(|p| l.compress(&p)))
        .collect()
}

fn point(i: u64) -> EdwardsPoint {
    ED25519_BASEPOINT_POINT * Scalar::from(i.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
}

/// Encodings worth checking: real points with either sign, the small-order
/// points, y = 0, 1, p − 1, p, p + 1 … p + 18 (non-canonical), 2^255 − 1,
/// and x = 0 with the sign bit set.
fn edge_encodings() -> Vec<[u8; 32]> {
    let mut v = Vec::new();
    for i in 0..40 {
        let mut e = point(i).compress().to_bytes();
        v.push(e);
        e[31] ^= 0x80;
        v.push(e);
    }
    for t in EIGHT_TORSION {
        v.push(t.compress().to_bytes());
    }
    let mut p = [0xff; 32];
    p[31] = 0x7f;
    p[0] = 0xed;
    for low in [0u8, 1, 0xec, 0xed, 0xee, 0xf0, 0xff] {
        for sign in [0u8, 0x80] {
            let mut e = [0u8; 32];
            e[0] = low;
            e[31] = sign;
            v.push(e);
            let mut e = p;
            e[0] = low;
            e[31] |= sign;
            v.push(e);
        }
    }
    v
}

#[test]
fn decompression_agrees_with_dalek_on_edge_cases() {
    let Some(l) = lanes() else { return };
    let encodings = edge_encodings();
    let expected: Vec<_> = encodings.iter().map(dalek).collect();
    assert_eq!(ours(&l, &encodings), expected);
    // Some decompress and some do not, so both outcomes are exercised.
    assert!(expected.iter().any(Option::is_some));
    assert!(expected.iter().any(Option::is_none));
}

#[test]
fn the_group_order_is_dalek_s() {
    let ell_minus_one = (Scalar::ZERO - Scalar::ONE).to_bytes();
    let mut ell = crate::point::ELL;
    ell[0] -= 1;
    assert_eq!(ell, ell_minus_one);
}

proptest! {
    #[test]
    fn decompression_agrees_with_dalek(encodings in proptest::collection::vec(any::<[u8; 32]>(), 1..20)) {
        let Some(l) = lanes() else { return Ok(()) };
        let expected: Vec<_> = encodings.iter().map(dalek).collect();
        prop_assert_eq!(ours(&l, &encodings), expected);
    }

    #[test]
    fn row_sums_agree_with_dalek(seed in any::<u64>(), n in 1usize..40, bytes in proptest::collection::vec(any::<u8>(), 40)) {
        let Some(l) = lanes() else { return Ok(()) };
        let points: Vec<EdwardsPoint> = (0..n as u64).map(|i| point(seed ^ i)).collect();
        let encodings: Vec<[u8; 32]> = points.iter().map(|p| p.compress().to_bytes()).collect();
        let decoded: Vec<Point> = l.decompress(&encodings).into_iter().map(|p| p.expect("a point")).collect();
        let got = l.row_sum(decoded.iter().zip(bytes.iter().copied()));
        let expected = EdwardsPoint::vartime_multiscalar_mul(
            bytes[..n].iter().map(|b| Scalar::from(*b)),
            &points,
        );
        prop_assert_eq!(got, Some(expected.compress().to_bytes()));
    }
}

#[test]
fn row_sums_catch_every_torsion_component() {
    let Some(l) = lanes() else { return };
    let points: Vec<EdwardsPoint> = (0..30).map(point).collect();
    let bytes: Vec<u8> = (0..30u8)
        .map(|i| i.wrapping_mul(37).wrapping_add(11))
        .collect();
    for (t, torsion) in EIGHT_TORSION.iter().enumerate().skip(1) {
        let mut bad = points.clone();
        bad[7] += torsion;
        let encodings: Vec<[u8; 32]> = bad.iter().map(|p| p.compress().to_bytes()).collect();
        let decoded: Vec<Point> = l
            .decompress(&encodings)
            .into_iter()
            .map(|p| p.expect("a point"))
            .collect();
        // Byte 7 is non-zero: the torsion point is in some subset sum.
        assert_ne!(bytes[7], 0);
        assert_eq!(
            l.row_sum(decoded.iter().zip(bytes.iter().copied())),
            None,
            "torsion point {t}"
        );
        // With byte 0 it is in none, and the sum is dalek's.
        let mut zeroed = bytes.clone();
        zeroed[7] = 0;
        let expected =
            EdwardsPoint::vartime_multiscalar_mul(zeroed.iter().map(|b| Scalar::from(*b)), &bad);
        assert_eq!(
            l.row_sum(decoded.iter().zip(zeroed.iter().copied())),
            Some(expected.compress().to_bytes())
        );
    }
    // A lone small-order point in a subset is caught too.
    let small: Vec<[u8; 32]> = EIGHT_TORSION[1..]
        .iter()
        .map(|t| t.compress().to_bytes())
        .collect();
    for (t, p) in l.decompress(&small).iter().enumerate() {
        let p = p.expect("small-order points decompress");
        assert_eq!(
            l.row_sum([(&p, 0x80u8)].into_iter()),
            None,
            "torsion point {}",
            t + 1
        );
    }
}

#[test]
fn an_empty_row_is_the_identity() {
    let Some(l) = lanes() else { return };
    assert_eq!(
        l.row_sum(core::iter::empty()),
        Some(EdwardsPoint::default().compress().to_bytes())
    );
}
