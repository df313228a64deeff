//! The two files the binary keeps beside the store.
//!
//! - A **signed statement file** (`forewarn statement sign`, read by
//!   `forewarn append`): the line `forewarn-statement@v1`, then the
//!   statement's canonical bytes and its 64-byte Ed25519 signature, each in
//!   standard base64 on its own line (docs/FORMAT.md).
//! - The **salt file** `salts` in the ledger directory (mode 0600): one line
//!   per sealed field, `statement-sha256 field salt value` in lowercase hex,
//!   so that `reveal` can open what was sealed there.

use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use forewarn_ledger::statement::SignedStatement;
use sha2::{Digest, Sha256};

use super::files::{self, ReadError, STATEMENT_FILE_LIMIT};
use super::{Failure, Outcome};

/// A sealed value to remember: (field, salt, canonical value bytes).
pub type SaltEntry = (u8, [u8; 32], Vec<u8>);

const STATEMENT_HEADER: &str = "forewarn-statement@v1";

/// The salt file's name in the ledger directory.
const SALT_FILE: &str = "salts";

/// The salt file is read line by line; past this size it is not a salt
/// file a person made (a million sealed fields take about 200 MiB).
const SALT_FILE_LIMIT: u64 = 1024 * 1024 * 1024;

/// The text of a signed statement file.
pub fn statement_file(s: &SignedStatement) -> String {
    format!(
        "{STATEMENT_HEADER}\n{}\n{}\n",
        B64.encode(&s.bytes),
        B64.encode(s.signature)
    )
}

/// Reads a signed statement file of at most [`STATEMENT_FILE_LIMIT`] bytes.
pub fn parse_statement_file(path: &Path) -> Result<SignedStatement, Failure> {
    let text = files::read_text_capped(path, STATEMENT_FILE_LIMIT).map_err(|e| match e {
        ReadError::Io(e) => Failure::input(
            format!("cannot read {}: {e}", path.display()),
            "check the path",
        ),
        ReadError::TooLarge => Failure::input(
            format!(
                "{} is larger than {}, the limit for a signed statement file",
                path.display(),
                files::size_text(STATEMENT_FILE_LIMIT)
            ),
            "pass a file written by `forewarn statement sign`",
        ),
    })?;
    let bad = || {
        Failure::input(
            format!("{} is not a signed statement file", path.display()),
            "pass a file written by `forewarn statement sign`",
        )
    };
    let mut lines = text.lines();
    if lines.next() != Some(STATEMENT_HEADER) {
        return Err(bad());
    }
    let bytes = lines
        .next()
        .and_then(|l| B64.decode(l).ok())
        .ok_or_else(bad)?;
    let sig = lines
        .next()
        .and_then(|l| B64.decode(l).ok())
        .and_then(|s| <[u8; 64]>::try_from(s).ok())
        .ok_or_else(bad)?;
    if lines.next().is_some() {
        return Err(bad());
    }
    Ok(SignedStatement {
        bytes,
        signature: sig,
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
    let id = hex::encode(Sha256::digest(statement));
    let mut text = String::new();
    for (field, salt, value) in salts {
        text.push_str(&format!(
            "{id} {field} {} {}\n",
            hex::encode(salt),
            hex::encode(value)
        ));
    }
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
    let damaged = || {
        Failure::input(
            format!("{} is damaged", path.display()),
            "restore it from a backup",
        )
    };
    let file = match fs::File::open(&path) {
        Ok(f) => f,
        Err(_) => return Ok(Vec::new()),
    };
    let id = hex::encode(Sha256::digest(statement));
    let mut out = Vec::new();
    let mut reader = BufReader::new(file.take(SALT_FILE_LIMIT + 1));
    let mut read = 0u64;
    let mut line = String::new();
    loop {
        line.clear();
        let n = match reader.read_line(&mut line) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::InvalidData => return Err(damaged()),
            Err(e) => {
                return Err(Failure::input(
                    format!("cannot read {}: {e}", path.display()),
                    "check the ledger directory is readable",
                ));
            }
        };
        if n == 0 {
            break;
        }
        read += n as u64;
        if read > SALT_FILE_LIMIT {
            return Err(files::too_large(
                &path.display().to_string(),
                SALT_FILE_LIMIT,
            ));
        }
        let f: Vec<&str> = line.trim_end_matches(['\n', '\r']).split(' ').collect();
        if f.len() == 4 && f[0] == id {
            let field = f[1].parse().map_err(|_| damaged())?;
            let mut salt = [0u8; 32];
            let salt_ok = hex::decode_to_slice(f[2], &mut salt).is_ok();
            if let (true, Ok(value)) = (salt_ok, hex::decode(f[3])) {
                out.push((field, salt, value));
            }
        }
    }
    Ok(out)
}
