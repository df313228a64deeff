//! The local ledger as commands see it: the `--dir` argument, opening the
//! store, store errors as failures, case ids, randomness.

use std::path::{Path, PathBuf};

use clap::Args;
use forewarn_ledger::CaseId;
use forewarn_store::{KEY_FILE, KeyError, Store, StoreConfig, StoreError};

use super::Failure;
use super::output::progress_callback;
use crate::Exit;

/// Where the ledger lives.
#[derive(Args, Clone, Debug)]
pub struct DirArg {
    /// The ledger directory (created by `forewarn init`).
    #[arg(long, default_value = "forewarn-data")]
    pub dir: PathBuf,
}

/// Opens the ledger, with a progress bar unless `quiet`.
pub fn open_store(dir: &Path, quiet: bool) -> Result<Store, Failure> {
    open_store_with(dir, quiet, |_| {})
}

/// [`open_store`] with `adjust` applied to the store's settings.
pub fn open_store_with(
    dir: &Path,
    quiet: bool,
    adjust: impl FnOnce(&mut StoreConfig),
) -> Result<Store, Failure> {
    let mut config = StoreConfig::default();
    adjust(&mut config);
    if !quiet {
        config.progress = Some(progress_callback("replaying the ledger"));
    }
    say_if_busy(dir);
    Store::open(dir, config).map_err(store_failure)
}

/// Says on standard error that the ledger is held by another process and
/// that the command waits for it (the store waits up to
/// `DEFAULT_LOCK_WAIT`), so a wait is never silent. Only a message: the
/// open that follows decides.
pub fn say_if_busy(dir: &Path) {
    if let Ok(true) = forewarn_store::lock_held(&dir.join("db")) {
        eprintln!(
            "forewarn: the ledger in {} is in use by another forewarn process; waiting up to {} s",
            dir.display(),
            forewarn_store::DEFAULT_LOCK_WAIT.as_secs()
        );
    }
}

/// What to do about a damaged ledger.
pub const DAMAGED_HINT: &str = "run `forewarn check` to see what is damaged; restore the ledger from a backup or an export (`forewarn export`)";

/// What to do about a damaged or replaced log key file.
pub const KEY_DAMAGED_HINT: &str = "restore log.key from a backup; without it the ledger cannot sign new checkpoints (`forewarn audit` still checks the records, which do not depend on the file)";

/// A store error as the user sees it: corruption is an integrity failure
/// (exit 3), and so is a log key file that is damaged or not the ledger's
/// (damage to the ledger directory, though not to its records);
/// everything else is bad input (exit 2).
pub fn store_failure(e: StoreError) -> Failure {
    if let StoreError::Scratch(_) = &e {
        return Failure {
            exit: Exit::Input,
            message: e.to_string(),
            hint: Some(
                "the replay keeps its state in the system's temporary directory: point TMPDIR at a disk with room (about the size of the ledger's database)"
                    .into(),
            ),
        };
    }
    if e.is_corruption() {
        return Failure {
            exit: Exit::Integrity,
            message: e.to_string(),
            hint: Some(DAMAGED_HINT.into()),
        };
    }
    let bad_key_file = match &e {
        StoreError::Key(KeyError::Malformed { .. } | KeyError::WrongKey { .. }) => true,
        // Bytes that are not text: the file's content is damaged.
        StoreError::Io { path, source } => {
            path.file_name() == Some(KEY_FILE.as_ref())
                && source.kind() == std::io::ErrorKind::InvalidData
        }
        _ => false,
    };
    if bad_key_file {
        return Failure {
            exit: Exit::Integrity,
            message: e.to_string(),
            hint: Some(KEY_DAMAGED_HINT.into()),
        };
    }
    Failure {
        exit: Exit::Input,
        message: e.to_string(),
        hint: None,
    }
}

/// A case id: 32 hex digits.
pub fn parse_case(s: &str) -> Result<CaseId, Failure> {
    let mut b = [0u8; 16];
    base16ct::mixed::decode(s, &mut b).ok().filter(|d| d.len() == 16).ok_or_else(|| {
        Failure::input(
            format!("{s:?} is not a case id"),
            "a case id is 32 hex digits, as printed by `forewarn case open` or `forewarn report cases`",
        )
    })?;
    Ok(CaseId(b))
}

/// `N` bytes from the operating system's random source.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], Failure> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(Failure::no_randomness)?;
    Ok(b)
}
