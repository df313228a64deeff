//! The signed-statement file, `forewarn-statement@v1`: one
//! [`SignedStatement`] as three lines of text, in which a statement signed
//! by one party reaches the operator who appends it (`forewarn statement
//! sign` writes it, `forewarn append` reads it).
//!
//! Layout (docs/FORMAT.md §18), every line ending in one line feed (`0x0a`):
//!
//! ```text
//! forewarn-statement@v1
//! <statement bytes in standard base64, RFC 4648 §4, padded>
//! <the 64-byte Ed25519 signature in standard base64, padded>
//! ```
//!
//! Parsing is strict so that a file has exactly one spelling: [`parse`]
//! accepts only what [`encode`] writes. The header line is compared byte for
//! byte; base64 must be canonical (padding present, unused bits zero, no
//! line breaks or spaces); carriage returns, a missing final line feed and
//! anything after the third line are refused. Input over [`MAX_FILE_BYTES`]
//! is refused before anything is decoded.
//!
//! This layer checks the container only. Whether the statement bytes decode
//! ([`crate::Statement::from_bytes`]) and whether the signature verifies is
//! the log's check when the statement is appended (docs/FORMAT.md §16).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::encoding::MAX_ENCODED_SIZE;
use crate::statement::SignedStatement;

/// The first line of every statement file (without its line feed).
pub const HEADER: &str = "forewarn-statement@v1";

/// Largest statement a file may carry: the limit of every encoded statement
/// ([`MAX_ENCODED_SIZE`], 65,536 bytes).
pub const MAX_STATEMENT_BYTES: usize = MAX_ENCODED_SIZE;

/// Length of the signature line without its line feed: 64 bytes in padded
/// base64.
const SIGNATURE_LINE: usize = base64_len(64);

/// Largest statement file: the header, a [`MAX_STATEMENT_BYTES`] statement
/// and a signature, each with its line feed (87,496 bytes).
pub const MAX_FILE_BYTES: usize =
    HEADER.len() + 1 + base64_len(MAX_STATEMENT_BYTES) + 1 + SIGNATURE_LINE + 1;

/// Padded base64 length of `n` bytes.
const fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// The three lines of a statement file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line {
    /// Line 1, [`HEADER`].
    Header,
    /// Line 2, the statement bytes.
    Statement,
    /// Line 3, the signature.
    Signature,
}

impl Line {
    /// The line's number, from 1.
    pub fn number(self) -> usize {
        match self {
            Line::Header => 1,
            Line::Statement => 2,
            Line::Signature => 3,
        }
    }
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            Line::Header => "the header",
            Line::Statement => "the statement",
            Line::Signature => "the signature",
        };
        write!(f, "line {} ({what})", self.number())
    }
}

/// Why bytes are not a statement file. Messages name the line and the rule
/// broken and never quote the input.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatementFileError {
    /// The input is longer than [`MAX_FILE_BYTES`]; nothing was decoded.
    TooLarge {
        /// Input length in bytes.
        len: usize,
    },
    /// The input ends before this line starts.
    MissingLine {
        /// The first missing line.
        line: Line,
    },
    /// This line is the last of the input and has no line feed.
    MissingLineFeed {
        /// The unterminated line.
        line: Line,
    },
    /// This line ends in a carriage return (the format's lines end in a
    /// line feed alone).
    CarriageReturn {
        /// The line.
        line: Line,
    },
    /// Line 1 is not exactly [`HEADER`].
    BadHeader,
    /// The line is not canonical padded standard base64.
    NotBase64 {
        /// Line 2 or 3.
        line: Line,
    },
    /// The statement is longer than [`MAX_STATEMENT_BYTES`].
    StatementTooLarge {
        /// Its decoded length.
        len: usize,
    },
    /// The signature line does not hold exactly 64 bytes.
    SignatureLength {
        /// Its decoded length.
        len: usize,
    },
    /// Bytes follow the signature line.
    TrailingData {
        /// Offset of the first such byte.
        offset: usize,
    },
}

