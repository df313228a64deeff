//! Differential tests against peers nobody here wrote: Cloudflare's
//! `tlog_tiles` and `signed_note` (ports of Go's sumdb code) and `ct-merkle`.
//! Roots, inclusion proofs and consistency proofs must be identical for
//! every size up to 300 and for seeded random sizes up to 10^6; notes must
//! verify both ways.

mod common;

use common::Rng;
use ct_merkle::mem_backed_tree::MemoryBackedTree;
use forewarn_tlog::tree::{self, InMemoryTree};
use forewarn_tlog::{Hash, record_hash};
use sha2::Sha256;

struct Peer<'a>(&'a InMemoryTree);

impl tlog_tiles::HashReader for Peer<'_> {
    fn read_hashes(
        &self,
        indexes: &[u64],
    ) -> Result<Vec<tlog_tiles::Hash>, tlog_tiles::tlog::Error> {
        Ok(indexes
            .iter()
            .map(|&i| tlog_tiles::Hash(self.0.stored_hashes()[i as usize].0))
            .collect())
    }
}

fn leaf_data(i: u64) -> Vec<u8> {
    format!("entry {i}").into_bytes()
}

fn ours(hs: &[tlog_tiles::Hash]) -> Vec<Hash> {
    hs.iter().map(|h| Hash(h.0)).collect()
}

fn ct_bytes(hs: &[Hash]) -> Vec<u8> {
    hs.iter().flat_map(|h| h.0).collect()
}

/// Checks roots and all proof kinds at `size` against both peers.
fn compare_at(
    tree: &InMemoryTree,
    ct: &MemoryBackedTree<Sha256, Vec<u8>>,
    size: u64,
    indexes: &[u64],
    olds: &[u64],
) -> usize {
    let mut checks = 0;
    let root = tree.root_at(size).unwrap();
    let peer = Peer(tree);
    // Stored-hash layouts are identical, so tlog_tiles reads ours.
    assert_eq!(
        tlog_tiles::tree_hash(size, &peer).unwrap().0,
        root.0,
        "tlog_tiles root at {size}"
    );
    assert_eq!(ct.len(), size);
    assert_eq!(
        ct.root().as_bytes().as_slice(),
        root.0.as_slice(),
        "ct-merkle root at {size}"
    );
    checks += 2;
    for &i in indexes {
        let p = tree::prove_inclusion(size, i, tree).unwrap();
        assert_eq!(
            p,
            ours(&tlog_tiles::prove_record(size, i, &peer).unwrap()),
            "inclusion {i} in {size}"
        );
        assert_eq!(
            ct_bytes(&p),
            ct.prove_inclusion(i as usize).as_bytes(),
            "ct inclusion {i} in {size}"
        );
        tlog_tiles::check_record(
            &tlog_tiles::prove_record(size, i, &peer).unwrap(),
            size,
            tlog_tiles::Hash(root.0),
            i,
            tlog_tiles::Hash(record_hash(&leaf_data(i)).0),
        )
        .unwrap();
        checks += 2;
    }
    for &old in olds {
        if old == 0 || old > size {
            continue;
        }
        let p = tree::prove_consistency(old, size, tree).unwrap();
        assert_eq!(
            p,
            ours(&tlog_tiles::prove_tree(size, old, &peer).unwrap()),
            "consistency {old}->{size}"
        );
        if old < size {
            assert_eq!(
                ct_bytes(&p),
                ct.prove_consistency((size - old) as usize).as_bytes(),
                "ct consistency {old}->{size}"
            );
        }
        let old_root = tree.root_at(old).unwrap();
        tree::verify_consistency(old, size, &old_root, &root, &p).unwrap();
        checks += 2;
    }
    checks
}

#[test]
fn every_size_up_to_300() {
    let mut tree = InMemoryTree::new();
    let mut ct = MemoryBackedTree::<Sha256, Vec<u8>>::new();
    let mut checks = 0;
    for size in 1..=300u64 {
        tree.append(record_hash(&leaf_data(size - 1)));
        ct.push(leaf_data(size - 1));
        let all: Vec<u64> = (0..size).collect();
        checks += compare_at(&tree, &ct, size, &all, &all);
    }
    assert!(checks > 90_000, "ran {checks} checks");
}

#[test]
fn stored_hashes_match_tlog_tiles() {
    let mut tree = InMemoryTree::new();
    for n in 0..600u64 {
        let before = tree.stored_hashes().len();
        tree.append(record_hash(&leaf_data(n)));
        let theirs = tlog_tiles::stored_hashes(n, &leaf_data(n), &Peer(&tree)).unwrap();
        assert_eq!(
            ours(&theirs),
            tree.stored_hashes()[before..].to_vec(),
            "record {n}"
        );
    }
}

#[test]
fn random_sizes_up_to_a_million() {
    let mut rng = Rng(0x5eed_f04e_7a12);
    let mut sizes: Vec<u64> = (0..12).map(|_| 1 + rng.below(1_000_000)).collect();
    sizes.push(1_000_000);
    sizes.push(1 << 19);
    sizes.sort_unstable();
    let mut tree = InMemoryTree::new();
    let mut ct = MemoryBackedTree::<Sha256, Vec<u8>>::new();
    let mut checks = 0;
    for &size in &sizes {
        while tree.size() < size {
            let i = tree.size();
            tree.append(record_hash(&leaf_data(i)));
            ct.push(leaf_data(i));
        }
        let idx: Vec<u64> = (0..16)
            .map(|_| rng.below(size))
            .chain([0, size - 1])
            .collect();
        let olds: Vec<u64> = (0..16)
            .map(|_| 1 + rng.below(size))
            .chain([1, size])
            .collect();
        checks += compare_at(&tree, &ct, size, &idx, &olds);
    }
    assert!(checks >= 14 * 70, "ran {checks} checks");
}

#[test]
fn notes_verify_both_ways_with_signed_note_crate() {
    use forewarn_tlog::note::{self, Note, SignatureType, SignerKey, VerifierKey};
    let mut rng = Rng(42);
    for i in 0..20u64 {
        let mut seed = [0u8; 32];
        for b in seed.iter_mut() {
            *b = rng.next() as u8;
        }
        let name = format!("log{i}.example/ledger");
        let ours_key = SignerKey::from_seed(&name, SignatureType::Ed25519, &seed).unwrap();
        let text = format!("line one {i}\n\nafter a blank line\n");

        // Ours signs, theirs verifies.
        let mut n = Note::new(&text).unwrap();
        n.sign(&ours_key);
        let bytes = n.to_bytes();
        let their_v = signed_note::StandardVerifier::new(&ours_key.verifier().to_text()).unwrap();
        let parsed = signed_note::Note::from_bytes(&bytes).unwrap();
        let (verified, _) = parsed
            .verify(&signed_note::VerifierList::new(vec![Box::new(their_v)]))
            .unwrap();
        assert_eq!(verified.len(), 1);

        // Theirs signs (from our private key text), ours verifies.
        let their_s = signed_note::StandardSigner::new(&ours_key.to_text()).unwrap();
        let mut theirs = signed_note::Note::new(text.as_bytes(), &[]).unwrap();
        theirs.add_sigs(&[&their_s]).unwrap();
        let their_bytes = theirs.to_bytes();
        let opened = note::open(
            &their_bytes,
            &[VerifierKey::parse(&ours_key.verifier().to_text()).unwrap()],
        )
        .unwrap();
        assert_eq!(opened.text, text);
        // Ed25519 is deterministic: both produce the same note.
        assert_eq!(their_bytes, bytes);
    }
}
