//! `forewarn-bench`: development tools kept out of the product binary.
//!
//! - `forewarn-bench ingest`: durable end-to-end ingest through the
//!   sequencer, with this machine's own bounds measured in the same run
//!   (docs/PERFORMANCE.md).
//! - `forewarn-bench load`: the writer the crash test (`tests/crash.rs`)
//!   kills with SIGKILL (docs/RELIABILITY.md).
//! - `forewarn-bench auditors`: the in-process auditors alone on one
//!   ledger, the reference rates of `scale`.
//! - `forewarn-bench scale`: the cost of single commands (a step, reports,
//!   audits, check) on ledgers of several sizes (docs/PERFORMANCE.md).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use ed25519_dalek::SigningKey;
use forewarn_ledger::statement::{SignedStatement, Statement};
use forewarn_ledger::verify::{
    KeyCache, SignatureItem, StatementItem, VerifyMode, verify_items, verify_parallel,
};
use forewarn_ledger::*;
use forewarn_store::{Sequencer, Store, StoreConfig, Submitter};
use indicatif::ProgressBar;
use sha2::{Digest, Sha256};

mod ingest;
mod load;
mod scale;

use ingest::ingest;
use load::load;
use scale::scale;

/// forewarn-bench: the ingest benchmark and the crash test's writer.
#[derive(Parser)]
#[command(name = "forewarn-bench", version)]
struct Cli {
    #[command(subcommand)]
    command: BenchCommand,
}

/// The tools.
#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// Durable ingest: signed statements from many keys, submitted
    /// concurrently, through the group-commit sequencer into sled with an
    /// fsync per commit. Reports records/s, receipt latency p50/p99 (at full
    /// and at half load), disk use, the audit of the result, and the
    /// machine's bounds measured in the same run (sled insert+flush, Ed25519).
    ///
    /// Example: forewarn-bench ingest --records 1000000
    Ingest {
        /// Records to ingest at full load.
        #[arg(long, default_value_t = 200_000)]
        records: u64,
        /// Concurrent submitters.
        #[arg(long, default_value_t = 16)]
        submitters: usize,
        /// Where to build the ledger (default: a temporary directory, removed after).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// What one command costs as the log grows: for each size, a ledger
    /// built by the ingest benchmark (or reused from an earlier run in
    /// DIR), then one step, the reports, `audit --dir` and `audit --tiles`
    /// (each with and without --json) and `check`, run with the real
    /// `forewarn` binary beside this one: wall time, peak memory, and the
    /// rate against the in-process auditor measured in the same run.
    ///
    /// Example: forewarn-bench scale --sizes 1000000,3000000 --dir /tmp/scale
    Scale {
        /// Ledger sizes (records), comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1000000,3000000")]
        sizes: Vec<u64>,
        /// Where the ledgers are built and kept (reused by later runs).
        #[arg(long)]
        dir: PathBuf,
    },
    /// The two in-process auditors (bounded memory, then the whole state)
    /// on an existing ledger: the reference rates `scale` compares the
    /// commands with, measured alone.
    ///
    /// Example: forewarn-bench auditors --dir /tmp/scale/1000000/ledger
    Auditors {
        /// The ledger directory.
        #[arg(long)]
        dir: PathBuf,
    },
    /// The crash test's writer: append signed statements to a ledger under
    /// concurrent load until killed, printing `index sha256(statement)` for
    /// every receipt returned.
    Load {
        /// The ledger directory (created if missing).
        #[arg(long)]
        dir: PathBuf,
        /// Concurrent submitters.
        #[arg(long, default_value_t = 4)]
        threads: usize,
    },
}

/// Why a run stopped: one sentence.
struct Failure(String);

