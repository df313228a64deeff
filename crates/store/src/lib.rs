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
//! | `m:format` | `forewarn-store/v1` |
//! | `m:origin`, `m:vkey` | the log's identity, fixed at `init` |
//! | `m:size` | number of records (u64 big-endian) |
//! | `m:checkpoint` | the latest signed checkpoint (C2SP note) |
//! | `m:snapshot` | auditor state saved at the last clean close (optional) |
//! | `r` + index | record bytes (the Merkle leaf data) |
//! | `h` + index | stored hash (Go sumdb layout, `forewarn_tlog::tree`) |
//! | `s` + SHA-256(statement) | index (replay detection) |
//! | `c` + case id + index | (case index) |
//! | `p` + party + index | (records signed by each party) |
//!
//! The records are the source of truth: hashes and indexes are rebuilt from
//! them by [`Store::rebuild`], and [`Store::check`] re-audits everything
//! against the latest checkpoint. The log key lives beside the database in
//! `log.key` (mode 0600, never logged).
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
//! 4. Only now are receipts built and returned. Every receipt therefore
//!    names a durable record.
//!
//! Opening re-verifies: the checkpoint's signature under the log key, that
//! records `0..size` exist and nothing lies beyond, and that the records
//! replayed through the auditor give the checkpoint's root. Anything else is
//! reported as [`StoreError::Corrupt`] and the store is not served.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use forewarn_ledger::auditor::{AuditConfig, Auditor};
use forewarn_ledger::finding::IntegrityFailure;
use forewarn_ledger::statement::{Record, SignedStatement, Statement, leaf_hash};
use forewarn_ledger::types::Millis;
use forewarn_ledger::verify::{KeyCache, SignatureItem, verify_parallel};
use forewarn_tlog::checkpoint::{Checkpoint, SignedCheckpoint};
use forewarn_tlog::hash::Hash;
use forewarn_tlog::note::{SignatureType, SignerKey, VerifierKey};
use forewarn_tlog::tree::{
    HashReader, prove_inclusion, stored_hash_count, stored_hashes_for_record,
};
use sha2::{Digest, Sha256};

pub mod export;
pub mod sequencer;

pub use sequencer::Sequencer;

const FORMAT: &[u8] = b"forewarn-store/v1";
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
    poisoned: bool,
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

fn statement_key(statement: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(33);
    k.push(b's');
    k.extend_from_slice(&Sha256::digest(statement));
    k
}

/// Reads stored hashes from the database, through an overlay of hashes
/// being written and a cache of hashes already read.
struct DbHashReader<'a> {
    db: &'a sled::Db,
    overlay: &'a HashMap<u64, Hash>,
    cache: std::cell::RefCell<HashMap<u64, Hash>>,
}

