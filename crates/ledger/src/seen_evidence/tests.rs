//! Seen-root evidence: a real fork verifies; forged evidence about an
//! honest claim, and every tampered field, are refused.

use alloc::vec;

use ed25519_dalek::SigningKey;
use forewarn_tlog::note::{SignatureType, SignerKey};
use forewarn_tlog::record_hash;
use forewarn_tlog::tree::InMemoryTree;

use super::*;
use crate::Event;
use crate::statement::SeenCheckpoint;
use crate::testkit::{ORIGIN, Scenario, test_key};
use crate::types::{PartyClass, PublicKey};

fn log_key() -> SignerKey {
    SignerKey::from_seed(ORIGIN, SignatureType::Ed25519, &[9; 32]).unwrap()
}

fn signed_checkpoint(key: &SignerKey, size: u64, root: Hash) -> Vec<u8> {
    Checkpoint::new(key.name(), size, root)
        .unwrap()
        .sign(key)
        .to_bytes()
}

/// A registration by `signer` claiming to have seen `seen`.
fn claim_statement(log: &Scenario, signer: &SigningKey, seen: Option<SeenCheckpoint>) -> Statement {
    let pk = PublicKey(signer.verifying_key().to_bytes());
    let mut st = log.statement(
        Event::PartyRegistered {
            name: "Signer".into(),
            class: PartyClass::Vendor,
            key: pk,
        },
        signer,
    );
    st.seen = seen;
    st
}

/// An honest log of 9 records whose record 6 is `statement` (signed by
/// `signer`), its tree, and the record's bytes.
fn honest_log(statement: &Statement, signer: &SigningKey) -> (Scenario, InMemoryTree, Vec<u8>) {
    let mut log = Scenario::default();
    for i in 0..6 {
        log.party(&alloc::format!("party {i}"), PartyClass::Vendor);
    }
    let at = log.now + 1_000;
    log.append_statement(signer, statement, at);
    for i in 6..8 {
        log.party(&alloc::format!("party {i}"), PartyClass::Vendor);
    }
    let mut tree = InMemoryTree::new();
    for i in 0..log.size() {
        tree.append(log.leaf(crate::RecordRef(i)));
    }
    let record = log.records()[6].clone();
    (log, tree, record)
}

/// The leaves of the honest log before the statement (fixed, so the
/// fork can be built before the statement that cites it).
fn prefix_leaves() -> Vec<Hash> {
    let mut log = Scenario::default();
    for i in 0..6 {
        log.party(&alloc::format!("party {i}"), PartyClass::Vendor);
    }
    (0..6).map(|i| log.leaf(crate::RecordRef(i))).collect()
}

/// The fork the signer was shown: the honest log's first `shared` leaves,
/// then other records, `m` leaves in all. Its root at `m`.
fn fork_root(shared: u64, m: u64) -> Hash {
    let honest = prefix_leaves();
    let mut fork = InMemoryTree::new();
    for i in 0..m {
        if i < shared {
            fork.append(honest[i as usize]);
        } else {
            fork.append(record_hash(&i.to_le_bytes()));
        }
    }
    assert_ne!(shared, m, "a fork differs somewhere");
    fork.root()
}

/// Evidence that the signer saw a fork at size `m` sharing `shared` leaves
/// with the honest log, and the honest log's root at `m`.
fn fork_evidence(shared: u64, m: u64) -> (SeenRootEvidence, Verdict, Hash) {
    let key = log_key();
    let signer = test_key("Signer");
    let claimed = fork_root(shared, m);
    let log0 = Scenario::default();
    let st = claim_statement(
        &log0,
        &signer,
        Some(SeenCheckpoint {
            size: m,
            root: claimed,
        }),
    );
    let (log, tree, record) = honest_log(&st, &signer);
    let cp = signed_checkpoint(&key, 9, tree.root());
    let (e, v) = SeenRootEvidence::prove(record, cp, &key.verifier(), &tree).unwrap();
    assert_eq!(v.claimed_root, claimed);
    (e, v, log.root_at(m))
}

#[test]
fn a_fork_shown_to_the_signer_verifies() {
    let (e, v, honest) = fork_evidence(3, 5);
    assert_eq!(e.verify(&log_key().verifier()), Ok(v.clone()));
    assert_eq!(v.index, 6);
    assert_eq!(v.seen_size, 5);
    assert_eq!(v.log_root, honest);
    assert_ne!(v.log_root, v.claimed_root);
    assert_eq!(v.checkpoint.size(), 9);
    assert_eq!(v.checkpoint.origin(), ORIGIN);
    assert_eq!(
        v.statement.signer.0,
        test_key("Signer").verifying_key().to_bytes()
    );
}

