//! `forewarn audit`: replays a whole ledger, or a static tile export using
//! only its files, checking every hash, link, signature and rule; then the
//! policy's findings. Also the policy selection `audit` and `report` share.

use std::path::{Path, PathBuf};

use clap::Args;
use forewarn_ledger::*;

use crate::cli::files::{
    POLICY_FILE_LIMIT, line_column, load_vkey, read_text_or, shown_argument,
    without_quotes_from_input,
};
use crate::cli::json;
use crate::cli::ledger::{say_if_busy, store_failure};
use crate::cli::output::outln;
use crate::cli::output::progress_callback;
use crate::cli::projected;
use crate::cli::time::{now, parse_time};
use crate::cli::{Failure, Outcome};
use crate::cmd::evidence;
use crate::cmd::report::{SHOWN_FINDINGS, print_counted_findings, print_summary};

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
    /// The preset of that name, or the TOML policy file at that path.
    pub fn load(&self) -> Result<AuditPolicy, Failure> {
        if let Some(p) = AuditPolicy::preset(&self.policy) {
            return Ok(p);
        }
        let path = Path::new(&self.policy);
        if !path.exists() {
            return Err(Failure::input(
                format!(
                    "{} is neither a preset nor a file",
                    shown_argument(&self.policy)
                ),
                format!("use one of {} or a TOML file", policy::PRESETS.join(", ")),
            ));
        }
        let text = read_text_or(path, POLICY_FILE_LIMIT, |e| {
            Failure::input(
                format!("cannot read {}: {e}", path.display()),
                "check the path",
            )
        })?;
        let mut p: AuditPolicy = toml::from_str(&text).map_err(|e| {
            // toml's own Display quotes the offending line, which for a key
            // file passed by mistake is the key: say where and what instead.
            let (line, column) = line_column(&text, e.span().map_or(0, |s| s.start));
            Failure::input(
                format!(
                    "{} is not a valid policy: line {line}, column {column}: {}",
                    path.display(),
                    without_quotes_from_input(e.message())
                ),
                "see docs/AUDITING.md for the fields",
            )
        })?;
        if p.name == AuditPolicy::default().name {
            p.name = path.display().to_string();
        }
        Ok(p)
    }

    /// `--as-of`, or now.
    pub fn as_of(&self) -> Result<u64, Failure> {
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
    /// Where to write seen-root evidence if a record's claimed seen root
    /// is not the log's (default: seen-root-INDEX.evidence in the
    /// current directory; never overwritten). With --dir only.
    #[arg(long, conflicts_with = "tiles")]
    pub evidence: Option<PathBuf>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Print the full report as one JSON document, written as it is
    /// produced (streamed; keys in the report types' field order).
    #[arg(long)]
    pub json: bool,
    /// Where the audit keeps the replayed projections while it runs (a
    /// new directory, removed at the end; about the size of the ledger's
    /// database). Default: the system's temporary directory ($TMPDIR).
    #[arg(long, value_name = "DIR")]
    pub scratch: Option<PathBuf>,
}

/// `FOREWARN_TRACE` (docs/CLI.md): the time of each phase of the audit on
/// standard error, so that the auditor's own rate and the command's can be
/// compared in one run (docs/PERFORMANCE.md).
struct Trace(Option<std::time::Instant>);

impl Trace {
    fn new() -> Trace {
        Trace(std::env::var_os("FOREWARN_TRACE").map(|_| std::time::Instant::now()))
    }

    /// Ends the phase `what`; with the records it covered, prints their rate.
    fn phase(&mut self, what: &str, records: Option<u64>) {
        let Some(start) = &mut self.0 else {
            return;
        };
        let secs = start.elapsed().as_secs_f64();
        match records {
            Some(n) => eprintln!(
                "forewarn: trace: {what} {secs:.3} s ({:.0} records/s)",
                n as f64 / secs
            ),
            None => eprintln!("forewarn: trace: {what} {secs:.3} s"),
        }
        *start = std::time::Instant::now();
    }
}

