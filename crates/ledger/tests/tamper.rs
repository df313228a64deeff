//! Tamper detection: a realistic log of 300+ records, every byte of every
//! record flipped one at a time, plus every deletion, adjacent swap,
//! duplication and truncation. The auditor (with the log's signed
//! checkpoint) must report an integrity failure for every one.
//!
//! The auditor is a deterministic state machine, so auditing a mutated log
//! is: the state after the untouched prefix (cloned, not recomputed), then
//! the mutated suffix until the first failure, then the checkpoint.

mod common;

use forewarn_ledger::testkit::RealisticLog;
use forewarn_ledger::*;
use forewarn_tlog::checkpoint::Checkpoint;
use forewarn_tlog::note::{SignatureType, SignerKey};

struct Fixture {
    records: Vec<Vec<u8>>,
    /// `prefixes[i]` has audited records `0..i`.
    prefixes: Vec<Auditor>,
    checkpoint: Vec<u8>,
    key: SignerKey,
}

fn fixture() -> Fixture {
    let mut log = RealisticLog::new(2026, 24, true);
    log.grow_to(300);
    let records = log.scenario.records().to_vec();
    let mut a = Auditor::new(AuditConfig::default());
    let mut prefixes = vec![a.clone()];
    for r in &records {
        a.push(r).expect("the untampered log is clean");
        prefixes.push(a.clone());
    }
    let key = SignerKey::from_seed("example.org/ledger", SignatureType::Ed25519, &[1; 32]).unwrap();
    let checkpoint = Checkpoint::new("example.org/ledger", a.size(), a.root())
        .unwrap()
        .sign(&key)
        .to_bytes();
    a.verify_checkpoint(&checkpoint, &key.verifier(), None)
        .expect("the untampered log matches its checkpoint");
    Fixture {
        records,
        prefixes,
        checkpoint,
        key,
    }
}

impl Fixture {
    /// Audits `prefix(start) ++ suffix` and then the checkpoint; true if an
    /// integrity failure was reported.
    fn detects(&self, start: usize, suffix: &[&[u8]]) -> bool {
        let mut a = self.prefixes[start].clone();
        for r in suffix {
            if a.push(r).is_err() {
                return true;
            }
        }
        a.verify_checkpoint(&self.checkpoint, &self.key.verifier(), None)
            .is_err()
    }

    /// The untampered records from `i` on.
    fn rest(&self, i: usize) -> Vec<&[u8]> {
        self.records[i.min(self.records.len())..]
            .iter()
            .map(|r| r.as_slice())
            .collect()
    }
}

#[test]
fn every_single_byte_flip_is_detected() {
    let f = fixture();
    assert!(f.records.len() >= 300);
    let mut mutations = 0u64;
    let mut missed = Vec::new();
    for (i, record) in f.records.iter().enumerate() {
        for j in 0..record.len() {
            let mut bad = record.clone();
            bad[j] ^= 1 << (j % 8);
            mutations += 1;
            // The mutated record, then the untouched rest, then the
            // checkpoint (auditing stops at the first failure).
            let mut suffix: Vec<&[u8]> = vec![&bad];
            suffix.extend(f.rest(i + 1));
            let caught = f.detects(i, &suffix);
            if !caught {
                missed.push((i, j));
            }
        }
    }
    let total: usize = f.records.iter().map(|r| r.len()).sum();
    assert_eq!(mutations as usize, total);
    assert!(mutations >= 20_000, "only {mutations} mutations");
    assert!(
        missed.is_empty(),
        "undetected flips (record, byte): {:?}",
        &missed[..missed.len().min(20)]
    );
    eprintln!(
        "{mutations} single-byte flips over {} records: all detected",
        f.records.len()
    );
}

#[test]
fn deletions_swaps_duplications_and_truncations_are_detected() {
    let f = fixture();
    let n = f.records.len();
    let mut mutations = 0;
    for i in 0..n {
        // Delete record i.
        assert!(f.detects(i, &f.rest(i + 1)), "deleting record {i}");
        // Duplicate record i.
        let mut dup: Vec<&[u8]> = vec![&f.records[i]];
        dup.extend(f.rest(i));
        assert!(f.detects(i, &dup), "duplicating record {i}");
        // Truncate to i records.
        assert!(f.detects(i, &[]), "truncating to {i} records");
        mutations += 3;
        // Swap records i and i+1.
        if i + 1 < n {
            let mut swapped: Vec<&[u8]> = vec![&f.records[i + 1], &f.records[i]];
            swapped.extend(f.rest(i + 2));
            assert!(f.detects(i, &swapped), "swapping records {i} and {}", i + 1);
            mutations += 1;
        }
    }
    assert_eq!(mutations, 4 * n - 1);
    // And the untampered log passes the same procedure.
    assert!(!f.detects(0, &f.rest(0)));
}
