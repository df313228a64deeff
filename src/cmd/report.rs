//! `forewarn report`: who knew what, when — per case, per party, or a
//! summary — and the text rendering of reports that `audit` and `demo`
//! share (the JSON is the report types' own serialization).

use clap::{Args, Subcommand};
use forewarn_ledger::report::{self, CaseReport, Report, Shown};
use forewarn_ledger::*;

use forewarn_ledger::auditor::AuditState;

use crate::cli::ledger::{DirArg, open_store_with, parse_case, store_failure};
use crate::cli::output::outln;
use crate::cli::output::print_json_pretty;
use crate::cli::time::{format_days, format_time};
use crate::cli::{Failure, Outcome};
use crate::cmd::audit::PolicyArgs;

/// `forewarn report …`
#[derive(Subcommand, Debug)]
pub enum ReportCmd {
    /// The who-knew-when table of one case (or every case).
    ///
    /// Example: forewarn report case 3f2a…  (or: forewarn report case --all)
    Case {
        /// The case id (32 hex digits).
        id: Option<String>,
        /// Every case.
        #[arg(long, conflicts_with = "id")]
        all: bool,
        #[command(flatten)]
        common: ReportCommon,
    },
    /// Every case a party knew about, and how early.
    ///
    /// Example: forewarn report party "CERT-Nordland"
    Party {
        /// The party's name or number.
        name: String,
        #[command(flatten)]
        common: ReportCommon,
    },
    /// Counts kept with the log, and the parties; with --findings, early
    /// notice by recipient class and findings under a policy.
    ///
    /// Without --findings it reads only the counters every commit keeps,
    /// so it answers at once on a log of any size. --findings evaluates
    /// every case under the policy at the report time, which takes time in
    /// proportion to the number of cases (`forewarn audit` does the same
    /// and re-verifies every record as well).
    ///
    /// Example: forewarn report summary --findings --policy cert-cc --json
    Summary {
        /// Evaluate every case: findings by kind and early notice by class.
        #[arg(long)]
        findings: bool,
        #[command(flatten)]
        common: ReportCommon,
    },
    /// Every case: its id, when it was opened, and what it is about.
    ///
    /// Reads each case in turn (the time grows with the number of cases;
    /// memory holds one line per case, to print them in the order they
    /// were opened).
    ///
    /// Example: forewarn report cases --json
    Cases {
        #[command(flatten)]
        common: ReportCommon,
    },
}

/// The party a report names, by name or number. A name held by several
/// parties (names are not unique) is refused with their numbers.
fn party_named(state: &AuditState, name: &str) -> Result<PartyId, Failure> {
    if let Ok(n) = name.parse::<u64>()
        && state.parties.contains_key(&PartyId(n))
    {
        return Ok(PartyId(n));
    }
    let found: Vec<PartyId> = state
        .parties
        .iter()
        .filter(|(_, p)| p.name == name)
        .map(|(id, _)| *id)
        .collect();
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(Failure::input(
            format!("no party named {name:?}"),
            "list the parties with `forewarn report summary`",
        )),
        many => Err(Failure::input(
            format!(
                "{} parties are named {name:?}: {}",
                many.len(),
                many.iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "name the party by its number instead",
        )),
    }
}

/// Options of every report.
#[derive(Args, Debug)]
pub struct ReportCommon {
    #[command(flatten)]
    dir: DirArg,
    #[command(flatten)]
    policy: PolicyArgs,
    /// Print JSON: one document, written as it is produced (streamed).
    #[arg(long)]
    json: bool,
}

