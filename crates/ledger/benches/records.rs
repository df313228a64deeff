//! Per-record costs (criterion): decoding, encoding, commitments, leaf
//! hashing, and auditing a small log on one thread. Signature
//! verification (single against exact batches, and the break-even batch
//! size) is measured in forewarn-ed25519's `verify` bench.
//!
//! `cargo bench -p forewarn-ledger --bench records`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use forewarn_ledger::sealed::{Commitment, FieldTag};
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
        // Notified's content hash (tag 6, field 1), as v2 commitments name
        // the field and the sealing signer's key.
        let field = FieldTag { event: 6, field: 1 };
        b.iter(|| {
            Commitment::compute(
                field,
                &PublicKey([9; 32]),
                &[7; 32],
                std::hint::black_box(&[1u8; 40]),
            )
        })
    });
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
