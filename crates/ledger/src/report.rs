//! Projections: pure folds over the audited state into the reports a
//! watchdog reads — per case the "who knew when" table, per party its
//! history, and a summary (docs/AUDITING.md, "Reports"; docs/DESIGN.md §3,
//! the last step from a statement to an audit). Text rendering lives in the
//! binary; every type here serializes to JSON for `--json`.
//!
//! Nothing here decides a finding: streamed findings come from the auditor's
//! rules, deadline findings from [`crate::auditor::all_findings`] at the
//! report time; a report only selects and arranges them.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::Serialize;

use crate::auditor::{AuditState, all_findings};
use crate::encoding;
use crate::event::{Counterparty, KIND_NAMES};
use crate::finding::{Category, Finding, FindingKind};
use crate::policy::AuditPolicy;
use crate::sealed::Sealed;
use crate::types::*;

/// How a party first learned of a case.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    bincode::Encode,
    bincode::Decode,
)]
#[serde(rename_all = "kebab-case")]
pub enum Learned {
    /// It signed a statement about the case (`"acted"`).
    Acted,
    /// It was the recipient of a `Notified` record (`"notified"`).
    Notified,
}

impl Learned {
    /// The name used in reports and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Learned::Acted => "acted",
            Learned::Notified => "notified",
        }
    }
}

impl fmt::Display for Learned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A sealed or clear value as shown in reports.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shown {
    /// Public from the start.
    Clear(String),
    /// Sealed, then opened.
    Opened(String),
    /// Still sealed: the commitment.
    Sealed(String),
}

fn shown(state: &AuditState, v: &Sealed<String>, at: (RecordRef, u8)) -> Shown {
    match v {
        Sealed::Clear(s) => Shown::Clear(s.clone()),
        Sealed::Sealed(c) => match state.sealed.get(&at).and_then(|s| s.opened.as_ref()) {
            Some((_, bytes)) => {
                Shown::Opened(encoding::decode::<String>(bytes).unwrap_or_else(|_| hex(bytes)))
            }
            None => Shown::Sealed(hex(&c.0)),
        },
    }
}

/// One row of the "who knew when" table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WhoKnew {
    /// The party, if registered.
    pub party: Option<PartyId>,
    /// Registered name, or an unregistered recipient's identity.
    pub name: Shown,
    /// Class.
    pub class: PartyClass,
    /// How it first learned: it acted (signed a statement about the case)
    /// or was notified.
    pub how: Learned,
    /// The first record showing it knew.
    pub first_record: RecordRef,
    /// Claimed time of that record.
    pub first_known_at: Millis,
    /// Log time of the first notice to it, if notified.
    pub first_notice_logged_at: Option<Millis>,
    /// Notices it received.
    pub notices: u32,
    /// Highest information level it was given.
    pub level: Option<InfoLevel>,
    /// TLP of its first notice.
    pub tlp: Option<Tlp>,
    /// When it says it received its first notice (from its acknowledgement).
    pub acknowledged_at: Option<Millis>,
    /// End of the embargo its first notice was under (current end).
    pub embargo_ends_at: Option<Millis>,
    /// Milliseconds it knew before the case became public (negative: after).
    pub lead_before_public_ms: Option<i64>,
    /// Milliseconds it knew before the fix was released (negative: after).
    pub lead_before_fix_ms: Option<i64>,
    /// Kinds of findings that concern this party in this case.
    pub findings: Vec<FindingKind>,
}

/// An embargo as reported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EmbargoReport {
    /// The `EmbargoProposed` record.
    pub record: RecordRef,
    /// Proposer.
    pub proposer: PartyId,
    /// Claimed proposal time.
    pub proposed_at: Millis,
    /// Current end.
    pub ends_at: Millis,
    /// First acceptance.
    pub accepted_at: Option<Millis>,
    /// Number of accepting parties.
    pub acceptors: usize,
    /// Extensions.
    pub extensions: u32,
    /// Termination time.
    pub terminated_at: Option<Millis>,
    /// Termination reason.
    pub reason: Option<TerminationReason>,
}

