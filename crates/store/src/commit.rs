//! The commit: statements in, records, tiles and a signed checkpoint out,
//! then receipts.
//!
//! The order is the crash-safety argument (Sunlight's sequencer writes the
//! same order down). At each step, what a crash leaves behind:
//!
//! 1. **Validate** every statement against the in-memory state (decoding,
//!    signature, key, references, time, replay). Nothing is written; a
//!    crash loses only submissions no one was told about.
//! 2. **One atomic sled batch**: the entry bundles the new records touch,
//!    every new or grown hash tile, the new size and the new signed
//!    checkpoint. sled applies a batch all-or-nothing, so after a crash the
//!    store holds either all of it or none of it, and size, records, tiles
//!    and checkpoint always agree. Readers do not see it yet: they read at
//!    the published size, and bundles and tiles only grow in place.
//! 3. **flush** (fsync). A crash before it returns may lose the batch; no
//!    receipt for it exists and the published state has not moved.
//!    Then the **high-water mark** (`checkpoint.mark`, the `mark` module)
//!    is replaced by the new checkpoint: one small file write and three
//!    renames or removals per commit, no fsync. It is never ahead of the durable database, so a
//!    database found older than it at open has lost durable commits.
//! 4. **Publish** the new state to readers (one `Arc` swap), then build the
//!    **receipts** (inclusion proofs here; their tlog-proof text by each
//!    submitter, see [`ReceiptParts`]). Every receipt and every published
//!    checkpoint therefore names a durable record.
//!
//! An all-or-nothing commit ([`Store::append_all`]) stops at step 1 on the
//! first refusal and puts back the auditor state it copied before
//! validating, so a refused batch changes nothing, in memory or on disk.
//!
//! A commit that fails after validation (building, writing or flushing its
//! batch, or writing the mark) poisons the store: the in-memory state is ahead of the database,
//! so later commits are refused until it is reopened (and re-verified).

use std::sync::Arc;

use forewarn_ledger::statement::{SignedStatement, Statement, leaf_hash};
use forewarn_ledger::verify::{
    KeyCache, SignatureItem, StatementItem, VerifyMode, verify_parallel,
};
use forewarn_tlog::checkpoint::Checkpoint;
use forewarn_tlog::hash::Hash;
use forewarn_tlog::tile::{TileKind, encode_entry_bundle, new_tiles, read_tile_data};
use forewarn_tlog::tree::{prove_inclusions, stored_hash_count, stored_hashes_for_record};
use sha2::{Digest, Sha256};

use crate::error::{Corruption, KeyError, Place, Rejection, StoreError};
use crate::layout::{BUNDLE, META_CHECKPOINT, META_SIZE, bundle_key, tile_key};
use crate::mark::write_mark;
use crate::open::Store;
use crate::projections;
use crate::reader::{
    DbHashReader, LogState, Receipt, ReceiptParts, SledTiles, bundle_entries, prove_err,
};
use crate::{HashMap, HashSet};
use forewarn_ledger::auditor::duplicate_key;

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
    mode: VerifyMode,
    caches: &mut [KeyCache],
) -> Vec<CheckedStatement> {
    let mut checked = prepare_statements(statements);
    check_signatures(statements, &mut checked, mode, caches);
    checked
}

/// The first half of [`check_statements`], needing no state at all: the
/// decoding and hash of each statement. A [`crate::Submitter`] does it on
/// the submitting thread, so many submitters share the work.
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
    mode: VerifyMode,
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

/// A commit's sled batch, the stored hashes it computed (for the
/// receipts' proofs), and its signed checkpoint.
type Built = (sled::Batch, HashMap<u64, Hash>, Vec<u8>);

impl Store {
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

    /// Appends one statement: its receipt, or [`StoreError::Rejected`] with
    /// the reason it was refused.
    pub fn append_one(&mut self, statement: SignedStatement) -> Result<Receipt, StoreError> {
        let mut results = self.append(std::slice::from_ref(&statement))?;
        results
            .remove(0)
            .map_err(|r| StoreError::Rejected(Box::new(r)))
    }

