//! What can go wrong with a store, as types: [`StoreError`] for the
//! operation, [`Corruption`] and [`Place`] for what is damaged and where,
//! [`Rejection`] for one refused statement.
//!
//! Messages are lowercase prose without Rust debug text; each corruption
//! names its place. [`StoreError::is_corruption`] is the one test a caller
//! needs to decide between "the ledger is damaged" (do not serve it; run a
//! check, restore from an export) and every other failure.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use forewarn_ledger::finding::IntegrityFailure;
use forewarn_tlog::checkpoint::CheckpointError;
use forewarn_tlog::note::NoteError;
use forewarn_tlog::tile::TileDataError;

/// What can go wrong with a store.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// A file could not be read or written.
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// sled failed (an I/O or internal error that is not detected damage).
    Database {
        /// sled's error.
        source: sled::Error,
    },
    /// The store is damaged: `what` is wrong at `at`. It is not served.
    Corrupt {
        /// What is wrong.
        what: Corruption,
        /// Where.
        at: Place,
    },
    /// A single submitted statement was refused (nothing was written).
    Rejected(Box<Rejection>),
    /// A statement of an all-or-nothing batch ([`crate::Store::append_all`])
    /// was refused, so none of the batch was written.
    RejectedInBatch {
        /// The refused statement's position in the batch (from 0).
        position: usize,
        /// Why it was refused.
        rejection: Box<Rejection>,
    },
    /// The sequencer no longer runs; `cause` is the commit failure that
    /// stopped it, if one did.
    Stopped {
        /// The failure that stopped it (shared by every waiting submitter).
        cause: Option<Arc<StoreError>>,
    },
    /// Another handle (this or another process) holds the database lock,
    /// and it was not released within the configured wait.
    InUse {
        /// The database directory.
        path: PathBuf,
        /// How long the open waited.
        waited: std::time::Duration,
    },
    /// `init` on a directory that already holds a store.
    AlreadyExists(PathBuf),
    /// `open` on a directory that holds no store.
    NotAStore(PathBuf),
    /// The store was written in a format this version does not read.
    UnsupportedFormat {
        /// The `m:format` value found.
        found: Vec<u8>,
    },
    /// The log key is unusable.
    Key(KeyError),
    /// zstd could not set up a compression context or compress.
    Compression {
        /// zstd's error.
        source: std::io::Error,
    },
    /// A store thread panicked.
    ThreadPanicked {
        /// Which thread.
        thread: &'static str,
    },
    /// A size, index or tile outside the published tree was asked for (or
    /// a tile width outside 1..=256).
    OutOfRange {
        /// What was asked for (a size, an index, or a tile's index).
        requested: u64,
        /// The published size.
        size: u64,
    },
    /// A previous write failed; reopen the store before appending.
    Poisoned,
    /// The scratch database of a paged replay (`check`'s, in the system's
    /// temporary directory) failed: no room, not writable, or damaged
    /// while it ran. Nothing about the store.
    Scratch(Box<StoreError>),
}

impl StoreError {
    pub(crate) fn corrupt(what: Corruption, at: Place) -> StoreError {
        StoreError::Corrupt { what, at }
    }

