//! The audit benchmark: generate a realistic log, then audit it with the
//! streaming auditor and report records/s against this machine's own
//! Ed25519 bounds, measured in the same run, and memory.
//!
//! ```text
//! cargo bench -p forewarn-ledger --bench audit                    # 1,000,000 records
//! FOREWARN_BENCH_RECORDS=200000 cargo bench -p forewarn-ledger --bench audit
//! ```
//!
//! Figures are recorded in docs/PERFORMANCE.md. Memory is read from
//! /proc/self/status (Linux); the peak is reset after generation so it
//! measures the audit alone.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::time::Instant;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use forewarn_ledger::testkit::RealisticLog;
use forewarn_ledger::verify::{KeyCache, SignatureItem, VerifyMode, verify_items};
use forewarn_ledger::*;

fn status(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .map(|kib: u64| kib * 1024)
}

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

/// Raw Ed25519 rates on this machine: verify_strict on one thread,
/// ed25519-dalek's verify_batch (batches of 64) on one and two threads and
/// on two threads at its best batch size (64 to 4096; larger batches are
/// faster), and forewarn's exact batch (batches of 4096) on one thread.
fn ed25519_bounds() -> (f64, f64, f64, (usize, f64), f64) {
    let n = 8192;
    let keys: Vec<SigningKey> = (0..256)
        .map(|i| SigningKey::from_bytes(&[i as u8; 32]))
        .collect();
    let msgs: Vec<Vec<u8>> = (0..n).map(|i| format!("forewarn/statement/v1\nbench statement {i:08} with some realistic length padding padding padding padding padding padding padding padding padding padding padding").into_bytes()).collect();
    let sigs: Vec<Signature> = (0..n).map(|i| keys[i % 256].sign(&msgs[i])).collect();
    let vks: Vec<VerifyingKey> = (0..n).map(|i| keys[i % 256].verifying_key()).collect();
    let t = Instant::now();
    for i in 0..n {
        vks[i].verify_strict(&msgs[i], &sigs[i]).unwrap();
    }
    let strict = n as f64 / t.elapsed().as_secs_f64();
    let batch_of = |range: std::ops::Range<usize>, size: usize| {
        for start in range.step_by(size) {
            let end = start + size;
            let m: Vec<&[u8]> = msgs[start..end].iter().map(|m| m.as_slice()).collect();
            ed25519_dalek::verify_batch(&m, &sigs[start..end], &vks[start..end]).unwrap();
        }
    };
    let t = Instant::now();
    batch_of(0..n, 64);
    let batch1 = n as f64 / t.elapsed().as_secs_f64();
    let two_threads = |size: usize| {
        let t = Instant::now();
        std::thread::scope(|s| {
            s.spawn(|| batch_of(0..n / 2, size));
            s.spawn(|| batch_of(n / 2..n, size));
        });
        n as f64 / t.elapsed().as_secs_f64()
    };
    let batch2 = two_threads(64);
    let best2 = [64usize, 256, 1024, 4096]
        .into_iter()
        .map(|size| (size, two_threads(size)))
        .fold((0, 0.0), |best, x| if x.1 > best.1 { x } else { best });
    let items: Vec<SignatureItem<'_>> = (0..n)
        .map(|i| SignatureItem {
            key: vks[i].to_bytes(),
            prefix: b"",
            body: &msgs[i],
            signature: sigs[i].to_bytes(),
        })
        .collect();
    let mut cache = KeyCache::new();
    verify_items(&items[..64], VerifyMode::Batch, &mut cache); // parse the keys
    let t = Instant::now();
    for c in items.chunks(4096) {
        assert!(
            verify_items(c, VerifyMode::Batch, &mut cache)
                .iter()
                .all(|b| *b)
        );
    }
    let exact1 = n as f64 / t.elapsed().as_secs_f64();
    (strict, batch1, batch2, best2, exact1)
}

fn sha256_rate() -> f64 {
    use sha2::{Digest, Sha256};
    let buf = vec![0x5au8; 1 << 20];
    let t = Instant::now();
    let mut h = [0u8; 32];
    for _ in 0..64 {
        h = Sha256::digest([&buf[..], &h[..]].concat()).into();
    }
    std::hint::black_box(h);
    64.0 * (1 << 20) as f64 / t.elapsed().as_secs_f64()
}

fn generate(path: &std::path::Path, records: u64) -> (u64, u64, usize) {
    let mut log = RealisticLog::new(42, 400, true);
    // Every record so far registers a party or adds a key.
    let keys = log.scenario.size();
    let mut out = BufWriter::new(std::fs::File::create(path).unwrap());
    let mut bytes = 0u64;
    let t = Instant::now();
    while log.scenario.size() < records {
        log.add_case();
        for r in log.scenario.drain() {
            out.write_all(&(r.len() as u32).to_le_bytes()).unwrap();
            out.write_all(&r).unwrap();
            bytes += r.len() as u64;
        }
    }
    out.flush().unwrap();
    eprintln!(
        "generated {} records ({:.1} MiB) in {:.1} s",
        log.scenario.size(),
        mib(bytes),
        t.elapsed().as_secs_f64()
    );
    (log.scenario.size(), bytes, keys as usize)
}

