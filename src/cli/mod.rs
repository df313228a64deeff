//! What every command shares: the [`Failure`] a command returns, reading
//! input files with size caps ([`files`]), progress bars and JSON output
//! ([`output`], the streamed documents in [`json`]), times on the command line ([`time`]), the ledger directory
//! and store errors ([`ledger`]), and the two files the binary reads and
//! writes beside the store: signed statements and salts ([`formats`]).

pub mod files;
pub mod formats;
pub mod json;
pub mod ledger;
pub mod output;
pub mod projected;
pub mod time;

use crate::Exit;

/// A failure, as the user sees it: one sentence, a hint, an exit code.
pub struct Failure {
    /// How the process exits.
    pub exit: Exit,
    /// One sentence, printed after `forewarn: `.
    pub message: String,
    /// What to do next, printed after `hint: `.
    pub hint: Option<String>,
}

impl Failure {
    /// Bad input (exit 2), with what to do next.
    pub fn input(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Failure {
            exit: Exit::Input,
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// Not verified, findings, or a statement refused (exit 1).
    pub fn not_verified(message: impl Into<String>) -> Self {
        Failure {
            exit: Exit::NotVerified,
            message: message.into(),
            hint: None,
        }
    }

    /// An integrity failure (exit 3): do not trust what was read.
    pub fn integrity(message: impl Into<String>, hint: Option<String>) -> Self {
        Failure {
            exit: Exit::Integrity,
            message: message.into(),
            hint,
        }
    }

    /// The operating system gave no randomness (exit 2, no hint).
    pub fn no_randomness(e: impl std::fmt::Display) -> Self {
        Failure {
            exit: Exit::Input,
            message: format!("the operating system gave no randomness: {e}"),
            hint: None,
        }
    }
}

/// What a command returns.
pub type Outcome = Result<(), Failure>;
