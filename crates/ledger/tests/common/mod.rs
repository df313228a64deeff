//! Shared helpers: a small world of parties and one-line audits.
#![allow(dead_code)]

use forewarn_ledger::testkit::{Actor, Scenario};
use forewarn_ledger::*;

/// Parties of every class, registered at the start of a scenario.
pub struct World {
    pub s: Scenario,
    pub vendor: Actor,
    pub finder: Actor,
    pub cert: Actor,
    pub gov: Actor,
    pub customer: Actor,
    pub program: Actor,
}

pub fn world() -> World {
    let mut s = Scenario::default();
    let vendor = s.party("Acme Corp", PartyClass::Vendor);
    let finder = s.party("Jane Finder", PartyClass::Finder);
    let cert = s.party("CERT/XY", PartyClass::Coordinator);
    let gov = s.party("Ministry of Defence", PartyClass::Government);
    let customer = s.party("Big Bank", PartyClass::Deployer);
    let program = s.party("Early Access Programme", PartyClass::Program);
    World {
        s,
        vendor,
        finder,
        cert,
        gov,
        customer,
        program,
    }
}

impl World {
    /// The vendor opens a case.
    pub fn case(&mut self) -> CaseId {
        let vendor = self.vendor.clone();
        self.s
            .open_case(&vendor, "heap overflow in parser", "acme-server 4.2")
            .0
    }
}

pub fn config(policy: &str) -> AuditConfig {
    AuditConfig {
        policy: AuditPolicy::preset(policy).expect("preset"),
        ..AuditConfig::default()
    }
}

/// Audits records, returning the auditor or the failure.
pub fn audit_records(
    records: &[Vec<u8>],
    config: AuditConfig,
) -> Result<Auditor, IntegrityFailure> {
    let mut a = Auditor::new(config);
    for r in records {
        a.push(r)?;
    }
    Ok(a)
}

/// The integrity failure a scenario produces (panics if it audits clean).
pub fn failure(s: &Scenario) -> IntegrityFailure {
    match s.audit(AuditConfig::default()) {
        Ok(_) => panic!("expected an integrity failure, the log audited clean"),
        Err(f) => f,
    }
}

/// Audits clean (panics with the failure otherwise).
pub fn clean(s: &Scenario, config: AuditConfig) -> Auditor {
    s.audit(config)
        .unwrap_or_else(|f| panic!("unexpected integrity failure: {f}"))
}

/// Audits clean and every statement had its signer's authority: none is an
/// `unauthorized` finding, which would have had no effect on the state
/// (so a story built on it would test nothing).
pub fn lawful(s: &Scenario, config: AuditConfig) -> Auditor {
    let a = clean(s, config);
    let unauthorized: Vec<&Finding> = a
        .state()
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::Unauthorized)
        .collect();
    assert!(
        unauthorized.is_empty(),
        "statements without authority (they had no effect): {unauthorized:?}"
    );
    a
}

/// The `unauthorized` findings of a log that audits clean, as
/// `(record, detail)`.
pub fn unauthorized(s: &Scenario) -> Vec<(RecordRef, String)> {
    clean(s, AuditConfig::default())
        .state()
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::Unauthorized)
        .map(|f| (f.record, f.detail.clone()))
        .collect()
}

/// [`finding_kinds`] of a log in which every statement had its signer's
/// authority (see [`lawful`]).
pub fn lawful_kinds(s: &Scenario, policy: &str, as_of: Millis) -> Vec<FindingKind> {
    lawful(s, config(policy));
    finding_kinds(s, policy, as_of)
}

/// What a sequencer holding the scenario's log says to `statement` signed
/// by `key`, logged now: the new record's bytes, or the refusal.
pub fn sequence(
    s: &Scenario,
    key: &ed25519_dalek::SigningKey,
    statement: &Statement,
) -> Result<Vec<u8>, IntegrityFailure> {
    let mut a = clean(s, AuditConfig::default());
    let signed = statement.sign(key).expect("small statement");
    let logged = (s.now + s.log_delay).max(a.state().last_logged_at);
    a.append_statement(&signed.bytes, signed.signature, logged, None)
}

/// Kinds of all findings (streamed and deadline) at `as_of`.
pub fn finding_kinds(s: &Scenario, policy: &str, as_of: Millis) -> Vec<FindingKind> {
    let c = config(policy);
    let a = clean(s, c.clone());
    let mut k: Vec<FindingKind> = auditor::all_findings(a.state(), &c.policy, as_of)
        .into_iter()
        .map(|f| f.kind)
        .collect();
    k.sort();
    k
}

/// Replaces record `i` of the scenario's records with `f(record)`,
/// re-encoded (later records are left as they were).
pub fn with_record(s: &Scenario, i: usize, f: impl FnOnce(&mut Record)) -> Vec<Vec<u8>> {
    let mut records = s.records().to_vec();
    let mut r = Record::from_bytes(&records[i]).expect("valid record");
    f(&mut r);
    records[i] = r.to_bytes().expect("encodes");
    records
}