/// Audits the log in this process (a child, so that its memory figures
/// are its own) and prints one result line.
fn audit_child(spec: &str) {
    let mut parts = spec.splitn(3, ':');
    let mode = match parts.next().unwrap() {
        "strict" => VerifyMode::Strict,
        _ => VerifyMode::Batch,
    };
    let threads: usize = parts.next().unwrap().parse().unwrap();
    let path = parts.next().unwrap();
    let config = AuditConfig {
        threads,
        verify_mode: mode,
        ..AuditConfig::default()
    };
    let chunk = 16384;
    let start_rss = status("VmRSS:").unwrap_or(0);
    let mut input = BufReader::with_capacity(1 << 20, std::fs::File::open(path).unwrap());
    let mut a = Auditor::new(config);
    let mut batch: Vec<Vec<u8>> = Vec::with_capacity(chunk);
    let mut tree = Vec::new();
    let mut next_report = 250_000;
    let t = Instant::now();
    loop {
        batch.clear();
        while batch.len() < chunk {
            if input.fill_buf().unwrap().is_empty() {
                break;
            }
            let mut len = [0u8; 4];
            input.read_exact(&mut len).unwrap();
            let mut r = vec![0; u32::from_le_bytes(len) as usize];
            input.read_exact(&mut r).unwrap();
            batch.push(r);
        }
        if batch.is_empty() {
            break;
        }
        let refs: Vec<&[u8]> = batch.iter().map(|r| r.as_slice()).collect();
        a.push_batch(&refs).expect("generated log is clean");
        if a.size() >= next_report {
            tree.push(format!("{}k: {} B", a.size() / 1000, a.tree_state_len()));
            next_report += 250_000;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    drop(batch);
    let peak = status("VmHWM:").unwrap_or(0);
    let end_rss = status("VmRSS:").unwrap_or(0);
    let state = a.save().len() as u64;
    println!(
        "RESULT {} {secs} {start_rss} {peak} {end_rss} {state} {}",
        a.size(),
        tree.join(", ")
    );
}

fn main() {
    if let Ok(spec) = std::env::var("FOREWARN_BENCH_AUDIT") {
        return audit_child(&spec);
    }
    // `cargo bench` passes "--bench"; ignore arguments.
    let records: u64 = std::env::var("FOREWARN_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(2);
    println!("forewarn audit benchmark: {records} records, {threads} threads");
    let (strict, batch1, batch2, (best_size, best2), exact1) = ed25519_bounds();
    let sha = sha256_rate();
    println!("machine bounds (same run):");
    println!(
        "  SHA-256                         {:>10.0} MiB/s",
        sha / (1 << 20) as f64
    );
    println!("  Ed25519 verify_strict, 1 thread {strict:>10.0} sig/s");
    println!("  Ed25519 verify_batch, 1 thread  {batch1:>10.0} sig/s");
    println!("  Ed25519 verify_batch, 2 threads {batch2:>10.0} sig/s");
    println!("  verify_batch, 2 threads, best   {best2:>10.0} sig/s (batches of {best_size})");
    println!(
        "  verify_strict, 2 threads (2x)   {:>10.0} sig/s",
        2.0 * strict
    );
    println!(
        "  forewarn exact batch, 1 thread  {exact1:>10.0} sig/s (batches of 4096, verify_strict's verdicts)"
    );

    let dir = std::env::temp_dir().join(format!("forewarn-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("log.bin");
    let (n, bytes, keys) = generate(&path, records);
    println!(
        "log: {n} records, {keys} signing keys, {:.1} MiB, mean {:.0} bytes/record",
        mib(bytes),
        bytes as f64 / n as f64
    );
    for (label, spec) in [
        (
            "exact batch, 2 threads (default)",
            format!("batch:{threads}"),
        ),
        ("strict, 2 threads", format!("strict:{threads}")),
        ("exact batch, 1 thread", "batch:1".to_string()),
        ("strict, 1 thread", "strict:1".to_string()),
    ] {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .env("FOREWARN_BENCH_AUDIT", format!("{spec}:{}", path.display()))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .find(|l| l.starts_with("RESULT "))
            .unwrap_or_else(|| {
                panic!(
                    "audit child failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                )
            });
        let f: Vec<&str> = line.splitn(8, ' ').collect();
        let (n, secs): (u64, f64) = (f[1].parse().unwrap(), f[2].parse().unwrap());
        let num = |i: usize| -> u64 { f[i].parse().unwrap() };
        let (start_rss, peak, end_rss, state) = (num(3), num(4), num(5), num(6));
        let rate = n as f64 / secs;
        println!("audit {label}:");
        println!("  {rate:>10.0} records/s ({secs:.2} s)");
        println!(
            "  = {:.1}% of the 2-thread verify_batch bound at its best batch size ({:.1}% of it in batches of 64), {:.1}% of 2 x verify_strict",
            100.0 * rate / best2,
            100.0 * rate / batch2,
            50.0 * rate / strict
        );
        println!(
            "  RSS {:.1} MiB at start, {:.1} MiB peak, {:.1} MiB at the end (holding the state); transient above the end {:.1} MiB; saved state {:.1} MiB",
            mib(start_rss),
            mib(peak),
            mib(end_rss),
            mib(peak.saturating_sub(end_rss)),
            mib(state)
        );
        println!(
            "  Merkle state (compact range): {}",
            f.get(7).unwrap_or(&"")
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
