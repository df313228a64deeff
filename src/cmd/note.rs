//! `forewarn note sign` and `forewarn note verify`: C2SP signed notes (a
//! checkpoint is a note).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::Subcommand;
use forewarn_tlog::checkpoint::Checkpoint;
use forewarn_tlog::note::{self, Note, OpenError, SignatureType};
use serde::Serialize;

use crate::cli::files::{load_signer, load_vkey, read_input};
use crate::cli::output::outln;
use crate::cli::output::print_json_line;
use crate::cli::time::now_seconds;
use crate::cli::{Failure, Outcome};

/// `forewarn note …`
#[derive(Subcommand)]
pub enum NoteCommand {
    /// Sign note text and print the signed note.
    ///
    /// The input is note text (UTF-8, ending in a newline), or a signed note
    /// to which one more signature is added. With a witness key, adds a
    /// cosignature over a checkpoint at the current time.
    ///
    /// Example: printf 'hello\n' | forewarn note sign --key keys/example.com_log.key
    Sign {
        /// Private key file written by `forewarn keygen`.
        #[arg(long)]
        key: PathBuf,
        /// Input file; reads standard input if absent or "-".
        input: Option<PathBuf>,
    },
    /// Verify a signed note against trusted keys and print which verified.
    ///
    /// Signatures by keys not given are ignored; a signature by a given key
    /// that fails rejects the note. Exit 0 verified, 1 not verified, 2 bad input.
    ///
    /// Example: forewarn note verify --vkey keys/example.com_log.vkey note.txt
    Verify {
        /// Trusted verifier key, as vkey text or a file holding it; repeat for more.
        #[arg(long = "vkey", required = true)]
        vkeys: Vec<String>,
        /// Input file; reads standard input if absent or "-".
        input: Option<PathBuf>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `note sign` or `note verify`.
pub fn run(cmd: &NoteCommand) -> Outcome {
    match cmd {
        NoteCommand::Sign { key, input } => sign(key, input.as_deref()),
        NoteCommand::Verify { vkeys, input, json } => verify(vkeys, input.as_deref(), *json),
    }
}

/// `--json` of a verified note (fields in this order, docs/CLI.md).
#[derive(Serialize)]
struct Verified<'a> {
    verified: bool,
    verified_by: Vec<String>,
    unverified_signatures: usize,
    text: &'a str,
}

/// `--json` of a note or proof that did not verify.
#[derive(Serialize)]
pub(crate) struct NotVerified {
    pub(crate) verified: bool,
    pub(crate) error: String,
}

fn sign(key: &Path, input: Option<&Path>) -> Outcome {
    let signer = load_signer(key)?;
    let bytes = read_input(input)?;
    // A signed note gets one more signature; otherwise the input is the text.
    let mut note = match Note::parse(&bytes) {
        Ok(n) => n,
        Err(_) => {
            let text = std::str::from_utf8(&bytes).map_err(|_| {
                Failure::input("the input is not UTF-8 text", "notes are UTF-8 text")
            })?;
            Note::new(text).map_err(|e| {
                Failure::input(
                    format!("the input is not valid note text: {e}"),
                    "note text is UTF-8, has no control characters but newlines, and ends with a newline",
                )
            })?
        }
    };
    match signer.kind() {
        SignatureType::CosignatureV1 => {
            Checkpoint::parse(note.text()).map_err(|e| {
                Failure::input(
                    format!("a witness key cosigns checkpoints, and the input is not one: {e}"),
                    "sign plain notes with a log key (forewarn keygen without --witness)",
                )
            })?;
            let sig = signer.cosign(note.text(), now_seconds());
            note.push_signature(sig);
        }
        _ => note.sign(&signer),
    }
    io::stdout().write_all(&note.to_bytes()).map_err(|e| {
        Failure::input(
            format!("cannot write the note: {e}"),
            "check standard output",
        )
    })
}

fn verify(vkeys: &[String], input: Option<&Path>, json: bool) -> Outcome {
    let keys = vkeys
        .iter()
        .map(|v| load_vkey(v))
        .collect::<Result<Vec<_>, _>>()?;
    let bytes = read_input(input)?;
    match note::open(&bytes, &keys) {
        Ok(opened) => {
            if json {
                print_json_line(&Verified {
                    verified: true,
                    verified_by: opened
                        .verified
                        .iter()
                        .map(|s| format!("{}+{}", s.name, s.key_id))
                        .collect(),
                    unverified_signatures: opened.unverified.len(),
                    text: &opened.text,
                });
            } else {
                for s in &opened.verified {
                    outln!("verified: {}+{}", s.name, s.key_id);
                }
                if !opened.unverified.is_empty() {
                    outln!(
                        "ignored: {} signatures by keys not given",
                        opened.unverified.len()
                    );
                }
            }
            Ok(())
        }
        Err(OpenError::Malformed(e)) => Err(Failure::input(
            format!("the input is not a signed note: {e}"),
            "a signed note is text, a blank line, then lines '— name signature'",
        )),
        Err(e) => {
            if json {
                print_json_line(&NotVerified {
                    verified: false,
                    error: e.to_string(),
                });
            }
            Err(Failure::not_verified(format!("not verified: {e}")))
        }
    }
}
