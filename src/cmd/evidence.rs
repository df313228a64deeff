//! `forewarn evidence verify`: checks an evidence file offline, from the
//! file alone and the log's vkey, and says in plain words what it proves.
//!
//! Two kinds, told apart by the file's first line:
//! * `forewarn.dev/seen-root@v1` ([`forewarn_ledger::seen_evidence`]): a
//!   logged statement whose signer says it saw the log at a size and root
//!   that are not the log's own. `forewarn audit --dir` writes it when it
//!   finds such a record (docs/AUDITING.md, "Seen-checkpoint evidence").
//! * `forewarn.dev/split-view@v1` ([`forewarn_tlog::evidence`]): two
//!   checkpoints signed by one log key that no single history matches.
//!
//! Exit 0: the file is valid evidence of what it says; 1: it is not (it
//! proves nothing); 2: the file cannot be read or is not an evidence file.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use forewarn_ledger::IntegrityKind;
use forewarn_ledger::seen_evidence::{self, SeenRootEvidence, Verdict};
use forewarn_ledger::statement::leaf_hash;
use forewarn_store::{AuditError, LogCopy};
use forewarn_tlog::evidence::{self as split, Conflict, Fork, SplitViewEvidence};
use forewarn_tlog::note::VerifierKey;
use forewarn_tlog::tree::InMemoryTree;

use crate::cli::files::{load_vkey, read_input, write_new_file};
use crate::cli::output::{outln, print_json_line};
use crate::cli::time::format_time;
use crate::cli::{Failure, Outcome};

/// `forewarn evidence …`
#[derive(Subcommand)]
pub enum EvidenceCommand {
    /// Verify an evidence file offline, from the file and the log's key.
    ///
    /// Seen-root evidence (written by `forewarn audit`) shows that a
    /// signer's claimed view of the log is not the log's history; split-view
    /// evidence shows two checkpoints of one log that cannot both be true.
    /// Exit 0 verified, 1 not valid evidence, 2 bad input.
    ///
    /// Example: forewarn evidence verify seen-root-6.evidence --log-key log.vkey
    Verify {
        /// The evidence file (`-` for standard input).
        file: PathBuf,
        /// The log's verifier key, as vkey text or a file holding it (from
        /// the log's operator, not from the evidence).
        #[arg(long)]
        log_key: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `evidence verify`.
pub fn run(cmd: &EvidenceCommand) -> Outcome {
    let EvidenceCommand::Verify {
        file,
        log_key,
        json,
    } = cmd;
    let key = load_vkey(log_key)?;
    let bytes = read_input(Some(file))?;
    let name = file.display();
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        Failure::input(
            format!("{name} is not an evidence file: it is not UTF-8 text"),
            "pass the evidence file itself",
        )
    })?;
    let malformed = |e: &dyn std::fmt::Display| {
        Failure::input(
            format!("{name} is not a well-formed evidence file: {e}"),
            "pass the file exactly as it was written; evidence is checked byte for byte",
        )
    };
    match text.split('\n').next().unwrap_or_default() {
        seen_evidence::HEADER => {
            let e = SeenRootEvidence::parse(text).map_err(|e| malformed(&e))?;
            report(
                e.verify(&key).map(|v| seen_root_words(&v, *json)),
                "seen-root",
                *json,
            )
        }
        split::HEADER => {
            let e = SplitViewEvidence::parse(text).map_err(|e| malformed(&e))?;
            let verdict = if e.log_key != key {
                Err(format!(
                    "the evidence is about the log key {}, not the one given",
                    e.log_key
                ))
            } else {
                e.verify()
                    .map(|f| split_view_words(&f, *json))
                    .map_err(|e| e.to_string())
            };
            report(verdict, "split-view", *json)
        }
        _ => Err(Failure::input(
            format!(
                "{name} is not an evidence file: its first line is neither {} nor {}",
                seen_evidence::HEADER,
                split::HEADER
            ),
            "pass a file written by `forewarn audit` (seen-root evidence) or split-view evidence",
        )),
    }
}

/// Prints a verified verdict (already rendered), or fails with exit 1.
fn report<E: std::fmt::Display>(verdict: Result<(), E>, kind: &str, json: bool) -> Outcome {
    verdict.map_err(|e| {
        if json {
            print_json_line(&serde_json::json!({
                "verified": false,
                "kind": kind,
                "error": e.to_string(),
            }));
        }
        Failure {
            hint: Some(
                "this file proves nothing against the log; check that --log-key is the log's key"
                    .into(),
            ),
            ..Failure::not_verified(format!("not verified: {e}"))
        }
    })
}

fn hex(bytes: &[u8]) -> String {
    base16ct::lower::encode_string(bytes)
}

