use super::*;
use crate::hash::record_hash;

fn leaf(i: u64) -> Hash {
    record_hash(&i.to_be_bytes())
}

/// RFC 9162 §2.1.1 MTH by direct recursion, the reference.
fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => EMPTY_ROOT,
        1 => leaves[0],
        n => {
            let k = split_point(n as u64) as usize;
            node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

#[test]
fn stored_index_round_trips() {
    for index in 0..5000u64 {
        let (level, n) = split_stored_hash_index(index).unwrap();
        assert_eq!(stored_hash_index(level, n), index, "index {index}");
    }
    // Near the top of the supported range, too.
    let top = stored_hash_count(MAX_TREE_SIZE);
    for index in top - 200..top {
        let (level, n) = split_stored_hash_index(index).unwrap();
        assert_eq!(stored_hash_index(level, n), index, "index {index}");
    }
    assert_eq!(split_stored_hash_index(top), None);
    assert_eq!(split_stored_hash_index(u64::MAX), None);
    assert_eq!(stored_hash_count(1), 1);
    assert_eq!(stored_hash_count(2), 3);
    assert_eq!(stored_hash_count(4), 7);
}

#[test]
fn roots_match_direct_recursion() {
    let mut tree = InMemoryTree::new();
    let mut leaves = Vec::new();
    assert_eq!(tree.root(), EMPTY_ROOT);
    for i in 0..140 {
        leaves.push(leaf(i));
        tree.append(leaf(i));
        assert_eq!(tree.stored_hashes().len() as u64, stored_hash_count(i + 1));
        for size in 0..=i + 1 {
            assert_eq!(tree.root_at(size).unwrap(), mth(&leaves[..size as usize]));
        }
    }
}

#[test]
fn every_inclusion_and_consistency_proof_verifies() {
    let mut tree = InMemoryTree::new();
    for i in 0..70 {
        tree.append(leaf(i));
    }
    for size in 1..=70 {
        let root = tree.root_at(size).unwrap();
        for index in 0..size {
            let p = prove_inclusion(size, index, &tree).unwrap();
            verify_inclusion(size, index, &leaf(index), &p, &root).unwrap();
        }
        for old in 0..=size {
            let p = prove_consistency(old, size, &tree).unwrap();
            let old_root = tree.root_at(old).unwrap();
            verify_consistency(old, size, &old_root, &root, &p).unwrap();
        }
    }
}

#[test]
fn rfc_9162_tree_of_seven_proof_shapes() {
    // RFC 9162 §2.1.5: in the 7-leaf example tree, the inclusion proof
    // for d0 is [b, h, l] and the consistency proof 3 → 7 is [c, d, g, l].
    let leaves: Vec<Hash> = (0..7).map(leaf).collect();
    let mut tree = InMemoryTree::new();
    for l in &leaves {
        tree.append(*l);
    }
    let b = leaves[1];
    let h = mth(&leaves[2..4]);
    let l = mth(&leaves[4..7]);
    assert_eq!(prove_inclusion(7, 0, &tree).unwrap(), alloc::vec![b, h, l]);
    let c = leaves[2];
    let d = leaves[3];
    let g = mth(&leaves[0..2]);
    assert_eq!(
        prove_consistency(3, 7, &tree).unwrap(),
        alloc::vec![c, d, g, l]
    );
    // 4 → 7 is [l]; 6 → 7 is [i, j, k] with i = MTH(d4,d5), j = d6, k = MTH(d0..d3).
    assert_eq!(prove_consistency(4, 7, &tree).unwrap(), alloc::vec![l]);
    let i = mth(&leaves[4..6]);
    let k = mth(&leaves[0..4]);
    assert_eq!(
        prove_consistency(6, 7, &tree).unwrap(),
        alloc::vec![i, leaves[6], k]
    );
}

#[test]
fn out_of_range_requests_are_errors_not_panics() {
    let mut tree = InMemoryTree::new();
    tree.append(leaf(0));
    assert!(matches!(
        prove_inclusion(1, 1, &tree),
        Err(ProveError::OutOfRange { .. })
    ));
    assert!(matches!(
        prove_consistency(2, 1, &tree),
        Err(ProveError::OutOfRange { .. })
    ));
    // Asking for a tree larger than what is stored is a short read.
    assert!(matches!(
        tree_hash(5, &tree),
        Err(ProveError::ShortRead { .. })
    ));
    assert_eq!(
        root_from_inclusion(0, 0, &leaf(0), &[]),
        Err(ProofError::IndexOutOfRange { index: 0, size: 0 })
    );
    // Sizes a checkpoint may claim but storage cannot address.
    for size in [MAX_TREE_SIZE + 1, u64::MAX] {
        assert!(matches!(
            prove_inclusion(size, 3, &tree),
            Err(ProveError::OutOfRange { .. })
        ));
        assert!(matches!(
            prove_consistency(1, size, &tree),
            Err(ProveError::OutOfRange { .. })
        ));
        assert!(matches!(
            tree_hash(size, &tree),
            Err(ProveError::OutOfRange { .. })
        ));
        // Verification needs no storage and handles every size.
        assert!(root_from_inclusion(size, size - 1, &leaf(0), &[leaf(1); 3]).is_err());
        assert!(root_from_consistency(size - 1, size, &leaf(0), &[leaf(1); 5]).is_err());
    }
    // Regression: inner = 64 (index XOR (size-1) has its top bit set)
    // once overflowed a shift; the proof length is 64 hashes.
    let (size, index) = (u64::MAX, 0);
    assert_eq!(
        root_from_inclusion(size, index, &leaf(0), &[]),
        Err(ProofError::WrongLength { got: 0, want: 64 })
    );
    assert!(root_from_inclusion(size, index, &leaf(0), &[leaf(1); 64]).is_ok());
}
