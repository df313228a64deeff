//! Signature verification (criterion): `verify_strict` on one signature
//! against exact batches of several sizes, on one thread, which is where
//! [`forewarn_ed25519::MIN_BATCH`] comes from (the smallest batch that
//! takes less time than verifying its members singly), and the shared
//! batch on two threads.
//!
//! The signatures are by 40 keys over 180-byte messages behind a 22-byte
//! prefix, the shape of a disclosure log's statements.
//!
//! `cargo bench -p forewarn-ed25519 --bench verify`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::{Signer, SigningKey};
use forewarn_ed25519::{
    KeyCache, SignatureItem, VerifyMode, verify_exact_batch, verify_exact_batch_parallel,
    verify_items,
};

const PREFIX: &[u8] = b"forewarn/statement/v1\n";

/// `n` signed messages: (key, body, signature).
fn signed(n: usize) -> Vec<([u8; 32], Vec<u8>, [u8; 64])> {
    let keys: Vec<SigningKey> = (0..40u8)
        .map(|i| SigningKey::from_bytes(&[i + 1; 32]))
        .collect();
    (0..n)
        .map(|i| {
            let key = &keys[i % keys.len()];
            let mut body = format!("statement {i:08} ").into_bytes();
            body.resize(180, b'.');
            let mut message = PREFIX.to_vec();
            message.extend_from_slice(&body);
            let signature = key.sign(&message).to_bytes();
            (key.verifying_key().to_bytes(), body, signature)
        })
        .collect()
}

fn verify(c: &mut Criterion) {
    let signed = signed(2000);
    let mut g = c.benchmark_group("verify");
    g.sample_size(10);
    for n in [1usize, 32, 64, 96, 128, 160, 192, 256, 512, 1024, 2000] {
        let items: Vec<SignatureItem<'_>> = signed[..n]
            .iter()
            .map(|(k, m, s)| SignatureItem::new(*k, PREFIX, m, *s))
            .collect();
        g.throughput(Throughput::Elements(n as u64));
        let mut cache = KeyCache::new();
        if n == 1 {
            g.bench_function("verify_strict, per signature", |b| {
                b.iter(|| verify_items(&items, VerifyMode::Strict, &mut cache))
            });
        } else {
            g.bench_function(format!("exact batch of {n}"), |b| {
                b.iter(|| verify_exact_batch(&items, &mut cache))
            });
        }
        if n >= 512 {
            let mut caches = [KeyCache::new(), KeyCache::new()];
            g.bench_function(format!("shared batch of {n}, 2 threads"), |b| {
                b.iter(|| verify_exact_batch_parallel(&items, &mut caches))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