/// Full audit. Exit 0 clean, 1 findings only, 3 integrity failure.
pub fn run(args: &AuditArgs) -> Outcome {
    let mut trace = Trace::new();
    let policy = args.policy.load()?;
    let as_of = args.policy.as_of()?;
    let config = AuditConfig {
        policy: policy.clone(),
        threads: std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8),
        ..AuditConfig::default()
    };
    let scratch = args.scratch.as_deref();
    if let Some(dir) = scratch
        && !dir.is_dir()
    {
        return Err(scratch_failure_of(format!(
            "{} is not a directory",
            dir.display()
        )));
    }
    let (replay, source) = if let Some(tiles) = &args.tiles {
        let vkey = args.vkey.as_deref().ok_or_else(|| {
            Failure::input("--tiles needs --vkey", "pin the log's public key: --vkey log.vkey (from the log's operator, not from the export)")
        })?;
        let vkey = load_vkey(vkey)?;
        let cb = progress_callback("auditing tiles");
        let a =
            forewarn_store::export::audit_tiles_paged(tiles, &vkey, config, scratch, &|d, t| {
                cb(d, t)
            })
            .map_err(|e| {
                match e {
            forewarn_store::export::ExportAuditError::Scratch(e) => scratch_failure(e),
            e => Failure::integrity(
                format!("integrity failure in {}: {e}", tiles.display()),
                Some(
                    "the export does not match a log signed by this key; do not trust its contents"
                        .into(),
                ),
            ),
        }
            })?;
        trace.phase("audit", Some(a.size()));
        (a, tiles.display().to_string())
    } else {
        let dir = args
            .dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("forewarn-data"));
        // A copy of the signed state, taken with the database closed again
        // at once: the long audit below does not lock writers out.
        say_if_busy(&dir);
        let parent = scratch.map_or_else(std::env::temp_dir, Path::to_path_buf);
        let store = forewarn_store::LogCopy::take_into(
            &dir,
            forewarn_store::DEFAULT_LOCK_WAIT,
            Some(&parent),
        )
        .map_err(|e| match &e {
            // The copy's file of bundles goes to the scratch directory.
            forewarn_store::StoreError::Io { path, .. } if *path == parent => scratch_failure(e),
            _ => store_failure(e),
        })?;
        trace.phase("copy", None);
        if let Some(v) = &args.vkey {
            let pinned = load_vkey(v)?;
            if pinned.to_string() != store.vkey().to_string() {
                return Err(Failure::integrity(
                    format!(
                        "the ledger in {} is signed by {}, not the pinned key",
                        dir.display(),
                        store.vkey()
                    ),
                    // Every integrity failure says what to do next.
                    Some(
                        "this is not the log the pinned key names: check the --vkey you were given, and do not trust this ledger as that log"
                            .into(),
                    ),
                ));
            }
        }
        let bar = progress_callback("auditing");
        let fresh = store
            .audit_paged(config.clone(), scratch, &|d, t| bar(d, t))
            .map_err(|f| {
                if let forewarn_store::AuditError::Scratch(e) = f {
                    return scratch_failure(e);
                }
                let mut hint = "the ledger is not trustworthy from this record on".to_string();
                let vkey = args
                    .vkey
                    .clone()
                    .unwrap_or_else(|| dir.join(forewarn_store::VKEY_FILE).display().to_string());
                let evidence = args.evidence.as_deref();
                if let Some(more) = evidence::after_audit_failure(&store, &f, evidence, &vkey) {
                    hint = format!("{hint}; {more}");
                }
                Failure::integrity(format!("integrity failure: {f}"), Some(hint))
            })?;
        trace.phase("audit", Some(fresh.size()));
        (fresh, dir.display().to_string())
    };
    let findings = if args.json {
        let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        let written = projected::write_audit_document(
            &mut out,
            json::Layout::Pretty,
            &source,
            &replay,
            &policy,
            as_of,
            projected::Reading::default(),
        )
        .and_then(|n| {
            use std::io::Write as _;
            out.flush().map(|()| n).map_err(projected::Unwritten::Write)
        });
        match written {
            Ok(n) => {
                trace.phase("report", None);
                n
            }
            Err(projected::Unwritten::Read(e)) => return Err(scratch_failure(e)),
            Err(projected::Unwritten::Write(e)) => {
                // What is still buffered can no longer be delivered.
                drop(out.into_parts());
                crate::cli::output::stdout_failed(&e)
            }
        }
    } else {
        // The text prints the summary and the first findings only.
        let (summary, first, total) = projected::summary_and_first(
            &replay.projections(),
            &replay.auditor().root(),
            &policy,
            as_of,
            SHOWN_FINDINGS,
        )
        .map_err(scratch_failure)?;
        trace.phase("report", None);
        outln!(
            "integrity: ok — {} records, every hash, link and signature checked",
            summary.totals.records
        );
        outln!(
            "checkpoint: size {} root {}",
            summary.totals.records,
            summary.totals.root
        );
        outln!();
        print_summary(&summary);
        print_counted_findings(&first, total, SHOWN_FINDINGS);
        total
    };
    trace.phase("output", None);
    if findings > 0 {
        return Err(Failure::not_verified(format!(
            "{findings} findings (see above)"
        )));
    }
    Ok(())
}

/// The audit's own scratch database failed (not the ledger): say where it
/// was and how to give it room.
fn scratch_failure(e: forewarn_store::StoreError) -> Failure {
    scratch_failure_of(e.to_string())
}

/// [`scratch_failure`] for a failure already told in words.
fn scratch_failure_of(why: String) -> Failure {
    Failure {
        exit: crate::Exit::Input,
        message: format!("the audit's scratch directory failed: {why}"),
        hint: Some(
            "the audit keeps its replayed projections on disk: give --scratch a directory with room (about the size of the ledger's database)"
                .into(),
        ),
    }
}
