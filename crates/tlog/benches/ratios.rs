//! Throughput as ratios against this machine's own limits, measured in the
//! same run: raw SHA-256 of a 65-byte input (one leaf or node hash) and raw
//! Ed25519 `verify_strict`.
//!
//! cargo bench -p forewarn-tlog --bench ratios
//!
//! Targets: compact-range push ≥ 70% of the raw hash bound (one
//! leaf hash plus amortized one node hash per leaf); verify_inclusion at
//! 2^20 within 1.3× the cost of its hashes.

use std::hint::black_box;
use std::time::{Duration, Instant};

use ed25519_dalek::{Signer, SigningKey};
use forewarn_tlog::checkpoint::{Checkpoint, SignedCheckpoint};
use forewarn_tlog::compact::CompactRange;
use forewarn_tlog::note::{SignatureType, SignerKey};
use forewarn_tlog::record_hash;
use forewarn_tlog::tree::{self, InMemoryTree};
use sha2::{Digest, Sha256};

/// SHA-256 initial hash value (FIPS 180-4 §5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// Nanoseconds per call of `f`, best of five ~200 ms rounds.
fn ns_per_op(mut f: impl FnMut()) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..5 {
        let mut iters = 0u64;
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(200) {
            for _ in 0..64 {
                f();
            }
            iters += 64;
        }
        best = best.min(start.elapsed().as_nanos() as f64 / iters as f64);
    }
    best
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for a list; there is none.
    }
    // The floor for one 65-byte hash: SHA-256's compression function run
    // on the two padded blocks, nothing else.
    let blocks = [[7u8; 64]; 2];
    let sha = ns_per_op(|| {
        let mut state = SHA256_IV;
        sha2::block_api::compress256(&mut state, black_box(&blocks));
        black_box(state);
    });
    // The same compression as a dependent chain (each output feeds the next
    // input), as in a Merkle path: this is its latency, the floor for
    // anything that hashes up a tree.
    let mut chained = [[7u8; 64]; 2];
    let sha_chain = ns_per_op(|| {
        let mut state = SHA256_IV;
        sha2::block_api::compress256(&mut state, &chained);
        for (k, w) in state.iter().enumerate() {
            chained[0][4 * k..4 * k + 4].copy_from_slice(&w.to_be_bytes());
        }
    });
    let block = [7u8; 65];
    let generic = ns_per_op(|| {
        black_box(Sha256::digest(black_box(&block)));
    });
    let (l, r) = (record_hash(b"l"), record_hash(b"r"));
    let node = ns_per_op(|| {
        black_box(forewarn_tlog::node_hash(black_box(&l), black_box(&r)));
    });
    let sk = SigningKey::from_bytes(&[3; 32]);
    let vk = sk.verifying_key();
    let msg = b"raw ed25519 message of checkpoint size, about eighty bytes long.............";
    let sig = sk.sign(msg);
    let ed = ns_per_op(|| {
        black_box(vk.verify_strict(black_box(msg), &sig).is_ok());
    });
    println!("machine bounds (same run):");
    println!("  SHA-256 compression of 2 blocks (a 65 B hash):");
    println!(
        "    independent (throughput)      {sha:6.1} ns  ({:.2} M/s)",
        1e3 / sha
    );
    println!("    dependent chain (latency)     {sha_chain:6.1} ns");
    println!("  sha2 Sha256::digest, 65 B       {generic:6.1} ns");
    println!("  forewarn node_hash              {node:6.1} ns");
    println!(
        "  Ed25519 verify_strict           {ed:6.0} ns  ({:.0}/s)",
        1e9 / ed
    );

    // Compact range: hash a 64-byte entry (65 B with prefix) and push.
    let n = 1u64 << 20;
    let mut entries = vec![[0u8; 64]; 4096];
    for (i, e) in entries.iter_mut().enumerate() {
        e[..8].copy_from_slice(&(i as u64).to_le_bytes());
    }
    let mut best = f64::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        let mut cr = CompactRange::new();
        for i in 0..n {
            cr.push(record_hash(&entries[(i & 4095) as usize]));
        }
        black_box(cr.root());
        best = best.min(start.elapsed().as_nanos() as f64 / n as f64);
    }
    println!(
        "compact range, 2^20 leaves: {best:.1} ns/leaf; bound / actual (2 hashes per leaf): latency {:.2}, digest {:.2}, throughput {:.2} (target >= 0.70)",
        2.0 * sha_chain / best,
        2.0 * generic / best,
        2.0 * sha / best
    );

    // verify_inclusion at 2^20: 20 node hashes.
    let mut t = InMemoryTree::new();
    for i in 0..n {
        t.append(record_hash(&i.to_le_bytes()));
    }
    let root = t.root();
    let index: u64 = 777_777;
    let leaf = record_hash(&index.to_le_bytes());
    let proof = tree::prove_inclusion(n, index, &t).unwrap();
    let v = ns_per_op(|| {
        tree::verify_inclusion(n, index, black_box(&leaf), &proof, &root).unwrap();
    });
    let k = proof.len() as f64;
    println!(
        "verify_inclusion 2^20 ({} hashes): {v:.1} ns; actual / its hashes: latency {:.2}, digest {:.2}, throughput {:.2} (target <= 1.30)",
        proof.len(),
        v / (k * sha_chain),
        v / (k * generic),
        v / (k * sha)
    );
    let old = n / 3 + 1;
    let (r1, cons) = (
        t.root_at(old).unwrap(),
        tree::prove_consistency(old, n, &t).unwrap(),
    );
    let vc = ns_per_op(|| {
        tree::verify_consistency(old, n, &r1, black_box(&root), &cons).unwrap();
    });
    println!(
        "verify_consistency 2^20 ({} proof hashes, up to 2 hashes each): {vc:.1} ns ({:.2}x digest cost of that many hashes)",
        cons.len(),
        vc / (cons.len() as f64 * generic)
    );
    let p = ns_per_op(|| {
        black_box(tree::prove_inclusion(n, black_box(index), &t).unwrap());
    });
    println!("prove_inclusion 2^20 (in memory): {p:.1} ns");

    // Opening a signed checkpoint vs one raw verify_strict.
    let key = SignerKey::from_seed("bench.example/log", SignatureType::Ed25519, &[4; 32]).unwrap();
    let note = Checkpoint::new("bench.example/log", n, root)
        .unwrap()
        .sign(&key)
        .to_bytes();
    let lk = key.verifier();
    let o = ns_per_op(|| {
        black_box(SignedCheckpoint::open(black_box(&note), &lk, None, &[]).unwrap());
    });
    println!(
        "open signed checkpoint (parse + verify_strict): {o:.1} ns; ratio to raw verify {:.2}",
        o / ed
    );
}
