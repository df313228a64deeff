//! # forewarn-store
//!
//! Persistence of a forewarn ledger on sled, and the sequencer that turns
//! signed statements into records with group commit: many submissions, one
//! atomic write, one fsync, one signed checkpoint, then receipts.
//!
//! ## Layout (one sled tree, keys by prefix)
//!
//! | key | value |
//! |---|---|
//! | `m:format` | `forewarn-store/v2` |
//! | `m:origin`, `m:vkey` | the log's identity, fixed at `init` |
//! | `m:size` | number of records (u64 big-endian) |
//! | `m:checkpoint` | the latest signed checkpoint (C2SP note) |
//! | `m:snapshot` | auditor state saved at the last clean close (optional; a zstd frame) |
//! | `e` + N | entry bundle N: records 256·N … (C2SP tlog-tiles encoding in one zstd frame; the last one grows in place) |
//! | `t` + level + index | hash tile (C2SP tlog-tiles; partial tiles grow in place) |
//!
//! The records are the source of truth. The hash tiles are rebuilt from them
//! by [`Store::rebuild`]; the projection indexes (by statement hash, by
//! case, by party) are folds over them, rebuilt in memory at every open; and
//! [`Store::check`] re-audits everything against the latest checkpoint.
//! Records live in entry bundles and hashes in tiles, both in the C2SP
//! tlog-tiles layout: a commit of k records writes about k/256 + 2 values
//! per level instead of several keys per record, which is what sled needs
//! to be fast and compact, and an export is a decompressing copy. Bundles
//! are compressed once, when written, rather than by sled, which would
//! recompress every page each time it rewrites it (format v1 stored plain
//! bundles in a compressed sled; it is refused with a message saying so).
//! The log key lives beside the database in `log.key` (mode 0600, never
//! logged).
//!
//! ## Crash safety (the order of a commit, see [`Store::append`])
//!
//! 1. Statements are validated against the in-memory state; nothing is
//!    written. A crash here loses only unacknowledged submissions.
//! 2. Records, stored hashes, indexes, the new size and the new signed
//!    checkpoint go into **one** sled batch, applied atomically: after a
//!    crash the store shows either all of it or none of it, never a half
//!    batch, and size, records and checkpoint always agree.
//! 3. `flush` (fsync). A crash before it completes may lose the batch, but
//!    no receipt for it has been issued.
//! 4. Only now are receipts built (inclusion proofs on the commit thread,
//!    their tlog-proof text by each submitter, see [`ReceiptParts`]) and
//!    returned. Every receipt therefore names a durable record.
//!
//! Opening re-verifies: the checkpoint's signature under the log key, that
//! records `0..size` exist and nothing lies beyond, and that the records
//! replayed through the auditor give the checkpoint's root. Anything else is
//! reported as [`StoreError::Corrupt`] and the store is not served.

/// The store's in-memory maps (indexes, tile overlays and caches): std's
/// map with foldhash's fast hasher, seeded at random per map. std's
/// default, SipHash-1-3, was about 11% of the commit thread's time
/// (`perf`, fourth and fifth sessions; docs/PERFORMANCE.md). The keys are
/// SHA-256 outputs, case ids and record indexes; the random seed still
/// keeps a submitter from steering many keys into one bucket.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
/// See [`HashMap`].
type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use forewarn_ledger::auditor::{AuditConfig, Auditor};
use forewarn_ledger::finding::IntegrityFailure;
use forewarn_ledger::statement::{Record, SignedStatement, Statement, leaf_hash};
use forewarn_ledger::types::Millis;
use forewarn_ledger::verify::{KeyCache, SignatureItem, StatementItem, verify_parallel};
use forewarn_tlog::checkpoint::{Checkpoint, SignedCheckpoint};
use forewarn_tlog::hash::Hash;
use forewarn_tlog::note::{SignatureType, SignerKey, VerifierKey};
use forewarn_tlog::tile::{
    Tile, TileHashReader, TileKind, TileReader, encode_entry_bundle, new_tiles, parse_entry_bundle,
    read_tile_data, tiles_for_size,
};
use forewarn_tlog::tree::{
    HashReader, prove_inclusion, prove_inclusions, stored_hash_count, stored_hashes_for_record,
};
use sha2::{Digest, Sha256};

pub mod export;
pub mod sequencer;

pub use sequencer::{Sequencer, Submitter};

const FORMAT: &[u8] = b"forewarn-store/v2";
/// File name of the log's signing key inside the store directory.
pub const KEY_FILE: &str = "log.key";
/// File name of the log's public key (vkey) inside the store directory.
pub const VKEY_FILE: &str = "log.vkey";
const DB_DIR: &str = "db";

/// What can go wrong with a store.
#[derive(Debug)]
pub enum StoreError {
    /// A file could not be read or written.
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// sled failed.
    Db(sled::Error),
    /// `init` on a directory that already holds a store.
    AlreadyExists(PathBuf),
    /// `open` on a directory that holds no store.
    NotAStore(PathBuf),
    /// The store is inconsistent; it is not served.
    Corrupt(String),
    /// The log key file is unusable.
    Key(String),
    /// A previous write failed; reopen the store.
    Poisoned,
    /// Another process has the database open (sled locks it).
    InUse(PathBuf),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            StoreError::Db(e) => write!(f, "database: {e}"),
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
            StoreError::Corrupt(what) => write!(
                f,
                "the ledger is corrupt and will not be served: {what} (restore it from a backup or an export)"
            ),
            StoreError::Key(what) => write!(f, "log key: {what}"),
            StoreError::Poisoned => {
                f.write_str("an earlier write failed; reopen the ledger before appending")
            }
            StoreError::InUse(p) => write!(
                f,
                "{} is open in another process (a running forewarn); wait for it to finish, or stop it",
                p.display()
            ),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Db(e)
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Why one submitted statement was not appended. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
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
                // The index is where it would have gone; the reason is what matters.
                write!(f, "{}", failure.kind_text())
            }
            Rejection::Replay { index } => {
                write!(f, "replay: this statement is already record {index}")
            }
            Rejection::DuplicateInBatch => f.write_str("the same statement was submitted twice"),
        }
    }
}

trait KindText {
    fn kind_text(&self) -> String;
}