    /// Whether this is damage to the stored ledger (as opposed to a usage,
    /// I/O or locking failure): a caller should stop serving the ledger and
    /// point to `check` and to restoring from an export.
    pub fn is_corruption(&self) -> bool {
        match self {
            StoreError::Corrupt { .. } => true,
            StoreError::Stopped { cause: Some(c) } => c.is_corruption(),
            _ => false,
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            StoreError::Database { source } => write!(f, "database: {source}"),
            StoreError::Corrupt { what, at } => {
                write!(f, "the ledger is damaged: {at}: {what}")
            }
            StoreError::Rejected(r) => write!(f, "the statement was refused: {r}"),
            StoreError::RejectedInBatch {
                position,
                rejection,
            } => write!(
                f,
                "statement {} of the batch was refused, so none was appended: {rejection}",
                position + 1
            ),
            StoreError::Stopped { cause: None } => f.write_str("the sequencer has stopped"),
            StoreError::Stopped { cause: Some(c) } => {
                write!(f, "the sequencer stopped after a failed commit: {c}")
            }
            StoreError::InUse { path, waited } => write!(
                f,
                "{} is open in another process (a running forewarn) and was not released within {} s; wait for it to finish, or stop it",
                path.display(),
                waited.as_secs_f64().ceil()
            ),
            StoreError::AlreadyExists(p) => write!(
                f,
                "{} already holds a forewarn ledger (choose another --dir, or remove it to start again)",
                p.display()
            ),
            StoreError::NotAStore(p) => write!(
                f,
                "{} holds no forewarn ledger (create one with `forewarn init --origin NAME --dir {}`)",
                p.display(),
                p.display()
            ),
            StoreError::UnsupportedFormat { found }
                if crate::layout::EARLIER_FORMATS.contains(&found.as_slice()) =>
            {
                write!(
                    f,
                    "this store has format {}, written by an earlier development version; this \
                     version reads forewarn-store/v4: export it with the earlier version and \
                     start a new ledger",
                    printable(found)
                )
            }
            StoreError::UnsupportedFormat { found } => write!(
                f,
                "unknown store format \"{}\" (this version reads forewarn-store/v4)",
                printable(found)
            ),
            StoreError::Key(e) => write!(f, "log key: {e}"),
            StoreError::Compression { source } => write!(f, "zstd: {source}"),
            StoreError::Scratch(e) => write!(f, "the replay's scratch database: {e}"),
            StoreError::ThreadPanicked { thread } => write!(f, "the {thread} thread panicked"),
            StoreError::OutOfRange { requested, size } => write!(
                f,
                "{requested} is beyond the published checkpoint of size {size}"
            ),
            StoreError::Poisoned => {
                f.write_str("an earlier write failed; reopen the ledger before appending")
            }
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Io { source, .. } | StoreError::Compression { source } => Some(source),
            StoreError::Database { source } => Some(source),
            StoreError::Stopped { cause: Some(c) } => Some(c.as_ref()),
            StoreError::Scratch(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

impl From<sled::Error> for StoreError {
    /// sled's own corruption report is damage at the database file; any
    /// other sled error is a database failure.
    fn from(source: sled::Error) -> Self {
        match source {
            sled::Error::Corruption { .. } => StoreError::corrupt(
                Corruption::DamagedDatabase(DatabaseDamage::Reported),
                Place::Database,
            ),
            source => StoreError::Database { source },
        }
    }
}

/// At most 64 characters of stored bytes for a message, control
/// characters replaced, so a damaged value can neither flood nor steer a
/// terminal.
fn printable(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out: String = text
        .chars()
        .take(64)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.chars().nth(64).is_some() {
        out.push('…');
    }
    out
}

pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Where a store is damaged.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Place {
    /// The `m:NAME` metadata value.
    Metadata(&'static str),
    /// The latest signed checkpoint.
    Checkpoint,
    /// Entry bundle N (records 256·N…).
    Bundle(u64),
    /// Hash tile level/index.
    Tile {
        /// Tile level.
        level: u8,
        /// Tile index.
        index: u64,
    },
    /// The set of stored hash tiles.
    Tiles,
    /// The set of stored entry bundles.
    Bundles,
    /// A keyed projection value (crate::projections), by its key.
    Projection {
        /// The key, shown as its prefix letter and the rest in hex.
        key: String,
    },
    /// The database files under this directory.
    DatabaseFiles(PathBuf),
    /// The database files.
    Database,
    /// The store directory.
    Directory(PathBuf),
    /// The high-water mark file (`checkpoint.mark`, see `crate::mark`).
    Mark(PathBuf),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Metadata(name) => write!(f, "metadata m:{name}"),
            Place::Checkpoint => f.write_str("the latest checkpoint"),
            Place::Bundle(n) => write!(f, "entry bundle {n}"),
            Place::Tile { level, index } => write!(f, "hash tile {level}/{index}"),
            Place::Tiles => f.write_str("the hash tiles"),
            Place::Bundles => f.write_str("the entry bundles"),
            Place::Projection { key } => write!(f, "projection {key}"),
            Place::DatabaseFiles(p) => write!(f, "the database files in {}", p.display()),
            Place::Database => f.write_str("the database files"),
            Place::Directory(p) => write!(f, "{}", p.display()),
            Place::Mark(p) => write!(f, "the high-water mark {}", p.display()),
        }
    }
}

/// What is wrong with a damaged store.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Corruption {
    /// A value that must exist is missing.
    Missing,
    /// A metadata value has the wrong shape (not 8 bytes, not UTF-8 …).
    Malformed,
    /// The latest checkpoint does not verify under the log key.
    BadCheckpoint(Box<CheckpointError>),
    /// The checkpoint's size differs from the stored size.
    SizeMismatch {
        /// Size in the signed checkpoint.
        checkpoint: u64,
        /// Size in `m:size`.
        stored: u64,
    },
    /// Data exists beyond the log's size (a bundle, tile or entry).
    BeyondSize {
        /// The log's size.
        size: u64,
    },
    /// The records do not hash to the signed checkpoint's root.
    RootMismatch,
    /// A stored zstd frame is unusable.
    Frame(FrameProblem),
    /// A bundle's entries do not parse.
    BadBundle(TileDataError),
    /// A hash tile is shorter than its width.
    ShortTile {
        /// Bytes stored.
        got: usize,
        /// Bytes its width requires.
        want: usize,
    },
    /// A hash tile differs from a recomputation from the records.
    TileDiffers,
    /// More stored values of a kind than the log's size allows.
    TooMany {
        /// Values found.
        found: u64,
        /// Values expected.
        expected: u64,
    },
    /// The records fail the auditor's checks on replay.
    Replay(Box<IntegrityFailure>),
    /// Replaying gave a different number of records than the size.
    RecordCount {
        /// Records found.
        found: u64,
        /// Records expected.
        expected: u64,
    },
    /// A projection value differs from what a full replay of the records
    /// implies (or exists where a replay implies none).
    ProjectionDiffers,
    /// A projection value's tag is not the log key's: it was changed by
    /// someone who does not hold `log.key`, or damaged.
    BadProjectionTag,
    /// The parties and keys stored are not those `m:hot` was written with.
    PartiesDigest,
    /// The projections loaded at open do not fit together.
    Hot(String),
    /// The stored hashes cannot yield a proof.
    Tree,
    /// sled found its files damaged, or panicked reading them.
    DamagedDatabase(DatabaseDamage),
    /// A log key exists without a database: an init was interrupted.
    KeyWithoutDatabase,
    /// The database's checkpoint is older than the high-water mark: the
    /// database lost commits that had been made durable and acknowledged
    /// (sled recovered an earlier state from damaged files, or older files
    /// were restored over newer ones).
    RolledBack {
        /// Size of the checkpoint in the mark (durably committed).
        mark_size: u64,
        /// Size of the checkpoint in the database.
        db_size: u64,
    },
    /// The database's tree at the high-water mark's size has another root
    /// than the mark: it is not the log that was durably committed.
    Forked {
        /// The mark's size.
        size: u64,
    },
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Corruption::Missing => f.write_str("missing"),
            Corruption::Malformed => f.write_str("malformed"),
            Corruption::BadCheckpoint(e) => write!(f, "does not verify under the log key: {e}"),
            Corruption::SizeMismatch { checkpoint, stored } => write!(
                f,
                "the checkpoint has size {checkpoint} but the store holds {stored} records"
            ),
            Corruption::BeyondSize { size } => write!(f, "data beyond the log's size {size}"),
            Corruption::RootMismatch => {
                f.write_str("the records do not hash to the signed checkpoint's root")
            }
            Corruption::Frame(p) => write!(f, "{p}"),
            Corruption::BadBundle(e) => write!(f, "{e}"),
            Corruption::ShortTile { got, want } => {
                write!(f, "{got} bytes stored, {want} needed")
            }
            Corruption::TileDiffers => f.write_str("differs from the records"),
            Corruption::TooMany { found, expected } => {
                write!(f, "{found} stored, {expected} expected")
            }
            Corruption::Replay(failure) => write!(f, "replaying the records: {failure}"),
            Corruption::RecordCount { found, expected } => {
                write!(f, "{found} records found, {expected} expected")
            }
            Corruption::ProjectionDiffers => {
                f.write_str("differs from a replay of the records")
            }
            Corruption::BadProjectionTag => f.write_str(
                "its tag is not the log key's (changed without the key, or damaged)",
            ),
            Corruption::PartiesDigest => {
                f.write_str("the stored parties and keys are not those it was written with")
            }
            Corruption::Hot(detail) => write!(f, "does not fit the records: {detail}"),
            Corruption::Tree => f.write_str("the stored hashes do not cover the tree"),
            Corruption::DamagedDatabase(d) => write!(f, "{d}"),
            Corruption::KeyWithoutDatabase => f.write_str(
                "holds a log key but no database: an earlier init was interrupted; remove the directory and run init again",
            ),
            Corruption::RolledBack { mark_size, db_size } => write!(
                f,
                "{mark_size} records were durably committed but the database holds only {db_size}: \
                 it was rolled back to an earlier state (damaged or restored files) and receipts \
                 already issued name records it lacks; restore from an export"
            ),
            Corruption::Forked { size } => write!(
                f,
                "the database's tree of {size} records is not the one durably committed; \
                 restore from an export"
            ),
        }
    }
}

