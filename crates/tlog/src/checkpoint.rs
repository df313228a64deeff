//! Checkpoints: a log's signed tree head (c2sp.org/tlog-checkpoint).
//!
//! The note text is the origin line, the tree size in canonical decimal,
//! the root hash in base64, and optional non-empty extension lines. The log
//! signs it as a [`crate::note`]; witnesses add cosignatures.
//!
//! ```
//! use forewarn_tlog::checkpoint::Checkpoint;
//! let text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
//! let c = Checkpoint::parse(text).unwrap();
//! assert_eq!((c.origin(), c.size()), ("example.com/behind-the-sofa", 20852163));
//! assert_eq!(c.to_text(), text);
//! assert!(Checkpoint::parse("o\n007\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n").is_err());
//! ```

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::hash::Hash;
use crate::note::{self, Note, NoteError, OpenError, OpenedNote, SignerKey, VerifierKey};

/// Most extension lines accepted.
pub const MAX_EXTENSIONS: usize = 16;

/// A tree head: origin, size and root (plus opaque extension lines).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    root: Hash,
    extensions: Vec<String>,
}

/// Why checkpoint text was rejected, or a signed checkpoint did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckpointError {
    /// Fewer than three lines, or no final newline.
    TooFewLines,
    /// The origin line is empty or contains a control character.
    InvalidOrigin,
    /// The size line is not canonical decimal (digits only, no leading zero) or overflows u64.
    InvalidSize {
        /// The size line as found.
        found: String,
    },
    /// The root line is not canonical base64 of 32 bytes.
    InvalidRoot {
        /// The root line as found.
        found: String,
    },
    /// An extension line is empty or contains a control character.
    EmptyExtensionLine,
    /// More than [`MAX_EXTENSIONS`] extension lines.
    TooManyExtensions,
    /// The note around it is malformed or its signatures do not verify.
    Note(OpenError),
    /// The note verified, but not with the log's own key.
    NotSignedByLog {
        /// The log key that was required.
        log: String,
    },
    /// The key given as the log's is not an Ed25519 (type 0x01) note key,
    /// e.g. a witness cosignature key.
    LogKeyNotEd25519 {
        /// The key given.
        key: String,
    },
    /// The checkpoint is from another log.
    WrongOrigin {
        /// Origin in the checkpoint.
        got: String,
        /// Origin expected.
        want: String,
    },
    /// The checkpoint's origin is not the name of the pinned log key
    /// (c2sp.org/tlog-checkpoint §Signatures says SHOULD; forewarn requires it).
    OriginNotKeyName {
        /// Origin in the checkpoint.
        origin: String,
        /// Name of the pinned log key.
        key_name: String,
    },
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointError::TooFewLines => f.write_str(
                "checkpoint needs an origin, a size and a root line, each ending in a newline",
            ),
            CheckpointError::InvalidOrigin => f.write_str("checkpoint origin line is empty"),
            CheckpointError::InvalidSize { found } => write!(
                f,
                "checkpoint size {found:?} is not a decimal number without leading zeros"
            ),
            CheckpointError::InvalidRoot { found } => write!(
                f,
                "checkpoint root {found:?} is not the base64 of a 32-byte hash"
            ),
            CheckpointError::EmptyExtensionLine => f.write_str(
                "checkpoint has an empty extension line, or one with a control character",
            ),
            CheckpointError::TooManyExtensions => write!(
                f,
                "checkpoint has more than {MAX_EXTENSIONS} extension lines"
            ),
            CheckpointError::Note(e) => write!(f, "checkpoint note: {e}"),
            CheckpointError::NotSignedByLog { log } => {
                write!(f, "checkpoint is not signed by the log key {log}")
            }
            CheckpointError::LogKeyNotEd25519 { key } => write!(
                f,
                "{key} is not a log key: logs sign checkpoints with Ed25519 (type 0x01) keys"
            ),
            CheckpointError::WrongOrigin { got, want } => {
                write!(f, "checkpoint origin is {got:?}, want {want:?}")
            }
            CheckpointError::OriginNotKeyName { origin, key_name } => write!(
                f,
                "checkpoint origin {origin:?} is not the name of the log key {key_name:?}"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for CheckpointError {}

/// Parses a canonical decimal u64: digits only, no sign, no leading zero.
pub(crate) fn parse_canonical_u64(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if s.len() > 1 && s.starts_with('0') {
        return None;
    }
    s.parse().ok()
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    pub fn new(origin: &str, size: u64, root: Hash) -> Result<Checkpoint, CheckpointError> {
        Self::with_extensions(origin, size, root, Vec::new())
    }

    /// A checkpoint with extension lines.
    pub fn with_extensions(
        origin: &str,
        size: u64,
        root: Hash,
        extensions: Vec<String>,
    ) -> Result<Checkpoint, CheckpointError> {
        if origin.is_empty() || origin.chars().any(char::is_control) {
            return Err(CheckpointError::InvalidOrigin);
        }
        if extensions.len() > MAX_EXTENSIONS {
            return Err(CheckpointError::TooManyExtensions);
        }
        if extensions
            .iter()
            .any(|e| e.is_empty() || e.chars().any(char::is_control))
        {
            return Err(CheckpointError::EmptyExtensionLine);
        }
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
            extensions,
        })
    }

    /// Parses checkpoint note text strictly (tlog-checkpoint §Note text).
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::TooFewLines)?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::TooFewLines);
        };
        let size = parse_canonical_u64(size).ok_or_else(|| CheckpointError::InvalidSize {
            found: size.to_string(),
        })?;
        let root = Hash::from_base64(root).ok_or_else(|| CheckpointError::InvalidRoot {
            found: root.to_string(),
        })?;
        // One more than the limit is enough for with_extensions to refuse.
        let extensions = lines.take(MAX_EXTENSIONS + 1).map(str::to_string).collect();
        Self::with_extensions(origin, size, root, extensions)
    }

    /// The note text.
    pub fn to_text(&self) -> String {
        let mut s = alloc::format!("{}\n{}\n{}\n", self.origin, self.size, self.root);
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// The log's origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Tree size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Root hash.
    pub fn root(&self) -> &Hash {
        &self.root
    }

    /// Extension lines.
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// Signs the checkpoint with the log key, giving a signed note.
    pub fn sign(&self, log_key: &SignerKey) -> Note {
        // Checkpoint text is built from validated parts (no control
        // characters, final newline, far below the size cap).
        let mut note = Note::from_valid_text(self.to_text());
        note.sign(log_key);
        note
    }
}