impl KindText for IntegrityFailure {
    fn kind_text(&self) -> String {
        let full = self.to_string();
        // "record N: reason" → "reason"
        match full.split_once(": ") {
            Some((_, rest)) => rest.to_string(),
            None => full,
        }
    }
}

/// Proof that a statement is record `index` of the log: a C2SP tlog-proof
/// whose `extra` line carries the record bytes (see
/// `forewarn_ledger::receipt`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Record index.
    pub index: u64,
    /// The record bytes.
    pub record: Vec<u8>,
    /// The tlog-proof bytes.
    pub proof: Vec<u8>,
}

/// A receipt before its tlog-proof text is encoded. A commit returns these
/// so that the text can be encoded off the serial commit path: the
/// [`Sequencer`] hands each submitter its own, and the submitter's thread
/// encodes them ([`ReceiptParts::encode`]) while the commit thread already
/// writes the next batch.
#[derive(Debug, Clone)]
pub struct ReceiptParts {
    /// Record index.
    pub index: u64,
    /// The record bytes.
    pub record: Vec<u8>,
    /// The RFC 9162 inclusion proof of the record in the checkpoint's tree.
    pub inclusion: Vec<Hash>,
    /// The signed checkpoint (note text), shared by a commit's receipts.
    pub checkpoint: Arc<Vec<u8>>,
}

impl ReceiptParts {
    /// Encodes the tlog-proof text.
    pub fn encode(self) -> Receipt {
        let proof = forewarn_ledger::receipt::encode(
            &self.record,
            self.index,
            self.inclusion,
            self.checkpoint.as_ref().clone(),
        );
        Receipt {
            index: self.index,
            record: self.record,
            proof,
        }
    }
}

/// What the stateless half of a commit learns about one statement, on any
/// thread, before the in-order fold: its decoding, the SHA-256 of its bytes
/// (the replay index key) and the `verify_strict` verdict on its signature.
pub struct CheckedStatement {
    parsed: Result<Statement, forewarn_ledger::encoding::EncodingError>,
    hash: [u8; 32],
    signature_ok: bool,
}

impl CheckedStatement {
    /// Whether the signature verified under the key the statement names
    /// (`false` for a statement that does not decode).
    pub fn signature_ok(&self) -> bool {
        self.signature_ok
    }
}

/// Step 1a of a commit, stateless: decodes each statement, hashes it, and
/// checks its signature under the key it names with `verify_strict`
/// verdicts (one exact batch shared by the caches' threads).
pub fn check_statements(
    statements: &[SignedStatement],
    mode: forewarn_ledger::verify::VerifyMode,
    caches: &mut [KeyCache],
) -> Vec<CheckedStatement> {
    let mut checked = prepare_statements(statements);
    check_signatures(statements, &mut checked, mode, caches);
    checked
}

/// The first half of [`check_statements`], needing no state at all: the
/// decoding and hash of each statement. A [`Submitter`] does it on the
/// submitting thread, so many submitters share the work.
pub fn prepare_statements(statements: &[SignedStatement]) -> Vec<CheckedStatement> {
    statements
        .iter()
        .map(|s| CheckedStatement {
            parsed: Statement::from_bytes(&s.bytes),
            hash: Sha256::digest(&s.bytes).into(),
            signature_ok: false,
        })
        .collect()
}

/// The second half of [`check_statements`]: sets `signature_ok` of each
/// prepared statement that decoded.
pub fn check_signatures(
    statements: &[SignedStatement],
    checked: &mut [CheckedStatement],
    mode: forewarn_ledger::verify::VerifyMode,
    caches: &mut [KeyCache],
) {
    let mut items = Vec::with_capacity(statements.len());
    let mut owners = Vec::with_capacity(statements.len());
    for (i, (s, c)) in statements.iter().zip(checked.iter()).enumerate() {
        if let Ok(st) = &c.parsed {
            items.push(SignatureItem::statement(st.signer.0, &s.bytes, s.signature));
            owners.push(i);
        }
    }
    let verdicts = verify_parallel(&items, mode, caches);
    drop(items);
    for (i, ok) in owners.into_iter().zip(verdicts) {
        checked[i].signature_ok = ok;
    }
}

/// The log's clock (ms since the Unix epoch). Tests pass their own.
pub type Clock = Arc<dyn Fn() -> Millis + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    })
}

/// Options for opening a store.
#[derive(Clone)]
pub struct StoreConfig {
    /// Auditor settings used to validate statements (skew, threads).
    pub audit: AuditConfig,
    /// The log's clock.
    pub clock: Clock,
    /// Called with (records replayed, total) while opening.
    pub progress: Option<Arc<dyn Fn(u64, u64) + Send + Sync>>,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            audit: AuditConfig {
                threads: std::thread::available_parallelism()
                    .map_or(1, |n| n.get())
                    .min(8),
                ..AuditConfig::default()
            },
            clock: system_clock(),
            progress: None,
        }
    }
}

/// An open ledger.
pub struct Store {
    dir: PathBuf,
    db: sled::Db,
    key: SignerKey,
    vkey: VerifierKey,
    origin: String,
    auditor: Auditor,
    checkpoint: Vec<u8>,
    config: StoreConfig,
    caches: Vec<KeyCache>,
    indexes: Indexes,
    /// Compresses entry bundles as they are written (see [`pack`]).
    packer: Packer,
    poisoned: bool,
}

/// zstd level for stored bundles and the saved state: level 1 compresses
/// records about 2:1 (they are half fixed structure) at several hundred
/// MB/s on one core.
const PACK_LEVEL: i32 = 1;

/// Largest unpacked entry bundle: 256 entries of at most 2 + 65,535 bytes.
const MAX_BUNDLE_BYTES: usize = 256 * (2 + 65_535);

/// Largest unpacked saved auditor state (the ledger's own state limit).
const MAX_SNAPSHOT_BYTES: usize = 1 << 30;