/// What verified seen-root evidence proves, in words or JSON.
fn seen_root_words(v: &Verdict, json: bool) {
    let origin = v.checkpoint.origin();
    let event = v.statement.event.name();
    let signer = hex(&v.statement.signer.0);
    if json {
        print_json_line(&serde_json::json!({
            "verified": true,
            "kind": "seen-root",
            "origin": origin,
            "tree_size": v.checkpoint.size(),
            "root": v.checkpoint.root().to_base64(),
            "index": v.index,
            "event": event,
            "signer": signer,
            "claimed_at": v.statement.claimed_at,
            "logged_at": v.logged_at,
            "seen_size": v.seen_size,
            "claimed_root": v.claimed_root.to_base64(),
            "log_root": v.log_root.to_base64(),
        }));
        return;
    }
    outln!("verified: seen-root evidence against the log {origin}");
    outln!(
        "record {} ({event}), claimed {}, logged {}, is signed by the key {signer}",
        v.index,
        format_time(v.statement.claimed_at),
        format_time(v.logged_at)
    );
    outln!(
        "its signer says it had seen the log at size {} with root {}",
        v.seen_size,
        v.claimed_root.to_hex()
    );
    outln!(
        "the log's signed checkpoint at size {} holds that record and gives the log's root at size {} as {}",
        v.checkpoint.size(),
        v.seen_size,
        v.log_root.to_hex()
    );
    outln!(
        "so either the log showed this signer a tree it does not have (a fork), or the signer misreported what it saw; this evidence does not say which"
    );
}

/// What verified split-view evidence proves, in words or JSON.
fn split_view_words(f: &Fork, json: bool) {
    let (how, implied) = match &f.conflict {
        Conflict::SameSizeDifferentRoots => ("same-size-different-roots", None),
        Conflict::BadEmptyRoot => ("bad-empty-root", None),
        Conflict::PrefixMismatch { implied } => ("prefix-mismatch", Some(*implied)),
    };
    if json {
        print_json_line(&serde_json::json!({
            "verified": true,
            "kind": "split-view",
            "origin": f.smaller.origin(),
            "conflict": how,
            "smaller": {"size": f.smaller.size(), "root": f.smaller.root().to_base64()},
            "larger": {"size": f.larger.size(), "root": f.larger.root().to_base64()},
            "implied_root": implied.map(|h| h.to_base64()),
        }));
        return;
    }
    outln!(
        "verified: split-view evidence against the log {}",
        f.smaller.origin()
    );
    outln!(
        "the log signed size {} with root {} and size {} with root {}",
        f.smaller.size(),
        f.smaller.root().to_hex(),
        f.larger.size(),
        f.larger.root().to_hex()
    );
    match implied {
        Some(h) => outln!(
            "the larger tree's first {} records have root {}: no single append-only history matches both checkpoints",
            f.smaller.size(),
            h.to_hex()
        ),
        None => outln!("no single append-only history matches both checkpoints"),
    }
}

/// The file `forewarn audit` writes seen-root evidence to by default.
pub fn default_path(index: u64) -> PathBuf {
    PathBuf::from(format!("seen-root-{index}.evidence"))
}

/// After a failed audit of `copy`: if the failure is a claimed seen root
/// that is not the log's, writes the evidence (to `path`, or
/// [`default_path`]) and returns a sentence for the hint saying where and
/// how to check it, or why nothing was written. `None` for other failures.
pub fn after_audit_failure(
    copy: &LogCopy,
    failure: &AuditError,
    path: Option<&Path>,
    vkey: &str,
) -> Option<String> {
    let AuditError::Integrity(f) = failure else {
        return None;
    };
    let IntegrityKind::SeenRootMismatch { .. } = f.kind else {
        return None;
    };
    let path = path.map_or_else(|| default_path(f.index), Path::to_path_buf);
    Some(match write_seen_root(copy, f.index, copy.vkey(), &path) {
        Ok(()) => format!(
            "evidence written to {p}; anyone can check it with `forewarn evidence verify {p} --log-key {vkey}`",
            p = path.display()
        ),
        Err(why) => format!("no evidence written: {why}"),
    })
}

/// Builds seen-root evidence for record `index` from the copy's records
/// and its signed checkpoint, and writes it to a new file at `path`.
fn write_seen_root(
    copy: &LogCopy,
    index: u64,
    key: &VerifierKey,
    path: &Path,
) -> Result<(), String> {
    // The whole tree in memory (64 bytes a record), on this failure path only.
    let mut tree = InMemoryTree::new();
    let mut record = None;
    for (i, r) in copy.records().enumerate() {
        let r = r.map_err(|e| e.to_string())?;
        tree.append(leaf_hash(&r));
        if i as u64 == index {
            record = Some(r);
        }
    }
    let record = record.ok_or("the record is not in the copied ledger")?;
    let checkpoint = copy.state().checkpoint.to_vec();
    let (evidence, _) = SeenRootEvidence::prove(record, checkpoint, key, &tree)
        .map_err(|e| format!("the ledger does not prove it: {e}"))?;
    write_new_file(path, evidence.to_text().as_bytes(), false).map_err(|f| f.message)
}
