//! `forewarn export`: the log as static C2SP tlog-tiles files any web
//! server can host.

use std::path::Path;

use crate::cli::Outcome;
use crate::cli::ledger::{open_store_with, store_failure};
use crate::cli::output::outln;
use crate::cli::output::progress_callback;

/// `forewarn export --to DIR`
pub fn run(dir: &Path, to: &Path) -> Outcome {
    // Every tile and bundle is read once: the store is read as one pass.
    let store = open_store_with(dir, false, |c| c.cache_bytes = forewarn_store::PASS_CACHE)?;
    let bar = progress_callback("exporting");
    let files = store
        .export_tiles(to, &|d, t| bar(d, t))
        .map_err(store_failure)?;
    outln!(
        "wrote {files} files for {} records to {}",
        store.size(),
        to.display()
    );
    outln!("serve that directory with any static web server; audit it with:");
    outln!(
        "  forewarn audit --tiles {} --vkey {}",
        to.display(),
        dir.join(forewarn_store::VKEY_FILE).display()
    );
    Ok(())
}
