//! forewarn-edwards8's lanes against curve25519-dalek on arbitrary bytes.
//! Each 33-byte input chunk is an encoding and a coefficient byte; if the
//! byte's top bit is set the encoding is first replaced by that of the
//! point times the cofactor (torsion-free), so both outcomes of the
//! torsion check occur. Decompression must agree with dalek's on every
//! encoding; the row sum must be `None` exactly when some subset sum has a
//! torsion component, and otherwise `Σ byte·P` as dalek computes it.
#![no_main]
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::VartimeMultiscalarMul;
use forewarn_edwards8::Lanes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(lanes) = Lanes::detect() else { return };
    let mut encodings = Vec::new();
    let mut bytes = Vec::new();
    for c in data.chunks_exact(33).take(64) {
        let mut e: [u8; 32] = c[..32].try_into().unwrap();
        if c[32] & 0x80 != 0 {
            if let Some(p) = CompressedEdwardsY(e).decompress() {
                e = p.mul_by_cofactor().compress().to_bytes();
            }
        }
        encodings.push(e);
        bytes.push(c[32]);
    }
    let ours = lanes.decompress(&encodings);
    assert_eq!(ours.len(), encodings.len());
    let mut points = Vec::new();
    let mut lane_points = Vec::new();
    let mut coefficients = Vec::new();
    for ((e, b), o) in encodings.iter().zip(&bytes).zip(&ours) {
        let d = CompressedEdwardsY(*e).decompress();
        assert_eq!(o.map(|p| lanes.compress(&p)), d.map(|p| p.compress().to_bytes()));
        if let (Some(o), Some(d)) = (o, d) {
            lane_points.push(*o);
            points.push(d);
            coefficients.push(*b);
        }
    }
    let got = lanes.row_sum(lane_points.iter().zip(coefficients.iter().copied()));
    let torsion_free = (0..8).all(|bit| {
        let s: EdwardsPoint = points
            .iter()
            .zip(&coefficients)
            .filter(|(_, b)| (**b >> bit) & 1 == 1)
            .map(|(p, _)| p)
            .sum();
        s.is_torsion_free()
    });
    if torsion_free {
        let expected = EdwardsPoint::vartime_multiscalar_mul(
            coefficients.iter().map(|b| Scalar::from(*b)),
            &points,
        );
        assert_eq!(got, Some(expected.compress().to_bytes()));
    } else {
        assert_eq!(got, None);
    }
});
