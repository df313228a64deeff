//! `forewarn compact`: rewrites the ledger's database with only its live
//! values and puts the copy in place atomically (the store's `compact`
//! module says how, and why it is safe to kill at any moment).
//!
//! sled keeps superseded versions of the values each commit rewrites, so
//! a ledger's database grows to several times its live data; once it no
//! longer fits in memory, every command waits on the disk. Compacting
//! takes about as long as reading the database once (docs/PERFORMANCE.md).

use std::path::Path;

use forewarn_store::DEFAULT_LOCK_WAIT;

use crate::cli::Outcome;
use crate::cli::ledger::{say_if_busy, store_failure};
use crate::cli::output::{outln, print_json_line, progress_bar};

/// `forewarn compact`.
pub fn run(dir: &Path, json: bool) -> Outcome {
    say_if_busy(dir);
    let progress = (!json).then(|| progress_bar("compacting", "MiB", 1 << 20));
    let done = forewarn_store::compact(dir, DEFAULT_LOCK_WAIT, progress.as_deref())
        .map_err(store_failure)?;
    let size = |b: u64| {
        if b >= 1 << 20 {
            format!("{:.1} MiB", b as f64 / f64::from(1 << 20))
        } else {
            format!("{:.1} KiB", b as f64 / 1024.0)
        }
    };
    if json {
        print_json_line(&serde_json::json!({
            "compacted": true,
            "values": done.values,
            "live_bytes": done.live_bytes,
            "bytes_before": done.bytes_before,
            "bytes_after": done.bytes_after,
        }));
    } else {
        outln!(
            "compacted: {} → {} ({} values, {} of keys and values); the records, checkpoint and projections are unchanged",
            size(done.bytes_before),
            size(done.bytes_after),
            done.values,
            size(done.live_bytes)
        );
    }
    Ok(())
}