/// A reusable zstd compression context (creating one per bundle costs more
/// than compressing a small bundle).
struct Packer(zstd::bulk::Compressor<'static>);

impl Packer {
    fn new() -> Result<Packer, StoreError> {
        zstd::bulk::Compressor::new(PACK_LEVEL)
            .map(Packer)
            .map_err(|e| StoreError::Corrupt(format!("zstd: {e}")))
    }

    /// One zstd frame holding `data`, its size recorded in the frame header.
    fn pack(&mut self, data: &[u8]) -> Result<Vec<u8>, StoreError> {
        self.0
            .compress(data)
            .map_err(|e| StoreError::Corrupt(format!("zstd: {e}")))
    }
}

/// Entry bundles and the saved auditor state are stored as single zstd
/// frames (sled's own compression is off: it recompresses every page each
/// time sled rewrites it, several times per record). Unpacking insists on a
/// frame that declares its size, at most `limit` bytes, and decodes to
/// exactly that size; anything else is corruption of `what`.
fn unpack(what: &str, data: &[u8], limit: usize) -> Result<Vec<u8>, StoreError> {
    let size = zstd::zstd_safe::get_frame_content_size(data)
        .ok()
        .flatten()
        .ok_or_else(|| StoreError::Corrupt(format!("{what}: not a zstd frame with its size")))?;
    if size > limit as u64 {
        return Err(StoreError::Corrupt(format!(
            "{what}: declares {size} bytes, more than the limit of {limit}"
        )));
    }
    let out = zstd::bulk::decompress(data, size as usize)
        .map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))?;
    if out.len() as u64 != size {
        return Err(StoreError::Corrupt(format!(
            "{what}: decodes to {} bytes, not the {size} declared",
            out.len()
        )));
    }
    Ok(out)
}

/// Unpacks stored entry bundle `n`.
pub(crate) fn unpack_bundle(n: u64, data: &[u8]) -> Result<Vec<u8>, StoreError> {
    unpack(&format!("entry bundle {n}"), data, MAX_BUNDLE_BYTES)
}

fn be(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

fn key_of(prefix: u8, n: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = prefix;
    k[1..].copy_from_slice(&n.to_be_bytes());
    k
}

/// Entries per bundle (C2SP tlog-tiles).
const BUNDLE: u64 = 256;

/// The projection indexes: rebuilt from the records at open (they are
/// folds over the records, never a second source of truth).
#[derive(Default)]
struct Indexes {
    /// SHA-256 of statement bytes → record (replay detection).
    statements: HashMap<[u8; 32], u64>,
    /// Case → its records.
    cases: HashMap<[u8; 16], Vec<u64>>,
    /// Party → the records it signed.
    parties: HashMap<u64, Vec<u64>>,
}

/// What one record adds to the [`Indexes`].
struct IndexEntry {
    /// SHA-256 of the statement bytes.
    statement: [u8; 32],
    /// The case the event belongs to, if any.
    case: Option<[u8; 16]>,
    /// The party that signed it (a PartyRegistered record is its own party).
    party: Option<u64>,
}

impl Indexes {
    /// Indexes record `index` from its bytes; `party_of` maps a signer key
    /// to its party.
    fn add(
        &mut self,
        index: u64,
        record: &[u8],
        party_of: impl Fn(&forewarn_ledger::PublicKey) -> Option<u64>,
    ) {
        let Ok(rec) = Record::from_bytes(record) else {
            return;
        };
        let statement = Sha256::digest(&rec.statement).into();
        let Ok(st) = Statement::from_bytes(&rec.statement) else {
            self.statements.insert(statement, index);
            return;
        };
        let party = match st.event {
            forewarn_ledger::Event::PartyRegistered { .. } => Some(index),
            _ => party_of(&st.signer),
        };
        self.insert(
            index,
            IndexEntry {
                statement,
                case: st.event.case().map(|c| c.0),
                party,
            },
        );
    }

    fn insert(&mut self, index: u64, entry: IndexEntry) {
        self.statements.insert(entry.statement, index);
        if let Some(case) = entry.case {
            self.cases.entry(case).or_default().push(index);
        }
        if let Some(p) = entry.party {
            self.parties.entry(p).or_default().push(index);
        }
    }
}

pub(crate) fn bundle_key(index: u64) -> [u8; 9] {
    key_of(b'e', index)
}

/// Reads tiles (`t` + level + index) from the database, caching them.
pub(crate) struct SledTiles<'a> {
    pub(crate) db: &'a sled::Db,
    pub(crate) cache: std::cell::RefCell<HashMap<(u8, u64), Vec<u8>>>,
}

pub(crate) fn tile_key(level: u8, index: u64) -> [u8; 10] {
    let mut k = [0u8; 10];
    k[0] = b't';
    k[1] = level;
    k[2..].copy_from_slice(&index.to_be_bytes());
    k
}

impl TileReader for SledTiles<'_> {
    type Error = StoreError;
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut out = Vec::with_capacity(tiles.len());
        for t in tiles {
            let TileKind::Hashes { level } = t.kind else {
                return Err(StoreError::Corrupt("entry tiles are not stored".into()));
            };
            let want = usize::from(t.width) * 32;
            let cached = self.cache.borrow().get(&(level, t.index)).cloned();
            let data = match cached {
                Some(d) => d,
                None => {
                    let d = self
                        .db
                        .get(tile_key(level, t.index))?
                        .ok_or_else(|| {
                            StoreError::Corrupt(format!("tile {} is missing", t.path()))
                        })?
                        .to_vec();
                    self.cache.borrow_mut().insert((level, t.index), d.clone());
                    d
                }
            };
            if data.len() < want {
                return Err(StoreError::Corrupt(format!("tile {} is short", t.path())));
            }
            out.push(data[..want].to_vec());
        }
        Ok(out)
    }
}

/// Reads stored hashes: those being written from an overlay, the rest from
/// the committed tiles of a tree of `size` leaves.
pub(crate) struct DbHashReader<'a> {
    pub(crate) overlay: &'a HashMap<u64, Hash>,
    pub(crate) size: u64,
    pub(crate) tiles: &'a SledTiles<'a>,
    /// Hashes already computed from tiles (a hash above a tile's own level
    /// costs up to 255 node hashes to recompute; proofs of neighbouring
    /// records share most of theirs).
    pub(crate) memo: std::cell::RefCell<HashMap<u64, Hash>>,
}

