//! `forewarn`: who learned of each software flaw, and when.
//!
//! This binary is a thin shell over the libraries in `crates/`: it reads
//! files, asks the OS for randomness and the clock, and turns errors into
//! one sentence plus a hint. `main` only parses the command line, calls the
//! command's module under [`cmd`], and maps the outcome to an [`Exit`];
//! what the commands share is in [`cli`].

mod cli;
mod cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::cli::ledger::DirArg;

/// forewarn: a transparency log for disclosure timelines.
///
/// Every early warning about a software flaw becomes a signed record in an
/// append-only Merkle-tree log (RFC 9162, C2SP formats), so anyone can check
/// who was told, how early, and whether an embargo held.
#[derive(Parser)]
#[command(name = "forewarn", version, propagate_version = true)]
#[command(
    after_help = "Start with `forewarn demo`. Exit codes: 0 success, verified or clean; 1 verification failed, findings, or a statement refused; 2 usage or input error; 3 integrity failure (docs/CLI.md).\nDocs: docs/CLI.md, docs/FORMAT.md"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a signing key and its verifier key (vkey).
    ///
    /// Writes NAME.key (the private key, mode 0600) and NAME.vkey into the
    /// output directory, and prints the vkey. Never overwrites a key.
    ///
    /// Example: forewarn keygen --name example.com/log --out keys/
    Keygen(cmd::keygen::KeygenArgs),
    /// Sign or verify C2SP signed notes (a checkpoint is a note).
    #[command(subcommand)]
    Note(cmd::note::NoteCommand),
    /// Verify offline proofs of logging (c2sp.org/tlog-proof@v1).
    #[command(subcommand)]
    Proof(cmd::proof::ProofCommand),
    /// Create a ledger: its directory, database and log key; prints the vkey.
    ///
    /// Example: forewarn init --origin ledger.acme.example --dir forewarn-data
    Init {
        /// The log's name (a schema-less URL); it appears in every checkpoint.
        #[arg(long)]
        origin: String,
        #[command(flatten)]
        dir: DirArg,
    },
    #[command(flatten)]
    Step(cmd::step::Step),
    /// Sign a statement without appending it (to hand to the ledger's operator).
    #[command(subcommand)]
    Statement(cmd::statement::StatementCommand),
    /// Append statements signed elsewhere (files from `forewarn statement sign`).
    ///
    /// All or none: every file is checked as the next records before any is
    /// written; a refusal names the file and why, and appends nothing.
    ///
    /// Example: forewarn append notice-14.statement
    Append {
        /// Signed statement files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        dir: DirArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Audit a whole ledger or tile export: every hash, link, signature and
    /// rule. Exit 0 clean, 1 findings only, 3 integrity failure, 2 bad input.
    ///
    /// Example: forewarn audit --dir forewarn-data --policy cert-cc
    Audit(cmd::audit::AuditArgs),
    /// Verify evidence against a log offline: seen-root evidence (from
    /// `audit`) or split-view evidence.
    #[command(subcommand)]
    Evidence(cmd::evidence::EvidenceCommand),
    /// Who knew what, when: per case, per party, or a summary.
    #[command(subcommand)]
    Report(cmd::report::ReportCmd),
    /// Write the log as static C2SP tlog-tiles files any web server can host.
    ///
    /// Example: forewarn export --to public/ && forewarn audit --tiles public/ --vkey forewarn-data/log.vkey
    Export {
        /// Output directory.
        #[arg(long)]
        to: PathBuf,
        #[command(flatten)]
        dir: DirArg,
    },
    /// Walk the ledger's storage and prove it consistent with its checkpoint.
    ///
    /// Example: forewarn check --dir forewarn-data
    Check {
        #[command(flatten)]
        dir: DirArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Recompute everything derived from the records: the hash tiles and the
    /// projections that steps and reports read.
    ///
    /// Run it when `forewarn check` reports a damaged projection or tile
    /// (exit 3). The records and the signed checkpoint are not changed; the
    /// rebuilt store is checked before the command returns.
    ///
    /// Example: forewarn rebuild --dir forewarn-data
    Rebuild {
        #[command(flatten)]
        dir: DirArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Rewrite the ledger's database with only its live values.
    ///
    /// The database keeps superseded versions of the values each commit
    /// rewrites and grows to several times its live data; once it no longer
    /// fits in memory every command waits on the disk. Run this when `du`
    /// shows the ledger's `db` directory much larger than the records (for
    /// example weekly, from cron). It holds the ledger for about as long as
    /// reading the database once (other commands wait), checks the copy
    /// value by value, and puts it in place in one atomic step: killing it
    /// at any moment leaves the ledger as it was or compacted, never
    /// half-done. Nothing is recomputed; the records, the checkpoint and
    /// the projections stay byte for byte as they were.
    ///
    /// Example: forewarn compact --dir forewarn-data
    Compact {
        #[command(flatten)]
        dir: DirArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Build a realistic ledger from scratch, audit it, and explain the reports.
    ///
    /// Example: forewarn demo
    Demo {
        /// Where to build it (replaced if it holds an earlier demo).
        #[arg(long, default_value = "forewarn-demo")]
        dir: PathBuf,
    },
}

/// How `forewarn` exits: the one place exit codes are defined (docs/CLI.md,
/// "Exit codes", has the same table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: success; for `verify` commands, verified; for `audit`, clean.
    Success,
    /// 1: verification failed (bad or missing signature, entry not
    /// included, witness quorum not met); for `audit`, findings but
    /// integrity intact; for a ledger step or `append`, the ledger refused
    /// the statement (nothing was written).
    NotVerified,
    /// 2: usage or input error: bad arguments (clap's own errors too), an
    /// unreadable, oversized or malformed file, a bad key, refusing to
    /// overwrite, an unknown party or case, a record number the ledger
    /// does not hold, the ledger held open by another forewarn process for
    /// more than 10 s, standard output closed before the output was
    /// complete.
    Input,
    /// 3: integrity failure: the ledger or export does not verify (broken
    /// chain, bad signature, root differs from the signed checkpoint) or the
    /// store is corrupt (its log key file included). Do not trust it.
    Integrity,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::NotVerified => 1,
            Exit::Input => 2,
            Exit::Integrity => 3,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print to standard output and succeed;
            // anything else is a usage error on standard error.
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Input
            } else {
                Exit::Success
            }
            .into();
        }
    };
    let result = match &cli.command {
        Command::Keygen(args) => cmd::keygen::run(args),
        Command::Note(c) => cmd::note::run(c),
        Command::Proof(c) => cmd::proof::run(c),
        Command::Init { origin, dir } => cmd::init::run(origin, &dir.dir),
        Command::Step(step) => cmd::step::run(step, false),
        Command::Statement(c) => cmd::statement::run(c),
        Command::Append { files, dir, json } => cmd::append::run(&dir.dir, files, *json),
        Command::Audit(args) => cmd::audit::run(args),
        Command::Evidence(c) => cmd::evidence::run(c),
        Command::Report(c) => cmd::report::run(c),
        Command::Export { to, dir } => cmd::export::run(&dir.dir, to),
        Command::Check { dir, json } => cmd::check::run(&dir.dir, *json),
        Command::Rebuild { dir, json } => cmd::rebuild::run(&dir.dir, *json),
        Command::Compact { dir, json } => cmd::compact::run(&dir.dir, *json),
        Command::Demo { dir } => cmd::demo::run(dir),
    };
    match result {
        Ok(()) => Exit::Success.into(),
        Err(f) => {
            eprintln!("forewarn: {}", f.message);
            if let Some(h) = f.hint {
                eprintln!("hint: {h}");
            }
            f.exit.into()
        }
    }
}