/// Why a stored zstd frame is unusable.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameProblem {
    /// Not a zstd frame that declares its content size.
    NotAFrame,
    /// It declares more than the limit.
    TooLarge {
        /// Declared size.
        declared: u64,
        /// The limit.
        limit: u64,
    },
    /// It does not decode.
    Damaged,
    /// It decodes to another size than declared.
    WrongLength {
        /// Bytes decoded.
        got: u64,
        /// Bytes declared.
        declared: u64,
    },
}

impl fmt::Display for FrameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameProblem::NotAFrame => f.write_str("not a zstd frame with its size"),
            FrameProblem::TooLarge { declared, limit } => write!(
                f,
                "declares {declared} bytes, more than the limit of {limit}"
            ),
            FrameProblem::Damaged => f.write_str("the zstd frame does not decode"),
            FrameProblem::WrongLength { got, declared } => {
                write!(f, "decodes to {got} bytes, not the {declared} declared")
            }
        }
    }
}

/// How sled's files were found damaged.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DatabaseDamage {
    /// sled reported corruption while reading its files.
    Reported,
    /// sled panicked while opening or first reading its files.
    Panicked {
        /// The panic message, shortened.
        message: String,
    },
}

impl fmt::Display for DatabaseDamage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseDamage::Reported => f.write_str("sled reports its files damaged"),
            DatabaseDamage::Panicked { message } => {
                write!(f, "sled failed reading its files ({message})")
            }
        }
    }
}

