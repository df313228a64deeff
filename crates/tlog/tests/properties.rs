//! Property tests: parse∘format is the identity, arbitrary bytes never
//! panic a parser, and the compact range agrees with the full tree.

use forewarn_tlog::checkpoint::Checkpoint;
use forewarn_tlog::compact::CompactRange;
use forewarn_tlog::cosignature::Cosignature;
use forewarn_tlog::evidence::SplitViewEvidence;
use forewarn_tlog::note::{KeyId, Note, NoteSignature, SignatureType, SignerKey, VerifierKey};
use forewarn_tlog::policy::Policy;
use forewarn_tlog::proof::TlogProof;
use forewarn_tlog::tile::{Tile, encode_entry_bundle, parse_entry_bundle};
use forewarn_tlog::tree::InMemoryTree;
use forewarn_tlog::{Hash, record_hash};
use proptest::prelude::*;

fn name() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9./_-]{0,24}"
}

fn text_line() -> impl Strategy<Value = String> {
    // Printable, including non-ASCII, never a control character.
    "[ -~\u{e9}\u{2014}\u{4e2d}]{0,40}"
}

fn note_text() -> impl Strategy<Value = String> {
    prop::collection::vec(text_line(), 1..6).prop_map(|ls| {
        let mut s = ls.join("\n");
        s.push('\n');
        s
    })
}

fn signature() -> impl Strategy<Value = NoteSignature> {
    (
        name(),
        any::<[u8; 4]>(),
        prop::collection::vec(any::<u8>(), 1..80),
    )
        .prop_map(|(name, id, sig)| NoteSignature {
            name,
            key_id: KeyId(id),
            signature: sig,
        })
}