/// Everything about one case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CaseReport {
    /// The case.
    pub case: CaseId,
    /// `CaseOpened` record.
    pub opened_record: RecordRef,
    /// Claimed opening time.
    pub opened_at: Millis,
    /// Opener.
    pub opener: PartyId,
    /// Summary.
    pub summary: Shown,
    /// Product.
    pub product: Shown,
    /// Identifiers: scheme and value.
    pub identifiers: Vec<(IdScheme, Shown)>,
    /// V: vendor aware.
    pub vendor_aware_at: Option<Millis>,
    /// F: fix ready.
    pub fix_ready_at: Option<Millis>,
    /// D: fix released.
    pub fix_released_at: Option<Millis>,
    /// P: public.
    pub public_at: Option<Millis>,
    /// X: exploit public.
    pub exploit_public_at: Option<Millis>,
    /// A: attacks observed.
    pub attacks_at: Option<Millis>,
    /// Advisory URL.
    pub advisory: Option<String>,
    /// Embargoes.
    pub embargoes: Vec<EmbargoReport>,
    /// Who knew, ordered by when they knew.
    pub who_knew: Vec<WhoKnew>,
    /// Findings about this case.
    pub findings: Vec<Finding>,
}

fn party_name(state: &AuditState, id: PartyId) -> (Shown, PartyClass) {
    match state.parties.get(&id) {
        Some(p) => (Shown::Clear(p.name.clone()), p.class),
        None => (Shown::Clear(format!("party {id}")), PartyClass::Other),
    }
}

/// `later − earlier` in ms, clamped to the i64 range (times are u64 and
/// come from signers; no value may overflow).
fn diff(later: Option<Millis>, earlier: Millis) -> Option<i64> {
    later.map(|l| {
        (i128::from(l) - i128::from(earlier)).clamp(i64::MIN.into(), i64::MAX.into()) as i64
    })
}

/// Which row of a case's who-knew table a party or recipient has.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum RowKey {
    Party(PartyId),
    Unregistered(Shown, PartyClass),
}

