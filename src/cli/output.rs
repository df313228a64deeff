//! Output shared by the commands: progress bars on standard error,
//! `--json` documents on standard output (always through serde_json,
//! written as they are serialized: `super::json`), and [`outln!`], the
//! `println!` of every command.

use std::fmt;
use std::io::{self, BufWriter, Write};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::json::{self, Layout};

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

/// A progress callback drawing a bar in `unit`s of `scale` bytes (for work
/// counted in bytes, not records), hidden when standard error is not a
/// terminal.
pub fn progress_bar(
    what: &'static str,
    unit: &'static str,
    scale: u64,
) -> Arc<dyn Fn(u64, u64) + Send + Sync> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{msg:>20}} [{{bar:40}}] {{pos}}/{{len}} {unit} (eta {{eta}})"
        ))
        .expect("template")
        .progress_chars("=> "),
    );
    bar.set_message(what);
    Arc::new(move |done, total| {
        bar.set_length(total / scale);
        bar.set_position(done / scale);
        if done >= total {
            bar.finish_and_clear();
        }
    })
}

/// Prints `value` as one line of compact JSON.
pub fn print_json_line(value: &impl Serialize) {
    print_json(value, Layout::Line);
}

/// Prints `value` as indented JSON (reports), written to standard output as
/// it is serialized: a report of any size takes no more memory to print
/// than the output buffer.
pub fn print_json_pretty(value: &impl Serialize) {
    print_json(value, Layout::Pretty);
}

/// One JSON document on a buffered, locked standard output. A reader that
/// goes away mid-document ends the command as [`outln!`] does.
fn print_json(value: &impl Serialize, layout: Layout) {
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let written = json::write_document(&mut out, value, layout).and_then(|()| out.flush());
    if let Err(e) = written {
        // What is still buffered can no longer be delivered: dropped, not
        // flushed a second time.
        drop(out.into_parts());
        stdout_failed(&e);
    }
}

/// `println!` for a command's output on standard output. `println!` panics
/// when the reader has gone (`forewarn report case --all | head`); this ends
/// the command quietly instead, with exit 2 and no partial verdict: a
/// reader that stopped early has not seen a complete report, so the exit
/// code must not say "clean" (docs/CLI.md, exit codes).
macro_rules! outln {
    () => {
        $crate::cli::output::write_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::cli::output::write_line(format_args!($($arg)*))
    };
}
pub(crate) use outln;

/// Writes one line to standard output; see [`outln!`].
pub fn write_line(line: fmt::Arguments<'_>) {
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_fmt(line).and_then(|()| out.write_all(b"\n")) {
        stdout_failed(&e);
    }
}

/// Standard output is gone or failing: nothing more can be said there.
pub(crate) fn stdout_failed(e: &io::Error) -> ! {
    if e.kind() != io::ErrorKind::BrokenPipe {
        eprintln!("forewarn: cannot write to standard output: {e}");
    }
    std::process::exit(i32::from(crate::Exit::Input.code()))
}