/// Runs a report.
pub fn run(cmd: &ReportCmd) -> Outcome {
    let common = match cmd {
        ReportCmd::Case { common, .. }
        | ReportCmd::Party { common, .. }
        | ReportCmd::Summary { common, .. }
        | ReportCmd::Cases { common } => common,
    };
    let policy = common.policy.load()?;
    let as_of = common.policy.as_of()?;
    // Each report reads only the projections it shows: the kept counters
    // (summary), one case's entry, the entries of the cases a party
    // appears in, or (summary --findings, cases, --all) every case. The
    // database is closed before the report is built and printed, on a
    // thread of its own (`Store::close_in_background`), so that a reader
    // whose output stalls never keeps a writer waiting. Each value is read
    // once: a small cache serves it and, with reads that let sled evict
    // (crates/store/src/scan.rs), keeps what many case reads load from
    // staying in memory.
    let store = open_store_with(&common.dir.dir, true, |c| {
        c.cache_bytes = forewarn_store::RANDOM_READ_CACHE
    })?;
    match cmd {
        ReportCmd::Summary {
            findings: false, ..
        } => return totals(store, common.json),
        ReportCmd::Summary { findings: true, .. } => {
            return summary(store, &policy, as_of, common.json);
        }
        ReportCmd::Cases { .. } => return cases(store, common.json),
        ReportCmd::Party { name, .. } => {
            return party(store, name, &policy, as_of, common.json);
        }
        _ => {}
    }
    let state = match cmd {
        ReportCmd::Case { id: Some(id), .. } => {
            let case = parse_case(id)?;
            store.state_of_cases(&[case])
        }
        ReportCmd::Case { id: None, .. } => store.full_state(),
        ReportCmd::Summary { .. } | ReportCmd::Cases { .. } | ReportCmd::Party { .. } => {
            unreachable!("answered above")
        }
    }
    .map_err(store_failure)?;
    let root = store.auditor().root();
    store.close_in_background().map_err(store_failure)?;
    let report = report::build(&state, &policy, as_of, &root);
    match cmd {
        ReportCmd::Case { id, all, .. } => {
            let cases: Vec<&CaseReport> = if *all {
                report.cases.iter().collect()
            } else {
                let id = id
                    .as_deref()
                    .ok_or_else(|| Failure::input("no case id", "pass a case id, or --all"))?;
                let case = parse_case(id)?;
                vec![
                    report
                        .cases
                        .iter()
                        .find(|c| c.case == case)
                        .ok_or_else(|| {
                            Failure::input(
                                format!("the ledger has no case {id}"),
                                "list the cases with `forewarn report cases`",
                            )
                        })?,
                ]
            };
            if common.json {
                print_json_pretty(&cases);
            } else {
                for c in cases {
                    print_case(c, &report);
                }
            }
        }
        ReportCmd::Summary { .. } | ReportCmd::Cases { .. } | ReportCmd::Party { .. } => {
            unreachable!("answered above")
        }
    }
    Ok(())
}

/// A sealed, opened or clear value as a report shows it.
fn shown(s: &Shown) -> String {
    match s {
        Shown::Clear(v) => v.clone(),
        Shown::Opened(v) => format!("{v} (opened)"),
        Shown::Sealed(c) => format!("sealed:{}…", &c[..12]),
    }
}

/// Findings the text summary lists (the rest are counted).
pub const SHOWN_FINDINGS: usize = 40;

/// The parties of the hot state: number, name, class.
fn party_rows(hot: &AuditState) -> Vec<(PartyId, String, PartyClass)> {
    hot.parties
        .iter()
        .map(|(id, p)| (*id, p.name.clone(), p.class))
        .collect()
}

/// Prints the parties: one JSON document with `head` (the summary), or
/// text lines after what the caller printed.
fn print_with_parties(
    head: &impl serde::Serialize,
    parties: &[(PartyId, String, PartyClass)],
    json: bool,
) {
    if json {
        let rows = parties
            .iter()
            .map(|(party, name, class)| crate::cli::json::PartyRow {
                party: *party,
                name,
                class: *class,
            });
        print_json_pretty(&crate::cli::json::summary_document(head, rows));
    } else {
        outln!("parties:");
        for (party, name, class) in parties {
            outln!("  {:>6}  {:<40} {}", party, name, class.name());
        }
    }
}

/// `report summary`: the counters every commit keeps (`m:hot`) and the
/// parties, read without loading any case.
fn totals(store: forewarn_store::Store, json: bool) -> Outcome {
    let hot = store.auditor().state();
    let totals = report::Totals::of(hot, store.counts(), &store.auditor().root());
    let parties = party_rows(hot);
    store.close_in_background().map_err(store_failure)?;
    if !json {
        print_totals(&totals);
    }
    print_with_parties(&totals, &parties, json);
    if !json {
        outln!(
            "findings and early notice: `forewarn report summary --findings` (reads every case); cases: `forewarn report cases`"
        );
    }
    Ok(())
}

