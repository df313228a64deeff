//! Behaviour of the formats end to end: strict parsing, signed checkpoints,
//! cosignatures under a policy, tlog-proofs, tiles, split-view evidence.

use forewarn_tlog::checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint};
use forewarn_tlog::evidence::{Conflict, EvidenceError, SplitViewEvidence, prove_prefix};
use forewarn_tlog::note::{self, Note, NoteError, OpenError, SignatureType, SignerKey};
use forewarn_tlog::policy::{Policy, PolicyCheckError};
use forewarn_tlog::proof::{TlogProof, TlogProofError};
use forewarn_tlog::tile::{
    Tile, TileHashReader, TileReader, new_tiles, read_tile_data, tiles_for_consistency_proof,
    tiles_for_inclusion_proof, tiles_for_size, tiles_for_tree_hash,
};
use forewarn_tlog::tree::{self, InMemoryTree};
use forewarn_tlog::{Hash, record_hash};

fn log_key() -> SignerKey {
    SignerKey::from_seed("forewarn.example/log", SignatureType::Ed25519, &[1; 32]).unwrap()
}

fn witness(i: u8) -> SignerKey {
    SignerKey::from_seed(
        &format!("witness{i}.example"),
        SignatureType::CosignatureV1,
        &[10 + i; 32],
    )
    .unwrap()
}

fn entries(n: u64) -> (Vec<Vec<u8>>, InMemoryTree) {
    let mut t = InMemoryTree::new();
    let es: Vec<Vec<u8>> = (0..n).map(|i| format!("entry-{i}").into_bytes()).collect();
    for e in &es {
        t.append(record_hash(e));
    }
    (es, t)
}

