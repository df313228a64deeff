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

// ---- Attack stories: sequencing and auditing the attacker's statement ----

/// The log time of the last record of `s` (0 for an empty log).
pub fn last_logged(s: &Scenario) -> Millis {
    s.records().last().map_or(0, |r| {
        Record::from_bytes(r)
            .expect("scenario records decode")
            .logged_at
    })
}

/// A log time for the next record of `s`, as `Scenario::submit` chooses
/// it: `log_delay` after the current time, never before the last record.
pub fn next_logged(s: &Scenario) -> Millis {
    (s.now + s.log_delay).max(last_logged(s))
}

/// An auditor that has audited every record of `s` under `s`'s origin
/// (panics on an integrity failure): a sequencer's or a watchdog's view.
pub fn audited(s: &Scenario) -> Auditor {
    clean(s, AuditConfig::default())
}

/// Offers raw statement bytes to `a` as a sequencer would: they must be
/// refused, the auditor must not be poisoned, and its saved state must be
/// byte for byte what it was. Returns why it was refused.
pub fn sequencer_refuses_raw(
    a: &mut Auditor,
    statement: &[u8],
    signature: [u8; 64],
    logged_at: Millis,
) -> IntegrityKind {
    let before = a.save();
    let size = a.size();
    let err = match a.append_statement(statement, signature, logged_at, None) {
        Ok(_) => panic!("the sequencer accepted a statement it must refuse"),
        Err(e) => e,
    };
    assert_eq!(err.index, size, "the refusal names the would-be record");
    assert!(
        a.failure().is_none(),
        "a refusal must not poison a sequencer"
    );
    assert!(a.save() == before, "a refused statement changed the state");
    err.kind
}

/// [`sequencer_refuses_raw`] for `statement` signed by `key`.
pub fn sequencer_refuses(
    a: &mut Auditor,
    key: &ed25519_dalek::SigningKey,
    statement: &Statement,
    logged_at: Millis,
) -> IntegrityKind {
    let signed = statement.sign(key).expect("statement under 64 KiB");
    sequencer_refuses_raw(a, &signed.bytes, signed.signature, logged_at)
}

/// Offers `statement` signed by `key` to `a` as a sequencer would; it must
/// be accepted. Returns the record bytes.
pub fn sequencer_accepts(
    a: &mut Auditor,
    key: &ed25519_dalek::SigningKey,
    statement: &Statement,
    logged_at: Millis,
) -> Vec<u8> {
    let signed = statement.sign(key).expect("statement under 64 KiB");
    a.append_statement(&signed.bytes, signed.signature, logged_at, None)
        .unwrap_or_else(|f| panic!("the sequencer refused a valid statement: {f}"))
}

/// The log an attacker produces: the records of `s` (already audited by
/// `a`) followed by `statement` signed by `key`, logged at `logged_at`.
/// Returns that scenario and the result of auditing its last record on a
/// copy of `a`.
pub fn audit_with(
    a: &Auditor,
    s: &Scenario,
    key: &ed25519_dalek::SigningKey,
    statement: &Statement,
    logged_at: Millis,
) -> (Scenario, Result<Auditor, IntegrityFailure>) {
    assert_eq!(a.size(), s.size(), "the auditor has audited all of s");
    let mut s = s.clone();
    s.append_statement(key, statement, logged_at);
    let mut a = a.clone();
    let result = a
        .push(s.records().last().expect("just appended"))
        .map(|()| a);
    (s, result)
}

/// [`audit_with`] for already-signed statement bytes.
pub fn audit_raw_with(
    a: &Auditor,
    s: &Scenario,
    statement: Vec<u8>,
    signature: [u8; 64],
    logged_at: Millis,
) -> Result<Auditor, IntegrityFailure> {
    let mut s = s.clone();
    s.append_raw(statement, signature, logged_at);
    let mut a = a.clone();
    a.push(s.records().last().expect("just appended"))
        .map(|()| a)
}

/// A key's owner, the record that added it and its claimed time, and its
/// revocation (record, effective time).
pub type KeyLife = (PartyId, RecordRef, Millis, Option<(RecordRef, Millis)>);

/// What a statement can change: every projection of the state, with the
/// bookkeeping every record changes (its size, tree, citation, key use,
/// counts and findings) left out.
#[derive(Debug, PartialEq)]
pub struct Projections {
    pub parties: std::collections::BTreeMap<PartyId, auditor::PartyState>,
    pub keys: Vec<(PublicKey, KeyLife)>,
    pub cases: std::collections::BTreeMap<CaseId, auditor::CaseState>,
    pub notices: std::collections::BTreeMap<RecordRef, auditor::NoticeState>,
    pub embargoes: std::collections::BTreeMap<RecordRef, auditor::EmbargoState>,
    pub sealed: std::collections::BTreeMap<(RecordRef, u8), auditor::SealedState>,
}

/// The [`Projections`] of `state`.
pub fn projections(state: &AuditState) -> Projections {
    Projections {
        parties: state.parties.clone(),
        keys: state
            .keys
            .iter()
            .map(|(k, s)| (*k, (s.party, s.added_by, s.added_at, s.revoked)))
            .collect(),
        cases: state.cases.clone(),
        notices: state.notices.clone(),
        embargoes: state.embargoes.clone(),
        sealed: state.sealed.clone(),
    }
}
