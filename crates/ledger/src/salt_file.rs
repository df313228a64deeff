//! The salt file: the signer's private memory of the values it sealed, so
//! that `forewarn reveal` can open them later (docs/FORMAT.md §19).
//!
//! A sealed field's commitment (§15) is public; its salt and value stay with
//! whoever signed the statement, one line per field, keyed by the statement
//! they belong to:
//!
//! ```text
//! <statement id> SP <field> SP <salt> SP <value> LF
//! ```
//!
//! - statement id: SHA-256 of the statement bytes ([`statement_id`]), 64
//!   lower-case hex digits;
//! - field: the field number of §13 in decimal, `0` to `255`, without
//!   leading zeros;
//! - salt: the 32-byte salt, 64 lower-case hex digits;
//! - value: the §11 encoding of the field's value, lower-case hex.
//!
//! The file only grows: each signed statement appends its lines
//! ([`encode_entries`]), and because a file is the plain concatenation of its
//! lines, appending encoded lines to an encoded file gives an encoded file.
//!
//! Parsing is strict, one spelling per file: [`parse`] accepts exactly what
//! [`encode`] writes. Every line must end in a line feed, hex is lower-case
//! with whole bytes, a value is at most [`MAX_VALUE_BYTES`], and the whole
//! file at most [`MAX_FILE_BYTES`] (checked before anything is decoded).
//! Salts are secret until their field is opened: errors name the line, its
//! offset and the rule broken, and never quote the file; [`SaltEntry`]'s
//! `Debug` shows neither salt nor value. Hex is decoded with `base16ct`,
//! whose decoder has no data-dependent branches or tables.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use sha2::{Digest, Sha256};

use crate::encoding::MAX_ENCODED_SIZE;
use crate::sealed::Salt;

/// Largest value on a line: a value larger than the limit of every encoded
/// statement (65,536 bytes) could never be opened by an `Opening`.
pub const MAX_VALUE_BYTES: usize = MAX_ENCODED_SIZE;

/// Largest salt file (64 MiB, some 250,000 sealed fields of typical size).
/// The file is local but still untrusted input, read whole.
pub const MAX_FILE_BYTES: usize = 64 << 20;

/// The key of a statement's lines: SHA-256 of its bytes.
pub fn statement_id(statement_bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(statement_bytes).into()
}

/// One sealed field's secret: enough to sign its `Opening` (§13, tag 19).
#[derive(Clone, PartialEq, Eq)]
pub struct SaltEntry {
    /// The field number within its event (§13).
    pub field: u8,
    /// The salt of the field's commitment.
    pub salt: Salt,
    /// The §11 encoding of the field's value.
    pub value: Vec<u8>,
}

impl fmt::Debug for SaltEntry {
    /// Shows the field number and the value's length: salt and value are
    /// secret until opened.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaltEntry")
            .field("field", &self.field)
            .field("salt", &"<secret>")
            .field("value_len", &self.value.len())
            .finish()
    }
}

/// One line: a field's secret and the statement it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaltLine {
    /// [`statement_id`] of the statement whose field this is.
    pub statement: [u8; 32],
    /// The field's secret.
    pub entry: SaltEntry,
}

/// A whole salt file, its lines in file order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SaltFile {
    /// The lines.
    pub lines: Vec<SaltLine>,
}

impl SaltFile {
    /// The entries of the statement with these bytes, in file order.
    pub fn entries_for(&self, statement_bytes: &[u8]) -> Vec<SaltEntry> {
        let id = statement_id(statement_bytes);
        self.lines
            .iter()
            .filter(|l| l.statement == id)
            .map(|l| l.entry.clone())
            .collect()
    }
}

/// What is wrong with one line of a salt file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SaltLineError {
    /// The line is the last of the file and has no line feed.
    Unterminated,
    /// The line ends in a carriage return.
    CarriageReturn,
    /// The line does not have four fields separated by single spaces.
    FieldCount {
        /// How many space-separated parts it has.
        found: usize,
    },
    /// The statement id is not 64 lower-case hex digits.
    StatementId,
    /// The field number is not a decimal number from 0 to 255 without
    /// leading zeros.
    FieldNumber,
    /// The salt is not 64 lower-case hex digits.
    Salt,
    /// The value is not lower-case hex of whole bytes.
    Value,
    /// The value is longer than [`MAX_VALUE_BYTES`].
    ValueTooLarge,
}

impl fmt::Display for SaltLineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaltLineError::Unterminated => f.write_str("it does not end with a line feed"),
            SaltLineError::CarriageReturn => {
                f.write_str("it ends with a carriage return (lines end with a line feed alone)")
            }
            SaltLineError::FieldCount { found } => write!(
                f,
                "it has {found} space-separated parts, not 4 (statement id, field, salt, value)"
            ),
            SaltLineError::StatementId => {
                f.write_str("the statement id is not 64 lower-case hex digits")
            }
            SaltLineError::FieldNumber => {
                f.write_str("the field number is not a decimal 0 to 255 without leading zeros")
            }
            SaltLineError::Salt => f.write_str("the salt is not 64 lower-case hex digits"),
            SaltLineError::Value => f.write_str("the value is not lower-case hex of whole bytes"),
            SaltLineError::ValueTooLarge => {
                write!(f, "the value is over the {MAX_VALUE_BYTES}-byte limit")
            }
        }
    }
}

