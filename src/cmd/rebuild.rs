//! `forewarn rebuild`: recomputes the hash tiles and every projection from
//! the records (the repair for what `forewarn check` reports damaged), then
//! checks the result.

use std::path::Path;

use forewarn_store::{Store, StoreConfig};

use crate::cli::Outcome;
use crate::cli::ledger::store_failure;
use crate::cli::output::outln;
use crate::cli::output::{print_json_line, progress_callback};

/// `forewarn rebuild`.
pub fn run(dir: &Path, json: bool) -> Outcome {
    let mut config = StoreConfig::default();
    if !json {
        config.progress = Some(progress_callback("replaying the ledger"));
    }
    let store = Store::open_and_rebuild(dir, config).map_err(store_failure)?;
    let a = store.check().map_err(store_failure)?;
    store.close_at_exit().map_err(store_failure)?;
    if json {
        print_json_line(
            &serde_json::json!({"rebuilt": true, "records": a.size, "root": a.root.to_hex()}),
        );
    } else {
        outln!(
            "rebuilt: {} records, root {}; tiles and projections recomputed from the records and checked",
            a.size,
            a.root.to_hex()
        );
    }
    Ok(())
}