impl HashReader for DbHashReader<'_> {
    type Error = StoreError;
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, StoreError> {
        let memo = self.memo.borrow();
        let missing: Vec<u64> = indexes
            .iter()
            .copied()
            .filter(|i| !self.overlay.contains_key(i) && !memo.contains_key(i))
            .collect();
        drop(memo);
        let mut found = if missing.is_empty() {
            Vec::new()
        } else {
            TileHashReader::new(self.size, self.tiles)
                .read_hashes(&missing)
                .map_err(|e| match e {
                    forewarn_tlog::tile::TileReadError::Reader(e) => e,
                    other => StoreError::Corrupt(format!("reading tiles: {other}")),
                })?
        }
        .into_iter();
        let mut memo = self.memo.borrow_mut();
        Ok(indexes
            .iter()
            .map(|i| match self.overlay.get(i).or_else(|| memo.get(i)) {
                Some(h) => *h,
                None => {
                    let h = found.next().expect("one hash per missing index");
                    memo.insert(*i, h);
                    h
                }
            })
            .collect())
    }
}

fn prove_err(e: forewarn_tlog::tree::ProveError<StoreError>) -> StoreError {
    match e {
        forewarn_tlog::tree::ProveError::Reader(e) => e,
        other => StoreError::Corrupt(format!("tree: {other:?}")),
    }
}

fn now_from(clock: &Clock, floor: Millis) -> Millis {
    clock().max(floor)
}

impl Store {
    /// Creates a new ledger in `dir` with a log key from `seed` (32 random
    /// bytes from the caller). Writes `log.key` (0600) and `log.vkey`.
    pub fn init(
        dir: &Path,
        origin: &str,
        seed: &[u8; 32],
        config: StoreConfig,
    ) -> Result<Store, StoreError> {
        if dir.join(DB_DIR).exists() {
            return Err(StoreError::AlreadyExists(dir.to_path_buf()));
        }
        if dir.join(KEY_FILE).exists() {
            return Err(StoreError::Corrupt(format!(
                "{} holds a log key but no database: an earlier init was interrupted; remove the directory and run init again",
                dir.display()
            )));
        }
        let key = SignerKey::from_seed(origin, SignatureType::Ed25519, seed)
            .map_err(|e| StoreError::Key(format!("origin {origin:?}: {e}")))?;
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        write_secret(&dir.join(KEY_FILE), key.to_text().as_bytes())?;
        let vkey = key.verifier();
        let vkey_path = dir.join(VKEY_FILE);
        std::fs::write(&vkey_path, format!("{vkey}\n")).map_err(io(&vkey_path))?;
        let db = open_db(&dir.join(DB_DIR))?;
        let empty = Checkpoint::new(origin, 0, forewarn_tlog::hash::EMPTY_ROOT)
            .map_err(|e| StoreError::Key(format!("origin {origin:?}: {e}")))?
            .sign(&key)
            .to_bytes();
        let mut b = sled::Batch::default();
        b.insert(b"m:format".as_slice(), FORMAT);
        b.insert(b"m:origin".as_slice(), origin.as_bytes());
        b.insert(b"m:vkey".as_slice(), vkey.to_string().as_bytes());
        b.insert(b"m:size".as_slice(), &be(0));
        b.insert(b"m:checkpoint".as_slice(), empty.as_slice());
        db.apply_batch(b)?;
        db.flush()?;
        // Opened with the same handle: dropping it and opening again could
        // find sled's lock still held by the closing handle's threads.
        Store::open_with(dir, config, Some(db))
    }

    /// Opens an existing ledger, verifying it (see the module docs).
    pub fn open(dir: &Path, config: StoreConfig) -> Result<Store, StoreError> {
        Store::open_with(dir, config, None)
    }

    fn open_with(
        dir: &Path,
        config: StoreConfig,
        db: Option<sled::Db>,
    ) -> Result<Store, StoreError> {
        if !dir.join(DB_DIR).exists() {
            return Err(StoreError::NotAStore(dir.to_path_buf()));
        }
        let key_path = dir.join(KEY_FILE);
        let key_text =
            zeroize::Zeroizing::new(std::fs::read_to_string(&key_path).map_err(io(&key_path))?);
        let key = SignerKey::parse(key_text.trim_end())
            .map_err(|e| StoreError::Key(format!("{}: {e}", key_path.display())))?;
        let db = match db {
            Some(db) => db,
            None => open_db(&dir.join(DB_DIR))?,
        };
        let meta = |name: &str| -> Result<Vec<u8>, StoreError> {
            db.get(format!("m:{name}"))?
                .map(|v| v.to_vec())
                .ok_or_else(|| StoreError::Corrupt(format!("metadata {name} is missing")))
        };
        let format = meta("format")?;
        if format == b"forewarn-store/v1" {
            return Err(StoreError::Corrupt(
                "this store has format forewarn-store/v1 (uncompressed bundles, written by an \
                 earlier development version); this version reads forewarn-store/v2: export it \
                 with the earlier version and start a new ledger"
                    .into(),
            ));
        }
        if format != FORMAT {
            return Err(StoreError::Corrupt(format!(
                "unknown store format {:?}",
                String::from_utf8_lossy(&format)
            )));
        }
        let origin = String::from_utf8(meta("origin")?)
            .map_err(|_| StoreError::Corrupt("origin is not UTF-8".into()))?;
        let vkey = key.verifier();
        if meta("vkey")? != vkey.to_string().as_bytes() {
            return Err(StoreError::Key(format!(
                "{} is not the key this ledger was created with",
                key_path.display()
            )));
        }
        let size = u64::from_be_bytes(
            meta("size")?
                .try_into()
                .map_err(|_| StoreError::Corrupt("size is not 8 bytes".into()))?,
        );
        let checkpoint = meta("checkpoint")?;
        let signed = SignedCheckpoint::open(&checkpoint, &vkey, Some(&origin), &[])
            .map_err(|e| StoreError::Corrupt(format!("latest checkpoint: {e}")))?;
        if signed.checkpoint.size() != size {
            return Err(StoreError::Corrupt(format!(
                "checkpoint size {} but {size} records",
                signed.checkpoint.size()
            )));
        }
        // Bundles 0..⌈size/256⌉ exist and nothing lies beyond.
        let bundles = size.div_ceil(BUNDLE);
        if size > 0 && db.get(bundle_key(bundles - 1))?.is_none() {
            return Err(StoreError::Corrupt(format!(
                "entry bundle {} is missing",
                bundles - 1
            )));
        }
        if db.get(bundle_key(bundles))?.is_some() {
            return Err(StoreError::Corrupt(format!(
                "an entry bundle beyond size {size} exists"
            )));
        }
        let threads = config.audit.threads.max(1);
        let mut store = Store {
            dir: dir.to_path_buf(),
            db,
            key,
            vkey,
            origin,
            auditor: Auditor::new(config.audit.clone()),
            checkpoint,
            config,
            caches: (0..threads).map(|_| KeyCache::new()).collect(),
            indexes: Indexes::default(),
            packer: Packer::new()?,
            poisoned: false,
        };
        store.load(size, true)?;
        if store.auditor.root() != *signed.checkpoint.root() {
            return Err(StoreError::Corrupt(
                "the records do not hash to the latest checkpoint's root".into(),
            ));
        }
        Ok(store)
    }