/// Why the log key is unusable. Never carries key material.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The origin is not a valid key name.
    BadOrigin {
        /// The origin given.
        origin: String,
        /// Why.
        source: NoteError,
    },
    /// The origin is not a valid checkpoint origin.
    BadCheckpointOrigin {
        /// The origin given.
        origin: String,
        /// Why.
        source: CheckpointError,
    },
    /// The key file does not parse as a signer key.
    Malformed {
        /// The key file.
        path: PathBuf,
        /// Why.
        source: NoteError,
    },
    /// The key file is not the key the ledger was created with.
    WrongKey {
        /// The key file.
        path: PathBuf,
    },
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::BadOrigin { origin, source } => write!(f, "origin \"{origin}\": {source}"),
            KeyError::BadCheckpointOrigin { origin, source } => {
                write!(f, "origin \"{origin}\": {source}")
            }
            KeyError::Malformed { path, source } => write!(f, "{}: {source}", path.display()),
            KeyError::WrongKey { path } => write!(
                f,
                "{} is not the key this ledger was created with",
                path.display()
            ),
        }
    }
}

/// Why one submitted statement was not appended. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// The statement fails a ledger check (decoding, signature, key,
    /// reference, time …): the same check an auditor would make.
    Invalid(IntegrityFailure),
    /// The same statement bytes are already record `index`.
    Replay {
        /// The existing record.
        index: u64,
    },
    /// The same statement appears earlier in the same submission.
    DuplicateInBatch,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Invalid(failure) => {
                // "record N: reason" → "reason": N is only where it would
                // have gone; the reason is what matters.
                let full = failure.to_string();
                let prefix = format!("record {}: ", failure.index);
                f.write_str(full.strip_prefix(&prefix).unwrap_or(&full))
            }
            Rejection::Replay { index } => {
                write!(f, "replay: this statement is already record {index}")
            }
            Rejection::DuplicateInBatch => f.write_str("the same statement was submitted twice"),
        }
    }
}

/// A projection key as shown in errors: its prefix letter, then the rest
/// in hex (`m:` keys as they are).
pub(crate) fn shown_key(key: &[u8]) -> String {
    match key.split_first() {
        _ if key.starts_with(b"m:") => String::from_utf8_lossy(key).into_owned(),
        Some((p, rest)) => {
            let mut out = format!("{}:", char::from(*p));
            for b in rest {
                out.push_str(&format!("{b:02x}"));
            }
            out
        }
        None => String::new(),
    }
}
