//! Auditing and reporting: `forewarn audit`, `forewarn report`, `forewarn
//! export`, `forewarn check`, and the text rendering of reports (the JSON is
//! the report types' own serialization).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand};
use forewarn_ledger::report::{self, CaseReport, Report, Shown};
use forewarn_ledger::*;
use forewarn_store::StoreConfig;
use indicatif::{ProgressBar, ProgressStyle};

use crate::ledger::{DirArg, parse_case, store_failure};
use crate::time::{format_days, format_time, now, parse_time};
use crate::{Failure, Outcome, load_vkey};

/// A progress callback drawing an indicatif bar on standard error (hidden
/// when standard error is not a terminal).
pub fn progress_callback(what: &'static str) -> Arc<dyn Fn(u64, u64) + Send + Sync> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>20} [{bar:40}] {pos}/{len} records ({per_sec}, eta {eta})",
        )
        .expect("template")
        .progress_chars("=> "),
    );
    bar.set_message(what);
    Arc::new(move |done, total| {
        bar.set_length(total);
        bar.set_position(done);
        if done >= total {
            bar.finish_and_clear();
        }
    })
}

/// Policy selection shared by audit and report.
#[derive(Args, Clone, Debug)]
pub struct PolicyArgs {
    /// A preset (baseline, linux-distros, cert-cc, project-zero, eu-cra) or
    /// a TOML policy file (fields in docs/AUDITING.md).
    #[arg(long, default_value = "baseline")]
    pub policy: String,
    /// Evaluate deadlines ("never acknowledged" …) at this UTC time
    /// (default: now).
    #[arg(long)]
    pub as_of: Option<String>,
}

impl PolicyArgs {
    fn load(&self) -> Result<Policy, Failure> {
        if let Some(p) = Policy::preset(&self.policy) {
            return Ok(p);
        }
        let path = Path::new(&self.policy);
        if !path.exists() {
            return Err(Failure::input(
                format!("{:?} is neither a preset nor a file", self.policy),
                format!("use one of {} or a TOML file", policy::PRESETS.join(", ")),
            ));
        }
        let text = std::fs::read_to_string(path).map_err(|e| {
            Failure::input(
                format!("cannot read {}: {e}", path.display()),
                "check the path",
            )
        })?;
        let mut p: Policy = toml::from_str(&text).map_err(|e| {
            Failure::input(
                format!("{} is not a valid policy: {e}", path.display()),
                "see docs/AUDITING.md for the fields",
            )
        })?;
        if p.name == Policy::default().name {
            p.name = path.display().to_string();
        }
        Ok(p)
    }

    fn as_of(&self) -> Result<u64, Failure> {
        match &self.as_of {
            None => Ok(now()),
            Some(t) => parse_time(t).map_err(|e| Failure::input(e, "pass --as-of in UTC")),
        }
    }
}

/// Arguments of `forewarn audit`.
#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Audit the ledger in this directory (default: ./forewarn-data).
    #[arg(long, conflicts_with = "tiles")]
    pub dir: Option<PathBuf>,
    /// Audit a static tile export (from `forewarn export`) instead, using
    /// only its files.
    #[arg(long)]
    pub tiles: Option<PathBuf>,
    /// The log's public key (vkey text or file). Required with --tiles;
    /// with --dir the ledger's own log.vkey is used unless given.
    #[arg(long)]
    pub vkey: Option<String>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Print the full report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Full audit. Exit 0 clean, 1 findings only, 3 integrity failure.
