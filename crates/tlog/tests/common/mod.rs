//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use forewarn_tlog::Hash;

/// Decodes lowercase or uppercase hex; panics on bad test data.
pub fn hex(s: &str) -> Vec<u8> {
    ::base16ct::mixed::decode_vec(s).unwrap_or_else(|e| panic!("bad hex in test data ({e}): {s}"))
}

pub fn hash_hex(s: &str) -> Hash {
    let v = hex(s);
    let mut h = [0u8; 32];
    h.copy_from_slice(&v);
    Hash(h)
}

pub fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

/// A tiny deterministic PRNG (SplitMix64) for seeded sweeps.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
