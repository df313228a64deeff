//! Attacks on checkpoint trust: a pinned log key vouching for another
//! origin, and a bad signature by a known key hidden next to a good one.
//!
//! * c2sp.org/tlog-checkpoint §Signatures: the log's key name SHOULD match
//!   the origin line; with a pinned key forewarn requires it.
//! * c2sp.org/signed-note §Signatures: a signature by a known key (name and
//!   key ID) that fails to verify rejects the whole note; signatures by
//!   unknown keys are ignored.

use forewarn_tlog::checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint};
use forewarn_tlog::evidence::{EvidenceError, SplitViewEvidence};
use forewarn_tlog::note::{self, Note, NoteSignature, OpenError, SignatureType, SignerKey};
use forewarn_tlog::policy::{Policy, PolicyCheckError};
use forewarn_tlog::proof::{TlogProof, TlogProofError};
use forewarn_tlog::record_hash;
use forewarn_tlog::tree::{self, InMemoryTree};

const ORIGIN: &str = "forewarn.example/log";

fn log_key() -> SignerKey {
    SignerKey::from_seed(ORIGIN, SignatureType::Ed25519, &[1; 32]).unwrap()
}

/// A second key with the log's name: same name, another key ID.
fn rotated_log_key() -> SignerKey {
    SignerKey::from_seed(ORIGIN, SignatureType::Ed25519, &[2; 32]).unwrap()
}

fn witness(i: u8) -> SignerKey {
    SignerKey::from_seed(
        &format!("witness{i}.example"),
        SignatureType::CosignatureV1,
        &[10 + i; 32],
    )
    .unwrap()
}

fn text(origin: &str, size: u64) -> String {
    Checkpoint::new(origin, size, record_hash(b"root"))
        .unwrap()
        .to_text()
}

/// `sig` with its first signature byte flipped: same key name and ID, so
/// it is a signature by the known key that fails to verify.
fn corrupted(mut sig: NoteSignature) -> NoteSignature {
    sig.signature[0] ^= 1;
    sig
}

#[test]
fn a_pinned_log_key_does_not_vouch_for_another_origin() {
    // The log's key signs a checkpoint naming another log (a key shared
    // between logs, or a signing oracle). Its signature verifies.
    let k = log_key();
    let foreign = Checkpoint::new("victim.example/log", 7, record_hash(b"root")).unwrap();
    let bytes = foreign.sign(&k).to_bytes();
    assert!(note::open(&bytes, &[k.verifier()]).is_ok());
    assert_eq!(
        SignedCheckpoint::open(&bytes, &k.verifier(), None, &[]).unwrap_err(),
        CheckpointError::OriginNotKeyName {
            origin: "victim.example/log".into(),
            key_name: ORIGIN.into(),
        }
    );
    // Asking for that origin explicitly does not lift the rule.
    assert_eq!(
        SignedCheckpoint::open(&bytes, &k.verifier(), Some("victim.example/log"), &[]).unwrap_err(),
        CheckpointError::OriginNotKeyName {
            origin: "victim.example/log".into(),
            key_name: ORIGIN.into(),
        }
    );
    // The same key over its own origin opens.
    let own = Checkpoint::new(ORIGIN, 7, record_hash(b"root")).unwrap();
    let s = SignedCheckpoint::open(&own.sign(&k).to_bytes(), &k.verifier(), None, &[]).unwrap();
    assert_eq!(s.checkpoint.origin(), ORIGIN);
    let e = CheckpointError::OriginNotKeyName {
        origin: "victim.example/log".into(),
        key_name: ORIGIN.into(),
    };
    assert_eq!(
        e.to_string(),
        "checkpoint origin \"victim.example/log\" is not the name of the log key \"forewarn.example/log\""
    );
}

#[test]
fn proofs_and_evidence_under_a_pinned_key_need_the_key_name_as_origin() {
    let k = log_key();
    let mut t = InMemoryTree::new();
    for i in 0..5u8 {
        t.append(record_hash(&[i]));
    }
    let foreign = Checkpoint::new("victim.example/log", t.size(), t.root())
        .unwrap()
        .sign(&k)
        .to_bytes();
    let proof = TlogProof {
        extra: None,
        index: 2,
        inclusion: tree::prove_inclusion(t.size(), 2, &t).unwrap(),
        checkpoint: foreign.clone(),
    };
    assert!(matches!(
        proof.verify(&[2], &k.verifier(), None),
        Err(TlogProofError::Checkpoint(
            CheckpointError::OriginNotKeyName { .. }
        ))
    ));
    let other = Checkpoint::new("victim.example/log", t.size(), record_hash(b"fork"))
        .unwrap()
        .sign(&k)
        .to_bytes();
    let evidence = SplitViewEvidence {
        log_key: k.verifier(),
        first: foreign,
        second: other,
        prefix_proof: Vec::new(),
    };
    assert!(matches!(
        evidence.verify(),
        Err(EvidenceError::Checkpoint(
            CheckpointError::OriginNotKeyName { .. }
        ))
    ));
}

