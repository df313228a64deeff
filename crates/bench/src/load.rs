//! `forewarn-bench load`: the writer that `tests/crash.rs` kills with
//! SIGKILL (docs/RELIABILITY.md, "Crash safety of the store").

use super::*;

/// The crash test's writer: registers parties, then opens cases, notifies
/// and acknowledges from `threads` submitters until killed, printing each
/// receipt as `index sha256(statement)` (only after the receipt returned,
/// i.e. after the record is durable).
pub(crate) fn load(dir: &Path, threads: usize) -> Outcome {
    let store = if dir.join("db").exists() {
        Store::open(dir, StoreConfig::default())
    } else {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(fail)?;
        Store::init(
            dir,
            "crash.forewarn.example/log",
            &seed,
            StoreConfig::default(),
        )
    }
    .map_err(fail)?;
    let origin = store.origin().to_string();
    let origin = origin.as_str();
    let seq = Sequencer::start(store, 4096);
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let print =
        |out: &Mutex<std::io::Stdout>,
         statements: &[SignedStatement],
         results: &[Result<forewarn_store::Receipt, forewarn_store::Rejection>]| {
            let mut o = out.lock().expect("stdout");
            for (s, r) in statements.iter().zip(results) {
                if let Ok(r) = r {
                    let _ = writeln!(
                        o,
                        "{} {}",
                        r.index,
                        base16ct::lower::encode_string(&Sha256::digest(&s.bytes))
                    );
                }
            }
            let _ = o.flush();
        };
    let sub = seq.submitter();
    let mut parties = register(&sub, origin, 8, &format!("crash run {}", now()))?;
    let recipients: Vec<(SigningKey, Cite)> =
        parties.drain(1..).map(|(k, id, _)| (k, id)).collect();
    let vendor = parties.remove(0).0;
    println!("ready");
    std::thread::scope(|s| {
        for _ in 0..threads {
            let (sub, out, vendor, recipients) = (sub.clone(), out.clone(), &vendor, &recipients);
            s.spawn(move || {
                loop {
                    let ids: Vec<Cite> = recipients.iter().map(|r| r.1).collect();
                    let statements = case_statements(origin, vendor, &ids, now());
                    let Ok(results) = sub.submit(statements.clone()).wait() else {
                        return;
                    };
                    print(&out, &statements, &results);
                    // Each recipient acknowledges its notice (records 2..2+n of the case).
                    let acks: Vec<SignedStatement> = results[2..2 + recipients.len()]
                        .iter()
                        .zip(recipients)
                        .filter_map(|(r, (key, _))| r.as_ref().ok().map(|r| (r, key)))
                        .map(|(r, key)| {
                            sign(
                                origin,
                                key,
                                Event::Acknowledged {
                                    notice: Cite::new(r.index, statement::leaf_hash(&r.record)),
                                    received_at: now(),
                                },
                                now(),
                            )
                        })
                        .collect();
                    let Ok(results) = sub.submit(acks.clone()).wait() else {
                        return;
                    };
                    print(&out, &acks, &results);
                }
            });
        }
    });
    Ok(())
}