/// `report summary --findings`: the store's cases are read one at a time,
/// each folded into the summary and dropped
/// ([`crate::cli::projected::summary_and_first`]), so memory stays that of one
/// case; the time is linear in the number of cases.
fn summary(
    store: forewarn_store::Store,
    policy: &AuditPolicy,
    as_of: Millis,
    json: bool,
) -> Outcome {
    let (summary, first, total) = crate::cli::projected::summary_and_first(
        &store.projections(),
        &store.auditor().root(),
        policy,
        as_of,
        SHOWN_FINDINGS,
    )
    .map_err(store_failure)?;
    let parties = party_rows(store.auditor().state());
    store.close_in_background().map_err(store_failure)?;
    if !json {
        print_summary(&summary);
    }
    print_with_parties(&summary, &parties, json);
    if !json {
        print_counted_findings(&first, total, SHOWN_FINDINGS);
    }
    Ok(())
}

/// `report party NAME`: the party's cases from its index, each read,
/// reported and dropped in turn ([`crate::cli::projected::party_report`]),
/// so memory and time follow the party's cases, not the log.
fn party(
    store: forewarn_store::Store,
    name: &str,
    policy: &AuditPolicy,
    as_of: Millis,
    json: bool,
) -> Outcome {
    let party = party_named(store.auditor().state(), name)?;
    let p = crate::cli::projected::party_report(&store.projections(), party, policy, as_of)
        .map_err(store_failure)?
        .ok_or_else(|| {
            Failure::input(
                format!("no party named {name:?}"),
                "list the parties with `forewarn report summary`",
            )
        })?;
    store.close_in_background().map_err(store_failure)?;
    let p = &p;
    if json {
        print_json_pretty(p);
    } else {
        outln!(
            "{} ({}, party {}), registered {}",
            p.name,
            p.class.name(),
            p.party,
            format_time(p.registered_at)
        );
        outln!(
            "{:<34} {:<9} {:<18} {:<10} {:>12}",
            "case",
            "how",
            "knew at",
            "level",
            "before P"
        );
        for c in &p.cases {
            outln!(
                "{:<34} {:<9} {:<18} {:<10} {:>12}",
                c.case.to_string(),
                c.how,
                format_time(c.first_known_at),
                c.level
                    .map(|l| format!("{l:?}").to_lowercase())
                    .unwrap_or_else(|| "-".into()),
                c.lead_before_public_ms
                    .map(format_days)
                    .unwrap_or_else(|| "not public".into())
            );
        }
        outln!("findings concerning this party: {}", p.findings);
    }
    Ok(())
}

/// `report cases`: every case's opening record, id, time and subject,
/// read one case at a time and printed in the order they were opened.
fn cases(store: forewarn_store::Store, json: bool) -> Outcome {
    let mut rows: Vec<(RecordRef, CaseId, Millis, Shown)> = Vec::new();
    let p = store.projections();
    let ids = p.case_ids().map_err(store_failure)?;
    crate::cli::projected::each_case(&p, &ids, |part, id| {
        rows.extend(
            report::case_report(part, id, &[])
                .iter()
                .map(|c| (c.opened_record, c.case, c.opened_at, c.summary.clone())),
        );
        Ok(())
    })
    .map_err(store_failure)?;
    store.close_in_background().map_err(store_failure)?;
    rows.sort_by_key(|c| c.0);
    if json {
        print_json_pretty(&crate::cli::json::cases_document(rows.iter().map(
            |(record, case, opened_at, summary)| crate::cli::json::CaseRow {
                case: *case,
                opened_record: *record,
                opened_at: *opened_at,
                summary,
            },
        )));
    } else {
        for (_, case, opened_at, text) in &rows {
            outln!(
                "{}  opened {}  {}",
                case,
                format_time(*opened_at),
                shown(text)
            );
        }
        outln!("{} cases", rows.len());
    }
    Ok(())
}

/// The counts line every summary starts with.
fn print_totals(t: &report::Totals) {
    outln!(
        "{} records · {} parties · {} keys · {} cases ({} public) · {} notices ({} acknowledged)",
        t.records,
        t.parties,
        t.keys,
        t.cases,
        t.public_cases,
        t.notices,
        t.acknowledged_notices
    );
}

