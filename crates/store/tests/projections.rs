//! The keyed projections against a full replay: logs with every event kind
//! (the golden log, generated logs of thousands of records with a
//! backdated revocation at the end) appended through the store in batches
//! of varying size, with the store closed and reopened along the way. After
//! every reopen `check` proves every stored projection equal to a replay,
//! and at the end every report read from the projections (one case, one
//! party, everything) equals the same report built from a full replay.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use forewarn_ledger::auditor::{AuditConfig, Auditor};
use forewarn_ledger::statement::{Record, SignedStatement};
use forewarn_ledger::testkit::{START, Scenario, golden_scenario};
use forewarn_ledger::*;
use forewarn_store::{Store, StoreConfig};

mod common;
use common::ORIGIN;

/// Appends `records` (a scenario's log) through a new store whose clock
/// gives each commit the log time its records have, so the store's records
/// are byte for byte the scenario's: runs of records with one log time go
/// in one commit of at most `batch`. The store is closed and reopened every
/// `reopen` commits, and checked after each reopen.
fn through_store(records: &[Vec<u8>], batch: usize, reopen: usize) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let now = Arc::new(AtomicU64::new(START));
    let clock_now = now.clone();
    let config = || StoreConfig {
        clock: {
            let n = clock_now.clone();
            Arc::new(move || n.load(Ordering::SeqCst))
        },
        ..StoreConfig::default()
    };
    let mut store = Store::init(dir.path(), ORIGIN, &[7; 32], config()).unwrap();
    let decoded: Vec<Record> = records
        .iter()
        .map(|r| Record::from_bytes(r).unwrap())
        .collect();
    let mut i = 0;
    let mut commits = 0;
    while i < decoded.len() {
        let at = decoded[i].logged_at;
        let mut j = i;
        while j < decoded.len() && j - i < batch && decoded[j].logged_at == at {
            j += 1;
        }
        now.store(at, Ordering::SeqCst);
        let statements: Vec<SignedStatement> = decoded[i..j]
            .iter()
            .map(|r| SignedStatement {
                bytes: r.statement.clone(),
                signature: r.signature,
            })
            .collect();
        for (k, r) in store.append(&statements).unwrap().into_iter().enumerate() {
            let receipt = r.unwrap_or_else(|e| panic!("record {}: {e}", i + k));
            assert_eq!(receipt.record, records[i + k], "record {}", i + k);
        }
        i = j;
        commits += 1;
        if commits % reopen == 0 {
            store.close().unwrap();
            store = Store::open(dir.path(), config()).unwrap();
            store
                .check()
                .unwrap_or_else(|e| panic!("after {i} records: {e}"));
        }
    }
    (dir, store)
}

/// A full replay of `records`.
fn replay(records: &[Vec<u8>]) -> Auditor {
    let mut a = Auditor::new(AuditConfig {
        origin: Some(ORIGIN.into()),
        ..AuditConfig::default()
    });
    for r in records {
        a.push(r).unwrap();
    }
    a
}

/// Every report the projections serve equals the replay's.
fn reports_match(store: &Store, fresh: &Auditor, as_of: u64) {
    for policy in [
        AuditPolicy::default(),
        AuditPolicy::preset("cert-cc").unwrap(),
    ] {
        let root = fresh.root();
        let want = report::build(fresh.state(), &policy, as_of, &root);
        // What `audit` prints, computed one case at a time.
        let (summary, findings) =
            report::summary_and_findings(fresh.state(), &policy, as_of, &root);
        assert_eq!(summary, want.summary);
        assert_eq!(findings, want.findings);
        let full = store.full_state().unwrap();
        let got = report::build(&full, &policy, as_of, &root);
        // The replay verified no checkpoint; neither did the store.
        assert_eq!(got.summary, want.summary);
        assert_eq!(got.cases, want.cases);
        assert_eq!(got.parties, want.parties);
        assert_eq!(got.findings, want.findings);
        // The summary read one case at a time, as `report summary` does.
        let mut parts = report::SummaryBuilder::default();
        for id in store.projections().case_ids().unwrap() {
            let part = store.projections().case_part(&id).unwrap();
            let r = report::build(&part, &policy, as_of, &root);
            parts.add(&part, &r.cases, &r.findings);
        }
        let loose = store.projections().loose_part().unwrap();
        let r = report::build(&loose, &policy, as_of, &root);
        parts.add(&loose, &r.cases, &r.findings);
        assert_eq!(
            parts.finish(store.auditor().state(), &policy, as_of, &root),
            want.summary
        );
        for case in &want.cases {
            let one = store.state_of_cases(&[case.case]).unwrap();
            let got = report::build(&one, &policy, as_of, &root);
            assert_eq!(got.cases, vec![case.clone()], "case {}", case.case);
        }
        for party in &want.parties {
            let cases = store.cases_of_party(party.party).unwrap();
            let state = store.state_of_cases(&cases).unwrap();
            let got = report::build(&state, &policy, as_of, &root);
            let mine = got.parties.iter().find(|p| p.party == party.party).unwrap();
            assert_eq!(mine, party, "party {}", party.party);
        }
    }
}

fn check_all(records: &[Vec<u8>], batch: usize, reopen: usize, as_of: u64) {
    let (_dir, store) = through_store(records, batch, reopen);
    store.check().unwrap();
    let fresh = replay(records);
    assert_eq!(store.auditor().root(), fresh.root());
    reports_match(&store, &fresh, as_of);
}

#[test]
fn the_golden_log_one_record_per_commit_and_in_runs() {
    let s = golden_scenario();
    let as_of = s.now + 400 * types::DAY_MS;
    check_all(s.records(), 1, 3, as_of);
    check_all(s.records(), 64, 2, as_of);
}

/// A generated log ending in a backdated revocation
/// ([`forewarn_ledger::testkit::with_backdated_revocation`]).
fn generated(seed: u64, records: u64) -> Scenario {
    forewarn_ledger::testkit::with_backdated_revocation(seed, records)
}

#[test]
fn generated_logs_with_a_backdated_revocation() {
    for (seed, records, batch, reopen) in [(1, 2_500, 40, 7), (2, 1_200, 3, 50)] {
        let s = generated(seed, records);
        let as_of = s.now + 30 * types::DAY_MS;
        let fresh = replay(s.records());
        assert!(
            fresh
                .state()
                .findings
                .iter()
                .any(|f| f.kind == finding::FindingKind::SignedByRevokedKey),
            "the revocation flags earlier records"
        );
        check_all(s.records(), batch, reopen, as_of);
    }
}