#[test]
fn notes_are_parsed_strictly() {
    let ok = "text\n\n\u{2014} a.example AAAAAAAAAAA=\n";
    assert!(Note::parse(ok.as_bytes()).is_ok());
    type Case = (&'static str, fn(&NoteError) -> bool);
    let cases: &[Case] = &[
        ("text\n\n\u{2014} a.example AAAAAAAAAAA=", |e| {
            matches!(e, NoteError::MissingFinalNewline)
        }),
        ("te\rxt\n\n\u{2014} a.example AAAAAAAAAAA=\n", |e| {
            matches!(e, NoteError::ControlCharacter { offset: 2 })
        }),
        ("text\n\u{2014} a.example AAAAAAAAAAA=\n", |e| {
            matches!(e, NoteError::MissingSignatureBlock)
        }),
        ("text\n\n- a.example AAAAAAAAAAA=\n", |e| {
            matches!(e, NoteError::MalformedSignatureLine { line: 1, .. })
        }),
        ("text\n\n\u{2014} a+b AAAAAAAAAAA=\n", |e| {
            matches!(e, NoteError::MalformedSignatureLine { .. })
        }),
        ("text\n\n\u{2014} a.example AAAA\n", |e| {
            matches!(e, NoteError::MalformedSignatureLine { .. })
        }),
        ("text\n\n\u{2014} a.example AAAAAAAAAAB=\n", |e| {
            matches!(e, NoteError::MalformedSignatureLine { .. })
        }),
    ];
    for (input, want) in cases {
        let e = Note::parse(input.as_bytes()).unwrap_err();
        assert!(want(&e), "{input:?} gave {e:?}");
    }
    assert_eq!(Note::parse(b"\xff\n\n").unwrap_err(), NoteError::NotUtf8);
    let many: String = "t\n\n".to_string() + &"\u{2014} a.example AAAAAAAAAAA=\n".repeat(101);
    assert_eq!(
        Note::parse(many.as_bytes()).unwrap_err(),
        NoteError::TooManySignatures { count: 101 }
    );
    let hundred: String = "t\n\n".to_string() + &"\u{2014} a.example AAAAAAAAAAA=\n".repeat(100);
    assert!(Note::parse(hundred.as_bytes()).is_ok());
}

#[test]
fn weak_and_mismatched_keys_are_refused() {
    use forewarn_tlog::note::VerifierKey;
    // The identity point: a valid encoding of a small-order key.
    let identity = ed25519_dalek::VerifyingKey::from_bytes(&{
        let mut k = [0u8; 32];
        k[0] = 1;
        k
    })
    .unwrap();
    assert!(matches!(
        VerifierKey::new("weak.example", SignatureType::Ed25519, identity),
        Err(NoteError::MalformedKey { .. })
    ));
    // The same key as vkey text, with a correct key ID, is refused too.
    let good = log_key().verifier().to_text();
    let id = forewarn_tlog::note::KeyId::compute(
        "weak.example",
        SignatureType::Ed25519,
        identity.as_bytes(),
    );
    let weak_text = format!("weak.example+{id}+AQEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert!(
        matches!(
            VerifierKey::parse(&weak_text),
            Err(NoteError::MalformedKey { .. })
        ),
        "{weak_text}"
    );
    assert!(VerifierKey::parse(&good).is_ok());
    // Uppercase key IDs, missing parts and wrong types are refused.
    assert!(VerifierKey::parse(&good.to_uppercase()).is_err());
    assert!(VerifierKey::parse("name+12345678").is_err());
    assert!(VerifierKey::parse(&good.replacen("+A", "+Aw", 1)).is_err());
}

#[test]
fn open_ignores_unknown_keys_and_rejects_bad_known_ones() {
    let k = log_key();
    let other = SignerKey::from_seed("other.example", SignatureType::Ed25519, &[2; 32]).unwrap();
    let mut n = Note::new("hello\n").unwrap();
    n.sign(&other);
    n.sign(&k);
    let opened = note::open(&n.to_bytes(), &[k.verifier()]).unwrap();
    assert_eq!(opened.verified.len(), 1);
    assert_eq!(opened.unverified.len(), 1);
    // Only unknown keys: rejected.
    assert_eq!(
        note::open(&n.to_bytes(), &[]).unwrap_err(),
        OpenError::NoTrustedSignature { unknown: 2 }
    );
    // A known key with a bad signature rejects the whole note.
    let mut forged = Note::new("hello\n").unwrap();
    let mut s = k.sign(b"hello\n");
    s.signature[0] ^= 1;
    forged.push_signature(s);
    forged.sign(&other);
    assert!(matches!(
        note::open(&forged.to_bytes(), &[k.verifier(), other.verifier()]),
        Err(OpenError::BadSignature { .. })
    ));
}

#[test]
fn checkpoints_must_be_signed_by_the_log() {
    let k = log_key();
    let w = witness(1);
    let c = Checkpoint::new("forewarn.example/log", 5, record_hash(b"r")).unwrap();
    let mut n = Note::new(&c.to_text()).unwrap();
    n.push_signature(w.cosign(&c.to_text(), 1_700_000_000));
    // Witness-only note: its cosignature verifies, but the log never signed.
    let e =
        SignedCheckpoint::open(&n.to_bytes(), &k.verifier(), None, &[w.verifier()]).unwrap_err();
    assert!(matches!(
        e,
        CheckpointError::Note(OpenError::NoTrustedSignature { .. })
            | CheckpointError::NotSignedByLog { .. }
    ));
    // A witness key passed as the log key is refused, even though the
    // witness's cosignature on this note is valid.
    let e =
        SignedCheckpoint::open(&n.to_bytes(), &w.verifier(), None, &[k.verifier()]).unwrap_err();
    assert!(
        matches!(e, CheckpointError::LogKeyNotEd25519 { .. }),
        "{e:?}"
    );
    n.sign(&k);
    let s = SignedCheckpoint::open(
        &n.to_bytes(),
        &k.verifier(),
        Some("forewarn.example/log"),
        &[w.verifier()],
    )
    .unwrap();
    assert_eq!(s.opened.verified.len(), 2);
    assert!(matches!(
        SignedCheckpoint::open(&n.to_bytes(), &k.verifier(), Some("elsewhere"), &[]),
        Err(CheckpointError::WrongOrigin { .. })
    ));
    for bad in [
        "o\n007\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "o\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "o\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n",
        "o\n-7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "o\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\next\u{1}\n",
        "o\n18446744073709551616\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
    ] {
        assert!(Checkpoint::parse(bad).is_err(), "accepted {bad:?}");
    }
}

fn cosigned(size: u64, root: Hash, witnesses: &[SignerKey]) -> Vec<u8> {
    let c = Checkpoint::new("forewarn.example/log", size, root).unwrap();
    let mut n = c.sign(&log_key());
    for w in witnesses {
        n.push_signature(w.cosign(&c.to_text(), 1_700_000_000));
    }
    n.to_bytes()
}

fn policy() -> Policy {
    Policy::parse(&format!(
        "# two of three\nlog {}\nwitness A {}\nwitness B {}\nwitness C {}\ngroup two 2 A B C\nquorum two\n",
        log_key().verifier(),
        witness(1).verifier(),
        witness(2).verifier(),
        witness(3).verifier()
    ))
    .unwrap()
}

#[test]
fn policy_quorum_counts_seen_verified_failed() {
    let p = policy();
    let root = record_hash(b"root");
    let v = p
        .check_checkpoint(&cosigned(9, root, &[witness(1), witness(3)]))
        .unwrap();
    assert_eq!(v.witnessed.len(), 2);
    match p
        .check_checkpoint(&cosigned(9, root, &[witness(2)]))
        .unwrap_err()
    {
        PolicyCheckError::QuorumNotMet {
            seen,
            verified,
            failed,
            ..
        } => assert_eq!((seen, verified, failed), (1, 1, 0)),
        e => panic!("{e:?}"),
    }
    // A cosignature over another checkpoint, pasted in, fails.
    let mut n = Note::parse(&cosigned(9, root, &[witness(1)])).unwrap();
    let other = Checkpoint::new("forewarn.example/log", 10, root).unwrap();
    n.push_signature(witness(2).cosign(&other.to_text(), 1_700_000_000));
    match p.check_checkpoint(&n.to_bytes()).unwrap_err() {
        PolicyCheckError::BadCosignature {
            seen,
            verified,
            failed,
            ..
        } => assert_eq!((seen, verified, failed), (2, 1, 1)),
        e => panic!("{e:?}"),
    }
    for bad in [
        "quorum none\nquorum none\n",
        "witness A x\nquorum none\n",
        "group g any\nquorum none\n",
        "quorum nobody\n",
        "log\x01\nquorum none\n",
    ] {
        assert!(Policy::parse(bad).is_err(), "accepted {bad:?}");
    }
}

#[test]
fn tlog_proofs_verify_offline_and_reject_mutations() {
    let (es, t) = entries(1000);
    let index = 613;
    let cp = cosigned(t.size(), t.root(), &[witness(1), witness(2)]);
    let proof = TlogProof {
        extra: Some(b"ctx".to_vec()),
        index,
        inclusion: tree::prove_inclusion(t.size(), index, &t).unwrap(),
        checkpoint: cp,
    };
    let bytes = proof.to_bytes();
    let parsed = TlogProof::parse(&bytes).unwrap();
    let lk = log_key().verifier();
    let v = parsed
        .verify(&es[index as usize], &lk, Some(&policy()))
        .unwrap();
    assert_eq!(
        (v.index, v.checkpoint.size(), v.witnessed.len()),
        (613, 1000, 2)
    );
    parsed.verify(&es[index as usize], &lk, None).unwrap();
    assert!(matches!(
        parsed.verify(&es[614], &lk, None),
        Err(TlogProofError::Inclusion(_))
    ));
    let other =
        SignerKey::from_seed("forewarn.example/log", SignatureType::Ed25519, &[7; 32]).unwrap();
    assert!(matches!(
        parsed.verify(&es[613], &other.verifier(), None),
        Err(TlogProofError::Checkpoint(_))
    ));
    let text = String::from_utf8(bytes).unwrap();
    assert!(TlogProof::parse(text.replacen("index 613", "index 0613", 1).as_bytes()).is_err());
    assert!(
        TlogProof::parse(
            text.replacen("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2", 1)
                .as_bytes()
        )
        .is_err()
    );
    assert!(TlogProof::parse(text.replacen("\n\n", "\n", 1).as_bytes()).is_err());
}

struct Mirror(std::collections::HashMap<String, Vec<u8>>);
impl TileReader for Mirror {
    type Error = String;
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, String> {
        // Like a real mirror: a partial tile may have been replaced by the full one.
        tiles
            .iter()
            .map(|t| {
                let full = Tile { width: 256, ..*t };
                self.0
                    .get(&t.path())
                    .or_else(|| self.0.get(&full.path()))
                    .cloned()
                    .ok_or(t.path())
            })
            .collect()
    }
}

#[test]
fn proofs_computed_from_exported_tiles_match() {
    let (_, t) = entries(70_000);
    let mut files = std::collections::HashMap::new();
    for tile in tiles_for_size(t.size()) {
        files.insert(tile.path(), read_tile_data(tile, &t).unwrap());
    }
    // Grow in steps: new_tiles covers exactly what changed.
    let (_, t2) = entries(70_300);
    let grown = new_tiles(70_000, 70_300);
    let mut all: Vec<Tile> = tiles_for_size(70_300);
    all.retain(|x| !tiles_for_size(70_000).contains(x));
    all.sort();
    let mut g = grown.clone();
    g.sort();
    assert_eq!(g, all);
    let mirror = Mirror(files);
    let r = TileHashReader::new(t.size(), &mirror);
    assert_eq!(tree::tree_hash(t.size(), &r).unwrap(), t.root());
    for (size, index) in [
        (70_000, 0),
        (70_000, 69_999),
        (65_536, 4097),
        (256, 255),
        (257, 256),
    ] {
        let r = TileHashReader::new(size, &mirror);
        assert_eq!(
            tree::prove_inclusion(size, index, &r).unwrap(),
            tree::prove_inclusion(size, index, &t).unwrap()
        );
    }
    for (old, new) in [(1, 70_000), (256, 65_536), (1000, 70_000)] {
        let r = TileHashReader::new(new, &mirror);
        assert_eq!(
            tree::prove_consistency(old, new, &r).unwrap(),
            tree::prove_consistency(old, new, &t).unwrap()
        );
    }
    let _ = t2;
}

/// Records which tiles a TileHashReader asked for.
struct Recorder<'a>(&'a Mirror, std::cell::RefCell<Vec<Tile>>);
impl TileReader for Recorder<'_> {
    type Error = String;
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, String> {
        self.1.borrow_mut().extend_from_slice(tiles);
        self.0.read_tiles(tiles)
    }
}

