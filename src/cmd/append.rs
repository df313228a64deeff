//! `forewarn append FILE…`: append statements signed elsewhere (files from
//! `forewarn statement sign`); and the appending every step shares, which
//! commits, writes each receipt and prints what was appended.
//!
//! Appending is all or nothing: every statement is validated as the next
//! records before any is committed ([`Store::append_all`]), so a refusal
//! writes nothing at all, and it names the file (or the step) refused, the
//! auditor's reason and how to fix it.

use std::fs;
use std::path::{Path, PathBuf};

use forewarn_ledger::authority::Authority;
use forewarn_ledger::finding::IntegrityKind;
use forewarn_ledger::statement::{SignedStatement, Statement};
use forewarn_store::{Receipt, Rejection, Store, StoreError};

use crate::cli::formats::parse_statement_file;
use crate::cli::ledger::{open_store, store_failure};
use crate::cli::output::outln;
use crate::cli::output::print_json_pretty;
use crate::cli::{Failure, Outcome};

/// Reads every file first (each capped; a bad one stops everything before
/// the ledger is opened), then appends them in order, all or none.
pub fn run(dir: &Path, files: &[PathBuf], json: bool) -> Outcome {
    let statements = files
        .iter()
        .map(|p| parse_statement_file(p))
        .collect::<Result<Vec<_>, _>>()?;
    let mut store = open_store(dir, json)?;
    let outcome = commit(&mut store, &statements, Some(files), json)
        .and_then(|receipts| report(&store, &statements, &receipts, Some(files), json));
    store.close_at_exit().map_err(store_failure)?;
    outcome
}

/// Commits `statements` as the next records, all or none. A refusal is
/// exit 1 and writes nothing; it names the refused statement (by its file
/// in `files`, if given) and, with `json`, is printed as one JSON row.
pub fn commit(
    store: &mut Store,
    statements: &[SignedStatement],
    files: Option<&[PathBuf]>,
    json: bool,
) -> Result<Vec<Receipt>, Failure> {
    let (position, rejection) = match store.append_all(statements) {
        Ok(receipts) => return Ok(receipts),
        Err(StoreError::RejectedInBatch {
            position,
            rejection,
        }) => (position, rejection),
        Err(e) => return Err(store_failure(e)),
    };
    let why = rejection.to_string();
    let hint = refusal_hint(&rejection, statements.len());
    let file = files.and_then(|f| f.get(position));
    if json {
        let mut row = serde_json::json!({ "rejected": why, "hint": hint });
        if let Some(f) = file {
            row["file"] = f.display().to_string().into();
        }
        print_json_pretty(&[row]);
    }
    let what = match file {
        Some(f) => f.display().to_string(),
        None if statements.len() > 1 => {
            format!("statement {} of {}", position + 1, statements.len())
        }
        None => "the statement".to_string(),
    };
    Err(Failure {
        hint: Some(hint),
        ..Failure::not_verified(format!("the ledger refused {what}: {why}"))
    })
}

/// Writes a receipt file for each appended statement and prints them
/// (text, or one JSON array with `json`; rows name their `files`).
pub fn report(
    store: &Store,
    statements: &[SignedStatement],
    receipts: &[Receipt],
    files: Option<&[PathBuf]>,
    json: bool,
) -> Outcome {
    let receipts_dir = store.dir().join("receipts");
    let mut rows = Vec::new();
    for (i, (s, receipt)) in statements.iter().zip(receipts).enumerate() {
        fs::create_dir_all(&receipts_dir).map_err(|e| {
            Failure::input(
                format!("cannot create {}: {e}", receipts_dir.display()),
                "check the ledger directory is writable",
            )
        })?;
        let path = receipts_dir.join(format!("{}.tlog-proof", receipt.index));
        fs::write(&path, &receipt.proof).map_err(|e| {
            Failure::input(
                format!("cannot write {}: {e}", path.display()),
                "check free disk space",
            )
        })?;
        let st = Statement::from_bytes(&s.bytes).map_err(|e| {
            Failure::integrity(format!("an appended statement does not decode: {e}"), None)
        })?;
        let case = st.event.case().map(|c| c.to_string());
        if !json {
            outln!(
                "appended record {}: {}{}",
                receipt.index,
                st.event.name(),
                case.as_ref()
                    .map(|c| format!(" (case {c})"))
                    .unwrap_or_default()
            );
            outln!("receipt: {}", path.display());
        }
        let mut row = serde_json::json!({
            "record": receipt.index,
            "event": st.event.name(),
            "case": case,
            "receipt": path.display().to_string(),
        });
        if let Some(f) = files.and_then(|f| f.get(i)) {
            row["file"] = f.display().to_string().into();
        }
        rows.push(row);
    }
    if json {
        print_json_pretty(&rows);
    }
    Ok(())
}

/// What to do about a refusal: nothing was written, and how to fix the
/// statement the auditor refused.
fn refusal_hint(rejection: &Rejection, count: usize) -> String {
    let nothing = if count > 1 {
        "nothing was appended (a batch is appended whole or not at all)"
    } else {
        "nothing was written"
    };
    let fix = match rejection {
        Rejection::Replay { .. } => "it is already in the ledger; there is nothing to do".into(),
        Rejection::DuplicateInBatch => "pass each statement once".into(),
        Rejection::Invalid(f) => match &f.kind {
            IntegrityKind::Unauthorized { event, rule } => {
                let join = match rule {
                    Authority::Member
                    | Authority::ReportReceiver
                    | Authority::EmbargoMember
                    | Authority::Vendor
                    | Authority::VendorOrCoordinator => {
                        "; a party joins a case when a member notifies it (`forewarn notify --to NAME`) or names it as the reporter (`forewarn case received --from NAME`)"
                    }
                    _ => "",
                };
                format!("sign {event} with a key of {rule}{join}")
            }
            IntegrityKind::WrongOrigin { expected, .. } => format!(
                "the statement was signed for another ledger; sign the step again against this one ({expected:?})"
            ),
            IntegrityKind::RevokedKey { revoked_by, .. } => format!(
                "that key was revoked by record {revoked_by} and signs nothing logged after it; sign with a current key of your party"
            ),
            IntegrityKind::KeyNotYetAdded { .. } => {
                "the key was added after the step's claimed time; pass a later --at, or sign with the key that was current then".into()
            }
            IntegrityKind::BadPossession { .. } => {
                "pass the new key's own .key file with --new-key: the new key signs the proof that it is yours".into()
            }
            IntegrityKind::KeyInUse { .. } => {
                "that key is already registered; make a new one with `forewarn keygen`".into()
            }
            IntegrityKind::UnknownKey { .. } => {
                "register the party first (`forewarn party register`), or sign with a key of a registered party".into()
            }
            IntegrityKind::ClaimedInFuture { .. } => {
                "pass an --at no later than now (UTC)".into()
            }
            IntegrityKind::ImplausibleTime { .. } => {
                "pass times between 1980-01-01 and 2100-01-01 in UTC".into()
            }
            IntegrityKind::BadReference { .. } | IntegrityKind::CiteMismatch { .. } => {
                "check the record number (`forewarn report case ID` lists a case's records)".into()
            }
            IntegrityKind::UnknownCase { .. } => {
                "check the case id (`forewarn report cases` lists them)".into()
            }
            _ => "fix the step and run it again".into(),
        },
        _ => "fix the step and run it again".into(),
    };
    format!("{nothing}; {fix}")
}