/// Builds the report of one case. `findings` holds at least the case's
/// own findings, in order: the full list from [`all_findings`], or only
/// the case's (the others are skipped).
pub fn case_report(state: &AuditState, id: &CaseId, findings: &[Finding]) -> Option<CaseReport> {
    let c = state.cases.get(id)?;
    let case_findings: Vec<Finding> = findings
        .iter()
        .filter(|f| f.case == Some(*id))
        .cloned()
        .collect();
    let mut rows: Vec<WhoKnew> = Vec::new();
    // The kinds of finding about each party, gathered once: a row reads
    // its own (a case with many rows and many findings costs their sum,
    // not their product).
    let mut kinds_of: BTreeMap<PartyId, Vec<FindingKind>> = BTreeMap::new();
    for f in &case_findings {
        if let Some(p) = f.party {
            kinds_of.entry(p).or_default().push(f.kind);
        }
    }
    for k in kinds_of.values_mut() {
        k.sort();
        k.dedup();
    }
    let row_findings = |party: Option<PartyId>| -> Vec<FindingKind> {
        party
            .and_then(|p| kinds_of.get(&p).cloned())
            .unwrap_or_default()
    };
    // The first row of each registered party, and of each unregistered
    // recipient by name and class: one look-up per notice.
    let mut row_of: BTreeMap<RowKey, usize> = BTreeMap::new();
    for (p, r, t) in &c.participants {
        let (name, class) = party_name(state, *p);
        row_of.entry(RowKey::Party(*p)).or_insert(rows.len());
        rows.push(WhoKnew {
            party: Some(*p),
            name,
            class,
            how: Learned::Acted,
            first_record: *r,
            first_known_at: *t,
            first_notice_logged_at: None,
            notices: 0,
            level: None,
            tlp: None,
            acknowledged_at: None,
            embargo_ends_at: None,
            lead_before_public_ms: None,
            lead_before_fix_ms: None,
            findings: Vec::new(),
        });
    }
    for (r, n) in c
        .notices
        .iter()
        .filter_map(|r| state.notices.get(r).map(|n| (r, n)))
    {
        let (party, name, class) = match &n.recipient {
            Counterparty::Party(p) => {
                let (name, class) = party_name(state, p.party());
                (Some(p.party()), name, class)
            }
            Counterparty::Unregistered { class, identity } => {
                (None, shown(state, identity, (*r, 0)), *class)
            }
        };
        let key = match party {
            Some(p) => RowKey::Party(p),
            None => RowKey::Unregistered(name.clone(), class),
        };
        let existing = row_of.get(&key).copied();
        if existing.is_none() {
            row_of.insert(key, rows.len());
        }
        let embargo_ends_at = n
            .embargo
            .and_then(|e| state.embargoes.get(&e))
            .map(|e| e.ends_at);
        match existing {
            Some(i) => {
                let w = &mut rows[i];
                w.notices += 1;
                w.level = w.level.max(Some(n.level));
                if w.first_notice_logged_at.is_none() {
                    w.first_notice_logged_at = Some(n.logged_at);
                    w.tlp = Some(n.tlp);
                    w.acknowledged_at = n.acknowledged.map(|a| a.received_at);
                    w.embargo_ends_at = embargo_ends_at;
                }
                if n.claimed_at < w.first_known_at {
                    w.first_known_at = n.claimed_at;
                    w.first_record = *r;
                    w.how = Learned::Notified;
                }
            }
            None => rows.push(WhoKnew {
                party,
                name,
                class,
                how: Learned::Notified,
                first_record: *r,
                first_known_at: n.claimed_at,
                first_notice_logged_at: Some(n.logged_at),
                notices: 1,
                level: Some(n.level),
                tlp: Some(n.tlp),
                acknowledged_at: n.acknowledged.map(|a| a.received_at),
                embargo_ends_at,
                lead_before_public_ms: None,
                lead_before_fix_ms: None,
                findings: Vec::new(),
            }),
        }
    }
    for w in &mut rows {
        w.lead_before_public_ms = diff(c.clock.public, w.first_known_at);
        w.lead_before_fix_ms = diff(c.clock.fix_released, w.first_known_at);
        w.findings = row_findings(w.party);
    }
    rows.sort_by_key(|w| (w.first_known_at, w.first_record));
    let identifiers = c
        .identifiers
        .iter()
        .map(|i| (i.scheme, shown(state, &i.value, (i.record, 0))))
        .collect();
    let embargoes = c
        .embargoes
        .iter()
        .filter_map(|r| state.embargoes.get(r).map(|e| (r, e)))
        .map(|(r, e)| EmbargoReport {
            record: *r,
            proposer: e.proposer,
            proposed_at: e.proposed_at,
            ends_at: e.ends_at,
            accepted_at: e.accepted_at,
            acceptors: e.acceptors.len(),
            extensions: e.extensions,
            terminated_at: e.terminated.map(|t| t.0),
            reason: e.terminated.map(|t| t.1),
        })
        .collect();
    Some(CaseReport {
        case: *id,
        opened_record: c.opened,
        opened_at: c.opened_at,
        opener: c.opener,
        summary: shown(state, &c.summary, (c.opened, 0)),
        product: shown(state, &c.product, (c.opened, 1)),
        identifiers,
        vendor_aware_at: c.clock.vendor_aware,
        fix_ready_at: c.clock.fix_ready,
        fix_released_at: c.clock.fix_released,
        public_at: c.clock.public,
        exploit_public_at: c.clock.exploit_public,
        attacks_at: c.clock.attacks,
        advisory: c.advisory.as_ref().map(|a| a.1.clone()),
        embargoes,
        who_knew: rows,
        findings: case_findings,
    })
}

