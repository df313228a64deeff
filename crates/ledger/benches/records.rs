//! Per-record costs (criterion): decoding, encoding, commitments, leaf
//! hashing, signature verification (single `verify_strict` against exact
//! batches of several sizes, on both arithmetics, which is where
//! `verify::MIN_BATCH` and `verify::MIN_BATCH_LANES` come from), and
//! auditing a small log on one thread.
//!
//! `cargo bench -p forewarn-ledger --bench records`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use forewarn_ledger::sealed::Commitment;
use forewarn_ledger::statement::leaf_hash;
use forewarn_ledger::testkit::RealisticLog;
use forewarn_ledger::*;

fn records(c: &mut Criterion) {
    let mut log = RealisticLog::new(1, 40, true);
    log.grow_to(2_000);
    let recs: Vec<Vec<u8>> = log.scenario.records().to_vec();
    // A Notified record, the most common kind.
    let notice = recs
        .iter()
        .find(|r| {
            let rec = Record::from_bytes(r).unwrap();
            matches!(
                Statement::from_bytes(&rec.statement).unwrap().event,
                Event::Notified { .. }
            )
        })
        .unwrap()
        .clone();
    let rec = Record::from_bytes(&notice).unwrap();
    let st = Statement::from_bytes(&rec.statement).unwrap();

    let mut g = c.benchmark_group("record");
    g.throughput(Throughput::Elements(1));
    g.bench_function("decode record + statement (Notified)", |b| {
        b.iter(|| {
            let r = Record::from_bytes(std::hint::black_box(&notice)).unwrap();
            Statement::from_bytes(&r.statement).unwrap()
        })
    });
    g.bench_function("encode statement (Notified)", |b| {
        b.iter(|| st.to_bytes().unwrap())
    });
    g.bench_function("leaf hash (Notified record)", |b| {
        b.iter(|| leaf_hash(std::hint::black_box(&notice)))
    });
    g.bench_function("commitment (32-byte value)", |b| {
        b.iter(|| Commitment::compute(&[7; 32], std::hint::black_box(&[1u8; 40])))
    });
    g.finish();

    // Signatures from the log's statements (40 keys), verified on one thread.
    let signed: Vec<(PublicKey, Vec<u8>, [u8; 64])> = recs
        .iter()
        .map(|r| {
            let rec = Record::from_bytes(r).unwrap();
            let st = Statement::from_bytes(&rec.statement).unwrap();
            (st.signer, rec.statement.clone(), rec.signature)
        })
        .collect();
    let mut g = c.benchmark_group("verify");
    for n in [1usize, 32, 64, 96, 128, 160, 192, 256, 512, 1024, 2000] {
        let items: Vec<verify::SignatureItem<'_>> = signed[..n]
            .iter()
            .map(|(k, m, s)| verify::SignatureItem::statement(k.0, m, *s))
            .collect();
        g.throughput(Throughput::Elements(n as u64));
        g.sample_size(10);
        let mut cache = verify::KeyCache::new();
        if n == 1 {
            g.bench_function("verify_strict, per signature", |b| {
                b.iter(|| verify::verify_items(&items, verify::VerifyMode::Strict, &mut cache))
            });
        } else {
            // The R side in the AVX-512 IFMA lanes where this CPU has
            // them, and on curve25519-dalek's arithmetic alone.
            g.bench_function(format!("exact batch of {n}"), |b| {
                b.iter(|| verify::verify_exact_batch(&items, &mut cache))
            });
            g.bench_function(format!("exact batch of {n}, dalek arithmetic"), |b| {
                b.iter(|| {
                    verify::with_dalek_arithmetic(|| verify::verify_exact_batch(&items, &mut cache))
                })
            });
        }
    }
    g.finish();

    let mut g = c.benchmark_group("audit");
    g.throughput(Throughput::Elements(recs.len() as u64));
    g.sample_size(10);
    g.bench_function("2000 records pushed one by one (verify_strict)", |b| {
        b.iter_batched(
            || Auditor::new(AuditConfig::default()),
            |mut a| {
                for r in &recs {
                    a.push(r).unwrap();
                }
                a
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, records);
criterion_main!(benches);