#[test]
fn tile_plans_name_exactly_the_tiles_a_proof_reads() {
    let (_, t) = entries(70_000);
    let mut files = std::collections::HashMap::new();
    for tile in tiles_for_size(t.size()) {
        files.insert(tile.path(), read_tile_data(tile, &t).unwrap());
    }
    let mirror = Mirror(files);
    let sorted = |mut v: Vec<Tile>| {
        v.sort();
        v.dedup();
        v
    };
    let mut checked = 0;
    for (size, index) in [
        (70_000u64, 0u64),
        (70_000, 69_999),
        (65_536, 4097),
        (300, 7),
        (1, 0),
        (257, 256),
    ] {
        let rec = Recorder(&mirror, Default::default());
        tree::prove_inclusion(size, index, &TileHashReader::new(size, &rec)).unwrap();
        assert_eq!(
            sorted(rec.1.take()),
            sorted(tiles_for_inclusion_proof(size, index)),
            "inclusion {index} in {size}"
        );
        tree::tree_hash(size, &TileHashReader::new(size, &rec)).unwrap();
        assert_eq!(
            sorted(rec.1.take()),
            sorted(tiles_for_tree_hash(size)),
            "tree hash {size}"
        );
        checked += 2;
    }
    for (old, new) in [
        (1u64, 70_000u64),
        (256, 65_536),
        (1000, 70_000),
        (69_999, 70_000),
    ] {
        let rec = Recorder(&mirror, Default::default());
        tree::prove_consistency(old, new, &TileHashReader::new(new, &rec)).unwrap();
        assert_eq!(
            sorted(rec.1.take()),
            sorted(tiles_for_consistency_proof(old, new)),
            "{old} -> {new}"
        );
        checked += 1;
    }
    assert_eq!(checked, 16);
    assert!(tiles_for_inclusion_proof(5, 5).is_empty());
}