fn hash() -> impl Strategy<Value = Hash> {
    any::<[u8; 32]>().prop_map(Hash)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn note_format_then_parse_is_identity(text in note_text(), sigs in prop::collection::vec(signature(), 1..5)) {
        // A text whose last line is empty would move the separator; the
        // format defines the text to end at the last blank line.
        prop_assume!(!text.ends_with("\n\n"));
        let mut n = Note::new(&text).unwrap();
        for s in sigs { n.push_signature(s); }
        let bytes = n.to_bytes();
        let back = Note::parse(&bytes).unwrap();
        prop_assert_eq!(&back, &n);
        prop_assert_eq!(back.to_bytes(), bytes);
    }

    #[test]
    fn checkpoint_format_then_parse_is_identity(origin in name(), size in any::<u64>(), root in hash(),
        ext in prop::collection::vec("[!-~][ -~]{0,20}", 0..4)) {
        let c = Checkpoint::with_extensions(&origin, size, root, ext).unwrap();
        let back = Checkpoint::parse(&c.to_text()).unwrap();
        prop_assert_eq!(back.to_text(), c.to_text());
        prop_assert_eq!(back, c);
    }

    #[test]
    fn policy_format_then_parse_is_identity(seeds in prop::collection::vec(any::<[u8; 32]>(), 1..6),
        threshold in 1usize..6, quorum_none in any::<bool>()) {
        let log = SignerKey::from_seed("log.example/a", SignatureType::Ed25519, &[9; 32]).unwrap();
        let mut text = format!("log {} https://log.example/a\n", log.verifier());
        let mut names = Vec::new();
        for (i, s) in seeds.iter().enumerate() {
            let w = SignerKey::from_seed(&format!("w{i}.example"), SignatureType::CosignatureV1, s).unwrap();
            if text.contains(&w.verifier().to_text()[w.name().len() + 10..]) { continue; }
            text.push_str(&format!("witness W{i} {}\n", w.verifier()));
            names.push(format!("W{i}"));
        }
        let k = threshold.min(names.len());
        text.push_str(&format!("group G {k} {}\n", names.join(" ")));
        text.push_str(if quorum_none { "quorum none\n" } else { "quorum G\n" });
        let p = Policy::parse(&text).unwrap();
        prop_assert_eq!(p.to_text(), text.clone());
        prop_assert_eq!(Policy::parse(&p.to_text()).unwrap(), p);
    }

    #[test]
    fn tlog_proof_format_then_parse_is_identity(extra in prop::option::of(prop::collection::vec(any::<u8>(), 0..40)),
        index in any::<u64>(), inclusion in prop::collection::vec(hash(), 0..64), size in any::<u64>(), root in hash()) {
        let key = SignerKey::from_seed("log.example/p", SignatureType::Ed25519, &[3; 32]).unwrap();
        let cp = Checkpoint::new("log.example/p", size, root).unwrap().sign(&key).to_bytes();
        let p = TlogProof { extra, index, inclusion, checkpoint: cp };
        let back = TlogProof::parse(&p.to_bytes()).unwrap();
        prop_assert_eq!(back, p);
    }

    #[test]
    fn entry_bundles_round_trip(entries in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 1..40)) {
        let b = encode_entry_bundle(&entries).unwrap();
        let back = parse_entry_bundle(&b, entries.len()).unwrap();
        prop_assert_eq!(back.iter().map(|e| e.to_vec()).collect::<Vec<_>>(), entries.clone());
        prop_assert!(parse_entry_bundle(&b, entries.len() + 1).is_err());
        prop_assert!(parse_entry_bundle(&b[..b.len() - 1], entries.len()).is_err());
    }

    #[test]
    fn tile_paths_round_trip(level in 0u8..64, index in any::<u64>(), width in 1u16..=256, entries in any::<bool>()) {
        let t = if entries { Tile::entries(index, width) } else { Tile::hashes(level, index, width) };
        prop_assert_eq!(Tile::parse_path(&t.path()).unwrap(), t);
    }

    #[test]
    fn compact_range_root_equals_tree_root_for_every_prefix(n in 0usize..600, salt in any::<u64>()) {
        let mut range = CompactRange::new();
        let mut tree = InMemoryTree::new();
        prop_assert_eq!(range.root(), tree.root());
        for i in 0..n as u64 {
            let l = record_hash(&(i ^ salt).to_le_bytes());
            range.push(l);
            tree.append(l);
            prop_assert_eq!(range.root(), tree.root());
        }
        prop_assert_eq!(CompactRange::from_bytes(&range.to_bytes()).unwrap(), range);
    }

    #[test]
    fn arbitrary_bytes_never_panic_a_parser(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = Note::parse(&bytes);
        let _ = Checkpoint::parse(&text);
        let _ = Policy::parse(&text);
        let _ = TlogProof::parse(&bytes);
        let _ = Tile::parse_path(&text);
        let _ = parse_entry_bundle(&bytes, 3);
        let _ = CompactRange::from_bytes(&bytes);
        let _ = VerifierKey::parse(&text);
        let _ = SignerKey::parse(&text);
        let _ = SplitViewEvidence::parse(&text);
        let _ = Cosignature::from_payload(&bytes);
    }

    #[test]
    fn tree_functions_never_panic_on_any_sizes(size in any::<u64>(), other in any::<u64>(),
        len in 0usize..70, small in 0u64..300) {
        let proof = vec![record_hash(b"p"); len];
        let h = record_hash(b"h");
        // Debug builds check overflow: none of these may panic.
        let _ = forewarn_tlog::tree::root_from_inclusion(size, other, &h, &proof);
        let _ = forewarn_tlog::tree::verify_consistency(other.min(size), size, &h, &h, &proof);
        let _ = forewarn_tlog::tree::root_from_consistency(small, size, &h, &proof);
        let _ = forewarn_tlog::tree::split_stored_hash_index(size);
        let _ = forewarn_tlog::tree::stored_hash_index((other % 64) as u8, size);
        let _ = forewarn_tlog::tile::tiles_for_inclusion_proof(size, other);
        let _ = forewarn_tlog::tile::tiles_for_consistency_proof(other, size);
        let _ = forewarn_tlog::tile::tiles_for_tree_hash(size);
        let mut t = InMemoryTree::new();
        for i in 0..small {
            t.append(record_hash(&i.to_le_bytes()));
        }
        let _ = forewarn_tlog::tree::prove_inclusion(size, other, &t);
        let _ = forewarn_tlog::tree::prove_consistency(other, size, &t);
        let _ = forewarn_tlog::tree::tree_hash(size, &t);
    }

    #[test]
    fn mutated_valid_notes_never_panic(pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let key = SignerKey::from_seed("log.example/m", SignatureType::Ed25519, &[5; 32]).unwrap();
        let mut bytes = Checkpoint::new("log.example/m", 7, record_hash(b"x")).unwrap().sign(&key).to_bytes();
        let i = pos.index(bytes.len());
        bytes[i] = byte;
        let _ = forewarn_tlog::note::open(&bytes, &[key.verifier()]);
        let _ = forewarn_tlog::checkpoint::SignedCheckpoint::open(&bytes, &key.verifier(), None, &[]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The proofs of a run of consecutive leaves, computed together, are
    /// each exactly the single-leaf inclusion proof, and each verifies.
    #[test]
    fn proofs_of_a_range_equal_single_proofs(size in 1u64..700, a in any::<u64>(), b in any::<u64>()) {
        let mut t = InMemoryTree::new();
        for i in 0..size {
            t.append(record_hash(&i.to_be_bytes()));
        }
        let (mut lo, mut hi) = (a % (size + 1), b % (size + 1));
        if lo > hi { core::mem::swap(&mut lo, &mut hi); }
        let together = forewarn_tlog::tree::prove_inclusions(size, lo..hi, &t).unwrap();
        prop_assert_eq!(together.len() as u64, hi - lo);
        let root = t.root();
        for (i, proof) in (lo..hi).zip(&together) {
            prop_assert_eq!(proof, &forewarn_tlog::tree::prove_inclusion(size, i, &t).unwrap());
            prop_assert!(forewarn_tlog::tree::verify_inclusion(
                size, i, &record_hash(&i.to_be_bytes()), proof, &root).is_ok());
        }
        // Beyond the tree: an error, not a panic.
        prop_assert!(forewarn_tlog::tree::prove_inclusions(size, lo..size + 1, &t).is_err());
    }
}

/// The commit-shaped case at a larger size: a run at the right edge of an
/// odd-sized tree, one straddling a power of two, and one in the middle.
#[test]
fn proofs_of_runs_in_a_large_tree_equal_single_proofs() {
    let size = 100_003u64;
    let mut t = InMemoryTree::new();
    for i in 0..size {
        t.append(record_hash(&i.to_be_bytes()));
    }
    for run in [size - 1_500..size, 65_000..66_100, 40_000..40_257, 0..1] {
        let together = forewarn_tlog::tree::prove_inclusions(size, run.clone(), &t).unwrap();
        for (i, proof) in run.zip(&together) {
            assert_eq!(
                proof,
                &forewarn_tlog::tree::prove_inclusion(size, i, &t).unwrap(),
                "leaf {i}"
            );
        }
    }
}
