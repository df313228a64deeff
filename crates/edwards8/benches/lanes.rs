//! Decompression and row sums, eight lanes against curve25519-dalek.
//! `cargo bench -p forewarn-edwards8`

use criterion::{Criterion, criterion_group, criterion_main};
use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::scalar::Scalar;
use forewarn_edwards8::Lanes;
use std::hint::black_box;

fn benches(c: &mut Criterion) {
    let encodings: Vec<[u8; 32]> = (1..=1024u64)
        .map(|i| {
            (ED25519_BASEPOINT_POINT * Scalar::from(i * 7919))
                .compress()
                .to_bytes()
        })
        .collect();
    let mut g = c.benchmark_group("decompress 1024");
    g.bench_function("curve25519-dalek", |b| {
        b.iter(|| {
            encodings
                .iter()
                .filter(|e| CompressedEdwardsY(**e).decompress().is_some())
                .count()
        })
    });
    let Some(lanes) = Lanes::detect() else {
        eprintln!("no AVX-512 IFMA here: only curve25519-dalek measured");
        return;
    };
    g.bench_function("edwards8", |b| {
        b.iter(|| lanes.decompress(black_box(&encodings)).len())
    });
    g.finish();
    let points: Vec<_> = lanes.decompress(&encodings).into_iter().flatten().collect();
    let bytes: Vec<u8> = (0..points.len()).map(|i| (i * 131 + 7) as u8).collect();
    c.bench_function("row sum over 1024 points (edwards8)", |b| {
        b.iter(|| lanes.row_sum(points.iter().zip(bytes.iter().copied())))
    });
    c.bench_function(
        "row sum over 0 points (edwards8): the torsion check and compression",
        |b| b.iter(|| lanes.row_sum(core::iter::empty())),
    );
}

criterion_group!(benches_group, benches);
criterion_main!(benches_group);