    /// Rebuilds the in-memory state from the records: the auditor (from the
    /// snapshot of the last clean close if `snapshot`, then the records
    /// after it) and the indexes (from every record).
    fn load(&mut self, size: u64, snapshot: bool) -> Result<(), StoreError> {
        let mut auditor = None;
        if snapshot
            && let Some(snap) = self.db.get(b"m:snapshot")?
            && let Ok(snap) = unpack("saved state", &snap, MAX_SNAPSHOT_BYTES)
            && let Ok(a) = Auditor::resume(self.config.audit.clone(), &snap)
            && a.size() <= size
        {
            auditor = Some(a);
        }
        let mut auditor = auditor.unwrap_or_else(|| Auditor::new(self.config.audit.clone()));
        let start = auditor.size();
        let records = self.records_in(start, size, size);
        replay_records(&mut auditor, records, size, &self.config, |_| {})?;
        // A second pass builds the indexes with the final key state (keys
        // never move between parties), so no record is held in memory.
        self.indexes = self.fold_indexes(size, &auditor)?;
        self.auditor = auditor;
        Ok(())
    }

    /// The projection indexes as a fresh fold over records `0..size`.
    fn fold_indexes(&self, size: u64, auditor: &Auditor) -> Result<Indexes, StoreError> {
        let keys = &auditor.state().keys;
        let mut indexes = Indexes::default();
        for (i, r) in self.records_in(0, size, size).enumerate() {
            indexes.add(i as u64, &r?, |k| keys.get(k).map(|s| s.party));
        }
        Ok(indexes)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The log's origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The log's public key.
    pub fn vkey(&self) -> &VerifierKey {
        &self.vkey
    }

    /// Number of records.
    pub fn size(&self) -> u64 {
        self.auditor.size()
    }

    /// The latest signed checkpoint.
    pub fn checkpoint(&self) -> &[u8] {
        &self.checkpoint
    }

    /// The in-memory projection state (validated, equal to a replay).
    pub fn auditor(&self) -> &Auditor {
        &self.auditor
    }

    /// The entries of bundle `n` of a tree of `size` records.
    fn bundle(&self, n: u64, size: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let count = (size - n * BUNDLE).min(BUNDLE) as usize;
        let stored = self
            .db
            .get(bundle_key(n))?
            .ok_or_else(|| StoreError::Corrupt(format!("entry bundle {n} is missing")))?;
        let data = unpack_bundle(n, &stored)?;
        // A partial bundle may hold more entries than the committed size
        // only if a commit was torn, which the atomic batch excludes; the
        // parser insists on the exact count.
        let entries = parse_entry_bundle(&data, count)
            .map_err(|e| StoreError::Corrupt(format!("entry bundle {n}: {e:?}")))?;
        Ok(entries.into_iter().map(|e| e.to_vec()).collect())
    }

    /// Record `index`.
    pub fn record(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        if index >= self.size() {
            return Ok(None);
        }
        let mut b = self.bundle(index / BUNDLE, self.size())?;
        Ok(Some(b.swap_remove((index % BUNDLE) as usize)))
    }

    /// Records `from..to`, in order.
    pub fn records(
        &self,
        from: u64,
        to: u64,
    ) -> impl Iterator<Item = Result<Vec<u8>, StoreError>> + '_ {
        self.records_in(from, to.min(self.size()), self.size())
    }

