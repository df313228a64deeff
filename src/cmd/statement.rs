//! `forewarn statement sign`: sign one step to a file instead of appending
//! it, for a party that does not run the ledger.

use std::path::{Path, PathBuf};

use clap::Subcommand;

use crate::cli::files::write_new_file;
use crate::cli::formats::{save_salts, statement_file};
use crate::cli::ledger::open_store;
use crate::cli::{Failure, Outcome};
use crate::cmd::step::{Step, prepare};

/// `forewarn statement …`
#[derive(Subcommand)]
pub enum StatementCommand {
    /// Sign one step to a file instead of appending it.
    ///
    /// Example: forewarn statement sign --out ack.statement ack --key keys/cert.key --notice 14
    Sign {
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
        #[command(subcommand)]
        step: Step,
    },
}

/// Runs `statement sign`.
pub fn run(cmd: &StatementCommand) -> Outcome {
    let StatementCommand::Sign { out, step } = cmd;
    sign_to_file(step, out)
}

/// Signs `step` and writes it to `out`, which must not exist yet.
fn sign_to_file(step: &Step, out: &Path) -> Outcome {
    let dir = &prepare::step_sign(step).dir.dir;
    let store = open_store(dir, true)?;
    let prepared = prepare::prepare(step, &store)?;
    let signed = prepare::sign_all(&prepared)?;
    if signed.len() != 1 {
        return Err(Failure::input(
            "this step makes several statements",
            "append it directly instead of signing to a file",
        ));
    }
    let (s, salts) = &signed[0];
    // The file first (it must not exist yet), then its salts: a refused
    // file leaves no salts behind, and a file whose salts could not be
    // saved is removed again.
    write_new_file(out, statement_file(s).as_bytes(), false)?;
    if let Err(f) = save_salts(&prepared.dir, &s.bytes, salts) {
        let _ = std::fs::remove_file(out);
        return Err(f);
    }
    eprintln!(
        "wrote {} (hand it to the ledger's operator: forewarn append {})",
        out.display(),
        out.display()
    );
    Ok(())
}