#[test]
fn every_claimed_size_up_to_the_record_verifies() {
    // Powers of two (where the prefix proof's first hash is explicit) and
    // not, forks from the first leaf on and from later.
    for (shared, m) in [
        (0, 1),
        (1, 2),
        (0, 2),
        (2, 4),
        (3, 4),
        (0, 6),
        (5, 6),
        (4, 5),
    ] {
        let (e, v, honest) = fork_evidence(shared, m);
        assert_eq!(v.log_root, honest, "m = {m}");
        let text = e.to_text();
        let back = SeenRootEvidence::parse(&text).unwrap();
        assert_eq!(back.verify(&log_key().verifier()), Ok(v), "m = {m}");
    }
}

#[test]
fn a_claimed_empty_tree_with_another_root_verifies() {
    let key = log_key();
    let signer = test_key("Signer");
    let bogus = record_hash(b"not the empty tree");
    let st = claim_statement(
        &Scenario::default(),
        &signer,
        Some(SeenCheckpoint {
            size: 0,
            root: bogus,
        }),
    );
    let (_, tree, record) = honest_log(&st, &signer);
    let cp = signed_checkpoint(&key, 9, tree.root());
    let (e, v) = SeenRootEvidence::prove(record, cp, &key.verifier(), &tree).unwrap();
    assert!(e.prefix.is_empty());
    assert_eq!(v.log_root, EMPTY_ROOT);
    // A prefix proof where none is due is refused.
    let mut extra = e.clone();
    extra.prefix.push(bogus);
    assert!(matches!(
        extra.verify(&key.verifier()),
        Err(Error::Prefix(_))
    ));
}

/// An honest claim: the signer saw the log's own root.
fn honest_claim() -> (SeenRootEvidence, InMemoryTree) {
    let key = log_key();
    let signer = test_key("Signer");
    let honest = {
        let mut t = InMemoryTree::new();
        for h in prefix_leaves().iter().take(5) {
            t.append(*h);
        }
        t.root()
    };
    let st = claim_statement(
        &Scenario::default(),
        &signer,
        Some(SeenCheckpoint {
            size: 5,
            root: honest,
        }),
    );
    let (_, tree, record) = honest_log(&st, &signer);
    let cp = signed_checkpoint(&key, 9, tree.root());
    let e = SeenRootEvidence {
        inclusion: prove_inclusion(9, 6, &tree).unwrap(),
        prefix: prove_prefix(5, 9, &tree).unwrap(),
        record,
        checkpoint: cp,
    };
    (e, tree)
}

#[test]
fn evidence_about_an_honest_claim_is_refused() {
    let key = log_key();
    let (e, tree) = honest_claim();
    assert_eq!(
        e.verify(&key.verifier()),
        Err(Error::RootsAgree { size: 5 })
    );
    let proved = SeenRootEvidence::prove(
        e.record.clone(),
        e.checkpoint.clone(),
        &key.verifier(),
        &tree,
    );
    assert_eq!(proved.map(|_| ()), Err(Error::RootsAgree { size: 5 }));
}

#[test]
fn a_forged_prefix_proof_for_an_honest_claim_is_refused() {
    let key = log_key();
    let (e, _) = honest_claim();
    // The forger proves the prefix out of a tree of its own making: it
    // implies another root at size 5, but not the signed root at size 9.
    let mut forged_tree = InMemoryTree::new();
    for i in 0..9u64 {
        forged_tree.append(record_hash(&i.to_le_bytes()));
    }
    let mut forged = e.clone();
    forged.prefix = prove_prefix(5, 9, &forged_tree).unwrap();
    assert_eq!(
        forged.verify(&key.verifier()),
        Err(Error::ProofNotFromCheckpoint)
    );
    // Nor does a checkpoint the forger signed itself help.
    let forger = SignerKey::from_seed(ORIGIN, SignatureType::Ed25519, &[10; 32]).unwrap();
    let mut resigned = forged.clone();
    resigned.checkpoint = signed_checkpoint(&forger, 9, forged_tree.root());
    assert!(matches!(
        resigned.verify(&key.verifier()),
        Err(Error::Checkpoint(_))
    ));
    // And under the forger's key the record is not in its tree.
    assert!(matches!(
        resigned.verify(&forger.verifier()),
        Err(Error::NotIncluded(_))
    ));
}