#[test]
fn split_view_evidence_is_portable_and_honest() {
    let k = log_key();
    let lk = k.verifier();
    let (_, honest) = entries(100);
    let mut forked = InMemoryTree::new();
    for i in 0..100u64 {
        let e = if i == 37 {
            b"rewritten".to_vec()
        } else {
            format!("entry-{i}").into_bytes()
        };
        forked.append(record_hash(&e));
    }
    let sign = |size: u64, root: Hash| {
        Checkpoint::new("forewarn.example/log", size, root)
            .unwrap()
            .sign(&k)
            .to_bytes()
    };

    // Same size, different roots.
    let (ev, fork) = SplitViewEvidence::new(
        lk.clone(),
        sign(100, honest.root()),
        sign(100, forked.root()),
        vec![],
    )
    .unwrap();
    assert_eq!(fork.conflict, Conflict::SameSizeDifferentRoots);
    let reparsed = SplitViewEvidence::parse(&ev.to_text()).unwrap();
    assert_eq!(reparsed, ev);
    assert_eq!(reparsed.verify().unwrap(), fork);

    // Different sizes: the larger (forked) tree's own hashes show its
    // prefix differs from what the log signed before. Both a power-of-two
    // and a non-power-of-two old size.
    for old in [64u64, 50] {
        let old_cp = sign(old, honest.root_at(old).unwrap());
        let proof = prove_prefix(old, 100, &forked).unwrap();
        let (ev, fork) =
            SplitViewEvidence::new(lk.clone(), old_cp.clone(), sign(100, forked.root()), proof)
                .unwrap();
        assert!(matches!(fork.conflict, Conflict::PrefixMismatch { .. }));
        assert_eq!(
            SplitViewEvidence::parse(&ev.to_text())
                .unwrap()
                .verify()
                .unwrap(),
            fork
        );
        // Consistent checkpoints are not evidence.
        let honest_proof = prove_prefix(old, 100, &honest).unwrap();
        assert_eq!(
            SplitViewEvidence::new(
                lk.clone(),
                old_cp.clone(),
                sign(100, honest.root()),
                honest_proof
            )
            .unwrap_err(),
            EvidenceError::Consistent
        );
        // A made-up proof that does not reproduce the larger root proves nothing.
        let mut junk = prove_prefix(old, 100, &forked).unwrap();
        junk[0] = record_hash(b"junk");
        assert_eq!(
            SplitViewEvidence::new(lk.clone(), old_cp, sign(100, forked.root()), junk).unwrap_err(),
            EvidenceError::ProofNotFromLargerTree
        );
    }
    // Checkpoints not signed by the log key are not evidence against it.
    let impostor =
        SignerKey::from_seed("forewarn.example/log", SignatureType::Ed25519, &[8; 32]).unwrap();
    let fake = Checkpoint::new("forewarn.example/log", 100, forked.root())
        .unwrap()
        .sign(&impostor)
        .to_bytes();
    assert!(matches!(
        SplitViewEvidence::new(lk, sign(100, honest.root()), fake, vec![]),
        Err(EvidenceError::Checkpoint(_))
    ));
}