pub fn audit(args: &AuditArgs) -> Outcome {
    let policy = args.policy.load()?;
    let as_of = args.policy.as_of()?;
    let config = AuditConfig {
        policy: policy.clone(),
        threads: std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8),
        ..AuditConfig::default()
    };
    let (auditor, source) = if let Some(tiles) = &args.tiles {
        let vkey = args.vkey.as_deref().ok_or_else(|| {
            Failure::input("--tiles needs --vkey", "pin the log's public key: --vkey log.vkey (from the log's operator, not from the export)")
        })?;
        let vkey = load_vkey(vkey)?;
        let cb = progress_callback("auditing tiles");
        let a = forewarn_store::export::audit_tiles(tiles, &vkey, config, &|d, t| cb(d, t))
            .map_err(|e| Failure {
                code: 3,
                message: format!("integrity failure in {}: {e}", tiles.display()),
                hint: Some(
                    "the export does not match a log signed by this key; do not trust its contents"
                        .into(),
                ),
            })?;
        (a, tiles.display().to_string())
    } else {
        let dir = args
            .dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("forewarn-data"));
        // A copy of the signed state, taken with the database closed again
        // at once: the long audit below does not lock writers out.
        let store = forewarn_store::LogCopy::take(&dir, forewarn_store::DEFAULT_LOCK_WAIT)
            .map_err(store_failure)?;
        if let Some(v) = &args.vkey {
            let pinned = load_vkey(v)?;
            if pinned.to_string() != store.vkey().to_string() {
                return Err(Failure {
                    code: 3,
                    message: format!(
                        "the ledger in {} is signed by {}, not the pinned key",
                        dir.display(),
                        store.vkey()
                    ),
                    hint: None,
                });
            }
        }
        let bar = progress_callback("auditing");
        let fresh = store
            .audit(config.clone(), &|d, t| bar(d, t))
            .map_err(|f| Failure {
                code: 3,
                message: format!("integrity failure: {f}"),
                hint: Some("the ledger is not trustworthy from this record on".into()),
            })?;
        (fresh, dir.display().to_string())
    };
    let report = report::build(auditor.state(), &policy, as_of, &auditor.root());
    let findings = report.findings.len();
    if args.json {
        let out = serde_json::json!({ "integrity": "ok", "source": source, "report": report });
        println!("{}", serde_json::to_string_pretty(&out).expect("JSON"));
    } else {
        println!(
            "integrity: ok — {} records, every hash, link and signature checked",
            report.summary.records
        );
        println!(
            "checkpoint: size {} root {}",
            report.summary.records, report.summary.root
        );
        println!();
        print_summary(&report);
        print_findings(&report.findings, 40);
    }
    if findings > 0 {
        return Err(Failure {
            code: 1,
            message: format!("{findings} findings (see above)"),
            hint: None,
        });
    }
    Ok(())
}

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
    /// Counts, early notice by recipient class, and findings.
    ///
    /// Example: forewarn report summary --policy cert-cc --json
    Summary {
        #[command(flatten)]
        common: ReportCommon,
    },
}

/// Options of every report.
#[derive(Args, Debug)]
pub struct ReportCommon {
    #[command(flatten)]
    dir: DirArg,
    #[command(flatten)]
    policy: PolicyArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Runs a report.
pub fn report_cmd(cmd: &ReportCmd) -> Outcome {
    let common = match cmd {
        ReportCmd::Case { common, .. }
        | ReportCmd::Party { common, .. }
        | ReportCmd::Summary { common } => common,
    };
    let policy = common.policy.load()?;
    let as_of = common.policy.as_of()?;
    // The state is taken from a copy (the database is closed before the
    // replay or report), so a long report does not lock writers out.
    let copy = forewarn_store::LogCopy::take(&common.dir.dir, forewarn_store::DEFAULT_LOCK_WAIT)
        .map_err(store_failure)?;
    let bar: Arc<dyn Fn(u64, u64) + Send + Sync> = if common.json {
        Arc::new(|_, _| {})
    } else {
        progress_callback("reading the ledger")
    };
    let a = copy
        .auditor(StoreConfig::default().audit, &|d, t| bar(d, t))
        .map_err(store_failure)?;
    let report = report::build(a.state(), &policy, as_of, &a.root());
    let json =
        |v: serde_json::Value| println!("{}", serde_json::to_string_pretty(&v).expect("JSON"));
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
                                "list the cases with `forewarn report summary`",
                            )
                        })?,
                ]
            };
            if common.json {
                json(serde_json::to_value(&cases).expect("JSON"));
            } else {
                for c in cases {
                    print_case(c, &report);
                }
            }
        }
        ReportCmd::Party { name, .. } => {
            let p = report
                .parties
                .iter()
                .find(|p| p.name == *name || p.party.to_string() == *name)
                .ok_or_else(|| {
                    Failure::input(
                        format!("no party named {name:?}"),
                        "list the parties with `forewarn report summary`",
                    )
                })?;
            if common.json {
                json(serde_json::to_value(p).expect("JSON"));
            } else {
                println!(
                    "{} ({}, party {}), registered {}",
                    p.name,
                    p.class.name(),
                    p.party,
                    format_time(p.registered_at)
                );
                println!(
                    "{:<34} {:<9} {:<18} {:<10} {:>12}",
                    "case", "how", "knew at", "level", "before P"
                );
                for c in &p.cases {
                    println!(
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
                println!("findings concerning this party: {}", p.findings);
            }
        }
        ReportCmd::Summary { .. } => {
            if common.json {
                json(
                    serde_json::json!({ "summary": report.summary, "parties": report.parties.iter().map(|p| serde_json::json!({"party": p.party, "name": p.name, "class": p.class})).collect::<Vec<_>>(), "cases": report.cases.iter().map(|c| c.case.to_string()).collect::<Vec<_>>() }),
                );
            } else {
                print_summary(&report);
                println!("parties:");
                for p in &report.parties {
                    println!("  {:>6}  {:<40} {}", p.party, p.name, p.class.name());
                }
                println!("cases:");
                for c in &report.cases {
                    println!(
                        "  {}  opened {}  {}",
                        c.case,
                        format_time(c.opened_at),
                        shown(&c.summary)
                    );
                }
                print_findings(&report.findings, 40);
            }
        }
    }
    Ok(())
}

