//! Known-answer tests from the specifications and from production logs,
//! byte for byte. Provenance of every vector is in testdata/*/PROVENANCE.md.

mod common;

use std::fs;

use common::{hash_hex, hex, testdata};
use forewarn_tlog::checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint};
use forewarn_tlog::compact::CompactRange;
use forewarn_tlog::cosignature::{self, Cosignature};
use forewarn_tlog::note::{self, KeyId, Note, SignatureType, SignerKey, VerifierKey};
use forewarn_tlog::tile::{Tile, tiles_for_size};
use forewarn_tlog::tree::{
    InMemoryTree, prove_consistency, prove_inclusion, verify_consistency, verify_inclusion,
};
use forewarn_tlog::{EMPTY_ROOT, record_hash};

#[test]
fn rfc6962_reference_tree_roots_nodes_and_compact_ranges() {
    let text = fs::read_to_string(testdata("merkle/reference.txt")).unwrap();
    let mut leaves = Vec::new();
    let mut nodes = Vec::new();
    let mut roots = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.splitn(4, ' ').collect();
        match f[0] {
            "leaf" => leaves.push(hex(f[1])),
            "node" => nodes.push((
                f[1].parse::<u8>().unwrap(),
                f[2].parse::<u64>().unwrap(),
                hash_hex(f[3]),
            )),
            "root" => roots.push((f[1].parse::<u64>().unwrap(), hash_hex(f[2]))),
            other => panic!("unknown line kind {other}"),
        }
    }
    assert_eq!(
        (leaves.len(), nodes.len(), roots.len()),
        (8, 15, 9),
        "vector file incomplete"
    );

    let mut tree = InMemoryTree::new();
    let mut range = CompactRange::new();
    assert_eq!(tree.root(), roots[0].1);
    assert_eq!(EMPTY_ROOT, roots[0].1);
    for (i, leaf) in leaves.iter().enumerate() {
        tree.append(record_hash(leaf));
        range.push(record_hash(leaf));
        let (size, want) = roots[i + 1];
        assert_eq!(tree.root(), want, "root at size {size}");
        assert_eq!(range.root(), want, "compact root at size {size}");
    }
    // Every complete subtree hash sits where the stored-hash layout says.
    for (level, index, want) in &nodes {
        let at = forewarn_tlog::tree::stored_hash_index(*level, *index) as usize;
        assert_eq!(tree.stored_hashes()[at], *want, "node {level}/{index}");
    }
    // Proofs assembled from the reference node hashes (RFC 9162 §2.1.3/2.1.4).
    let node = |l: u8, i: u64| nodes.iter().find(|n| n.0 == l && n.1 == i).unwrap().2;
    assert_eq!(
        prove_inclusion(8, 0, &tree).unwrap(),
        vec![node(0, 1), node(1, 1), node(2, 1)]
    );
    assert_eq!(
        prove_inclusion(8, 5, &tree).unwrap(),
        vec![node(0, 4), node(1, 3), node(2, 0)]
    );
    assert_eq!(prove_consistency(4, 8, &tree).unwrap(), vec![node(2, 1)]);
    assert_eq!(
        prove_consistency(2, 8, &tree).unwrap(),
        vec![node(1, 1), node(2, 1)]
    );
    assert_eq!(
        prove_consistency(6, 8, &tree).unwrap(),
        vec![node(1, 2), node(1, 3), node(2, 0)]
    );
    verify_inclusion(
        8,
        5,
        &node(0, 5),
        &prove_inclusion(8, 5, &tree).unwrap(),
        &roots[8].1,
    )
    .unwrap();
    verify_consistency(
        3,
        7,
        &roots[3].1,
        &roots[7].1,
        &prove_consistency(3, 7, &tree).unwrap(),
    )
    .unwrap();
}