type Outcome = Result<(), Failure>;

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        BenchCommand::Ingest {
            records,
            submitters,
            dir,
        } => ingest(records, submitters, dir.as_deref()),
        BenchCommand::Load { dir, threads } => load(&dir, threads),
        BenchCommand::Scale { sizes, dir } => scale(&sizes, &dir),
        BenchCommand::Auditors { dir } => scale::auditors(&dir),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            eprintln!("forewarn-bench: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Milliseconds since the Unix epoch, from the system clock.
fn now() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn random_key() -> SigningKey {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("the operating system gave no randomness");
    SigningKey::from_bytes(&b)
}

/// Signs `event` for the log `origin`.
fn sign(origin: &str, key: &SigningKey, event: Event, at: Millis) -> SignedStatement {
    Statement::new(origin, event, at, PublicKey(key.verifying_key().to_bytes()))
        .sign(key)
        .expect("small")
}

fn fail(e: impl std::fmt::Display) -> Failure {
    Failure(e.to_string())
}

/// Registers `n` parties of every class through the submitter, for the log
/// `origin`; each with the citation of its registration.
fn register(
    sub: &Submitter,
    origin: &str,
    n: usize,
    tag: &str,
) -> Result<Vec<(SigningKey, Cite, PartyClass)>, Failure> {
    let parties: Vec<(SigningKey, PartyClass)> = (0..n)
        .map(|i| (random_key(), PartyClass::ALL[i % PartyClass::ALL.len()]))
        .collect();
    let statements = parties
        .iter()
        .enumerate()
        .map(|(i, (k, class))| {
            sign(
                origin,
                k,
                Event::PartyRegistered {
                    name: format!("{tag} party {i}"),
                    class: *class,
                    key: PublicKey(k.verifying_key().to_bytes()),
                },
                now(),
            )
        })
        .collect();
    let results = sub.submit(statements).wait().map_err(fail)?;
    results
        .into_iter()
        .zip(parties)
        .map(|(r, (k, class))| {
            r.map(|rec| {
                (
                    k,
                    Cite::new(rec.index, statement::leaf_hash(&rec.record)),
                    class,
                )
            })
            .map_err(fail)
        })
        .collect()
}

/// One case's statements, in an order that validates within one submission:
/// opened, identifier, notices to `recipients`, fix ready, fix released, public.
fn case_statements(
    origin: &str,
    vendor: &SigningKey,
    recipients: &[Cite],
    at: Millis,
) -> Vec<SignedStatement> {
    let signer = PublicKey(vendor.verifying_key().to_bytes());
    let tag = |event, field| sealed::FieldTag { event, field };
    let mut case = [0u8; 16];
    getrandom::fill(&mut case).expect("randomness");
    let case = CaseId(case);
    let salt = Sha256::digest(case.0).into();
    let mut out = vec![
        sign(
            origin,
            vendor,
            Event::CaseOpened {
                case,
                summary: Sealed::seal(&"a flaw".to_string(), tag(3, 0), &signer, &salt)
                    .expect("small"),
                product: Sealed::seal(&"a product".to_string(), tag(3, 1), &signer, &salt)
                    .expect("small"),
            },
            at,
        ),
        sign(
            origin,
            vendor,
            Event::IdentifierAssigned {
                case,
                scheme: IdScheme::Cve,
                value: Sealed::seal(&"CVE-2026-0001".to_string(), tag(12, 0), &signer, &salt)
                    .expect("small"),
            },
            at,
        ),
    ];
    for r in recipients {
        out.push(sign(
            origin,
            vendor,
            Event::Notified {
                case,
                recipient: Counterparty::Party(*r),
                level: InfoLevel::Details,
                tlp: Tlp::AmberStrict,
                embargo: None,
                content: Sealed::seal(&[7u8; 32], tag(6, 1), &signer, &salt).expect("small"),
                channel: Channel::EncryptedEmail,
            },
            at,
        ));
    }
    out.push(sign(origin, vendor, Event::FixReady { case }, at));
    out.push(sign(origin, vendor, Event::FixReleased { case }, at));
    out.push(sign(
        origin,
        vendor,
        Event::PubliclyDisclosed {
            case,
            url: "https://vendor.example/advisory".into(),
            sha256: [1; 32],
        },
        at,
    ));
    out
}