    /// Records `from..to` of a log of `committed` records.
    fn records_in(
        &self,
        from: u64,
        to: u64,
        committed: u64,
    ) -> impl Iterator<Item = Result<Vec<u8>, StoreError>> + '_ {
        let first = from / BUNDLE;
        let last = to.div_ceil(BUNDLE);
        (first..last.max(first)).flat_map(move |n| {
            let items: Vec<Result<Vec<u8>, StoreError>> = match self.bundle(n, committed) {
                Ok(entries) => entries
                    .into_iter()
                    .enumerate()
                    .map(|(j, e)| (n * BUNDLE + j as u64, e))
                    .filter(|(i, _)| *i >= from && *i < to)
                    .map(|(_, e)| Ok(e))
                    .collect(),
                Err(e) => vec![Err(e)],
            };
            items.into_iter()
        })
    }

    /// The index of the record holding exactly these statement bytes.
    pub fn find_statement(&self, statement: &[u8]) -> Option<u64> {
        let h: [u8; 32] = Sha256::digest(statement).into();
        self.indexes.statements.get(&h).copied()
    }

    /// Indexes of the records about a case.
    pub fn case_records(&self, case: &[u8; 16]) -> Vec<u64> {
        self.indexes.cases.get(case).cloned().unwrap_or_default()
    }

    /// Indexes of the records signed by a party.
    pub fn party_records(&self, party: u64) -> Vec<u64> {
        self.indexes
            .parties
            .get(&party)
            .cloned()
            .unwrap_or_default()
    }

    /// Appends what is valid of `statements` as one group commit and returns,
    /// per statement, its receipt or why it was rejected. See the module
    /// docs for the crash-safety order.
    pub fn append(
        &mut self,
        statements: &[SignedStatement],
    ) -> Result<Vec<Result<Receipt, Rejection>>, StoreError> {
        let checked = check_statements(statements, self.config.audit.verify_mode, &mut self.caches);
        self.append_checked(statements, checked)
    }

    /// How signatures are verified and on how many threads (for a
    /// [`Sequencer`] that checks the next commit's signatures while this
    /// one is written).
    pub fn signature_checker(&self) -> (forewarn_ledger::verify::VerifyMode, usize) {
        (self.config.audit.verify_mode, self.caches.len())
    }

    /// [`Store::append`] with the statements already checked by
    /// [`check_statements`] (`checked[i]` for `statements[i]`).
    pub fn append_checked(
        &mut self,
        statements: &[SignedStatement],
        checked: Vec<CheckedStatement>,
    ) -> Result<Vec<Result<Receipt, Rejection>>, StoreError> {
        Ok(self
            .commit_checked(statements, checked)?
            .into_iter()
            .map(|r| r.map(ReceiptParts::encode))
            .collect())
    }

    /// [`Store::append_checked`], returning each receipt's parts for the
    /// caller to encode (on another thread, say: see [`ReceiptParts`]).
    pub fn commit_checked(
        &mut self,
        statements: &[SignedStatement],
        checked: Vec<CheckedStatement>,
    ) -> Result<Vec<Result<ReceiptParts, Rejection>>, StoreError> {
        if self.poisoned {
            return Err(StoreError::Poisoned);
        }
        assert_eq!(checked.len(), statements.len(), "one check per statement");
        let trace = std::env::var_os("FOREWARN_TRACE").is_some();
        let t0 = std::time::Instant::now();
        let t_verify = t0.elapsed();
        // Step 1b: validate in order against the state; nothing is written.
        let logged_at = now_from(&self.config.clock, self.auditor.state().last_logged_at);
        let before = self.auditor.size();
        let mut results: Vec<Result<u64, Rejection>> = Vec::with_capacity(statements.len());
        let mut accepted: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut in_batch: HashSet<[u8; 32]> = Default::default();
        // What each accepted record adds to the indexes: statement hash,
        // case, signing party.
        let mut indexed: Vec<(u64, IndexEntry)> = Vec::new();
        for (s, c) in statements.iter().zip(checked) {
            let h = c.hash;
            if let Some(index) = self.indexes.statements.get(&h) {
                results.push(Err(Rejection::Replay { index: *index }));
                continue;
            }
            if in_batch.contains(&h) {
                results.push(Err(Rejection::DuplicateInBatch));
                continue;
            }
            let next = self.auditor.size();
            let entry = c.parsed.as_ref().ok().map(|st| IndexEntry {
                statement: h,
                case: st.event.case().map(|c| c.0),
                party: match st.event {
                    forewarn_ledger::Event::PartyRegistered { .. } => Some(next),
                    _ => self.auditor.state().keys.get(&st.signer).map(|k| k.party),
                },
            });
            match self.auditor.append_parsed(
                &s.bytes,
                c.parsed,
                s.signature,
                logged_at,
                c.signature_ok,
            ) {
                Ok(record) => {
                    in_batch.insert(h);
                    accepted.push((next, record));
                    // A statement that does not decode is never appended.
                    indexed.extend(entry.map(|e| (next, e)));
                    results.push(Ok(next));
                }
                Err(f) => results.push(Err(Rejection::Invalid(f))),
            }
        }
        if accepted.is_empty() {
            return Ok(results
                .into_iter()
                .map(|r| r.map(|_| unreachable_receipt()))
                .collect());
        }
        let t_validate = t0.elapsed();
        // Step 2: one atomic batch: bundles, tiles, size, checkpoint.
        let size = self.auditor.size();
        let mut batch = sled::Batch::default();
        // Entry bundles from the first one the new records touch.
        let first_bundle = before / BUNDLE;
        let prior: Vec<Vec<u8>> = if !before.is_multiple_of(BUNDLE) {
            self.bundle(first_bundle, before)?
        } else {
            Vec::new()
        };
        let mut entries: Vec<&[u8]> = prior.iter().map(Vec::as_slice).collect();
        let mut n = first_bundle;
        for (_, record) in &accepted {
            entries.push(record);
            if entries.len() as u64 == BUNDLE {
                let bundle = encode_entry_bundle(&entries)
                    .map_err(|e| StoreError::Corrupt(format!("{e:?}")))?;
                batch.insert(&bundle_key(n)[..], self.packer.pack(&bundle)?);
                entries.clear();
                n += 1;
            }
        }
        if !entries.is_empty() {
            let bundle =
                encode_entry_bundle(&entries).map_err(|e| StoreError::Corrupt(format!("{e:?}")))?;
            batch.insert(&bundle_key(n)[..], self.packer.pack(&bundle)?);
        }
        // Hash tiles (C2SP tlog-tiles).
        let tiles = SledTiles {
            db: &self.db,
            cache: Default::default(),
        };
        let mut overlay: HashMap<u64, Hash> = HashMap::default();
        for (index, record) in &accepted {
            let reader = DbHashReader {
                overlay: &overlay,
                size: before,
                tiles: &tiles,
                memo: Default::default(),
            };
            let hashes =
                stored_hashes_for_record(*index, leaf_hash(record), &reader).map_err(prove_err)?;
            let first = stored_hash_count(*index);
            for (k, h) in hashes.into_iter().enumerate() {
                overlay.insert(first + k as u64, h);
            }
        }
        let reader = DbHashReader {
            overlay: &overlay,
            size: before,
            tiles: &tiles,
            memo: Default::default(),
        };
        for tile in new_tiles(before, size) {
            let TileKind::Hashes { level } = tile.kind else {
                continue;
            };
            let data = read_tile_data(tile, &reader).map_err(prove_err)?;
            batch.insert(&tile_key(level, tile.index)[..], data);
        }
        let root = self.auditor.root();
        let checkpoint = Checkpoint::new(&self.origin, size, root)
            .map_err(|e| StoreError::Corrupt(format!("checkpoint: {e}")))?
            .sign(&self.key)
            .to_bytes();
        batch.insert(b"m:size".as_slice(), &be(size)[..]);
        batch.insert(b"m:checkpoint".as_slice(), checkpoint.as_slice());
        let t_build = t0.elapsed();
        if let Err(e) = self.db.apply_batch(batch) {
            self.poisoned = true;
            return Err(e.into());
        }
        let t_apply = t0.elapsed();
        // Step 3: durable.
        if let Err(e) = self.db.flush() {
            self.poisoned = true;
            return Err(e.into());
        }
        let t_flush = t0.elapsed();
        self.checkpoint = checkpoint;
        for (index, entry) in indexed {
            self.indexes.insert(index, entry);
        }
        // Step 4: receipts. The proofs of the commit's consecutive records
        // share most of their hashes, so they are computed together (from
        // the overlay and the tiles just written); the tlog-proof texts are
        // encoded on as many threads as signature checks use.
        let proofs = {
            let tiles = SledTiles {
                db: &self.db,
                cache: Default::default(),
            };
            let reader = DbHashReader {
                overlay: &overlay,
                size,
                tiles: &tiles,
                memo: Default::default(),
            };
            prove_inclusions(size, before..size, &reader).map_err(prove_err)?
        };
        let checkpoint = Arc::new(self.checkpoint.clone());
        if trace {
            eprintln!(
                "commit {} statements: verify {:?} validate {:?} build {:?} apply {:?} flush {:?} proofs {:?}",
                statements.len(),
                t_verify,
                t_validate - t_verify,
                t_build - t_validate,
                t_apply - t_build,
                t_flush - t_apply,
                t0.elapsed() - t_flush
            );
        }
        // Accepted records are in index order, as are their results.
        let mut parts = accepted
            .into_iter()
            .zip(proofs)
            .map(|((index, record), inclusion)| ReceiptParts {
                index,
                record,
                inclusion,
                checkpoint: checkpoint.clone(),
            });
        Ok(results
            .into_iter()
            .map(|r| {
                r.map(|index| {
                    let p = parts.next().expect("one receipt per accepted statement");
                    debug_assert_eq!(p.index, index);
                    p
                })
            })
            .collect())
    }

    fn reader<'a>(
        &'a self,
        tiles: &'a SledTiles<'a>,
        empty: &'a HashMap<u64, Hash>,
    ) -> DbHashReader<'a> {
        DbHashReader {
            overlay: empty,
            size: self.size(),
            tiles,
            memo: Default::default(),
        }
    }

    /// A receipt for record `index` at the latest checkpoint.
    pub fn receipt(&self, index: u64) -> Result<Option<Receipt>, StoreError> {
        let Some(record) = self.record(index)? else {
            return Ok(None);
        };
        let tiles = SledTiles {
            db: &self.db,
            cache: Default::default(),
        };
        let empty = HashMap::default();
        let proof =
            prove_inclusion(self.size(), index, &self.reader(&tiles, &empty)).map_err(prove_err)?;
        let bytes =
            forewarn_ledger::receipt::encode(&record, index, proof, self.checkpoint.clone());
        Ok(Some(Receipt {
            index,
            record,
            proof: bytes,
        }))
    }

    /// A consistency proof from an older size to the current checkpoint.
    pub fn consistency_proof(&self, old: u64) -> Result<Vec<Hash>, StoreError> {
        let tiles = SledTiles {
            db: &self.db,
            cache: Default::default(),
        };
        let empty = HashMap::default();
        forewarn_tlog::tree::prove_consistency(old, self.size(), &self.reader(&tiles, &empty))
            .map_err(prove_err)
    }

    /// Walks the whole store: re-audits every record from scratch, checks
    /// the root against the signed checkpoint, every tile against a
    /// recomputation, that nothing lies beyond the log, and that the
    /// indexes equal a fresh fold. Returns the fresh auditor.
    pub fn check(&self) -> Result<Auditor, StoreError> {
        let mut a = Auditor::new(self.config.audit.clone());
        let mut tree = forewarn_tlog::tree::InMemoryTree::new();
        let size = self.size();
        replay_records(&mut a, self.records(0, size), size, &self.config, |r| {
            tree.append(leaf_hash(r));
        })?;
        let signed = SignedCheckpoint::open(&self.checkpoint, &self.vkey, Some(&self.origin), &[])
            .map_err(|e| StoreError::Corrupt(format!("checkpoint: {e}")))?;
        if a.root() != *signed.checkpoint.root() {
            return Err(StoreError::Corrupt(
                "records do not match the checkpoint root".into(),
            ));
        }
        let mut expected_tiles = 0;
        for tile in tiles_for_size(size) {
            let TileKind::Hashes { level } = tile.kind else {
                continue;
            };
            expected_tiles += 1;
            let want =
                read_tile_data(tile, &tree).map_err(|e| StoreError::Corrupt(format!("{e:?}")))?;
            if self.db.get(tile_key(level, tile.index))?.as_deref() != Some(&want[..]) {
                return Err(StoreError::Corrupt(format!(
                    "tile {} differs from the records",
                    tile.path()
                )));
            }
        }
        if self.db.scan_prefix([b't']).count() != expected_tiles {
            return Err(StoreError::Corrupt("tiles beyond the tree".into()));
        }
        if self.db.scan_prefix([b'e']).count() as u64 != size.div_ceil(BUNDLE) {
            return Err(StoreError::Corrupt("entry bundles beyond the log".into()));
        }
        let fresh = self.fold_indexes(size, &a)?;
        if fresh.statements != self.indexes.statements
            || fresh.cases != self.indexes.cases
            || fresh.parties != self.indexes.parties
        {
            return Err(StoreError::Corrupt(
                "the indexes differ from a fold over the records".into(),
            ));
        }
        Ok(a)
    }

    /// Rebuilds the hash tiles and the indexes from the records.
    pub fn rebuild(&mut self) -> Result<(), StoreError> {
        let size = self.size();
        let mut tree = forewarn_tlog::tree::InMemoryTree::new();
        for r in self.records(0, size) {
            tree.append(leaf_hash(&r?));
        }
        let mut b = sled::Batch::default();
        for item in self.db.scan_prefix([b't']) {
            b.remove(item?.0);
        }
        for tile in tiles_for_size(size) {
            if let TileKind::Hashes { level } = tile.kind {
                let data = read_tile_data(tile, &tree)
                    .map_err(|e| StoreError::Corrupt(format!("{e:?}")))?;
                b.insert(&tile_key(level, tile.index)[..], data);
            }
        }
        self.db.apply_batch(b)?;
        self.db.flush()?;
        self.load(size, false)
    }

    /// Closes the store, saving the auditor state so the next open is fast.
    pub fn close(self) -> Result<(), StoreError> {
        if !self.poisoned {
            let mut packer = self.packer;
            self.db
                .insert(b"m:snapshot", packer.pack(&self.auditor.save())?)?;
            self.db.flush()?;
        }
        Ok(())
    }

    /// Raw entry bundle `n` and hash tile bytes, for export.
    pub(crate) fn raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.db.get(key)?.map(|v| v.to_vec()))
    }
}