#[test]
fn open_refuses_a_bad_log_signature_next_to_a_good_one() {
    // SignedCheckpoint::open already follows signed-note: a line by the
    // pinned key that fails is fatal, whatever else verifies.
    let k = log_key();
    let t = text(ORIGIN, 3);
    let mut n = Note::new(&t).unwrap();
    n.push_signature(corrupted(k.sign(t.as_bytes())));
    n.sign(&k);
    assert!(matches!(
        SignedCheckpoint::open(&n.to_bytes(), &k.verifier(), None, &[]),
        Err(CheckpointError::Note(OpenError::BadSignature { .. }))
    ));
}

fn policy() -> Policy {
    Policy::parse(&format!(
        "log {}\nlog {}\nwitness A {}\nwitness B {}\ngroup g any A B\nquorum g\n",
        log_key().verifier(),
        rotated_log_key().verifier(),
        witness(1).verifier(),
        witness(2).verifier(),
    ))
    .unwrap()
}

/// A checkpoint signed by the log and cosigned by witness A: passes.
fn good_note() -> Note {
    let t = text(ORIGIN, 9);
    let mut n = Note::new(&t).unwrap();
    n.sign(&log_key());
    n.push_signature(witness(1).cosign(&t, 1_700_000_000));
    n
}

#[test]
fn policy_refuses_a_bad_signature_by_a_policy_log_even_if_another_verifies() {
    let p = policy();
    assert!(p.check_checkpoint(&good_note().to_bytes()).is_ok());
    let t = text(ORIGIN, 9);
    // A forged line by the log's other policy key, after the good one.
    let mut n = good_note();
    n.push_signature(corrupted(rotated_log_key().sign(t.as_bytes())));
    assert_eq!(
        p.check_checkpoint(&n.to_bytes()).unwrap_err(),
        PolicyCheckError::BadLogSignature {
            log: ORIGIN.into(),
            key_id: rotated_log_key().key_id(),
        }
    );
    // A forged line by the very key that signed, before the good one.
    let mut n = Note::new(&t).unwrap();
    n.push_signature(corrupted(log_key().sign(t.as_bytes())));
    n.sign(&log_key());
    n.push_signature(witness(1).cosign(&t, 1_700_000_000));
    let e = p.check_checkpoint(&n.to_bytes()).unwrap_err();
    assert_eq!(
        e,
        PolicyCheckError::BadLogSignature {
            log: ORIGIN.into(),
            key_id: log_key().key_id(),
        }
    );
    assert!(e.to_string().contains(ORIGIN), "{e}");
}

#[test]
fn policy_refuses_a_bad_cosignature_by_a_known_witness_even_if_the_quorum_is_met() {
    let p = policy();
    let t = text(ORIGIN, 9);
    // Witness A's cosignature verifies and meets the quorum; B's is bad.
    let mut n = good_note();
    n.push_signature(corrupted(witness(2).cosign(&t, 1_700_000_000)));
    match p.check_checkpoint(&n.to_bytes()).unwrap_err() {
        PolicyCheckError::BadCosignature {
            witness,
            seen,
            verified,
            failed,
        } => assert_eq!((witness.as_str(), seen, verified, failed), ("B", 2, 1, 1)),
        e => panic!("{e:?}"),
    }
}

#[test]
fn policy_ignores_bad_signatures_by_unknown_keys() {
    let p = policy();
    let t = text(ORIGIN, 9);
    let stranger =
        SignerKey::from_seed("stranger.example", SignatureType::Ed25519, &[3; 32]).unwrap();
    let unknown_witness =
        SignerKey::from_seed("witness9.example", SignatureType::CosignatureV1, &[99; 32]).unwrap();
    // Not in the policy: the log's name with a third key (another ID), a
    // stranger, and an unlisted witness. All bad, all ignored.
    let impostor = SignerKey::from_seed(ORIGIN, SignatureType::Ed25519, &[4; 32]).unwrap();
    let mut n = good_note();
    n.push_signature(corrupted(impostor.sign(t.as_bytes())));
    n.push_signature(corrupted(stranger.sign(t.as_bytes())));
    n.push_signature(corrupted(unknown_witness.cosign(&t, 1_700_000_000)));
    let v = p.check_checkpoint(&n.to_bytes()).unwrap();
    assert_eq!(v.log, log_key().verifier());
    assert_eq!(v.witnessed, vec![("A".to_string(), 1_700_000_000)]);
}

#[test]
fn policy_log_signature_must_be_by_the_key_named_by_the_origin() {
    // A policy log's valid signature over a checkpoint naming another
    // origin does not make that checkpoint the other log's.
    let other =
        SignerKey::from_seed("other.example/log", SignatureType::Ed25519, &[5; 32]).unwrap();
    let p = Policy::parse(&format!(
        "log {}\nlog {}\nquorum none\n",
        log_key().verifier(),
        other.verifier()
    ))
    .unwrap();
    let t = text("other.example/log", 4);
    let mut n = Note::new(&t).unwrap();
    n.sign(&log_key());
    assert!(matches!(
        p.check_checkpoint(&n.to_bytes()),
        Err(PolicyCheckError::Log(
            CheckpointError::NotSignedByLog { .. }
        ))
    ));
    n.sign(&other);
    assert_eq!(
        p.check_checkpoint(&n.to_bytes()).unwrap().log,
        other.verifier()
    );
}