#[test]
fn every_tampered_byte_or_hash_is_refused() {
    let key = log_key().verifier();
    let (e, _, _) = fork_evidence(3, 5);
    for i in 0..e.record.len() {
        let mut t = e.clone();
        t.record[i] ^= 1;
        assert!(t.verify(&key).is_err(), "record byte {i}");
    }
    for i in 0..e.checkpoint.len() {
        let mut t = e.clone();
        t.checkpoint[i] ^= 1;
        assert!(
            matches!(t.verify(&key), Err(Error::Checkpoint(_))),
            "checkpoint byte {i}"
        );
    }
    for i in 0..e.inclusion.len() {
        let mut t = e.clone();
        t.inclusion[i].0[0] ^= 1;
        assert!(
            matches!(t.verify(&key), Err(Error::NotIncluded(_))),
            "inclusion {i}"
        );
    }
    for i in 0..e.prefix.len() {
        let mut t = e.clone();
        t.prefix[i].0[31] ^= 0x80;
        assert!(t.verify(&key).is_err(), "prefix {i}");
    }
    // Hashes dropped or added.
    let mut t = e.clone();
    t.inclusion.pop();
    assert!(matches!(t.verify(&key), Err(Error::NotIncluded(_))));
    let mut t = e.clone();
    t.prefix.pop();
    assert!(matches!(t.verify(&key), Err(Error::Prefix(_))));
    let mut t = e.clone();
    t.prefix.push(EMPTY_ROOT);
    assert!(matches!(t.verify(&key), Err(Error::Prefix(_))));
    let mut t = e.clone();
    t.prefix = vec![EMPTY_ROOT; MAX_PROOF_HASHES + 1];
    assert!(matches!(t.verify(&key), Err(Error::TooLarge { .. })));
    // Another log's key.
    let other =
        SignerKey::from_seed("example.org/other", SignatureType::Ed25519, &[9; 32]).unwrap();
    assert!(matches!(
        e.verify(&other.verifier()),
        Err(Error::Checkpoint(_))
    ));
    // The untampered evidence still verifies.
    assert!(e.verify(&key).is_ok());
}

/// A log whose record 6 is `statement` with `signature`, and evidence for
/// it built from the log's own proofs.
fn logged(statement: &Statement, signature: [u8; 64]) -> Result<Verdict, Error> {
    let key = log_key();
    let mut log = Scenario::default();
    for i in 0..6 {
        log.party(&alloc::format!("party {i}"), PartyClass::Vendor);
    }
    let at = log.now + 1_000;
    log.append_raw(statement.to_bytes().unwrap(), signature, at);
    log.party("party 6", PartyClass::Vendor);
    let mut tree = InMemoryTree::new();
    for i in 0..log.size() {
        tree.append(log.leaf(crate::RecordRef(i)));
    }
    let e = SeenRootEvidence {
        record: log.records()[6].clone(),
        checkpoint: signed_checkpoint(&key, 8, tree.root()),
        inclusion: prove_inclusion(8, 6, &tree).unwrap(),
        prefix: prove_prefix(5, 8, &tree).unwrap(),
    };
    e.verify(&key.verifier())
}

#[test]
fn a_logged_claim_must_be_signed_for_this_log_and_name_a_seen_tree() {
    let signer = test_key("Signer");
    let seen = Some(SeenCheckpoint {
        size: 5,
        root: fork_root(3, 5),
    });
    let st = claim_statement(&Scenario::default(), &signer, seen);
    let good = st.sign(&signer).unwrap().signature;
    assert!(logged(&st, good).is_ok());
    // Not signed by the key it names.
    let mut bad = good;
    bad[0] ^= 1;
    assert_eq!(logged(&st, bad), Err(Error::BadSignature { index: 6 }));
    let other = st.sign(&test_key("Someone else")).unwrap().signature;
    assert_eq!(logged(&st, other), Err(Error::BadSignature { index: 6 }));
    // For another log.
    let mut elsewhere = st.clone();
    elsewhere.origin = "example.org/other".into();
    let sig = elsewhere.sign(&signer).unwrap().signature;
    assert!(matches!(
        logged(&elsewhere, sig),
        Err(Error::OtherLog { .. })
    ));
    // No claim at all, or a claim beyond the log at the time.
    let mut none = st.clone();
    none.seen = None;
    let sig = none.sign(&signer).unwrap().signature;
    assert_eq!(logged(&none, sig), Err(Error::NoSeen { index: 6 }));
    let mut beyond = st.clone();
    beyond.seen = Some(SeenCheckpoint {
        size: 7,
        root: EMPTY_ROOT,
    });
    let sig = beyond.sign(&signer).unwrap().signature;
    assert_eq!(
        logged(&beyond, sig),
        Err(Error::SeenBeyondRecord { seen: 7, index: 6 })
    );
}

#[test]
fn a_checkpoint_before_the_record_is_refused() {
    let key = log_key();
    let (e, _, _) = fork_evidence(3, 5);
    let mut t = e.clone();
    // A checkpoint at size 6 (just before record 6), whatever its root.
    t.checkpoint = signed_checkpoint(&key, 6, EMPTY_ROOT);
    assert_eq!(
        t.verify(&key.verifier()),
        Err(Error::RecordNotInCheckpoint { index: 6, size: 6 })
    );
}

