//! The auditor fed arbitrary records after the golden log.
//!
//! The input is a sequence of chunks `[mode u8][len u16 LE][bytes]`:
//! - mode even: the bytes are pushed as a record, as they are;
//! - mode odd: the bytes are taken as statement bytes, signed by one of the
//!   golden log's keys (chosen by `mode >> 1`, with one unregistered key),
//!   and wrapped in a record with the right index, prev and a log time, so
//!   that the event rules (references, keys, embargoes, openings …) are
//!   reached, not just the signature check.
//!
//! Invariants: no panic; a failure poisons the auditor and changes no state;
//! reports build; the saved state resumes to the same state.
#![no_main]
use std::sync::OnceLock;

use ed25519_dalek::{Signer, SigningKey};
use forewarn_ledger::statement::{RECORD_VERSION, signing_message};
use forewarn_ledger::testkit::{golden_scenario, test_key};
use forewarn_ledger::{AuditConfig, AuditPolicy, Auditor, Record, report};
use libfuzzer_sys::fuzz_target;

struct Base {
    auditor: Auditor,
    keys: Vec<SigningKey>,
}

fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let s = golden_scenario();
        let config = AuditConfig {
            policy: AuditPolicy::preset("eu-cra").unwrap(),
            ..AuditConfig::default()
        };
        let mut auditor = Auditor::new(config);
        for r in s.records() {
            auditor.push(r).unwrap();
        }
        let keys = ["Acme Corp", "Jane Finder", "National CSIRT", "Acme Corp/2026", "unregistered"]
            .iter()
            .map(|l| test_key(l))
            .collect();
        Base { auditor, keys }
    })
}

fuzz_target!(|data: &[u8]| {
    let base = base();
    let mut a = base.auditor.clone();
    let mut rest = data;
    while rest.len() >= 3 {
        let mode = rest[0];
        let len = (u16::from_le_bytes([rest[1], rest[2]]) as usize).min(rest.len() - 3);
        let chunk = &rest[3..3 + len];
        rest = &rest[3 + len..];
        let record = if mode % 2 == 0 {
            chunk.to_vec()
        } else {
            let key = &base.keys[(mode as usize >> 1) % base.keys.len()];
            let state = a.state();
            Record {
                version: RECORD_VERSION,
                index: state.size,
                prev: state.prev_leaf,
                logged_at: state.last_logged_at + u64::from(mode) * 3_600_000,
                statement: chunk.to_vec(),
                signature: key.sign(&signing_message(chunk)).to_bytes(),
            }
            .to_bytes()
            .unwrap()
        };
        let before = a.state().clone();
        if a.push(&record).is_err() {
            assert_eq!(a.state(), &before, "a failed record must change nothing");
            assert!(a.push(&record).is_err(), "the auditor stays poisoned");
            break;
        }
    }
    let state = a.state();
    let r = report::build(state, &a.config().policy, state.last_logged_at + 400 * 86_400_000, &a.root());
    assert_eq!(r.summary.records, state.size);
    let resumed = Auditor::resume(a.config().clone(), &a.save()).unwrap();
    assert_eq!(resumed.state().size, state.size);
    assert_eq!(resumed.root(), a.root());
});
