//! Criterion benchmarks of the tree math, next to raw SHA-256 in the same run.
//!
//! cargo bench -p forewarn-tlog --bench tlog
//! (docs/PERFORMANCE.md has the figures; `--bench ratios` prints them as
//! ratios against this machine's raw SHA-256 and Ed25519 rates.)

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use forewarn_tlog::compact::CompactRange;
use forewarn_tlog::tree::{self, InMemoryTree};
use forewarn_tlog::{node_hash, record_hash};
use sha2::{Digest, Sha256};

fn hashing(c: &mut Criterion) {
    let mut g = c.benchmark_group("hash");
    g.throughput(Throughput::Elements(1));
    let block = [7u8; 65];
    g.bench_function("raw_sha256_65B", |b| {
        b.iter(|| Sha256::digest(black_box(&block)))
    });
    let entry = [9u8; 64];
    g.bench_function("record_hash_64B_entry", |b| {
        b.iter(|| record_hash(black_box(&entry)))
    });
    let (l, r) = (record_hash(b"l"), record_hash(b"r"));
    g.bench_function("node_hash", |b| {
        b.iter(|| node_hash(black_box(&l), black_box(&r)))
    });
    g.finish();

    let mut g = c.benchmark_group("compact_range");
    g.throughput(Throughput::Elements(1024));
    g.bench_function("record_hash_and_push_x1024", |b| {
        b.iter(|| {
            let mut cr = CompactRange::new();
            for i in 0u64..1024 {
                let mut e = [0u8; 64];
                e[..8].copy_from_slice(&i.to_le_bytes());
                cr.push(record_hash(&e));
            }
            black_box(cr.root())
        })
    });
    g.finish();
}

fn proofs(c: &mut Criterion) {
    for log2 in [10u32, 20, 24] {
        let n = 1u64 << log2;
        let mut tree = InMemoryTree::new();
        for i in 0..n {
            tree.append(record_hash(&i.to_le_bytes()));
        }
        let root = tree.root();
        let index = n / 3;
        let old = n / 3 + 1;
        let old_root = tree.root_at(old).unwrap();
        let leaf = record_hash(&index.to_le_bytes());
        let incl = tree::prove_inclusion(n, index, &tree).unwrap();
        let cons = tree::prove_consistency(old, n, &tree).unwrap();
        let mut g = c.benchmark_group(format!("proofs_2^{log2}"));
        g.bench_function(BenchmarkId::new("prove_inclusion", n), |b| {
            b.iter(|| tree::prove_inclusion(n, black_box(index), &tree).unwrap())
        });
        g.bench_function(BenchmarkId::new("verify_inclusion", n), |b| {
            b.iter(|| tree::verify_inclusion(n, index, black_box(&leaf), &incl, &root).unwrap())
        });
        g.bench_function(BenchmarkId::new("prove_consistency", n), |b| {
            b.iter(|| tree::prove_consistency(black_box(old), n, &tree).unwrap())
        });
        g.bench_function(BenchmarkId::new("verify_consistency", n), |b| {
            b.iter(|| tree::verify_consistency(old, n, &old_root, black_box(&root), &cons).unwrap())
        });
        g.finish();
    }
}

criterion_group!(benches, hashing, proofs);
criterion_main!(benches);