impl HashReader for DbHashReader<'_> {
    type Error = StoreError;
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, StoreError> {
        let mut out = Vec::with_capacity(indexes.len());
        for i in indexes {
            if let Some(h) = self.overlay.get(i) {
                out.push(*h);
                continue;
            }
            if let Some(h) = self.cache.borrow().get(i) {
                out.push(*h);
                continue;
            }
            let v = self
                .db
                .get(key_of(b'h', *i))?
                .ok_or_else(|| StoreError::Corrupt(format!("stored hash {i} is missing")))?;
            let h = Hash::from_slice(&v)
                .ok_or_else(|| StoreError::Corrupt(format!("stored hash {i} is not 32 bytes")))?;
            self.cache.borrow_mut().insert(*i, h);
            out.push(h);
        }
        Ok(out)
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
        if dir.join(DB_DIR).exists() || dir.join(KEY_FILE).exists() {
            return Err(StoreError::AlreadyExists(dir.to_path_buf()));
        }
        let key = SignerKey::from_seed(origin, SignatureType::Ed25519, seed)
            .map_err(|e| StoreError::Key(format!("origin {origin:?}: {e}")))?;
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        write_secret(&dir.join(KEY_FILE), key.to_text().as_bytes())?;
        let vkey = key.verifier();
        let vkey_path = dir.join(VKEY_FILE);
        std::fs::write(&vkey_path, format!("{vkey}\n")).map_err(io(&vkey_path))?;
        let db = sled::open(dir.join(DB_DIR))?;
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
        drop(db);
        Store::open(dir, config)
    }

    /// Opens an existing ledger, verifying it (see the module docs).
    pub fn open(dir: &Path, config: StoreConfig) -> Result<Store, StoreError> {
        if !dir.join(DB_DIR).exists() {
            return Err(StoreError::NotAStore(dir.to_path_buf()));
        }
        let key_path = dir.join(KEY_FILE);
        let key_text =
            zeroize::Zeroizing::new(std::fs::read_to_string(&key_path).map_err(io(&key_path))?);
        let key = SignerKey::parse(key_text.trim_end())
            .map_err(|e| StoreError::Key(format!("{}: {e}", key_path.display())))?;
        let db = sled::open(dir.join(DB_DIR))?;
        let meta = |name: &str| -> Result<Vec<u8>, StoreError> {
            db.get(format!("m:{name}"))?
                .map(|v| v.to_vec())
                .ok_or_else(|| StoreError::Corrupt(format!("metadata {name} is missing")))
        };
        if meta("format")? != FORMAT {
            return Err(StoreError::Corrupt("unknown store format".into()));
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
        // Records 0..size exist and nothing lies beyond.
        if size > 0 && db.get(key_of(b'r', size - 1))?.is_none() {
            return Err(StoreError::Corrupt(format!(
                "record {} is missing",
                size - 1
            )));
        }
        if db.get(key_of(b'r', size))?.is_some() {
            return Err(StoreError::Corrupt(format!(
                "a record beyond size {size} exists"
            )));
        }
        // Rebuild the in-memory state: from the snapshot of the last clean
        // close if there is one, then the records after it.
        let mut auditor = None;
        if let Some(snap) = db.get(b"m:snapshot")?
            && let Ok(a) = Auditor::resume(config.audit.clone(), &snap)
            && a.size() <= size
        {
            auditor = Some(a);
        }
        let mut auditor = auditor.unwrap_or_else(|| Auditor::new(config.audit.clone()));
        let mut chunk: Vec<Vec<u8>> = Vec::new();
        let start = auditor.size();
        for item in db.range(key_of(b'r', start)..key_of(b'r', size)) {
            let (_, v) = item?;
            chunk.push(v.to_vec());
            if chunk.len() == 16_384 {
                replay(&mut auditor, &mut chunk, size, &config)?;
            }
        }
        replay(&mut auditor, &mut chunk, size, &config)?;
        if auditor.size() != size {
            return Err(StoreError::Corrupt(format!(
                "{} records found, {size} expected",
                auditor.size()
            )));
        }
        if auditor.root() != *signed.checkpoint.root() {
            return Err(StoreError::Corrupt(
                "the records do not hash to the latest checkpoint's root".into(),
            ));
        }
        let threads = config.audit.threads.max(1);
        Ok(Store {
            dir: dir.to_path_buf(),
            db,
            key,
            vkey,
            origin,
            auditor,
            checkpoint,
            config,
            caches: (0..threads).map(|_| KeyCache::new()).collect(),
            poisoned: false,
        })
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

    /// Record `index`.
    pub fn record(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        if index >= self.size() {
            return Ok(None);
        }
        Ok(self.db.get(key_of(b'r', index))?.map(|v| v.to_vec()))
    }

    /// Records `from..to`, in order.
    pub fn records(
        &self,
        from: u64,
        to: u64,
    ) -> impl Iterator<Item = Result<Vec<u8>, StoreError>> + '_ {
        let to = to.min(self.size());
        self.db
            .range(key_of(b'r', from)..key_of(b'r', to.max(from)))
            .map(|r| r.map(|(_, v)| v.to_vec()).map_err(StoreError::from))
    }

    /// The index of the record holding exactly these statement bytes.
    pub fn find_statement(&self, statement: &[u8]) -> Result<Option<u64>, StoreError> {
        Ok(self
            .db
            .get(statement_key(statement))?
            .map(|v| u64::from_be_bytes(v.as_ref().try_into().unwrap_or([0xff; 8]))))
    }

    /// Indexes of the records about a case.
    pub fn case_records(&self, case: &[u8; 16]) -> Result<Vec<u64>, StoreError> {
        let mut prefix = vec![b'c'];
        prefix.extend_from_slice(case);
        self.db
            .scan_prefix(&prefix)
            .map(|r| {
                let (k, _) = r?;
                Ok(u64::from_be_bytes(
                    k[17..25].try_into().expect("fixed layout"),
                ))
            })
            .collect()
    }

    /// Indexes of the records signed by a party.
    pub fn party_records(&self, party: u64) -> Result<Vec<u64>, StoreError> {
        let mut prefix = vec![b'p'];
        prefix.extend_from_slice(&be(party));
        self.db
            .scan_prefix(&prefix)
            .map(|r| {
                let (k, _) = r?;
                Ok(u64::from_be_bytes(
                    k[9..17].try_into().expect("fixed layout"),
                ))
            })
            .collect()
    }

    /// Appends what is valid of `statements` as one group commit and returns,
    /// per statement, its receipt or why it was rejected. See the module
    /// docs for the crash-safety order.
    pub fn append(
        &mut self,
        statements: &[SignedStatement],
    ) -> Result<Vec<Result<Receipt, Rejection>>, StoreError> {
        if self.poisoned {
            return Err(StoreError::Poisoned);
        }
        // Step 1a: signatures, in parallel (exact batches; verify_strict verdicts).
        let parsed: Vec<Option<Statement>> = statements
            .iter()
            .map(|s| Statement::from_bytes(&s.bytes).ok())
            .collect();
        let mut items = Vec::with_capacity(statements.len());
        let mut owners = Vec::with_capacity(statements.len());
        for (i, (s, p)) in statements.iter().zip(&parsed).enumerate() {
            if let Some(st) = p {
                items.push(SignatureItem::statement(st.signer.0, &s.bytes, s.signature));
                owners.push(i);
            }
        }
        let verdicts = verify_parallel(&items, self.config.audit.verify_mode, &mut self.caches);
        let mut signature_ok = vec![false; statements.len()];
        for (i, ok) in owners.into_iter().zip(verdicts) {
            signature_ok[i] = ok;
        }
        // Step 1b: validate in order against the state; nothing is written.
        let logged_at = now_from(&self.config.clock, self.auditor.state().last_logged_at);
        let before = self.auditor.size();
        let mut results: Vec<Result<u64, Rejection>> = Vec::with_capacity(statements.len());
        let mut accepted: Vec<(u64, Vec<u8>, Vec<u8>)> = Vec::new(); // (index, record, statement key)
        let mut in_batch: HashMap<Vec<u8>, ()> = HashMap::new();
        for (i, s) in statements.iter().enumerate() {
            let skey = statement_key(&s.bytes);
            if let Some(index) = self.db.get(&skey)? {
                results.push(Err(Rejection::Replay {
                    index: u64::from_be_bytes(index.as_ref().try_into().unwrap_or([0xff; 8])),
                }));
                continue;
            }
            if in_batch.contains_key(&skey) {
                results.push(Err(Rejection::DuplicateInBatch));
                continue;
            }
            match self.auditor.append_statement(
                &s.bytes,
                s.signature,
                logged_at,
                Some(signature_ok[i]),
            ) {
                Ok(record) => {
                    let index = self.auditor.size() - 1;
                    in_batch.insert(skey.clone(), ());
                    accepted.push((index, record, skey));
                    results.push(Ok(index));
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
        // Step 2: one atomic batch.
        let size = self.auditor.size();
        let mut overlay: HashMap<u64, Hash> = HashMap::new();
        let mut batch = sled::Batch::default();
        let state = self.auditor.state();
        for (index, record, skey) in &accepted {
            let leaf = leaf_hash(record);
            let reader = DbHashReader {
                db: &self.db,
                overlay: &overlay,
                cache: Default::default(),
            };
            let hashes = stored_hashes_for_record(*index, leaf, &reader).map_err(|e| match e {
                forewarn_tlog::tree::ProveError::Reader(e) => e,
                other => StoreError::Corrupt(format!("stored hashes: {other:?}")),
            })?;
            let first = stored_hash_count(*index);
            for (k, h) in hashes.into_iter().enumerate() {
                let at = first + k as u64;
                batch.insert(&key_of(b'h', at)[..], &h.0[..]);
                overlay.insert(at, h);
            }
            batch.insert(&key_of(b'r', *index)[..], record.as_slice());
            batch.insert(skey.as_slice(), &be(*index)[..]);
            let rec = Record::from_bytes(record).expect("just encoded");
            let st = Statement::from_bytes(&rec.statement).expect("just validated");
            if let Some(case) = st.event.case() {
                let mut k = vec![b'c'];
                k.extend_from_slice(&case.0);
                k.extend_from_slice(&be(*index));
                batch.insert(k, &[][..]);
            }
            let party = match st.event {
                forewarn_ledger::Event::PartyRegistered { .. } => Some(*index),
                _ => state.keys.get(&st.signer).map(|k| k.party),
            };
            if let Some(p) = party {
                let mut k = vec![b'p'];
                k.extend_from_slice(&be(p));
                k.extend_from_slice(&be(*index));
                batch.insert(k, &[][..]);
            }
        }
        let root = self.auditor.root();
        let checkpoint = Checkpoint::new(&self.origin, size, root)
            .map_err(|e| StoreError::Corrupt(format!("checkpoint: {e}")))?
            .sign(&self.key)
            .to_bytes();
        batch.insert(b"m:size".as_slice(), &be(size)[..]);
        batch.insert(b"m:checkpoint".as_slice(), checkpoint.as_slice());
        if let Err(e) = self.db.apply_batch(batch) {
            self.poisoned = true;
            return Err(e.into());
        }
        // Step 3: durable.
        if let Err(e) = self.db.flush() {
            self.poisoned = true;
            return Err(e.into());
        }
        self.checkpoint = checkpoint;
        // Step 4: receipts.
        let reader = DbHashReader {
            db: &self.db,
            overlay: &overlay,
            cache: Default::default(),
        };
        let mut receipts: HashMap<u64, Receipt> = HashMap::new();
        for (index, record, _) in accepted {
            let proof = prove_inclusion(size, index, &reader).map_err(|e| match e {
                forewarn_tlog::tree::ProveError::Reader(e) => e,
                other => StoreError::Corrupt(format!("inclusion proof: {other:?}")),
            })?;
            let bytes =
                forewarn_ledger::receipt::encode(&record, index, proof, self.checkpoint.clone());
            receipts.insert(
                index,
                Receipt {
                    index,
                    record,
                    proof: bytes,
                },
            );
        }
        let _ = before;
        Ok(results
            .into_iter()
            .map(|r| {
                r.map(|index| {
                    receipts
                        .remove(&index)
                        .expect("one receipt per accepted statement")
                })
            })
            .collect())
    }

    /// A receipt for record `index` at the latest checkpoint.
    pub fn receipt(&self, index: u64) -> Result<Option<Receipt>, StoreError> {
        let Some(record) = self.record(index)? else {
            return Ok(None);
        };
        let overlay = HashMap::new();
        let reader = DbHashReader {
            db: &self.db,
            overlay: &overlay,
            cache: Default::default(),
        };
        let proof = prove_inclusion(self.size(), index, &reader).map_err(|e| match e {
            forewarn_tlog::tree::ProveError::Reader(e) => e,
            other => StoreError::Corrupt(format!("inclusion proof: {other:?}")),
        })?;
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
        let overlay = HashMap::new();
        let reader = DbHashReader {
            db: &self.db,
            overlay: &overlay,
            cache: Default::default(),
        };
        forewarn_tlog::tree::prove_consistency(old, self.size(), &reader).map_err(|e| match e {
            forewarn_tlog::tree::ProveError::Reader(e) => e,
            other => StoreError::Corrupt(format!("consistency proof: {other:?}")),
        })
    }

    /// Walks the whole store: re-audits every record from scratch, checks
    /// the root against the signed checkpoint, every stored hash against a
    /// recomputation, and every index entry. Returns the fresh auditor.
    pub fn check(&self) -> Result<Auditor, StoreError> {
        let mut a = Auditor::new(self.config.audit.clone());
        let mut tree = forewarn_tlog::tree::InMemoryTree::new();
        let mut chunk = Vec::new();
        let size = self.size();
        for r in self.records(0, size) {
            let r = r?;
            tree.append(leaf_hash(&r));
            chunk.push(r);
            if chunk.len() == 16_384 {
                replay(&mut a, &mut chunk, size, &self.config)?;
            }
        }
        replay(&mut a, &mut chunk, size, &self.config)?;
        if a.size() != size {
            return Err(StoreError::Corrupt(format!(
                "{} records, {size} expected",
                a.size()
            )));
        }
        let signed = SignedCheckpoint::open(&self.checkpoint, &self.vkey, Some(&self.origin), &[])
            .map_err(|e| StoreError::Corrupt(format!("checkpoint: {e}")))?;
        if a.root() != *signed.checkpoint.root() {
            return Err(StoreError::Corrupt(
                "records do not match the checkpoint root".into(),
            ));
        }
        for (i, h) in tree.stored_hashes().iter().enumerate() {
            let stored = self.db.get(key_of(b'h', i as u64))?;
            if stored.as_deref() != Some(&h.0[..]) {
                return Err(StoreError::Corrupt(format!(
                    "stored hash {i} differs from the records"
                )));
            }
        }
        if self
            .db
            .get(key_of(b'h', tree.stored_hashes().len() as u64))?
            .is_some()
        {
            return Err(StoreError::Corrupt("stored hashes beyond the tree".into()));
        }
        let mut statements = 0u64;
        for item in self.db.scan_prefix([b's']) {
            let (k, v) = item?;
            let index = u64::from_be_bytes(
                v.as_ref()
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("statement index value".into()))?,
            );
            let record = self.record(index)?.ok_or_else(|| {
                StoreError::Corrupt(format!("statement index points past the log ({index})"))
            })?;
            let rec = Record::from_bytes(&record)
                .map_err(|e| StoreError::Corrupt(format!("record {index}: {e}")))?;
            if k[1..] != Sha256::digest(&rec.statement)[..] {
                return Err(StoreError::Corrupt(format!(
                    "statement index entry for record {index} is wrong"
                )));
            }
            statements += 1;
        }
        if statements != size {
            return Err(StoreError::Corrupt(format!(
                "{statements} statement index entries for {size} records"
            )));
        }
        Ok(a)
    }

    /// Rebuilds the stored hashes and indexes from the records.
    pub fn rebuild(&mut self) -> Result<(), StoreError> {
        let mut b = sled::Batch::default();
        for prefix in [b'h', b's', b'c', b'p'] {
            for item in self.db.scan_prefix([prefix]) {
                let (k, _) = item?;
                b.remove(k);
            }
        }
        self.db.apply_batch(b)?;
        let mut tree = forewarn_tlog::tree::InMemoryTree::new();
        let mut a = Auditor::new(self.config.audit.clone());
        let size = self.size();
        let mut b = sled::Batch::default();
        for i in 0..size {
            let r = self
                .record(i)?
                .ok_or_else(|| StoreError::Corrupt(format!("record {i} missing")))?;
            tree.append(leaf_hash(&r));
            a.push(&r).map_err(|f| StoreError::Corrupt(f.to_string()))?;
            let rec = Record::from_bytes(&r).expect("audited");
            let st = Statement::from_bytes(&rec.statement).expect("audited");
            b.insert(statement_key(&rec.statement), &be(i)[..]);
            if let Some(case) = st.event.case() {
                let mut k = vec![b'c'];
                k.extend_from_slice(&case.0);
                k.extend_from_slice(&be(i));
                b.insert(k, &[][..]);
            }
            let party = match st.event {
                forewarn_ledger::Event::PartyRegistered { .. } => Some(i),
                _ => a.state().keys.get(&st.signer).map(|k| k.party),
            };
            if let Some(p) = party {
                let mut k = vec![b'p'];
                k.extend_from_slice(&be(p));
                k.extend_from_slice(&be(i));
                b.insert(k, &[][..]);
            }
        }
        for (i, h) in tree.stored_hashes().iter().enumerate() {
            b.insert(&key_of(b'h', i as u64)[..], &h.0[..]);
        }
        self.db.apply_batch(b)?;
        self.db.flush()?;
        self.auditor = a;
        Ok(())
    }

    /// Closes the store, saving the auditor state so the next open is fast.
    pub fn close(self) -> Result<(), StoreError> {
        if !self.poisoned {
            self.db.insert(b"m:snapshot", self.auditor.save())?;
            self.db.flush()?;
        }
        Ok(())
    }
}

fn unreachable_receipt() -> Receipt {
    unreachable!("no statement was accepted")
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