/// One case in a party's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, bincode::Encode, bincode::Decode)]
pub struct PartyCase {
    /// The case.
    pub case: CaseId,
    /// How it learned.
    pub how: Learned,
    /// When (claimed).
    pub first_known_at: Millis,
    /// Highest information level received.
    pub level: Option<InfoLevel>,
    /// Acknowledged at.
    pub acknowledged_at: Option<Millis>,
    /// Lead before the case became public (ms; negative: after).
    pub lead_before_public_ms: Option<i64>,
}

impl PartyCase {
    /// The row of `case` in the history of the party `who` names.
    pub fn of(case: CaseId, who: &WhoKnew) -> PartyCase {
        PartyCase {
            case,
            how: who.how,
            first_known_at: who.first_known_at,
            level: who.level,
            acknowledged_at: who.acknowledged_at,
            lead_before_public_ms: who.lead_before_public_ms,
        }
    }
}

/// One party's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PartyReport {
    /// Party id (its registration record).
    pub party: PartyId,
    /// Name.
    pub name: String,
    /// Class.
    pub class: PartyClass,
    /// Registration time (claimed).
    pub registered_at: Millis,
    /// Keys ever added.
    pub keys: usize,
    /// Keys revoked.
    pub revoked_keys: usize,
    /// Cases it knew about, in order.
    pub cases: Vec<PartyCase>,
    /// Findings concerning it.
    pub findings: usize,
}

/// Early notice by recipient class.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassLead {
    /// Class.
    pub class: PartyClass,
    /// (party, case) pairs of this class that knew before publication.
    pub told_before_public: usize,
    /// Median days before publication, over those pairs.
    pub median_days_before_public: Option<f64>,
    /// Longest lead in days.
    pub max_days_before_public: Option<f64>,
}

/// The counts a log keeps as it grows: what `forewarn report summary`
/// shows at a cost that does not grow with the log. Nothing here depends
/// on a policy or on the time of the report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Totals {
    /// Records audited.
    pub records: u64,
    /// Merkle root of those records (hex).
    pub root: String,
    /// Size and root of the last verified checkpoint, if any.
    pub checkpoint: Option<(u64, String)>,
    /// Log time of the first record.
    pub first_logged_at: Option<Millis>,
    /// Log time of the last record.
    pub last_logged_at: Option<Millis>,
    /// Parties.
    pub parties: usize,
    /// Keys (revoked ones included).
    pub keys: usize,
    /// Cases.
    pub cases: usize,
    /// Cases that are public.
    pub public_cases: usize,
    /// Notices.
    pub notices: usize,
    /// Acknowledged notices.
    pub acknowledged_notices: usize,
    /// Records per event kind (kinds with zero omitted).
    pub events: BTreeMap<&'static str, u64>,
}

impl Totals {
    /// The totals of `whole` (its records, times, parties, keys and event
    /// counts) with the case and notice counts given.
    pub fn of(
        whole: &AuditState,
        counts: crate::auditor::keyed::Counts,
        root: &forewarn_tlog::hash::Hash,
    ) -> Totals {
        Totals {
            records: whole.size,
            root: root.to_hex(),
            checkpoint: whole.checkpoint.map(|c| (c.size, c.root.to_hex())),
            first_logged_at: whole.first_logged_at,
            last_logged_at: (whole.size > 0).then_some(whole.last_logged_at),
            parties: whole.parties.len(),
            keys: whole.keys.len(),
            cases: counts.cases as usize,
            public_cases: counts.public_cases as usize,
            notices: counts.notices as usize,
            acknowledged_notices: counts.acknowledged_notices as usize,
            events: whole
                .kind_counts
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(i, n)| (KIND_NAMES[i], *n))
                .collect(),
        }
    }
}

