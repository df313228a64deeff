//! `forewarn check`: walks the ledger's storage and proves it consistent
//! with its signed checkpoint.

use std::path::Path;

use crate::cli::Outcome;
use crate::cli::ledger::{open_store_with, store_failure};
use crate::cli::output::outln;
use crate::cli::output::print_json_line;

/// `forewarn check`: the store's own consistency walk.
pub fn run(dir: &Path, json: bool) -> Outcome {
    // Every record and value is read once: sled's cache keeps only the
    // pages it touched last (`PASS_CACHE`).
    let store = open_store_with(dir, json, |c| c.cache_bytes = forewarn_store::PASS_CACHE)?;
    let a = store.check().map_err(store_failure)?;
    if json {
        print_json_line(
            &serde_json::json!({"consistent": true, "records": a.size, "root": a.root.to_hex()}),
        );
    } else {
        outln!(
            "consistent: {} records, root {}, matching the signed checkpoint, every stored hash and projection",
            a.size,
            a.root.to_hex()
        );
    }
    Ok(())
}