fn unreachable_receipt() -> ReceiptParts {
    unreachable!("no statement was accepted")
}

/// Replays `records` (the store's, from `auditor.size()` on) through
/// `auditor` in chunks, calling `each` on every record, and insists that
/// exactly `size` records resulted.
fn replay_records(
    auditor: &mut Auditor,
    records: impl Iterator<Item = Result<Vec<u8>, StoreError>>,
    size: u64,
    config: &StoreConfig,
    mut each: impl FnMut(&[u8]),
) -> Result<(), StoreError> {
    let mut chunk = Vec::new();
    for r in records {
        let r = r?;
        each(&r);
        chunk.push(r);
        if chunk.len() == 16_384 {
            replay(auditor, &mut chunk, size, config)?;
        }
    }
    replay(auditor, &mut chunk, size, config)?;
    if auditor.size() != size {
        return Err(StoreError::Corrupt(format!(
            "{} records found, {size} expected",
            auditor.size()
        )));
    }
    Ok(())
}

fn replay(
    a: &mut Auditor,
    chunk: &mut Vec<Vec<u8>>,
    total: u64,
    config: &StoreConfig,
) -> Result<(), StoreError> {
    if chunk.is_empty() {
        return Ok(());
    }
    let refs: Vec<&[u8]> = chunk.iter().map(|r| r.as_slice()).collect();
    a.push_batch(&refs)
        .map_err(|f| StoreError::Corrupt(format!("replaying the records: {f}")))?;
    chunk.clear();
    if let Some(p) = &config.progress {
        p(a.size(), total);
    }
    Ok(())
}