#[test]
fn the_text_form_round_trips_and_only_the_canonical_text_parses() {
    let (e, v, _) = fork_evidence(3, 5);
    let text = e.to_text();
    assert!(text.starts_with("forewarn.dev/seen-root@v1\nrecord "));
    assert_eq!(SeenRootEvidence::parse(&text), Ok(e.clone()));
    assert_eq!(
        SeenRootEvidence::parse(&text)
            .unwrap()
            .verify(&log_key().verifier()),
        Ok(v)
    );
    let malformed = |t: &str| {
        matches!(
            SeenRootEvidence::parse(t),
            Err(Error::Malformed { .. } | Error::TooLarge { .. })
        )
    };
    assert!(
        malformed(text.strip_suffix('\n').unwrap()),
        "no final newline"
    );
    assert!(
        malformed(&text.replace("seen-root@v1", "seen-root@v2")),
        "header"
    );
    assert!(malformed(&text.replace('\n', "\r\n")), "CRLF");
    assert!(
        malformed(&alloc::format!("{text}\n")),
        "blank line at the end"
    );
    assert!(
        malformed(&alloc::format!("{text}{}\n", EMPTY_ROOT)),
        "extra line"
    );
    assert!(
        malformed(&text.replace("prefix ", "prefix  ")),
        "two spaces"
    );
    assert!(malformed(&text.replace("record ", "Record ")), "field name");
    let count = alloc::format!("inclusion {}\n", e.inclusion.len());
    assert!(malformed(&text.replace(
        &count,
        &alloc::format!("inclusion 0{}\n", e.inclusion.len())
    )));
    assert!(malformed(&text.replace(
        &count,
        &alloc::format!("inclusion +{}\n", e.inclusion.len())
    )));
    assert!(
        malformed(&text.replace(&count, "inclusion 65\n")),
        "over the proof limit"
    );
    assert!(malformed(
        &text.replace(&count, "inclusion 99999999999999999999999\n")
    ));
    // One hash too few for the count: the next line is not a hash.
    assert!(malformed(&text.replace(
        &count,
        &alloc::format!("inclusion {}\n", e.inclusion.len() + 1)
    )));
    // Non-canonical base64: the last hash with a padding bit set (its
    // 43rd character carries 2 data bits and 4 zero bits).
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let last = e.prefix.last().unwrap().to_base64();
    let mut odd = last.clone().into_bytes();
    let v = ALPHABET.iter().position(|&c| c == odd[42]).unwrap();
    odd[42] = ALPHABET[v | 1];
    let odd = String::from_utf8(odd).unwrap();
    assert_eq!(Hash::from_base64(&odd), None);
    assert!(
        malformed(&text.replace(&last, &odd)),
        "non-canonical base64"
    );
    // Every prefix of the text is refused.
    for cut in 0..text.len() {
        if text.is_char_boundary(cut) {
            assert!(
                SeenRootEvidence::parse(&text[..cut]).is_err(),
                "cut at {cut}"
            );
        }
    }
    // Size limits hold before anything is decoded.
    let huge = alloc::format!("{HEADER}\nrecord {}\n", "A".repeat(MAX_EVIDENCE_SIZE));
    assert!(matches!(
        SeenRootEvidence::parse(&huge),
        Err(Error::TooLarge {
            field: Field::Text,
            ..
        })
    ));
    let big_record = alloc::format!(
        "{HEADER}\nrecord {}\ncheckpoint \ninclusion 0\nprefix 0\n",
        "AAAA".repeat(MAX_RECORD_SIZE / 3 + 2)
    );
    assert!(matches!(
        SeenRootEvidence::parse(&big_record),
        Err(Error::TooLarge {
            field: Field::Record,
            ..
        })
    ));
}

#[test]
fn errors_say_what_where_and_why() {
    let (e, _, _) = fork_evidence(3, 5);
    let text = e.to_text().replace("prefix ", "prefx ");
    let err = SeenRootEvidence::parse(&text).unwrap_err();
    let line = 5 + e.inclusion.len();
    assert_eq!(
        err,
        Error::Malformed {
            line,
            field: Field::Prefix,
            reason: "the line does not start with the field's name"
        }
    );
    let shown = err.to_string();
    assert!(
        shown.contains(&alloc::format!("line {line}")) && shown.contains("prefix"),
        "{shown}"
    );
    let shown = Error::RootsAgree { size: 5 }.to_string();
    assert!(
        shown.contains("size 5") && shown.contains("not evidence"),
        "{shown}"
    );
}