pub(crate) fn shown(s: &Shown) -> String {
    match s {
        Shown::Clear(v) => v.clone(),
        Shown::Opened(v) => format!("{v} (opened)"),
        Shown::Sealed(c) => format!("sealed:{}…", &c[..12]),
    }
}

pub(crate) fn print_summary(r: &Report) {
    let s = &r.summary;
    println!(
        "{} records · {} parties · {} keys · {} cases ({} public) · {} notices ({} acknowledged)",
        s.records, s.parties, s.keys, s.cases, s.public_cases, s.notices, s.acknowledged_notices
    );
    println!(
        "policy: {} · evaluated at {}",
        s.policy,
        format_time(s.as_of)
    );
    if !s.early_notice.is_empty() {
        println!("told before the public, by recipient class:");
        for c in &s.early_notice {
            println!(
                "  {:<12} {:>4} recipients, median {:>6.1} days early, at most {:>6.1}",
                c.class.name(),
                c.told_before_public,
                c.median_days_before_public.unwrap_or(0.0),
                c.max_days_before_public.unwrap_or(0.0)
            );
        }
    }
    println!(
        "findings: {} protocol, {} policy",
        s.protocol_findings, s.policy_findings
    );
}

pub(crate) fn print_findings(findings: &[Finding], max: usize) {
    for f in findings.iter().take(max) {
        println!(
            "  record {:>6}  {:<8} {:<28} {}",
            f.record,
            format!("{:?}", f.category()).to_lowercase(),
            report::serde_name(f.kind),
            f.detail
        );
    }
    if findings.len() > max {
        println!("  … and {} more (use --json for all)", findings.len() - max);
    }
}

pub(crate) fn print_case(c: &CaseReport, r: &Report) {
    let party = |id: u64| {
        r.parties
            .iter()
            .find(|p| p.party == id)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| id.to_string())
    };
    println!(
        "case {} — {} — {}",
        c.case,
        shown(&c.summary),
        shown(&c.product)
    );
    for (scheme, v) in &c.identifiers {
        println!("  identifier {scheme:?}: {}", shown(v));
    }
    println!(
        "  opened {} by {}",
        format_time(c.opened_at),
        party(c.opener)
    );
    let t = |x: Option<u64>| x.map(format_time).unwrap_or_else(|| "—".into());
    println!(
        "  V vendor aware {} · F fix ready {} · D fix released {} · P public {} · X exploit {} · A attacks {}",
        t(c.vendor_aware_at),
        t(c.fix_ready_at),
        t(c.fix_released_at),
        t(c.public_at),
        t(c.exploit_public_at),
        t(c.attacks_at)
    );
    for e in &c.embargoes {
        println!(
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
    println!("  who knew, and when:");
    println!(
        "    {:<32} {:<12} {:<9} {:<18} {:<10} {:<18} {:>10} {:>10}",
        "party", "class", "how", "knew at", "level", "acknowledged", "before P", "before D"
    );
    for w in &c.who_knew {
        println!(
            "    {:<32} {:<12} {:<9} {:<18} {:<10} {:<18} {:>10} {:>10}",
            truncate(&shown(&w.name), 32),
            w.class.name(),
            w.how,
            format_time(w.first_known_at),
            w.level
                .map(|l| format!("{l:?}").to_lowercase())
                .unwrap_or_else(|| "-".into()),
            w.acknowledged_at.map(format_time).unwrap_or_else(|| {
                if w.how == "notified" && w.party.is_some() {
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
        println!("  findings: none");
    } else {
        println!("  findings:");
        print_findings(&c.findings, 20);
    }
    println!();
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let t: String = s.chars().take(n - 1).collect();
        format!("{t}…")
    }
}

/// `forewarn export --to DIR`
pub fn export(dir: &Path, to: &Path) -> Outcome {
    let store = crate::ledger::open_store(dir, false)?;
    let bar = progress_callback("exporting");
    let files = store
        .export_tiles(to, &|d, t| bar(d, t))
        .map_err(store_failure)?;
    println!(
        "wrote {files} files for {} records to {}",
        store.size(),
        to.display()
    );
    println!("serve that directory with any static web server; audit it with:");
    println!(
        "  forewarn audit --tiles {} --vkey {}",
        to.display(),
        dir.join(forewarn_store::VKEY_FILE).display()
    );
    Ok(())
}

/// `forewarn check`: the store's own consistency walk.
pub fn check(dir: &Path, json: bool) -> Outcome {
    let store = crate::ledger::open_store(dir, json)?;
    let a = store.check().map_err(store_failure)?;
    if json {
        println!(
            "{}",
            serde_json::json!({"consistent": true, "records": a.size(), "root": a.root().to_hex()})
        );
    } else {
        println!(
            "consistent: {} records, root {}, matching the signed checkpoint, every stored hash and index",
            a.size(),
            a.root().to_hex()
        );
    }
    Ok(())
}