/// Opens a store's sled database (`DIR/db`) with the store's settings:
/// LowSpace mode (the growing last bundle and tiles are rewritten in place
/// on every commit; this mode reclaims the superseded versions sooner).
/// sled's own compression stays off: bundles arrive compressed (see
/// [`unpack`]). Public for tools that inspect a store.
///
/// sled locks the database file while a handle is open, and a handle that
/// was just dropped releases the lock only when its background threads
/// have stopped, a moment later. Opening therefore waits up to two seconds
/// for the lock; if it is still held, another process has the ledger open,
/// and the error says so.
pub fn open_db(path: &Path) -> Result<sled::Db, StoreError> {
    // No periodic background flush: every write the store makes is
    // followed by its own `flush` (a commit's step 3), so sled's timer
    // would only add a thread waking every 500 ms to do nothing useful.
    let config = sled::Config::new()
        .path(path)
        .mode(sled::Mode::LowSpace)
        .flush_every_ms(None);
    let mut waited = std::time::Duration::ZERO;
    loop {
        match config.open() {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                if waited >= std::time::Duration::from_secs(2) {
                    return Err(StoreError::InUse(path.to_path_buf()));
                }
                let step = std::time::Duration::from_millis(20);
                std::thread::sleep(step);
                waited += step;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Writes a secret file with mode 0600, refusing to overwrite.
pub fn write_secret(path: &Path, contents: &[u8]) -> Result<(), StoreError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).map_err(io(path))?;
    f.write_all(contents).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

impl Store {
    /// Audits every record from scratch with a fresh auditor, as a watchdog
    /// would: records are read in chunks on one thread while the auditor
    /// verifies and folds the previous chunk. Ends by checking the signed
    /// checkpoint. `progress(done, total)` is called per chunk.
    pub fn audit(
        &self,
        config: AuditConfig,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<Auditor, IntegrityFailure> {
        // 128 bundles = 32,768 records per chunk; bundles travel as the
        // database's own buffers and are sliced, not copied.
        const BUNDLES: u64 = 128;
        let size = self.size();
        let mut auditor = Auditor::new(config);
        let read_failure = |index: u64, e: String| IntegrityFailure {
            index,
            kind: forewarn_ledger::IntegrityKind::CheckpointSignature {
                detail: format!("reading the store: {e}"),
            },
            evidence: Vec::new(),
        };
        type Part = Result<Vec<(Vec<u8>, usize)>, StoreError>;
        let (tx, rx) = std::sync::mpsc::sync_channel::<Part>(2);
        let result = std::thread::scope(|s| {
            s.spawn(move || {
                let total = size.div_ceil(BUNDLE);
                let mut n = 0;
                while n < total {
                    let mut part = Vec::with_capacity(BUNDLES as usize);
                    for b in n..(n + BUNDLES).min(total) {
                        let count = (size - b * BUNDLE).min(BUNDLE) as usize;
                        match self.db.get(bundle_key(b)) {
                            // Unpacked here, overlapping the audit.
                            Ok(Some(v)) => match unpack_bundle(b, &v) {
                                Ok(data) => part.push((data, count)),
                                Err(e) => {
                                    let _ = tx.send(Err(e));
                                    return;
                                }
                            },
                            Ok(None) => {
                                let _ = tx.send(Err(StoreError::Corrupt(format!(
                                    "entry bundle {b} is missing"
                                ))));
                                return;
                            }
                            Err(e) => {
                                let _ = tx.send(Err(e.into()));
                                return;
                            }
                        }
                    }
                    n += BUNDLES;
                    if tx.send(Ok(part)).is_err() {
                        return;
                    }
                }
            });
            for part in rx {
                let part = part.map_err(|e| read_failure(auditor.size(), e.to_string()))?;
                let mut entries: Vec<&[u8]> = Vec::with_capacity(part.len() * BUNDLE as usize);
                for (data, count) in &part {
                    let parsed = parse_entry_bundle(data, *count)
                        .map_err(|e| read_failure(auditor.size(), format!("{e:?}")))?;
                    entries.extend(parsed);
                }
                auditor.push_batch(&entries)?;
                progress(auditor.size(), size);
            }
            Ok(())
        });
        result?;
        auditor.verify_checkpoint(self.checkpoint(), self.vkey(), None)?;
        Ok(auditor)
    }
}
