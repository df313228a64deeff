//! Mutation probes in the style of transparency-dev/merkle's testdata: take
//! a valid proof, apply one mutation, and require rejection with the
//! expected error kind. The number of probes run is asserted.

mod common;

use forewarn_tlog::tree::{self, InMemoryTree, ProofError};
use forewarn_tlog::{Hash, record_hash};

fn leaf(i: u64) -> Hash {
    record_hash(&i.to_le_bytes())
}

fn flip(h: &Hash, bit: usize) -> Hash {
    let mut x = *h;
    x.0[bit / 8] ^= 1 << (bit % 8);
    x
}

#[derive(Debug, PartialEq, Clone, Copy)]
enum Kind {
    Index,
    Length,
    OldRoot,
    Root,
    Order,
}

fn kind(e: &ProofError) -> Kind {
    match e {
        ProofError::IndexOutOfRange { .. } => Kind::Index,
        ProofError::WrongLength { .. } => Kind::Length,
        ProofError::OldRootMismatch { .. } => Kind::OldRoot,
        ProofError::RootMismatch { .. } => Kind::Root,
        ProofError::SizesOutOfOrder { .. } => Kind::Order,
        other => panic!("unexpected error kind {other:?}"),
    }
}

/// Counts probes and checks each is rejected with an allowed error kind.
#[derive(Default)]
struct Probes(usize);

impl Probes {
    fn expect(&mut self, r: Result<(), ProofError>, allowed: &[Kind], what: &str) {
        let e = r.expect_err(what);
        assert!(
            allowed.contains(&kind(&e)),
            "{what}: got {e:?}, allowed {allowed:?}"
        );
        self.0 += 1;
    }
}

fn tree(n: u64) -> InMemoryTree {
    let mut t = InMemoryTree::new();
    for i in 0..n {
        t.append(leaf(i));
    }
    t
}

#[test]
fn inclusion_probes() {
    let max = 80;
    let t = tree(max + 1);
    let mut probes = Probes::default();
    let mut expect = |r, allowed: &[Kind], what: &str| probes.expect(r, allowed, what);
    for size in 1..=max {
        let root = t.root_at(size).unwrap();
        for index in 0..size {
            let p = tree::prove_inclusion(size, index, &t).unwrap();
            let l = leaf(index);
            tree::verify_inclusion(size, index, &l, &p, &root).unwrap();
            let v = |s: u64, i: u64, l: &Hash, p: &[Hash], r: &Hash| {
                tree::verify_inclusion(s, i, l, p, r)
            };
            // Flipped bit in every proof hash (first, middle and last bit).
            for (j, _) in p.iter().enumerate() {
                for bit in [0, 131, 255] {
                    let mut q = p.clone();
                    q[j] = flip(&q[j], bit);
                    expect(
                        v(size, index, &l, &q, &root),
                        &[Kind::Root],
                        "flipped proof bit",
                    );
                }
            }
            expect(
                v(size, index, &flip(&l, 7), &p, &root),
                &[Kind::Root],
                "flipped leaf bit",
            );
            expect(
                v(size, index, &l, &p, &flip(&root, 200)),
                &[Kind::Root],
                "flipped root bit",
            );
            expect(
                v(size, index, &leaf(index + 1000), &p, &root),
                &[Kind::Root],
                "wrong leaf",
            );
            expect(
                v(size, index + 1, &l, &p, &root),
                &[Kind::Root, Kind::Length, Kind::Index],
                "index + 1",
            );
            if index > 0 {
                expect(
                    v(size, index - 1, &l, &p, &root),
                    &[Kind::Root, Kind::Length],
                    "index - 1",
                );
            }
            // Size ± 1, with the root that size really has.
            let bigger = t.root_at(size + 1).unwrap();
            expect(
                v(size + 1, index, &l, &p, &bigger),
                &[Kind::Root, Kind::Length],
                "size + 1",
            );
            if size > 1 {
                let smaller = t.root_at(size - 1).unwrap();
                expect(
                    v(size - 1, index, &l, &p, &smaller),
                    &[Kind::Root, Kind::Length, Kind::Index],
                    "size - 1",
                );
            }
            if !p.is_empty() {
                expect(
                    v(size, index, &l, &p[..p.len() - 1], &root),
                    &[Kind::Length],
                    "truncated",
                );
                expect(
                    v(size, index, &l, &p[1..], &root),
                    &[Kind::Length],
                    "first hash dropped",
                );
            }
            let mut ext = p.clone();
            ext.push(leaf(9999));
            expect(v(size, index, &l, &ext, &root), &[Kind::Length], "extended");
            let mut pre = vec![Hash::default()];
            pre.extend_from_slice(&p);
            expect(
                v(size, index, &l, &pre, &root),
                &[Kind::Length],
                "empty hash prepended",
            );
            expect(v(size, size, &l, &p, &root), &[Kind::Index], "index = size");
        }
    }
    assert_eq!(
        probes.0, 96_241,
        "probe count changed: update it only if the probe list changed"
    );
}

