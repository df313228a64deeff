//! What the streaming auditor holds in memory, part by part, and how it
//! grows with the log: the bytes per record, per case, per notice, per
//! party and per key of each part of [`AuditState`], at two log sizes.
//!
//! ```text
//! cargo bench -p forewarn-ledger --bench state_memory                  # 100,000 and 400,000 records
//! FOREWARN_BENCH_RECORDS=250000,1000000 cargo bench -p forewarn-ledger --bench state_memory
//! ```
//!
//! Bytes are counted by a global allocator that adds up what is asked of
//! it (`cap`), so they are the sizes the program requests: the system
//! allocator's own overhead (8–16 bytes a block) comes on top, and RSS is
//! higher still by what freed memory the allocator keeps. The whole state
//! is measured as the growth of live bytes while the log is pushed; each
//! part as the bytes a clone of it allocates (a `BTreeMap` clone keeps
//! the node layout, a `Vec` clone drops spare capacity, so a part's figure
//! can be a little under what it holds). Figures are recorded in
//! docs/PERFORMANCE.md, "What the auditor holds".

use std::alloc;
use std::hint::black_box;

use cap::Cap;
use forewarn_ledger::testkit::RealisticLog;
use forewarn_ledger::*;

#[global_allocator]
static ALLOCATOR: Cap<alloc::System> = Cap::new(alloc::System, usize::MAX);

/// Bytes allocated (and not freed) by `f`'s result.
fn held_by<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATOR.allocated();
    let value = f();
    (value, ALLOCATOR.allocated().saturating_sub(before))
}

/// Generates a realistic log of at least `records` records and pushes it
/// through an auditor, chunk by chunk, counting only the auditor's growth.
fn audit(records: u64) -> (Auditor, usize) {
    let mut log = RealisticLog::new(42, 400, false);
    let mut auditor = Auditor::new(AuditConfig {
        threads: 1,
        ..AuditConfig::default()
    });
    let mut grown = 0isize;
    let mut push = |auditor: &mut Auditor, chunk: Vec<Vec<u8>>| {
        let refs: Vec<&[u8]> = chunk.iter().map(|r| r.as_slice()).collect();
        let before = ALLOCATOR.allocated() as isize;
        auditor.push_batch(&refs).expect("a generated log is clean");
        grown += ALLOCATOR.allocated() as isize - before;
    };
    while log.scenario.size() < records {
        for _ in 0..64 {
            log.add_case();
        }
        push(&mut auditor, log.scenario.drain());
    }
    log.finish();
    push(&mut auditor, log.scenario.drain());
    (auditor, grown.max(0) as usize)
}

fn main() {
    // `cargo bench` passes "--bench"; arguments are ignored.
    let sizes: Vec<u64> = std::env::var("FOREWARN_BENCH_RECORDS")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .filter(|v: &Vec<u64>| !v.is_empty())
        .unwrap_or_else(|| vec![100_000, 400_000]);
    println!("what the auditor holds (bytes requested from the allocator)");
    for records in sizes {
        let (auditor, total) = audit(records);
        let s = auditor.state();
        let n = s.size as f64;
        let notices = s.notices.len();
        let cases = s.cases.len();
        let key_uses: usize = s.keys.values().map(|k| k.uses.len()).sum();
        println!(
            "\n{} records: {cases} cases, {notices} notices, {} embargoes, {} sealed fields, {} parties, {} keys ({key_uses} key uses), {} findings, {} late records",
            s.size,
            s.embargoes.len(),
            s.sealed.len(),
            s.parties.len(),
            s.keys.len(),
            s.findings.len(),
            s.late.len()
        );
        println!(
            "  whole state (growth while pushing): {:>11} B  {:>7.1} B/record",
            total,
            total as f64 / n
        );
        let per = |count: usize, bytes: usize| {
            if count == 0 {
                "-".to_string()
            } else {
                format!("{:.1}", bytes as f64 / count as f64)
            }
        };
        let mut parts: Vec<(&str, &str, usize, usize)> = Vec::new();
        macro_rules! part {
            ($name:expr, $unit:expr, $count:expr, $field:expr) => {{
                let (clone, bytes) = held_by(|| $field.clone());
                black_box(&clone);
                drop(clone);
                parts.push(($name, $unit, $count, bytes));
            }};
        }
        part!(
            "statements (duplicate keys)",
            "record",
            s.size as usize,
            s.statements
        );
        part!(
            "citable (facts per record)",
            "record",
            s.size as usize,
            s.citable
        );
        part!("cases", "case", cases, s.cases);
        part!("notices", "notice", notices, s.notices);
        part!("embargoes", "embargo", s.embargoes.len(), s.embargoes);
        part!("sealed fields", "field", s.sealed.len(), s.sealed);
        part!("parties", "party", s.parties.len(), s.parties);
        part!("keys (with their uses)", "key", s.keys.len(), s.keys);
        part!("findings", "finding", s.findings.len(), s.findings);
        part!("late records", "record", s.late.len(), s.late);
        part!("recent leaves and ranges", "log", 1, s.recent);
        let measured: usize = parts.iter().map(|p| p.3).sum();
        println!(
            "  {:<30} {:>11} {:>9} {:>10} {:>9}",
            "part", "bytes", "B/record", "per", "B/each"
        );
        for (name, unit, count, bytes) in &parts {
            println!(
                "  {name:<30} {bytes:>11} {:>9.1} {unit:>10} {:>9}",
                *bytes as f64 / n,
                per(*count, *bytes)
            );
        }
        println!(
            "  {:<30} {:>11} {:>9.1}",
            "sum of the parts",
            measured,
            measured as f64 / n
        );
        println!(
            "  per case, all it owns (case, its notices, embargoes, sealed fields, findings): {:.0} B",
            parts
                .iter()
                .filter(|p| matches!(
                    p.0,
                    "cases" | "notices" | "embargoes" | "sealed fields" | "findings"
                ))
                .map(|p| p.3)
                .sum::<usize>() as f64
                / cases.max(1) as f64
        );
        println!(
            "  saved state (Auditor::save): {} B, {:.1} B/record",
            auditor.save().len(),
            auditor.save().len() as f64 / n
        );
    }
}