/// Why bytes are not a salt file. Messages never quote the file.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SaltFileError {
    /// The file is longer than [`MAX_FILE_BYTES`]; nothing was decoded.
    TooLarge {
        /// Its length in bytes.
        len: usize,
    },
    /// A line breaks the format.
    BadLine {
        /// The line's number, from 1.
        line: usize,
        /// Offset of the line's first byte in the file.
        offset: usize,
        /// The rule it breaks.
        reason: SaltLineError,
    },
}

impl fmt::Display for SaltFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaltFileError::TooLarge { len } => write!(
                f,
                "the salt file is {len} bytes, over the {MAX_FILE_BYTES}-byte limit"
            ),
            SaltFileError::BadLine {
                line,
                offset,
                reason,
            } => write!(
                f,
                "line {line} of the salt file (from byte {offset}) is damaged: {reason}"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for SaltFileError {}

/// The lines to append for one statement's sealed fields (empty if it has
/// none): the same bytes as [`encode`] of a file holding only them.
pub fn encode_entries(statement_bytes: &[u8], entries: &[SaltEntry]) -> String {
    let id = statement_id(statement_bytes);
    let mut s = String::new();
    for entry in entries {
        push_line(&mut s, &id, entry);
    }
    s
}

/// The file for `file`. [`parse`] of the result gives `file` back whenever
/// every value is within [`MAX_VALUE_BYTES`] and the result within
/// [`MAX_FILE_BYTES`].
pub fn encode(file: &SaltFile) -> String {
    let mut s = String::new();
    for line in &file.lines {
        push_line(&mut s, &line.statement, &line.entry);
    }
    s
}

fn push_line(s: &mut String, statement: &[u8; 32], entry: &SaltEntry) {
    use core::fmt::Write as _;
    s.push_str(&base16ct::lower::encode_string(statement));
    // Writing to a String cannot fail.
    let _ = write!(s, " {} ", entry.field);
    s.push_str(&base16ct::lower::encode_string(&entry.salt));
    s.push(' ');
    s.push_str(&base16ct::lower::encode_string(&entry.value));
    s.push('\n');
}

/// Reads a salt file; accepts exactly the outputs of [`encode`]. An empty
/// input is the empty file.
pub fn parse(bytes: &[u8]) -> Result<SaltFile, SaltFileError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(SaltFileError::TooLarge { len: bytes.len() });
    }
    let mut lines = Vec::new();
    let mut offset = 0;
    while offset < bytes.len() {
        let bad = |reason| SaltFileError::BadLine {
            line: lines.len() + 1,
            offset,
            reason,
        };
        let rest = &bytes[offset..];
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| bad(SaltLineError::Unterminated))?;
        let line = parse_line(&rest[..end]).map_err(bad)?;
        lines.push(line);
        offset += end + 1;
    }
    Ok(SaltFile { lines })
}

fn parse_line(text: &[u8]) -> Result<SaltLine, SaltLineError> {
    if text.last() == Some(&b'\r') {
        return Err(SaltLineError::CarriageReturn);
    }
    let found = text.split(|&b| b == b' ').count();
    let mut parts = text.split(|&b| b == b' ');
    let (Some(id), Some(field), Some(salt), Some(value), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(SaltLineError::FieldCount { found });
    };
    let statement = hex32(id).ok_or(SaltLineError::StatementId)?;
    let field = field_number(field).ok_or(SaltLineError::FieldNumber)?;
    let salt = hex32(salt).ok_or(SaltLineError::Salt)?;
    if value.len() > 2 * MAX_VALUE_BYTES {
        return Err(SaltLineError::ValueTooLarge);
    }
    let value = base16ct::lower::decode_vec(value).map_err(|_| SaltLineError::Value)?;
    Ok(SaltLine {
        statement,
        entry: SaltEntry { field, salt, value },
    })
}

/// Exactly 64 lower-case hex digits.
fn hex32(text: &[u8]) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if text.len() != 64 {
        return None;
    }
    base16ct::lower::decode(text, &mut out).ok()?;
    Some(out)
}

/// `0` to `255` in decimal, without sign or leading zeros.
fn field_number(text: &[u8]) -> Option<u8> {
    let canonical = match text {
        [] => false,
        [b'0'] => true,
        [first, ..] => *first != b'0' && text.len() <= 3,
    };
    if !canonical || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = text.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    u8::try_from(n).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::vec;

    #[test]
    fn field_numbers_have_one_spelling() {
        for n in 0..=255u8 {
            assert_eq!(field_number(format!("{n}").as_bytes()), Some(n));
        }
        for bad in ["", "00", "01", "256", "999", "1000", "+1", "-0", " 1", "1a"] {
            assert_eq!(field_number(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn debug_hides_salt_and_value() {
        let e = SaltEntry {
            field: 1,
            salt: [0xab; 32],
            value: vec![0xcd; 3],
        };
        let shown = format!(
            "{:?}",
            SaltFile {
                lines: vec![SaltLine {
                    statement: [0; 32],
                    entry: e,
                }],
            }
        );
        assert!(!shown.contains("171") && !shown.contains("ab"), "{shown}");
        assert!(!shown.contains("205") && !shown.contains("cd"), "{shown}");
        assert!(shown.contains("value_len: 3"), "{shown}");
    }
}