    /// How signatures are verified and on how many threads (for a
    /// [`crate::Sequencer`] that checks the next commit's signatures while
    /// this one is written).
    pub fn signature_checker(&self) -> (VerifyMode, usize) {
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
    ///
    /// # Panics
    /// If `checked` does not hold one entry per statement.
    pub fn commit_checked(
        &mut self,
        statements: &[SignedStatement],
        checked: Vec<CheckedStatement>,
    ) -> Result<Vec<Result<ReceiptParts, Rejection>>, StoreError> {
        self.commit(statements, checked, false)
    }

    /// Appends every one of `statements` as the next records, in order, in
    /// one commit, or none of them: the first refusal is
    /// [`StoreError::RejectedInBatch`] with its position, and the store is
    /// as before (nothing written, nothing in memory changed).
    ///
    /// Cost: for more than one statement the auditor's state is copied
    /// before validation, to be put back on a refusal. That copy grows
    /// with the log (every projection, plus the statement-hash and citation
    /// entries of every record): made once per call, it suits a command
    /// appending a few files, not a server's submissions, which use
    /// [`Store::append`] or a [`crate::Sequencer`].
    pub fn append_all(
        &mut self,
        statements: &[SignedStatement],
    ) -> Result<Vec<Receipt>, StoreError> {
        let checked = check_statements(statements, self.config.audit.verify_mode, &mut self.caches);
        self.commit(statements, checked, true)?
            .into_iter()
            .map(|r| r.map(ReceiptParts::encode))
            .collect::<Result<Vec<_>, _>>()
            // Unreachable: an all-or-nothing commit returns no rejection.
            .map_err(|r| StoreError::Rejected(Box::new(r)))
    }

    /// The commit; with `all`, the first rejection refuses the whole batch
    /// (see [`Store::append_all`]).
    fn commit(
        &mut self,
        statements: &[SignedStatement],
        checked: Vec<CheckedStatement>,
        all: bool,
    ) -> Result<Vec<Result<ReceiptParts, Rejection>>, StoreError> {
        if self.poisoned {
            return Err(StoreError::Poisoned);
        }
        assert_eq!(checked.len(), statements.len(), "one check per statement");
        // `FOREWARN_TRACE`: the phases of each commit on standard error.
        let trace = std::env::var_os("FOREWARN_TRACE").is_some();
        let t0 = std::time::Instant::now();
        // Step 1b: validate in order against the state; nothing is written.
        let floor = self.auditor.state().last_logged_at;
        let logged_at = (self.config.clock)().max(floor);
        let before = self.auditor.size();
        let mut results: Vec<Result<u64, Rejection>> = Vec::with_capacity(statements.len());
        let mut accepted: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut in_batch: HashSet<[u8; 32]> = Default::default();
        // The state to put back if an all-or-nothing batch is refused (one
        // statement needs none: a refused statement changes no state). The
        // auditor holds only the working set, so the copy is small.
        let mut backup =
            (all && statements.len() > 1).then(|| (self.auditor.clone(), self.pager.clone()));
        for (s, c) in statements.iter().zip(checked) {
            if all && results.last().is_some_and(Result::is_err) {
                break;
            }
            let h = c.hash;
            // Load what the statement's rules read (its duplicate entry
            // among it) into the working set.
            if let Ok(st) = &c.parsed
                && let Err(e) = projections::page_in(
                    &self.shared.db,
                    &self.sealer,
                    &mut self.pager,
                    &mut self.auditor,
                    st,
                    &h,
                    c.signature_ok,
                )
            {
                // A read that fails half-way through: the statements
                // accepted so far are in memory only. The copy is put back
                // if there is one; with none and nothing accepted, the
                // working set is dropped; otherwise the in-memory state is
                // ahead of the database and the store is poisoned, as for
                // a commit that fails after validation.
                match backup.take() {
                    Some((auditor, pager)) => {
                        self.auditor = auditor;
                        self.pager = pager;
                    }
                    None if accepted.is_empty() => {
                        projections::discard(&mut self.pager, &mut self.auditor)
                    }
                    None => self.poisoned = true,
                }
                return Err(e);
            }
            if in_batch.contains(&h) {
                results.push(Err(Rejection::DuplicateInBatch));
                continue;
            }
            if let Some(index) = self.auditor.state().statements.get(&duplicate_key(&h)) {
                results.push(Err(Rejection::Replay { index: index.0 }));
                continue;
            }
            let next = self.auditor.size();
            let facts = c
                .parsed
                .as_ref()
                .ok()
                .map(|st| (st.signer, st.event.case()));
            match self.auditor.append_parsed(
                &s.bytes,
                c.parsed,
                h,
                s.signature,
                logged_at,
                c.signature_ok,
            ) {
                Ok(record) => {
                    in_batch.insert(h);
                    accepted.push((next, record));
                    // A statement that does not decode is never appended.
                    if let Some((key, case)) = facts {
                        projections::note_appended(
                            &mut self.pager,
                            &self.auditor,
                            key,
                            case,
                            logged_at,
                        );
                    }
                    results.push(Ok(next));
                }
                Err(f) => results.push(Err(Rejection::Invalid(f))),
            }
        }
        if all
            && let Some(position) = results.iter().position(Result::is_err)
            && let Err(rejection) = results.swap_remove(position)
        {
            match backup {
                Some((auditor, pager)) => {
                    self.auditor = auditor;
                    self.pager = pager;
                }
                // One statement, refused: nothing was appended.
                None => projections::discard(&mut self.pager, &mut self.auditor),
            }
            return Err(StoreError::RejectedInBatch {
                position,
                rejection: Box::new(rejection),
            });
        }
        if accepted.is_empty() {
            // Nothing to write back: what the refused statements loaded is
            // dropped, so refusals never make the working set grow.
            projections::discard(&mut self.pager, &mut self.auditor);
            return Ok(results
                .into_iter()
                .map(|r| r.map(|_| unreachable!("no statement was accepted")))
                .collect());
        }
        // Step 2: build one atomic batch (bundles, tiles, size, checkpoint)
        // from the durable state at `before` and the accepted records.
        let t_validate = t0.elapsed();
        let size = self.auditor.size();
        // The in-memory state already holds the accepted records: a commit
        // that cannot be written leaves it ahead of the database, so any
        // failure from here on poisons the store.
        let (batch, overlay, checkpoint) = match self.build_batch(before, size, &accepted) {
            Ok(built) => built,
            Err(e) => {
                self.poisoned = true;
                return Err(e);
            }
        };
        let t_build = t0.elapsed();
        let db = &self.shared.db;
        if let Err(e) = db.apply_batch(batch) {
            self.poisoned = true;
            return Err(e.into());
        }
        let t_apply = t0.elapsed();
        // Step 3: durable. Until this returns nothing has been published.
        if let Err(e) = db.flush() {
            self.poisoned = true;
            return Err(e.into());
        }
        // Step 3b: the high-water mark (see `crate::mark`), written only
        // now that the batch is durable. A commit whose mark cannot be
        // written is not acknowledged: like a crash between the flush and
        // the receipts, it is found at the next open (which rewrites the
        // mark).
        if let Err(e) = write_mark(&self.dir, &checkpoint) {
            self.poisoned = true;
            return Err(e);
        }
        let t_flush = t0.elapsed();
        // Step 4: publish, then receipts.
        let checkpoint: Arc<[u8]> = checkpoint.into();
        self.checkpoint = checkpoint.clone();
        self.shared.publish(LogState {
            size,
            root: self.auditor.root(),
            checkpoint: checkpoint.clone(),
        });
        // The proofs of the commit's consecutive records share most of
        // their hashes, so they are computed together, from the overlay and
        // the tiles just written.
        let proofs = {
            let tiles = SledTiles::new(db);
            let reader = DbHashReader {
                overlay: Some(&overlay),
                size,
                tiles: &tiles,
                memo: Default::default(),
            };
            prove_inclusions(size, before..size, &reader).map_err(prove_err)?
        };
        if trace {
            eprintln!(
                "commit {} statements: validate {:?} build {:?} apply {:?} flush {:?} proofs {:?}",
                statements.len(),
                t_validate,
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

    /// The sled batch of a commit growing the log from `before` to `size`
    /// records (`accepted`), with the stored hashes it computed and the
    /// new signed checkpoint. Reads only durable state.
    fn build_batch(
        &mut self,
        before: u64,
        size: u64,
        accepted: &[(u64, Vec<u8>)],
    ) -> Result<Built, StoreError> {
        let db = &self.shared.db;
        let mut batch = sled::Batch::default();
        // Entry bundles from the first one the new records touch; the last
        // one grows in place.
        let first_bundle = before / BUNDLE;
        let prior = if before.is_multiple_of(BUNDLE) {
            Vec::new()
        } else {
            bundle_entries(db, first_bundle, before)?
        };
        let mut entries: Vec<&[u8]> = prior.iter().map(Vec::as_slice).collect();
        let mut n = first_bundle;
        let mut put = |n: u64, entries: &[&[u8]], packer: &mut crate::layout::Packer| {
            // Every record is at most 64 KiB (the ledger's limit), so a
            // bundle of them always encodes.
            let bundle = encode_entry_bundle(entries)
                .map_err(|e| StoreError::corrupt(Corruption::BadBundle(e), Place::Bundle(n)))?;
            batch.insert(&bundle_key(n)[..], packer.pack(&bundle)?);
            Ok::<(), StoreError>(())
        };
        for (_, record) in accepted {
            entries.push(record);
            if entries.len() as u64 == BUNDLE {
                put(n, &entries, &mut self.packer)?;
                entries.clear();
                n += 1;
            }
        }
        if !entries.is_empty() {
            put(n, &entries, &mut self.packer)?;
        }
        // Hash tiles (C2SP tlog-tiles): the stored hashes of the new
        // records, over the committed tiles of the tree of `before`.
        let tiles = SledTiles::new(db);
        let mut overlay: HashMap<u64, Hash> = HashMap::default();
        for (index, record) in accepted {
            let reader = DbHashReader {
                overlay: Some(&overlay),
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
            overlay: Some(&overlay),
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
        let checkpoint = Checkpoint::new(&self.shared.origin, size, self.auditor.root())
            .map_err(|source| {
                StoreError::Key(KeyError::BadCheckpointOrigin {
                    origin: self.shared.origin.clone(),
                    source,
                })
            })?
            .sign(&self.key)
            .to_bytes();
        batch.insert(META_SIZE, &size.to_be_bytes()[..]);
        batch.insert(META_CHECKPOINT, checkpoint.as_slice());
        // The projections, in the same atomic batch as the records.
        projections::page_out(
            &self.shared.db,
            &self.sealer,
            &mut self.pager,
            &mut self.auditor,
            &mut self.packer,
            &mut batch,
        )?;
        Ok((batch, overlay, checkpoint))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use forewarn_ledger::testkit::{START, registration};

    use forewarn_tlog::checkpoint::SignedCheckpoint;

    use super::*;
    use crate::StoreConfig;

    /// A commit that fails after its batch was applied and before its
    /// flush (steps 1–2 done, 3 failed): the state `commit_checked` leaves
    /// behind, made by hand. Nothing of it may be read, served or marked.
    #[test]
    fn a_failed_commit_is_never_read_served_or_marked() {
        let dir = tempfile::tempdir().unwrap();
        let config = StoreConfig {
            clock: Arc::new(|| START + 1_000_000),
            ..StoreConfig::default()
        };
        let mut store = Store::init(dir.path(), "example.org/ledger", &[7; 32], config).unwrap();
        let first = [registration("a"), registration("b")];
        assert!(store.append(&first).unwrap().iter().all(Result::is_ok));
        let reader = store.reader();
        let published = reader.state();
        // Step 1b and 2 of a commit of one more statement, without step 3.
        let failed = [registration("c")];
        let mode = store.config.audit.verify_mode;
        let checked = check_statements(&failed, mode, &mut store.caches);
        let c = checked.into_iter().next().unwrap();
        let signer = c.parsed.as_ref().unwrap().signer;
        projections::page_in(
            &store.shared.db,
            &store.sealer,
            &mut store.pager,
            &mut store.auditor,
            c.parsed.as_ref().unwrap(),
            &c.hash,
            c.signature_ok,
        )
        .unwrap();
        let record = store
            .auditor
            .append_parsed(
                &failed[0].bytes,
                c.parsed,
                c.hash,
                failed[0].signature,
                START + 1_000_000,
                c.signature_ok,
            )
            .unwrap();
        projections::note_appended(
            &mut store.pager,
            &store.auditor,
            signer,
            None,
            START + 1_000_000,
        );
        let (batch, _, _) = store.build_batch(2, 3, &[(2, record)]).unwrap();
        store.shared.db.apply_batch(batch).unwrap();
        store.poisoned = true;
        assert_eq!(store.auditor.size(), 3, "the in-memory state is ahead");

        // The store and its readers answer from the durable state only.
        assert_eq!(store.size(), 2);
        assert_eq!(*reader.state(), *published);
        assert_eq!(store.checkpoint(), &published.checkpoint[..]);
        assert_eq!(store.record(2).unwrap(), None);
        assert_eq!(reader.record(2).unwrap(), None);
        assert_eq!(store.records(0, 10).count(), 2);
        assert_eq!(reader.records(0, 10).count(), 2);
        assert!(store.receipt(2).unwrap().is_none());
        for r in [reader.entry_bundle(0, 3), reader.tile(0, 0, 3)] {
            assert!(matches!(r, Err(StoreError::OutOfRange { size: 2, .. })));
        }
        assert!(matches!(
            reader.inclusion_proof(2, 3),
            Err(StoreError::OutOfRange { .. })
        ));
        // The mark still names the durable checkpoint.
        let mark = std::fs::read(dir.path().join(crate::MARK_FILE)).unwrap();
        assert_eq!(mark, &published.checkpoint[..]);
        let vkey = store.vkey().clone();
        assert_eq!(
            SignedCheckpoint::open(&mark, &vkey, None, &[])
                .unwrap()
                .checkpoint
                .size(),
            2
        );
        // Writing and checking are refused until the store is reopened
        // (check would otherwise report damage that is not there).
        assert!(matches!(
            store.append(&[registration("d")]),
            Err(StoreError::Poisoned)
        ));
        assert!(matches!(store.check(), Err(StoreError::Poisoned)));
        assert!(matches!(store.rebuild(), Err(StoreError::Poisoned)));
        drop(reader);
        store.close().unwrap();
        // Reopened: the applied batch is durable or not (sled decides);
        // either way the store opens, checks clean, and the mark follows.
        let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
        assert!(store.size() == 2 || store.size() == 3);
        store.check().unwrap();
        let mark = std::fs::read(dir.path().join(crate::MARK_FILE)).unwrap();
        assert_eq!(mark, store.checkpoint());
    }
}
