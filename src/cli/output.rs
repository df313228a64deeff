//! Output shared by the commands: progress bars on standard error and
//! `--json` documents on standard output (always through serde_json).

use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

/// A progress callback drawing an indicatif bar on standard error (hidden
/// when standard error is not a terminal).
pub fn progress_callback(what: &'static str) -> Arc<dyn Fn(u64, u64) + Send + Sync> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>20} [{bar:40}] {pos}/{len} records ({per_sec}, eta {eta})",
        )
        .expect("template")
        .progress_chars("=> "),
    );
    bar.set_message(what);
    Arc::new(move |done, total| {
        bar.set_length(total);
        bar.set_position(done);
        if done >= total {
            bar.finish_and_clear();
        }
    })
}

/// Prints `value` as one line of compact JSON.
pub fn print_json_line(value: &impl Serialize) {
    println!("{}", serde_json::to_string(value).expect("JSON"));
}

/// Prints `value` as indented JSON (reports).
pub fn print_json_pretty(value: &impl Serialize) {
    println!("{}", serde_json::to_string_pretty(value).expect("JSON"));
}