/// Counts and headline figures: the [`Totals`], and what evaluating every
/// case under a policy at a time adds (findings, early notice).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// The counts (serialized inline, beside the fields below).
    #[serde(flatten)]
    pub totals: Totals,
    /// Time the deadline findings were evaluated at.
    pub as_of: Millis,
    /// Policy name.
    pub policy: String,
    /// Findings per kind.
    pub findings_by_kind: BTreeMap<String, u64>,
    /// Protocol findings.
    pub protocol_findings: usize,
    /// Policy findings.
    pub policy_findings: usize,
    /// Early notice per recipient class.
    pub early_notice: Vec<ClassLead>,
}

/// The full report: summary, cases, parties, findings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// Summary.
    pub summary: Summary,
    /// Every case.
    pub cases: Vec<CaseReport>,
    /// Every party.
    pub parties: Vec<PartyReport>,
    /// Every finding.
    pub findings: Vec<Finding>,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// The summary of a state read in disjoint parts, without holding it
/// whole: a store reads one case at a time, then what names no case, adds
/// each part with its [`build`], and [`SummaryBuilder::finish`] gives the
/// summary [`build`] of the whole state gives (every finding belongs to
/// one case or to none, so the parts' findings are the whole's).
#[derive(Clone, Debug, Default)]
pub struct SummaryBuilder {
    leads: BTreeMap<PartyClass, Vec<f64>>,
    findings_by_kind: BTreeMap<String, u64>,
    protocol: usize,
    policy: usize,
    cases: usize,
    public_cases: usize,
    notices: usize,
    acknowledged: usize,
}

impl SummaryBuilder {
    /// Adds a part: a state holding some of the cases (or none of them and
    /// what names no case), with its reports' cases and findings.
    pub fn add(&mut self, part: &AuditState, cases: &[CaseReport], findings: &[Finding]) {
        for c in cases {
            for w in &c.who_knew {
                if w.how == Learned::Notified
                    && let Some(l) = w.lead_before_public_ms
                    && l > 0
                {
                    self.leads
                        .entry(w.class)
                        .or_default()
                        .push(l as f64 / DAY_MS as f64);
                }
            }
        }
        for f in findings {
            *self.findings_by_kind.entry(serde_name(f.kind)).or_insert(0) += 1;
            match f.category() {
                Category::Protocol => self.protocol += 1,
                Category::Policy => self.policy += 1,
            }
        }
        self.cases += part.cases.len();
        self.public_cases += part
            .cases
            .values()
            .filter(|c| c.clock.public.is_some())
            .count();
        self.notices += part.notices.len();
        self.acknowledged += part
            .notices
            .values()
            .filter(|n| n.acknowledged.is_some())
            .count();
    }

    /// Adds what `later` was given, as if its parts had been added to this
    /// builder after its own: parts split in contiguous runs, each run
    /// added to a builder of its own (on its own thread) and the builders
    /// merged in the runs' order, give the summary of adding every part
    /// in order.
    pub fn merge(&mut self, later: SummaryBuilder) {
        for (class, mut leads) in later.leads {
            self.leads.entry(class).or_default().append(&mut leads);
        }
        for (kind, n) in later.findings_by_kind {
            *self.findings_by_kind.entry(kind).or_insert(0) += n;
        }
        self.protocol += later.protocol;
        self.policy += later.policy;
        self.cases += later.cases;
        self.public_cases += later.public_cases;
        self.notices += later.notices;
        self.acknowledged += later.acknowledged;
    }

