//! Which published Ed25519 edge cases forewarn's verification accepts.
//!
//! Every signature check in this crate (notes, checkpoints, cosignatures)
//! goes through `VerifierKey::verify`, which uses ed25519-dalek's
//! `verify_strict`: it rejects small-order public keys and small-order `R`,
//! non-canonical encodings of `A` and `R`, and `S ≥ L`; it uses the
//! cofactorless equation. It *accepts* keys and `R` that merely have a
//! small-order component (mixed order) — they are not malleable under the
//! cofactorless check. These tests pin exactly that.

mod common;

use std::fs;

use common::{hex, testdata};
use forewarn_tlog::note::{SignatureType, VerifierKey};

/// Our verifier over raw bytes, or None if the key itself is refused.
fn verify(key: &[u8], msg: &[u8], sig: &[u8]) -> Option<bool> {
    let mut k = [0u8; 32];
    k.copy_from_slice(key);
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&k).ok()?;
    let v = VerifierKey::new("edge.example/key", SignatureType::Ed25519, vk).ok()?;
    Some(v.verify(msg, sig))
}

#[test]
fn taming_the_many_eddsas_cases() {
    let text = fs::read_to_string(testdata("ed25519/speccheck_cases.txt")).unwrap();
    let mut accepted = Vec::new();
    let mut count = 0;
    for line in text.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let case: usize = f[0].parse().unwrap();
        if verify(&hex(f[2]), &hex(f[1]), &hex(f[3])) == Some(true) {
            accepted.push(case);
        }
        count += 1;
    }
    assert_eq!(count, 10, "expected the ten published cases");
    // Case 3 (mixed-order A and R, valid under both equations) is the only
    // one a strict verifier accepts. 0–2 have small-order A or R, 4–5 pass
    // only the cofactored equation, 6–7 have S ≥ L, 8–9 a non-canonical R.
    assert_eq!(accepted, vec![3]);
}

#[test]
fn cctv_vectors_accepted_exactly_when_only_mixed_order() {
    let text = fs::read_to_string(testdata("ed25519/cctv_0_39.txt")).unwrap();
    let allowed = ["low_order_component_A", "low_order_component_R"];
    let (mut n, mut accepted) = (0, Vec::new());
    for line in text.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let number: usize = f[0].parse().unwrap();
        let msg = f[3].replace('_', " ");
        let flags: Vec<&str> = f[4].split(',').collect();
        let want = flags.iter().all(|fl| allowed.contains(fl));
        let got = verify(&hex(f[1]), msg.as_bytes(), &hex(f[2])) == Some(true);
        assert_eq!(got, want, "vector {number} flags {flags:?}");
        if got {
            accepted.push(number);
        }
        n += 1;
    }
    assert_eq!(n, 40);
    assert_eq!(
        accepted,
        vec![7, 29],
        "only the mixed-order-only vectors verify"
    );
}