/// A checkpoint whose note verified with the log key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The parsed checkpoint.
    pub checkpoint: Checkpoint,
    /// The verified note (log signature and any verified cosignatures).
    pub opened: OpenedNote,
}

impl SignedCheckpoint {
    /// Opens a signed checkpoint: the note must verify with `log_key`
    /// (other `witnesses` are verified where present), its text must be a
    /// valid checkpoint, its origin must be `origin` if given, and its
    /// origin must always be `log_key`'s name.
    ///
    /// Signatures follow c2sp.org/signed-note §Signatures as Go's
    /// `note.Open` does: unknown keys are ignored, and a signature by
    /// `log_key` or one of `witnesses` that fails to verify rejects the
    /// note ([`OpenError::BadSignature`]), even if another one verifies.
    ///
    /// c2sp.org/tlog-checkpoint §Signatures says the log's key name
    /// SHOULD match the origin line; for a pinned log key forewarn makes
    /// that a MUST ([`CheckpointError::OriginNotKeyName`]), so a key
    /// cannot vouch for a checkpoint of a log other than the one it names.
    /// Logs whose key is named differently from their origin (such as
    /// sum.golang.org, origin `go.sum database tree`) are opened with
    /// [`note::open`] and [`Checkpoint::parse`] instead.
    pub fn open(
        bytes: &[u8],
        log_key: &VerifierKey,
        origin: Option<&str>,
        witnesses: &[VerifierKey],
    ) -> Result<SignedCheckpoint, CheckpointError> {
        if log_key.kind() != crate::note::SignatureType::Ed25519 {
            return Err(CheckpointError::LogKeyNotEd25519 {
                key: log_key.to_text(),
            });
        }
        let note =
            Note::parse(bytes).map_err(|e| CheckpointError::Note(OpenError::Malformed(e)))?;
        let mut keys = Vec::with_capacity(1 + witnesses.len());
        keys.push(log_key.clone());
        keys.extend(witnesses.iter().cloned());
        let opened = note::open_note(note, &keys).map_err(CheckpointError::Note)?;
        if !opened.verified_by(log_key) {
            return Err(CheckpointError::NotSignedByLog {
                log: log_key.to_text(),
            });
        }
        let checkpoint = Checkpoint::parse(&opened.text)?;
        if let Some(want) = origin
            && checkpoint.origin != want
        {
            return Err(CheckpointError::WrongOrigin {
                got: checkpoint.origin,
                want: want.to_string(),
            });
        }
        if checkpoint.origin != log_key.name() {
            return Err(CheckpointError::OriginNotKeyName {
                origin: checkpoint.origin,
                key_name: log_key.name().to_string(),
            });
        }
        Ok(SignedCheckpoint { checkpoint, opened })
    }
}

impl From<NoteError> for CheckpointError {
    fn from(e: NoteError) -> Self {
        CheckpointError::Note(OpenError::Malformed(e))
    }
}
