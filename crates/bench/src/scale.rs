//! `forewarn-bench scale`: what one command costs as the log grows. For
//! each size it builds a ledger with the ingest benchmark (or reuses one
//! left by an earlier run in the same directory), then runs the real
//! `forewarn` binary on it, one command at a time, and reports each one's
//! wall time and peak resident memory beside the in-process auditor's rate
//! measured in the same run (docs/PERFORMANCE.md, "Cost as the log grows").
//!
//! Peak memory is the child's `VmHWM` from `/proc/PID/status`, sampled
//! every 2 ms while it runs (the last few milliseconds before it exits
//! are not seen; the peak is reached while it works).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use forewarn_ledger::auditor::AuditConfig;
use forewarn_ledger::types::PartyId;
use forewarn_store::{LogCopy, Store, StoreConfig};

use crate::{Failure, Outcome, fail};

/// One command's cost.
struct Cost {
    wall: Duration,
    peak_kib: u64,
}

/// Runs `forewarn ARGS` to completion, its output discarded, and measures
/// it; fails if it exits with a code not in `expect`. The cost is also
/// printed at once to standard error, so a long run that fails later
/// keeps what it measured.
fn measure(forewarn: &Path, args: &[&str], expect: &[i32]) -> Result<Cost, Failure> {
    let started = Instant::now();
    let mut child = Command::new(forewarn)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot run {}: {e}", forewarn.display())))?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_path)
            && let Some(line) = text.lines().find(|l| l.starts_with("VmHWM:"))
            && let Some(kib) = line.split_whitespace().nth(1).and_then(|v| v.parse().ok())
        {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().map_err(fail)? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let wall = started.elapsed();
    if !status.code().is_some_and(|c| expect.contains(&c)) {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            use std::io::Read;
            let _ = e.read_to_string(&mut err);
        }
        return Err(fail(format!(
            "forewarn {} exited with {status}: {}",
            args.join(" "),
            err.trim()
        )));
    }
    eprintln!(
        "measured: forewarn {}: {:.0} ms, {:.0} MiB",
        args.join(" "),
        wall.as_secs_f64() * 1000.0,
        mib(peak)
    );
    Ok(Cost {
        wall,
        peak_kib: peak,
    })
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The `forewarn` binary beside this one.
fn forewarn_binary() -> Result<PathBuf, Failure> {
    let exe = std::env::current_exe().map_err(fail)?;
    let path = exe.with_file_name("forewarn");
    if path.exists() {
        Ok(path)
    } else {
        Err(fail(format!(
            "{} not found: build it first (cargo build --release -p forewarn -p forewarn-bench)",
            path.display()
        )))
    }
}

/// A case, a party's name and the size of the ledger at `ledger`.
fn sample(ledger: &Path) -> Result<(String, String, u64), Failure> {
    let store = Store::open(ledger, StoreConfig::default()).map_err(fail)?;
    let size = store.size();
    let party = PartyId(0);
    let name = store
        .auditor()
        .state()
        .parties
        .get(&party)
        .map(|p| p.name.clone())
        .ok_or_else(|| fail("the ledger has no party 0"))?;
    let case = store
        .cases_of_party(party)
        .map_err(fail)?
        .last()
        .copied()
        .ok_or_else(|| fail("party 0 is in no case"))?;
    store.close().map_err(fail)?;
    Ok((case.to_string(), name, size))
}

/// `forewarn-bench scale`.
pub(crate) fn scale(sizes: &[u64], dir: &Path) -> Outcome {
    let forewarn = forewarn_binary()?;
    for &n in sizes {
        let root = dir.join(n.to_string());
        let ledger = root.join("ledger");
        if ledger.exists() {
            println!("reusing the ledger in {}", ledger.display());
        } else {
            build_ledger(n, &root)?;
        }
        let l = ledger
            .to_str()
            .ok_or_else(|| fail("the directory is not UTF-8"))?;
        let keys = root.join("keys");
        if !keys.exists() {
            let k = keys
                .to_str()
                .ok_or_else(|| fail("the directory is not UTF-8"))?;
            measure(
                &forewarn,
                &["keygen", "--name", "scale.example", "--out", k],
                &[0],
            )?;
        }
        let key = keys.join("scale.example.key");
        let key = key.to_str().expect("UTF-8 above");
        let (case, party, size) = sample(&ledger)?;

        // Rows are printed at the end, beside the in-process auditor's rate,
        // which is measured last: its copy of the log, freed or not, then
        // no longer shares the machine's memory with the commands measured.
        let mut rows: Vec<(&str, Cost, Option<u64>)> = Vec::new();
        // One step, three times (each registers a new party): on the
        // database as the ingest left it, then again once compacted.
        let steps = |first: u64| -> Result<Cost, Failure> {
            let mut steps = Vec::new();
            for i in 0..3 {
                let name = format!("Scale party {}", first + i);
                steps.push(measure(
                    &forewarn,
                    &[
                        "party", "register", "--key", key, "--name", &name, "--class", "vendor",
                        "--dir", l,
                    ],
                    &[0],
                )?);
                // A key registers one party: a fresh key for the next.
                let k = keys.to_str().expect("UTF-8 above");
                std::fs::remove_file(keys.join("scale.example.key")).map_err(fail)?;
                std::fs::remove_file(keys.join("scale.example.vkey")).map_err(fail)?;
                measure(
                    &forewarn,
                    &["keygen", "--name", "scale.example", "--out", k],
                    &[0],
                )?;
            }
            steps.sort_by_key(|c| c.wall);
            let worst = steps.iter().map(|c| c.peak_kib).max().unwrap_or(0);
            Ok(Cost {
                wall: steps[1].wall,
                peak_kib: worst,
            })
        };
        rows.push(("one step, before compact, median", steps(size)?, None));
        let before = dir_bytes(&ledger.join("db"))?;
        let compacted = measure(&forewarn, &["compact", "--dir", l], &[0])?;
        let after = dir_bytes(&ledger.join("db"))?;
        println!(
            "database: {:.0} MiB as ingested, {:.0} MiB compacted",
            before as f64 / f64::from(1 << 20),
            after as f64 / f64::from(1 << 20)
        );
        rows.push(("compact", compacted, None));
        rows.push(("one step (party register), median", steps(size + 3)?, None));
        rows.push((
            "report case ID",
            measure(&forewarn, &["report", "case", &case, "--dir", l], &[0])?,
            None,
        ));
        rows.push((
            "report party NAME",
            measure(&forewarn, &["report", "party", &party, "--dir", l], &[0])?,
            None,
        ));
        rows.push((
            "report summary",
            measure(&forewarn, &["report", "summary", "--dir", l], &[0])?,
            None,
        ));
        // A generated log has findings (exit 1) or none (exit 0): take
        // either, but nothing else.
        let audit = |args: &[&str]| measure(&forewarn, args, &[0, 1]);
        let size = size + 6;
        rows.push(("audit --dir", audit(&["audit", "--dir", l])?, Some(size)));
        rows.push((
            "audit --dir --json",
            audit(&["audit", "--dir", l, "--json"])?,
            Some(size),
        ));
        rows.push((
            "check",
            measure(&forewarn, &["check", "--dir", l], &[0])?,
            Some(size),
        ));
        let tiles = root.join(format!("tiles-{size}"));
        let t = tiles.to_str().expect("UTF-8 above");
        if !tiles.exists() {
            rows.push((
                "export --to DIR",
                measure(&forewarn, &["export", "--to", t, "--dir", l], &[0])?,
                Some(size),
            ));
        }
        let vkey = ledger.join("log.vkey");
        let v = vkey.to_str().expect("UTF-8 above");
        rows.push((
            "audit --tiles",
            audit(&["audit", "--tiles", t, "--vkey", v])?,
            Some(size),
        ));
        rows.push((
            "audit --tiles --json",
            audit(&["audit", "--tiles", t, "--vkey", v, "--json"])?,
            Some(size),
        ));

        // The in-process auditor on the same records, for the ratios.
        let (paged_rate, auditor_rate) = in_process_rates(&ledger, size)?;
        print_rows(&ledger, size, auditor_rate, paged_rate, &rows);
    }
    Ok(())
}

/// The two in-process auditors on the ledger at `ledger` of `size`
/// records, each run once: (paged, whole state) in records/s. In bounded
/// memory first (what the commands run), then holding the whole state (the
/// fastest, with memory that grows with the log).
pub(crate) fn in_process_rates(ledger: &Path, size: u64) -> Result<(f64, f64), Failure> {
    let copy = LogCopy::take(ledger, forewarn_store::DEFAULT_LOCK_WAIT).map_err(fail)?;
    let config = AuditConfig {
        threads: std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8),
        ..AuditConfig::default()
    };
    let t = Instant::now();
    let paged = copy
        .audit_paged(config.clone(), None, &|_, _| {})
        .map_err(fail)?;
    let paged_rate = size as f64 / t.elapsed().as_secs_f64();
    drop(paged);
    println!(
        "in-process auditor in bounded memory (LogCopy::audit_paged): {paged_rate:.0} records/s"
    );
    let t = Instant::now();
    copy.audit(config, &|_, _| {}).map_err(fail)?;
    let auditor_rate = size as f64 / t.elapsed().as_secs_f64();
    println!(
        "in-process auditor holding the whole state (LogCopy::audit): {auditor_rate:.0} records/s"
    );
    Ok((paged_rate, auditor_rate))
}