#[test]
fn go_tlog_format_tree_golden() {
    // golang.org/x/mod sumdb/tlog/note_test.go, TestFormatTree (commit 774e7788).
    let h = record_hash(b"hello world");
    let c = Checkpoint::new("go.sum database tree", 123456789012, h).unwrap();
    assert_eq!(
        c.to_text(),
        "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n"
    );
    // TestParseTree's bad trees.
    assert!(
        Checkpoint::parse(
            "go.sum database tree\n0xabcdef\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n"
        )
        .is_err()
    );
    assert!(
        Checkpoint::parse(
            "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBTOOBIG=\n"
        )
        .is_err()
    );
}

#[test]
fn signed_note_vectors_verify_and_round_trip() {
    let mut checked = 0;
    let mut names: Vec<_> = fs::read_dir(testdata("notes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "note"))
        .collect();
    names.sort();
    for path in names {
        let bytes = fs::read(&path).unwrap();
        let keys_text = fs::read_to_string(path.with_extension("vkeys")).unwrap();
        let keys: Vec<VerifierKey> = keys_text
            .lines()
            .map(|l| VerifierKey::parse(l).unwrap())
            .collect();
        for k in &keys_text.lines().collect::<Vec<_>>() {
            assert_eq!(
                VerifierKey::parse(k).unwrap().to_text(),
                *k,
                "vkey round trip"
            );
        }
        let opened =
            note::open(&bytes, &keys).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(opened.verified.len(), keys.len(), "{}", path.display());
        assert!(opened.unverified.is_empty());
        assert_eq!(
            Note::parse(&bytes).unwrap().to_bytes(),
            bytes,
            "round trip {}",
            path.display()
        );
        // One flipped bit in the text must fail.
        let mut bad = bytes.clone();
        bad[0] ^= 1;
        assert!(note::open(&bad, &keys).is_err());
        checked += 1;
    }
    assert_eq!(checked, 4, "expected four signed-note vectors");
}

#[test]
fn c2sp_example_key_id_and_sumdb_key() {
    let k =
        VerifierKey::parse("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
            .unwrap();
    assert_eq!(k.key_id(), KeyId([0x53, 0x0d, 0x90, 0x3a]));
    assert_eq!(
        k.public_key().as_bytes().to_vec(),
        hex("e932791ae6e7a840a46164c904786426d5e7821dd8b29a00d61cae72afdd4da4")
    );
    let sumdb =
        VerifierKey::parse("sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8")
            .unwrap();
    assert_eq!(sumdb.name(), "sum.golang.org");
    assert_eq!(sumdb.key_id().to_string(), "033de0ae");
    // A wrong key ID is rejected, not silently corrected.
    assert!(
        VerifierKey::parse("sum.golang.org+033de0af+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8")
            .is_err()
    );
    // Checkpoints of the production log verify with its key. Its origin is
    // not its key name, so they open as notes, and SignedCheckpoint::open,
    // which requires origin == key name for a pinned key, refuses them.
    let bytes = fs::read(testdata("notes/sumdb-15368405.note")).unwrap();
    let opened = note::open(&bytes, std::slice::from_ref(&sumdb)).unwrap();
    let c = Checkpoint::parse(&opened.text).unwrap();
    assert_eq!((c.origin(), c.size()), ("go.sum database tree", 15368405));
    assert_eq!(
        SignedCheckpoint::open(&bytes, &sumdb, Some("go.sum database tree"), &[]).unwrap_err(),
        CheckpointError::OriginNotKeyName {
            origin: "go.sum database tree".into(),
            key_name: "sum.golang.org".into(),
        }
    );
}

#[test]
fn go_private_key_reproduces_peters_signature_byte_for_byte() {
    let skey = SignerKey::parse(
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
    )
    .unwrap();
    assert_eq!(
        skey.to_text().as_str(),
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
    );
    assert_eq!(
        skey.verifier().to_text(),
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    );
    let mut n = Note::new("If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n").unwrap();
    n.sign(&skey);
    let want = fs::read(testdata("notes/go-note-peter-enoch.note")).unwrap();
    let got = n.to_bytes();
    // Peter's line is the first signature line of the vector.
    assert!(
        want.starts_with(&got),
        "signature differs from Go's:\n{}",
        String::from_utf8_lossy(&got)
    );
    assert!(
        !format!("{skey:?}").contains("AYEKFALV"),
        "Debug must not show the secret"
    );
}

#[test]
fn c2sp_checkpoint_and_cosignature_examples() {
    let bytes = fs::read(testdata("notes/c2sp-cosignature-example.unverifiable")).unwrap();
    let n = Note::parse(&bytes).unwrap();
    assert_eq!(n.to_bytes(), bytes);
    let c = Checkpoint::parse(n.text()).unwrap();
    assert_eq!(c.origin(), "example.com/behind-the-sofa");
    assert_eq!(c.size(), 20852163);
    assert_eq!(
        c.root().to_base64(),
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
    );
    assert_eq!(c.to_text(), n.text());
    let w = &n.signatures()[1];
    assert_eq!(w.name, "witness.example.com/w1");
    let cos = Cosignature::from_note_signature(w).unwrap();
    assert_eq!(cos.key_id.to_string(), "8d66cf3f");
    assert_eq!(cos.time, 1679315147);
    let mut payload = cos.key_id.0.to_vec();
    payload.extend_from_slice(&w.signature);
    assert_eq!(cos.to_payload().to_vec(), payload);
    assert_eq!(payload.len(), 76);
    // tlog-cosignature §Ed25519 signed message, quoted.
    assert_eq!(
        cosignature::message(n.text(), cos.time),
        "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    );
}

#[test]
fn cosignature_key_ids_use_type_0x04() {
    let seed = [7u8; 32];
    let w = SignerKey::from_seed("witness.example/w", SignatureType::CosignatureV1, &seed).unwrap();
    let e = SignerKey::from_seed("witness.example/w", SignatureType::Ed25519, &seed).unwrap();
    assert_ne!(w.key_id(), e.key_id());
    let mut pre = b"witness.example/w\n\x04".to_vec();
    pre.extend_from_slice(w.verifier().public_key().as_bytes());
    let h = forewarn_tlog::hash::sha256(&pre);
    assert_eq!(w.key_id().0, [h[0], h[1], h[2], h[3]]);
    assert!(
        w.verifier()
            .to_text()
            .split('+')
            .nth(2)
            .unwrap()
            .starts_with("B")
    ); // 0x04 in base64
}

#[test]
fn tlog_tiles_spec_examples() {
    assert_eq!(Tile::hashes(0, 1234067, 256).path(), "tile/0/x001/x234/067");
    assert_eq!(
        Tile::parse_path("tile/0/x001/x234/067").unwrap(),
        Tile::hashes(0, 1234067, 256)
    );
    // Size 70,000: 273 full + partial(112) at level 0, full + partial(17)
    // at level 1, partial(1) at level 2.
    let tiles = tiles_for_size(70_000);
    let at = |l: u8| {
        tiles
            .iter()
            .filter(move |t| t.kind == forewarn_tlog::tile::TileKind::Hashes { level: l })
    };
    assert_eq!(at(0).filter(|t| !t.is_partial()).count(), 273);
    assert_eq!(
        at(0)
            .filter(|t| t.is_partial())
            .map(|t| t.width)
            .collect::<Vec<_>>(),
        vec![112]
    );
    assert_eq!(at(1).map(|t| t.width).collect::<Vec<_>>(), vec![256, 17]);
    assert_eq!(at(2).map(|t| t.width).collect::<Vec<_>>(), vec![1]);
    // Size 256: one full level-0 tile and a partial level-1 tile of width 1.
    assert_eq!(
        tiles_for_size(256),
        vec![Tile::hashes(0, 0, 256), Tile::hashes(1, 0, 1)]
    );
}
