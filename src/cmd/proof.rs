//! `forewarn proof verify`: offline checks of c2sp.org/tlog-proof@v1 files,
//! forewarn receipts included.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use forewarn_tlog::policy::Policy;
use forewarn_tlog::proof::{TlogProof, TlogProofError};
use serde::Serialize;

use crate::cli::files::{
    INPUT_LIMIT, POLICY_FILE_LIMIT, ReadError, load_vkey, read_capped, read_input, read_text_or,
    too_large,
};
use crate::cli::output::outln;
use crate::cli::output::print_json_line;
use crate::cli::time::format_time;
use crate::cli::{Failure, Outcome};
use crate::cmd::note::NotVerified;

/// `forewarn proof …`
#[derive(Subcommand)]
pub enum ProofCommand {
    /// Verify a tlog-proof for an entry, offline.
    ///
    /// Checks the checkpoint's signature by the log key (and the witness
    /// quorum, with --policy), then that the entry's leaf hash is at the
    /// proof's index in the checkpointed tree. Exit 0 verified, 1 not, 2 bad input.
    ///
    /// Example: forewarn proof verify --vkey log.vkey --leaf entry.bin entry.tlog-proof
    Verify {
        /// The log's verifier key, as vkey text or a file holding it.
        #[arg(long)]
        vkey: String,
        /// File with the entry's exact bytes (the Merkle leaf data). Omit it
        /// for a forewarn receipt, which carries its record: then the record
        /// and its statement signature are checked too.
        #[arg(long)]
        leaf: Option<PathBuf>,
        /// A c2sp.org/tlog-policy file; its witness quorum must be met.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// The proof file (.tlog-proof).
        proof: PathBuf,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `proof verify`.
pub fn run(cmd: &ProofCommand) -> Outcome {
    let ProofCommand::Verify {
        vkey,
        leaf,
        policy,
        proof,
        json,
    } = cmd;
    verify(vkey, leaf.as_deref(), policy.as_deref(), proof, *json)
}

/// `--json` of a verified entry (fields in this order, docs/CLI.md).
#[derive(Serialize)]
struct Verified<'a> {
    verified: bool,
    index: u64,
    origin: &'a str,
    tree_size: u64,
    root: String,
    witnesses: Vec<Witnessed<'a>>,
}

#[derive(Serialize)]
struct Witnessed<'a> {
    witness: &'a str,
    time: u64,
}

/// A c2sp.org/tlog-policy file.
fn load_policy(p: &Path) -> Result<Policy, Failure> {
    let text = read_text_or(p, POLICY_FILE_LIMIT, |e| {
        Failure::input(
            format!("cannot read policy {}: {e}", p.display()),
            "check the path",
        )
    })?;
    Policy::parse(&text).map_err(|e| {
        Failure::input(
            format!("{}: {e}", p.display()),
            "see c2sp.org/tlog-policy for the format",
        )
    })
}

fn verify(
    vkey: &str,
    leaf: Option<&Path>,
    policy: Option<&Path>,
    proof: &Path,
    json: bool,
) -> Outcome {
    let key = load_vkey(vkey)?;
    let policy = policy.map(load_policy).transpose()?;
    let bytes = read_input(Some(proof))?;
    let parsed = TlogProof::parse(&bytes).map_err(|e| {
        Failure::input(
            format!("{} is not a tlog-proof: {e}", proof.display()),
            "a proof starts with the line c2sp.org/tlog-proof@v1",
        )
    })?;
    let Some(leaf) = leaf else {
        return verify_receipt(&bytes, &key, policy.as_ref(), json);
    };
    let entry = read_capped(leaf, INPUT_LIMIT).map_err(|e| match e {
        ReadError::Io(e) => Failure::input(
            format!("cannot read leaf file {}: {e}", leaf.display()),
            "pass the file with the entry's exact bytes",
        ),
        ReadError::TooLarge => too_large(&format!("leaf file {}", leaf.display()), INPUT_LIMIT),
    })?;
    match parsed.verify(&entry, &key, policy.as_ref()) {
        Ok(v) => {
            if json {
                print_json_line(&Verified {
                    verified: true,
                    index: v.index,
                    origin: v.checkpoint.origin(),
                    tree_size: v.checkpoint.size(),
                    root: v.checkpoint.root().to_base64(),
                    witnesses: v
                        .witnessed
                        .iter()
                        .map(|(n, t)| Witnessed {
                            witness: n,
                            time: *t,
                        })
                        .collect(),
                });
            } else {
                outln!(
                    "verified: entry {} is in {} at tree size {} (root {})",
                    v.index,
                    v.checkpoint.origin(),
                    v.checkpoint.size(),
                    v.checkpoint.root()
                );
                for (n, t) in &v.witnessed {
                    outln!("witnessed: {n} at {t}");
                }
            }
            Ok(())
        }
        Err(e) => {
            if json {
                print_json_line(&NotVerified {
                    verified: false,
                    error: e.to_string(),
                });
            }
            let hint = match e {
                TlogProofError::Inclusion(_) => {
                    Some("check that --leaf holds exactly the logged entry's bytes".to_string())
                }
                TlogProofError::Checkpoint(_) => {
                    Some("check that --vkey is this log's key".to_string())
                }
                _ => None,
            };
            Err(Failure {
                hint,
                ..Failure::not_verified(format!("not verified: {e}"))
            })
        }
    }
}

/// A forewarn receipt: the record rides in the proof, so the record and
/// its statement signature are checked too.
fn verify_receipt(
    bytes: &[u8],
    key: &forewarn_tlog::note::VerifierKey,
    policy: Option<&Policy>,
    json: bool,
) -> Outcome {
    match forewarn_ledger::receipt::verify(bytes, key, policy) {
        Ok(v) => {
            let event = v.statement.event.name();
            if json {
                outln!(
                    "{}",
                    serde_json::json!({
                        "verified": true,
                        "index": v.record.index,
                        "origin": v.origin,
                        "tree_size": v.tree_size,
                        "event": event,
                        "case": v.statement.event.case().map(|c| c.to_string()),
                        "signer": base16ct::lower::encode_string(&v.statement.signer.0),
                        "claimed_at": v.statement.claimed_at,
                        "logged_at": v.record.logged_at,
                    })
                );
            } else {
                outln!(
                    "verified: record {} ({event}) is in {} at tree size {}",
                    v.record.index,
                    v.origin,
                    v.tree_size
                );
                outln!(
                    "claimed {} · logged {} · signed by {}",
                    format_time(v.statement.claimed_at),
                    format_time(v.record.logged_at),
                    base16ct::lower::encode_string(&v.statement.signer.0)
                );
            }
            Ok(())
        }
        Err(e) => {
            if json {
                outln!(
                    "{}",
                    serde_json::json!({"verified": false, "error": e.to_string()})
                );
            }
            Err(Failure {
                hint: Some("pass --leaf FILE for a proof that carries no record".into()),
                ..Failure::not_verified(format!("not verified: {e}"))
            })
        }
    }
}
