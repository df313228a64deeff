//! `forewarn bench ingest`: placeholder replaced below.
use clap::Subcommand;

use crate::Outcome;

/// Benchmarks.
#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Durable ingest through the sequencer.
    Ingest {
        /// Records to ingest.
        #[arg(long, default_value_t = 200_000)]
        records: u64,
    },
}

/// Runs a benchmark.
pub fn run(_cmd: &BenchCommand) -> Outcome {
    Ok(())
}
