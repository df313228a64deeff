//! The auditor's checkpoint check under a pinned log key: the checkpoint's
//! origin must be the key's name (c2sp.org/tlog-checkpoint §Signatures says
//! SHOULD; forewarn requires it), so the log's key cannot vouch for a tree
//! head of another log that happens to have the same records.

use forewarn_ledger::finding::IntegrityKind;
use forewarn_ledger::{AuditConfig, Auditor};
use forewarn_tlog::checkpoint::Checkpoint;
use forewarn_tlog::note::{SignatureType, SignerKey};

#[test]
fn a_checkpoint_for_another_origin_is_refused_even_with_the_right_root() {
    let key = SignerKey::from_seed("example.org/ledger", SignatureType::Ed25519, &[1; 32]).unwrap();
    let a = Auditor::new(AuditConfig::default());
    let sign = |origin: &str| {
        Checkpoint::new(origin, a.size(), a.root())
            .unwrap()
            .sign(&key)
            .to_bytes()
    };
    // Same size, same root, signed by the pinned key, another origin.
    let f = a
        .clone()
        .verify_checkpoint(&sign("example.org/other"), &key.verifier(), None)
        .unwrap_err();
    assert!(
        matches!(&f.kind, IntegrityKind::CheckpointSignature { detail }
            if detail.contains("\"example.org/other\" is not the name of the log key")),
        "{f}"
    );
    // The key's own origin passes.
    let t = a
        .clone()
        .verify_checkpoint(&sign("example.org/ledger"), &key.verifier(), None)
        .unwrap();
    assert_eq!(t.size, 0);
}