    /// The summary; `whole` gives what every part shares (records, times,
    /// parties, keys, events).
    pub fn finish(
        self,
        whole: &AuditState,
        policy: &AuditPolicy,
        as_of: Millis,
        root: &forewarn_tlog::hash::Hash,
    ) -> Summary {
        let early_notice = self
            .leads
            .into_iter()
            .map(|(class, v)| ClassLead {
                class,
                told_before_public: v.len(),
                max_days_before_public: v.iter().cloned().reduce(f64::max),
                median_days_before_public: median(v),
            })
            .collect();
        let counts = crate::auditor::keyed::Counts {
            cases: self.cases as u64,
            public_cases: self.public_cases as u64,
            notices: self.notices as u64,
            acknowledged_notices: self.acknowledged as u64,
        };
        Summary {
            totals: Totals::of(whole, counts, root),
            as_of,
            policy: policy.name.clone(),
            findings_by_kind: self.findings_by_kind,
            protocol_findings: self.protocol,
            policy_findings: self.policy,
            early_notice,
        }
    }
}

/// The findings of each case, in their order in `findings`: each case's
/// report reads only its own, so building every case's report costs one
/// pass over the findings, not one pass per case.
fn findings_by_case(findings: &[Finding]) -> BTreeMap<CaseId, Vec<Finding>> {
    let mut by_case: BTreeMap<CaseId, Vec<Finding>> = BTreeMap::new();
    for f in findings {
        if let Some(case) = f.case {
            by_case.entry(case).or_default().push(f.clone());
        }
    }
    by_case
}

fn of_case<'a>(by_case: &'a BTreeMap<CaseId, Vec<Finding>>, id: &CaseId) -> &'a [Finding] {
    by_case.get(id).map_or(&[], Vec::as_slice)
}

/// The summary and the findings of [`build`]'s report, without holding
/// every case's report at once: each case's report is built, added to a
/// [`SummaryBuilder`] and dropped. What `forewarn audit` prints; at
/// 250,420 records the whole report held 103 MB of a 275 MB peak.
pub fn summary_and_findings(
    state: &AuditState,
    policy: &AuditPolicy,
    as_of: Millis,
    root: &forewarn_tlog::hash::Hash,
) -> (Summary, Vec<Finding>) {
    let parts = walk(state, policy, as_of, root, false, None);
    (parts.summary, parts.findings)
}

/// Everything [`build`]'s report holds but the cases' reports, which
/// [`ReportParts::cases`] builds one at a time, in the report's order:
/// `forewarn audit --json` writes them as they come, so that it never
/// holds every case's rows at once.
#[derive(Clone, Debug)]
pub struct ReportParts {
    /// Summary.
    pub summary: Summary,
    /// Every party.
    pub parties: Vec<PartyReport>,
    /// Every finding.
    pub findings: Vec<Finding>,
    /// The cases, by opening record.
    order: Vec<CaseId>,
    by_case: BTreeMap<CaseId, Vec<Finding>>,
}

impl ReportParts {
    /// Every case's report, built as it is taken, in the order of
    /// [`Report::cases`]. `state` is the state the parts were built from.
    pub fn cases<'a>(&'a self, state: &'a AuditState) -> impl Iterator<Item = CaseReport> + 'a {
        self.order
            .iter()
            .filter_map(move |id| case_report(state, id, of_case(&self.by_case, id)))
    }
}

/// [`build`]'s report but its cases (see [`ReportParts`]).
pub fn parts(
    state: &AuditState,
    policy: &AuditPolicy,
    as_of: Millis,
    root: &forewarn_tlog::hash::Hash,
) -> ReportParts {
    walk(state, policy, as_of, root, true, None)
}

