//! The two files the binary keeps beside the store, read and written
//! through the library's formats (`forewarn_ledger::statement_file` and
//! `forewarn_ledger::salt_file`, docs/FORMAT.md §18–§19); this module only
//! does the file I/O around them.
//!
//! - A **signed statement file** (`forewarn statement sign`, read by
//!   `forewarn append`).
//! - The **salt file** `salts` in the ledger directory (mode 0600): the
//!   salts and values of the fields sealed there, so that `reveal` can open
//!   them.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use forewarn_ledger::salt_file::{self, SaltEntry};
use forewarn_ledger::statement::SignedStatement;
use forewarn_ledger::statement_file;

use super::files::{self, ReadError};
use super::{Failure, Outcome};

/// The salt file's name in the ledger directory.
const SALT_FILE: &str = "salts";

/// The text of a signed statement file.
pub fn statement_file(s: &SignedStatement) -> String {
    statement_file::encode(s)
}

/// Reads a signed statement file (at most
/// `statement_file::MAX_FILE_BYTES`).
pub fn parse_statement_file(path: &Path) -> Result<SignedStatement, Failure> {
    let limit = statement_file::MAX_FILE_BYTES as u64;
    let bytes = files::read_capped(path, limit).map_err(|e| match e {
        ReadError::Io(e) => Failure::input(
            format!("cannot read {}: {e}", path.display()),
            "check the path",
        ),
        ReadError::TooLarge => Failure::input(
            format!(
                "{} is larger than {}, the limit for a signed statement file",
                path.display(),
                files::size_text(limit)
            ),
            "pass a file written by `forewarn statement sign`",
        ),
    })?;
    statement_file::parse(&bytes).map_err(|e| {
        Failure::input(
            format!("{} is not a signed statement file: {e}", path.display()),
            "pass a file written by `forewarn statement sign`",
        )
    })
}

/// Remembers the sealed values of `statement` in the salt file of `dir`.
pub fn save_salts(dir: &Path, statement: &[u8], salts: &[SaltEntry]) -> Outcome {
    if salts.is_empty() {
        return Ok(());
    }
    let path = dir.join(SALT_FILE);
    let mut opts = fs::OpenOptions::new();
    opts.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&path).map_err(|e| {
        Failure::input(
            format!("cannot write {}: {e}", path.display()),
            "check the ledger directory is writable",
        )
    })?;
    let text = zeroize::Zeroizing::new(salt_file::encode_entries(statement, salts));
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| {
            Failure::input(
                format!("cannot write {}: {e}", path.display()),
                "check free disk space",
            )
        })
}

/// The sealed values the salt file of `dir` holds for `statement` (none
/// if there is no salt file).
pub fn read_salts(dir: &Path, statement: &[u8]) -> Result<Vec<SaltEntry>, Failure> {
    let path = dir.join(SALT_FILE);
    let limit = salt_file::MAX_FILE_BYTES as u64;
    let bytes = match files::read_capped(&path, limit) {
        Ok(b) => b,
        Err(ReadError::Io(e)) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(ReadError::Io(e)) => {
            return Err(Failure::input(
                format!("cannot read {}: {e}", path.display()),
                "check the ledger directory is readable",
            ));
        }
        Err(ReadError::TooLarge) => {
            return Err(files::too_large(&path.display().to_string(), limit));
        }
    };
    let file = salt_file::parse(&bytes).map_err(|e| {
        Failure::input(
            format!("{} is damaged: {e}", path.display()),
            "restore it from a backup",
        )
    })?;
    Ok(file.entries_for(statement))
}