impl fmt::Display for StatementFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a signed statement file: ")?;
        match self {
            StatementFileError::TooLarge { len } => write!(
                f,
                "{len} bytes is over the {MAX_FILE_BYTES}-byte limit of a statement file"
            ),
            StatementFileError::MissingLine { line } => write!(f, "it ends before {line}"),
            StatementFileError::MissingLineFeed { line } => {
                write!(f, "{line} does not end with a line feed")
            }
            StatementFileError::CarriageReturn { line } => write!(
                f,
                "{line} ends with a carriage return (lines end with a line feed alone)"
            ),
            StatementFileError::BadHeader => write!(f, "line 1 is not `{HEADER}`"),
            StatementFileError::NotBase64 { line } => write!(
                f,
                "{line} is not canonical base64 (RFC 4648 §4, padded, on one line)"
            ),
            StatementFileError::StatementTooLarge { len } => write!(
                f,
                "the statement is {len} bytes, over the {MAX_STATEMENT_BYTES}-byte limit"
            ),
            StatementFileError::SignatureLength { len } => {
                write!(f, "the signature is {len} bytes, not 64")
            }
            StatementFileError::TrailingData { offset } => {
                write!(
                    f,
                    "bytes follow line 3 (the signature), from offset {offset}"
                )
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for StatementFileError {}

/// The file for `statement`. [`parse`] of the result gives `statement` back
/// whenever its bytes are within [`MAX_STATEMENT_BYTES`], which every
/// statement from [`crate::Statement::sign`] is.
pub fn encode(statement: &SignedStatement) -> String {
    let mut s = String::with_capacity(
        HEADER.len() + base64_len(statement.bytes.len()) + SIGNATURE_LINE + 3,
    );
    s.push_str(HEADER);
    s.push('\n');
    BASE64.encode_string(&statement.bytes, &mut s);
    s.push('\n');
    BASE64.encode_string(statement.signature, &mut s);
    s.push('\n');
    s
}

/// Reads a statement file; accepts exactly the outputs of [`encode`].
pub fn parse(bytes: &[u8]) -> Result<SignedStatement, StatementFileError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(StatementFileError::TooLarge { len: bytes.len() });
    }
    let mut rest = bytes;
    let header = next_line(&mut rest, Line::Header)?;
    if header != HEADER.as_bytes() {
        return Err(StatementFileError::BadHeader);
    }
    let statement = decode_line(next_line(&mut rest, Line::Statement)?, Line::Statement)?;
    if statement.len() > MAX_STATEMENT_BYTES {
        return Err(StatementFileError::StatementTooLarge {
            len: statement.len(),
        });
    }
    let signature = decode_line(next_line(&mut rest, Line::Signature)?, Line::Signature)?;
    let signature = <[u8; 64]>::try_from(signature.as_slice()).map_err(|_| {
        StatementFileError::SignatureLength {
            len: signature.len(),
        }
    })?;
    if !rest.is_empty() {
        return Err(StatementFileError::TrailingData {
            offset: bytes.len() - rest.len(),
        });
    }
    Ok(SignedStatement {
        bytes: statement,
        signature,
    })
}

/// Splits off the next line (without its line feed).
fn next_line<'a>(rest: &mut &'a [u8], line: Line) -> Result<&'a [u8], StatementFileError> {
    if rest.is_empty() {
        return Err(StatementFileError::MissingLine { line });
    }
    let Some(end) = rest.iter().position(|&b| b == b'\n') else {
        return Err(StatementFileError::MissingLineFeed { line });
    };
    let text = &rest[..end];
    *rest = &rest[end + 1..];
    if text.last() == Some(&b'\r') {
        return Err(StatementFileError::CarriageReturn { line });
    }
    Ok(text)
}

/// Decodes canonical padded base64: the engine refuses missing padding and
/// non-zero unused bits; the re-encoding check makes "one spelling per
/// value" independent of the engine's settings.
fn decode_line(text: &[u8], line: Line) -> Result<Vec<u8>, StatementFileError> {
    let bytes = BASE64
        .decode(text)
        .map_err(|_| StatementFileError::NotBase64 { line })?;
    if BASE64.encode(&bytes).as_bytes() != text {
        return Err(StatementFileError::NotBase64 { line });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn sample() -> SignedStatement {
        SignedStatement {
            bytes: vec![1, 2, 3, 4, 5],
            signature: [7; 64],
        }
    }

    #[test]
    fn the_limit_is_the_largest_encoding() {
        let max = SignedStatement {
            bytes: vec![0xff; MAX_STATEMENT_BYTES],
            signature: [0xff; 64],
        };
        let file = encode(&max);
        assert_eq!(file.len(), MAX_FILE_BYTES);
        assert_eq!(MAX_FILE_BYTES, 87_496);
        assert_eq!(parse(file.as_bytes()), Ok(max));
    }

    #[test]
    fn lines_are_named_in_messages() {
        let e = StatementFileError::NotBase64 {
            line: Line::Signature,
        };
        assert_eq!(
            e.to_string(),
            "not a signed statement file: line 3 (the signature) is not canonical base64 (RFC 4648 §4, padded, on one line)"
        );
        assert_eq!(parse(encode(&sample()).as_bytes()), Ok(sample()));
    }
}