/// Builds each case's report once, in the report's order, keeping what
/// the summary needs, if `histories` each party's row of it, and into
/// `keep` the report itself; then the parties. Every finding is read a
/// fixed number of times, whatever the number of cases and parties.
fn walk(
    state: &AuditState,
    policy: &AuditPolicy,
    as_of: Millis,
    root: &forewarn_tlog::hash::Hash,
    histories: bool,
    mut keep: Option<&mut Vec<CaseReport>>,
) -> ReportParts {
    let findings = all_findings(state, policy, as_of);
    let by_case = findings_by_case(&findings);
    let mut order: Vec<(RecordRef, CaseId)> =
        state.cases.iter().map(|(id, c)| (c.opened, *id)).collect();
    order.sort();
    let order: Vec<CaseId> = order.into_iter().map(|(_, id)| id).collect();
    let mut summary = SummaryBuilder::default();
    // The whole state's counts and findings once; then each case's
    // report alone, against a state that adds no counts of its own.
    summary.add(state, &[], &findings);
    let nothing = AuditState::default();
    let mut rows: BTreeMap<PartyId, Vec<PartyCase>> = BTreeMap::new();
    for id in &order {
        let Some(c) = case_report(state, id, of_case(&by_case, id)) else {
            continue;
        };
        if histories {
            for w in &c.who_knew {
                if let Some(p) = w.party {
                    rows.entry(p).or_default().push(PartyCase::of(c.case, w));
                }
            }
        }
        summary.add(&nothing, core::slice::from_ref(&c), &[]);
        if let Some(keep) = keep.as_deref_mut() {
            keep.push(c);
        }
    }
    let mut findings_of: BTreeMap<PartyId, usize> = BTreeMap::new();
    for f in &findings {
        if let Some(p) = f.party {
            *findings_of.entry(p).or_insert(0) += 1;
        }
    }
    let parties = if histories {
        state
            .parties
            .iter()
            .map(|(id, p)| {
                let mut cases = rows.remove(id).unwrap_or_default();
                cases.sort_by_key(|c| c.first_known_at);
                PartyReport {
                    party: *id,
                    name: p.name.clone(),
                    class: p.class,
                    registered_at: p.registered_at,
                    keys: p.keys.len(),
                    revoked_keys: p
                        .keys
                        .iter()
                        .filter(|k| state.keys.get(*k).is_some_and(|s| s.revoked.is_some()))
                        .count(),
                    cases,
                    findings: findings_of.get(id).copied().unwrap_or(0),
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    ReportParts {
        summary: summary.finish(state, policy, as_of, root),
        parties,
        findings,
        order,
        by_case,
    }
}

/// Builds every report. `root` is the auditor's current Merkle root.
pub fn build(
    state: &AuditState,
    policy: &AuditPolicy,
    as_of: Millis,
    root: &forewarn_tlog::hash::Hash,
) -> Report {
    let mut cases = Vec::with_capacity(state.cases.len());
    let parts = walk(state, policy, as_of, root, true, Some(&mut cases));
    Report {
        summary: parts.summary,
        cases,
        parties: parts.parties,
        findings: parts.findings,
    }
}

/// The kebab-case name of a finding kind (as in JSON).
pub fn serde_name(kind: FindingKind) -> String {
    let debug = format!("{kind:?}");
    let mut out = String::new();
    for (i, ch) in debug.chars().enumerate() {
        if ch.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(ch.to_ascii_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;

    use forewarn_tlog::hash::Hash;

    use super::*;
    use crate::event::Event;

    #[test]
    fn typed_fields_serialize_to_the_same_json_as_before() {
        assert_eq!(serde_json::to_string(&Learned::Acted).unwrap(), "\"acted\"");
        assert_eq!(
            serde_json::to_string(&Learned::Notified).unwrap(),
            "\"notified\""
        );
        assert_eq!(Learned::Notified.to_string(), "notified");
        assert_eq!(format!("{:<9}|", Learned::Acted), "acted    |");
        let ack = Event::Acknowledged {
            notice: Cite::new(3, Hash([1; 32])),
            received_at: 5,
        };
        let ones = "01".repeat(32);
        assert_eq!(
            serde_json::to_string(&ack).unwrap(),
            format!(
                "{{\"event\":\"acknowledged\",\"notice\":{{\"record\":3,\"leaf\":\"{ones}\"}},\"received_at\":5}}"
            )
        );
    }
}