/// The summary block: counts, early notice by class, findings by category.
pub fn print_summary(s: &report::Summary) {
    print_totals(&s.totals);
    outln!(
        "policy: {} · evaluated at {}",
        s.policy,
        format_time(s.as_of)
    );
    if !s.early_notice.is_empty() {
        outln!("told before the public, by recipient class:");
        for c in &s.early_notice {
            outln!(
                "  {:<12} {:>4} recipients, median {:>6.1} days early, at most {:>6.1}",
                c.class.name(),
                c.told_before_public,
                c.median_days_before_public.unwrap_or(0.0),
                c.max_days_before_public.unwrap_or(0.0)
            );
        }
    }
    outln!(
        "findings: {} protocol, {} policy",
        s.protocol_findings,
        s.policy_findings
    );
}

/// At most `max` findings, one line each.
pub fn print_findings(findings: &[Finding], max: usize) {
    print_counted_findings(findings, findings.len(), max);
}

/// The first `max` of `total` findings (`first` holds at least those),
/// one line each, and how many more there are.
pub fn print_counted_findings(first: &[Finding], total: usize, max: usize) {
    for f in first.iter().take(max) {
        outln!(
            "  record {:>6}  {:<8} {:<28} {}",
            f.record,
            format!("{:?}", f.category()).to_lowercase(),
            report::serde_name(f.kind),
            f.detail
        );
    }
    if total > max {
        outln!("  … and {} more (use --json for all)", total - max);
    }
}

/// The who-knew-when table of one case.
pub fn print_case(c: &CaseReport, r: &Report) {
    let party = |id: PartyId| {
        r.parties
            .iter()
            .find(|p| p.party == id)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| id.to_string())
    };
    outln!(
        "case {} — {} — {}",
        c.case,
        shown(&c.summary),
        shown(&c.product)
    );
    for (scheme, v) in &c.identifiers {
        outln!("  identifier {scheme:?}: {}", shown(v));
    }
    outln!(
        "  opened {} by {}",
        format_time(c.opened_at),
        party(c.opener)
    );
    let t = |x: Option<u64>| x.map(format_time).unwrap_or_else(|| "—".into());
    outln!(
        "  V vendor aware {} · F fix ready {} · D fix released {} · P public {} · X exploit {} · A attacks {}",
        t(c.vendor_aware_at),
        t(c.fix_ready_at),
        t(c.fix_released_at),
        t(c.public_at),
        t(c.exploit_public_at),
        t(c.attacks_at)
    );
    for e in &c.embargoes {
        outln!(
            "  embargo (record {}): proposed {} by {}, ends {}, {} extension(s){}",
            e.record,
            format_time(e.proposed_at),
            party(e.proposer),
            format_time(e.ends_at),
            e.extensions,
            match (e.terminated_at, e.reason) {
                (Some(at), Some(reason)) => format!(", ended {} ({reason:?})", format_time(at)),
                _ => String::new(),
            }
        );
    }
    outln!("  who knew, and when:");
    outln!(
        "    {:<32} {:<12} {:<9} {:<18} {:<10} {:<18} {:>10} {:>10}",
        "party",
        "class",
        "how",
        "knew at",
        "level",
        "acknowledged",
        "before P",
        "before D"
    );
    for w in &c.who_knew {
        outln!(
            "    {:<32} {:<12} {:<9} {:<18} {:<10} {:<18} {:>10} {:>10}",
            truncate(&shown(&w.name), 32),
            w.class.name(),
            w.how,
            format_time(w.first_known_at),
            w.level
                .map(|l| format!("{l:?}").to_lowercase())
                .unwrap_or_else(|| "-".into()),
            w.acknowledged_at.map(format_time).unwrap_or_else(|| {
                if w.how == report::Learned::Notified && w.party.is_some() {
                    "NOT YET".into()
                } else {
                    "-".into()
                }
            }),
            w.lead_before_public_ms
                .map(format_days)
                .unwrap_or_else(|| "—".into()),
            w.lead_before_fix_ms
                .map(format_days)
                .unwrap_or_else(|| "—".into()),
        );
    }
    if c.findings.is_empty() {
        outln!("  findings: none");
    } else {
        outln!("  findings:");
        print_findings(&c.findings, 20);
    }
    outln!();
}

/// `s` cut to `n` characters, with an ellipsis if cut.
fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let t: String = s.chars().take(n - 1).collect();
        format!("{t}…")
    }
}
