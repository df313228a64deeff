//! `forewarn append FILE…`: append statements signed elsewhere (files from
//! `forewarn statement sign`); and the appending every step shares, which
//! writes each receipt and prints what was appended.

use std::fs;
use std::path::{Path, PathBuf};

use forewarn_ledger::statement::{SignedStatement, Statement};
use forewarn_store::Store;

use crate::cli::formats::parse_statement_file;
use crate::cli::ledger::{open_store, store_failure};
use crate::cli::output::outln;
use crate::cli::output::print_json_pretty;
use crate::cli::{Failure, Outcome};

/// Reads every file first (each capped; a bad one stops everything before
/// the ledger is opened), then appends them in order.
pub fn run(dir: &Path, files: &[PathBuf], json: bool) -> Outcome {
    let statements = files
        .iter()
        .map(|p| parse_statement_file(p))
        .collect::<Result<Vec<_>, _>>()?;
    let mut store = open_store(dir, json)?;
    let outcome = append_and_report(&mut store, &statements, json);
    store.close().map_err(store_failure)?;
    outcome
}

/// Appends `statements`, writes a receipt for each one appended, and
/// prints them (text, or one JSON array with `json`). A refused statement
/// is exit 1; nothing is written for it.
pub fn append_and_report(store: &mut Store, statements: &[SignedStatement], json: bool) -> Outcome {
    let results = store.append(statements).map_err(store_failure)?;
    let receipts_dir = store.dir().join("receipts");
    let mut rows = Vec::new();
    let mut rejected = None;
    for (s, r) in statements.iter().zip(results) {
        match r {
            Ok(receipt) => {
                fs::create_dir_all(&receipts_dir).map_err(|e| {
                    Failure::input(
                        format!("cannot create {}: {e}", receipts_dir.display()),
                        "check the ledger directory is writable",
                    )
                })?;
                let path = receipts_dir.join(format!("{}.tlog-proof", receipt.index));
                fs::write(&path, &receipt.proof).map_err(|e| {
                    Failure::input(
                        format!("cannot write {}: {e}", path.display()),
                        "check free disk space",
                    )
                })?;
                let st = Statement::from_bytes(&s.bytes).expect("appended");
                let case = st.event.case().map(|c| c.to_string());
                if !json {
                    outln!(
                        "appended record {}: {}{}",
                        receipt.index,
                        st.event.name(),
                        case.as_ref()
                            .map(|c| format!(" (case {c})"))
                            .unwrap_or_default()
                    );
                    outln!("receipt: {}", path.display());
                }
                rows.push(serde_json::json!({
                    "record": receipt.index,
                    "event": st.event.name(),
                    "case": case,
                    "receipt": path.display().to_string(),
                }));
            }
            Err(rejection) => {
                rejected.get_or_insert_with(|| rejection.to_string());
                rows.push(serde_json::json!({ "rejected": rejection.to_string() }));
            }
        }
    }
    if json {
        print_json_pretty(&rows);
    }
    match rejected {
        None => Ok(()),
        Some(why) => Err(Failure {
            hint: Some("nothing was written for it; fix the step and run it again".into()),
            ..Failure::not_verified(format!("the ledger refused the statement: {why}"))
        }),
    }
}