#[test]
fn consistency_probes() {
    let max = 70;
    let t = tree(max + 1);
    let mut probes = Probes::default();
    let mut expect = |r, allowed: &[Kind], what: &str| probes.expect(r, allowed, what);
    let any_root = [Kind::Root, Kind::OldRoot];
    let any = [Kind::Root, Kind::OldRoot, Kind::Length];
    for new in 2..=max {
        let r2 = t.root_at(new).unwrap();
        for old in 1..new {
            let r1 = t.root_at(old).unwrap();
            let p = tree::prove_consistency(old, new, &t).unwrap();
            let v = |o: u64, n: u64, a: &Hash, b: &Hash, p: &[Hash]| {
                tree::verify_consistency(o, n, a, b, p)
            };
            v(old, new, &r1, &r2, &p).unwrap();
            for j in 0..p.len() {
                let mut q = p.clone();
                q[j] = flip(&q[j], 77);
                expect(v(old, new, &r1, &r2, &q), &any_root, "flipped proof bit");
            }
            expect(
                v(old, new, &flip(&r1, 3), &r2, &p),
                &any_root,
                "flipped old root",
            );
            expect(
                v(old, new, &r1, &flip(&r2, 3), &p),
                &[Kind::Root],
                "flipped new root",
            );
            expect(v(new, old, &r2, &r1, &p), &[Kind::Order], "swapped sizes");
            // Sizes ± 1, each with the root that size really has.
            if old > 1 {
                expect(
                    v(old - 1, new, &t.root_at(old - 1).unwrap(), &r2, &p),
                    &any,
                    "old - 1",
                );
            }
            if old + 1 < new {
                expect(
                    v(old + 1, new, &t.root_at(old + 1).unwrap(), &r2, &p),
                    &any,
                    "old + 1",
                );
            }
            expect(
                v(old, new + 1, &r1, &t.root_at(new + 1).unwrap(), &p),
                &any,
                "new + 1",
            );
            if new - 1 > old {
                expect(
                    v(old, new - 1, &r1, &t.root_at(new - 1).unwrap(), &p),
                    &any,
                    "new - 1",
                );
            }
            if !p.is_empty() {
                expect(
                    v(old, new, &r1, &r2, &p[..p.len() - 1]),
                    &[Kind::Length],
                    "truncated",
                );
            }
            let mut ext = p.clone();
            ext.push(r2);
            expect(v(old, new, &r1, &r2, &ext), &[Kind::Length], "extended");
            expect(v(old, new, &r1, &r2, &[]), &[Kind::Length], "empty proof");
        }
        // Equal sizes need an empty proof and equal roots.
        expect(
            v_eq(&t, new),
            &[Kind::Length],
            "non-empty proof for equal sizes",
        );
    }
    assert_eq!(
        probes.0, 37_778,
        "probe count changed: update it only if the probe list changed"
    );
}

fn v_eq(t: &InMemoryTree, n: u64) -> Result<(), ProofError> {
    let r = t.root_at(n).unwrap();
    tree::verify_consistency(n, n, &r, &r, &[r])
}

/// A proof binds to a (size, root) pair, and a checkpoint signature binds
/// the pair together. Checked against the wrong size but the same root, an
/// RFC 9162 verifier can accept: the inclusion proof of leaf 0 in a tree
/// of 3 is also a well-formed proof for size 4 that computes the same root.
/// This pins that fact so nobody "fixes" it into a false sense of safety.
#[test]
fn size_is_bound_by_the_checkpoint_not_by_the_proof() {
    let t = tree(3);
    let root3 = t.root();
    let p = tree::prove_inclusion(3, 0, &t).unwrap();
    tree::verify_inclusion(4, 0, &leaf(0), &p, &root3).unwrap();
}