/// `forewarn-bench auditors --dir LEDGER`: the in-process auditors alone
/// on an existing ledger (the reference rates of `scale`, without its
/// commands).
pub(crate) fn auditors(ledger: &Path) -> Outcome {
    let size = LogCopy::take(ledger, forewarn_store::DEFAULT_LOCK_WAIT)
        .map_err(fail)?
        .state()
        .size;
    println!("{size} records in {}", ledger.display());
    in_process_rates(ledger, size).map(|_| ())
}

/// Bytes of the files under `path`.
fn dir_bytes(path: &Path) -> Result<u64, Failure> {
    let mut total = 0;
    for entry in std::fs::read_dir(path).map_err(fail)? {
        let entry = entry.map_err(fail)?;
        let meta = entry.metadata().map_err(fail)?;
        total += if meta.is_dir() {
            dir_bytes(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

/// The table of one ledger's measurements.
fn print_rows(
    ledger: &Path,
    size: u64,
    auditor_rate: f64,
    paged_rate: f64,
    rows: &[(&str, Cost, Option<u64>)],
) {
    println!();
    println!("ledger of {size} records ({})", ledger.display());
    println!(
        "{:<34} {:>9} {:>10} {:>13} {:>10} {:>8}",
        "command", "wall", "peak RSS", "records/s", "of whole", "of paged"
    );
    for (what, rate) in [
        ("in-process auditor, whole state", auditor_rate),
        ("in-process auditor, paged", paged_rate),
    ] {
        println!(
            "{:<34} {:>9} {:>10} {:>13} {:>10} {:>8}",
            what,
            "-",
            "-",
            format!("{rate:.0}"),
            format!("{:.0}%", 100.0 * rate / auditor_rate),
            format!("{:.0}%", 100.0 * rate / paged_rate),
        );
    }
    for (what, c, records) in rows {
        let rate = records.map(|r| r as f64 / c.wall.as_secs_f64());
        let of = |base: f64| rate.map_or("-".into(), |r| format!("{:.0}%", 100.0 * r / base));
        println!(
            "{:<34} {:>7.0} ms {:>6.0} MiB {:>13} {:>10} {:>8}",
            what,
            c.wall.as_secs_f64() * 1000.0,
            mib(c.peak_kib),
            rate.map_or("-".into(), |r| format!("{r:.0}")),
            of(auditor_rate),
            of(paged_rate),
        );
    }
}

/// Builds a ledger of about `n` records in `root` with the ingest
/// benchmark, in a child process: the tens of gigabytes of pre-signed
/// statements a large ledger needs are returned to the system when it
/// exits, not kept beside the commands measured next.
fn build_ledger(n: u64, root: &Path) -> Outcome {
    let exe = std::env::current_exe().map_err(fail)?;
    let status = Command::new(exe)
        .args([
            "ingest",
            "--records",
            &n.to_string(),
            "--submitters",
            "64",
            "--dir",
        ])
        .arg(root)
        .status()
        .map_err(|e| fail(format!("cannot run the ingest benchmark: {e}")))?;
    if !status.success() {
        return Err(fail(format!("the ingest benchmark exited with {status}")));
    }
    Ok(())
}
