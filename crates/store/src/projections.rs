//! The projections in keyed form (docs/FORMAT.md §20): what the auditor's
//! rules and the reports read, kept in sled so that a step loads only what
//! its statement touches, and a report only what it shows.
//!
//! | key | value |
//! |---|---|
//! | `m:hot` | [`HotState`]: chain position, counters, the digest of parties and keys |
//! | `p` ‖ party (u64 BE) | its [`PartyState`] |
//! | `k` ‖ key (32 bytes) | its [`KeyState`], without its uses |
//! | `x` ‖ case (16 bytes) | its [`CaseEntry`], in one zstd frame |
//! | `c` ‖ block (u64 BE) | the [`RecordFacts`] of records 256·block …, 98 bytes each (the last block grows in place) |
//! | `s` ‖ key (16 bytes) | the record holding the statement whose SHA-256 starts with it (u64 BE) |
//! | `z` ‖ record (u64 BE) ‖ field | a [`SealedState`] of a record without a case |
//! | `l` ‖ record (u64 BE) | a [`LateRecord`] without a case |
//! | `f` ‖ n (u64 BE) | the n-th [`Finding`] without a case |
//! | `q` ‖ party (u64 BE) ‖ opening record (u64 BE) | the case (16 bytes) whose `CaseOpened` that record is: the party appears in its report |
//! | `r` ‖ size (u64 BE) | the compact range of the tree at that size (every multiple of 256) |
//!
//! Every value ends in a 16-byte HMAC-SHA256 tag over its key and payload,
//! under a key derived from the log's signing key ([`Sealer`]): someone
//! who can write the database but does not hold `log.key` cannot make the
//! sequencer or a report use an edited value. (A genuine older value put
//! back in place of a newer one carries a valid tag; parties and keys are
//! bound to `m:hot` by their digest and `m:hot` to the signed checkpoint by
//! its size, and the rest is compared with a full replay by `check`. A
//! deletion carries no tag either: where a count in `m:hot`, the stored
//! size or a cited record's facts show what must exist, its absence is
//! damage; docs/FORMAT.md §20, "Seal", lists which.)
//!
//! They are written in the same atomic sled batch as the records they
//! derive from, so no reader ever sees records without their projections
//! or the reverse. The records stay the source of truth: `check` compares
//! every value here with a full replay, and `rebuild` rewrites them.

use std::collections::{BTreeMap, BTreeSet};

use forewarn_ledger::PartyId;
use forewarn_ledger::auditor::keyed::{CaseEntry, Counts, HotState, RecordFacts, WorkingSet};
use forewarn_ledger::auditor::{
    AuditConfig, AuditState, Auditor, CitationTable, KeyState, PartyState, RecentTree,
    SNAPSHOT_EVERY, STATE_VERSION, duplicate_key,
};
use forewarn_ledger::event::Event;
use forewarn_ledger::finding::Finding;
use forewarn_ledger::statement::Statement;
use forewarn_ledger::types::{CaseId, Millis, RecordRef};
use forewarn_tlog::compact::CompactRange;
use forewarn_tlog::hash::Hash;
use forewarn_tlog::note::SignerKey;
use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::error::{Corruption, Place, StoreError};
use crate::layout::{BUNDLE, Packer, tile_key};

/// Largest unpacked case entry (a case with hundreds of thousands of
/// notices still fits).
const MAX_CASE_ENTRY: usize = 256 << 20;

type HmacSha256 = hmac::Hmac<Sha256>;

/// `m:hot`.
pub(crate) const HOT: &[u8] = b"m:hot";
/// Bytes of the tag at the end of every value.
const TAG: usize = 16;
/// The prefixes of the keyed projections (for scans, `check` and `rebuild`).
pub(crate) const PREFIXES: [u8; 10] = *b"pkxcszlfqr";

/// Seals and opens projection values with a MAC key derived from the log's
/// signing key: HMAC-SHA256(seed, "forewarn/projection-mac/v1").
#[derive(Clone)]
pub(crate) struct Sealer {
    mac: HmacSha256,
}

impl Sealer {
    pub(crate) fn new(key: &SignerKey) -> Sealer {
        let seed = zeroize::Zeroizing::new(key.ed25519().to_bytes());
        let mut kdf = <HmacSha256 as KeyInit>::new_from_slice(&seed[..]).expect("any key length");
        kdf.update(b"forewarn/projection-mac/v1");
        let derived: zeroize::Zeroizing<[u8; 32]> =
            zeroize::Zeroizing::new(kdf.finalize().into_bytes().into());
        Sealer {
            mac: <HmacSha256 as KeyInit>::new_from_slice(&derived[..]).expect("any key length"),
        }
    }

    fn tag(&self, key: &[u8], payload: &[u8]) -> [u8; TAG] {
        let mut m = self.mac.clone();
        m.update(&(key.len() as u32).to_be_bytes());
        m.update(key);
        m.update(payload);
        let full = m.finalize().into_bytes();
        full[..TAG].try_into().expect("16 bytes")
    }

    /// `payload ‖ tag`.
    pub(crate) fn seal(&self, key: &[u8], mut payload: Vec<u8>) -> Vec<u8> {
        let tag = self.tag(key, &payload);
        payload.extend_from_slice(&tag);
        payload
    }

    /// The payload of a stored value, if its tag is right.
    pub(crate) fn open<'v>(&self, key: &[u8], value: &'v [u8]) -> Result<&'v [u8], StoreError> {
        let bad = || StoreError::corrupt(Corruption::BadProjectionTag, place_of(key));
        if value.len() < TAG {
            return Err(bad());
        }
        let (payload, tag) = value.split_at(value.len() - TAG);
        let mut m = self.mac.clone();
        m.update(&(key.len() as u32).to_be_bytes());
        m.update(key);
        m.update(payload);
        // Constant-time comparison of the truncated tag.
        m.verify_truncated_left(tag).map_err(|_| bad())?;
        Ok(payload)
    }
}

/// Where a projection key points, for errors.
pub(crate) fn place_of(key: &[u8]) -> Place {
    Place::Projection {
        key: crate::error::shown_key(key),
    }
}

fn key1(prefix: u8, rest: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + rest.len());
    k.push(prefix);
    k.extend_from_slice(rest);
    k
}

pub(crate) fn party_key(p: PartyId) -> Vec<u8> {
    key1(b'p', &p.0.to_be_bytes())
}
pub(crate) fn key_key(k: &forewarn_ledger::PublicKey) -> Vec<u8> {
    key1(b'k', &k.0)
}
pub(crate) fn case_key(c: &CaseId) -> Vec<u8> {
    key1(b'x', &c.0)
}
pub(crate) fn facts_key(block: u64) -> Vec<u8> {
    key1(b'c', &block.to_be_bytes())
}
fn statement_key(k: u128) -> Vec<u8> {
    key1(b's', &k.to_be_bytes())
}
fn sealed_key(r: RecordRef, field: u8) -> Vec<u8> {
    let mut k = key1(b'z', &r.0.to_be_bytes());
    k.push(field);
    k
}
fn late_key(r: RecordRef) -> Vec<u8> {
    key1(b'l', &r.0.to_be_bytes())
}
fn finding_key(n: u64) -> Vec<u8> {
    key1(b'f', &n.to_be_bytes())
}
/// `q` ‖ party ‖ the case's `CaseOpened` record: a party's cases are
/// keyed in log order, so new ones go to the end of its range.
fn party_case_key(p: PartyId, opened: RecordRef) -> Vec<u8> {
    let mut k = key1(b'q', &p.0.to_be_bytes());
    k.extend_from_slice(&opened.0.to_be_bytes());
    k
}
fn range_key(size: u64) -> Vec<u8> {
    key1(b'r', &size.to_be_bytes())
}

use forewarn_ledger::auditor::keyed::{decode_value, encode_value as encode_versioned};

fn decode_versioned<T: forewarn_ledger::auditor::keyed::Value>(
    key: &[u8],
    payload: &[u8],
) -> Result<T, StoreError> {
    decode_value(payload).map_err(|_| StoreError::corrupt(Corruption::Malformed, place_of(key)))
}

/// A sled value's payload, after its tag.
fn get_open(db: &sled::Db, sealer: &Sealer, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
    match db.get(key)? {
        None => Ok(None),
        Some(v) => Ok(Some(sealer.open(key, &v)?.to_vec())),
    }
}

/// SHA-256 over every party and key value, in key order (parties first):
/// what `m:hot` binds them by.
pub(crate) fn parties_digest(state: &AuditState) -> [u8; 32] {
    let mut h = Sha256::new();
    for (id, p) in &state.parties {
        let k = party_key(*id);
        let v = encode_versioned(p);
        h.update((k.len() as u32).to_be_bytes());
        h.update(&k);
        h.update((v.len() as u64).to_be_bytes());
        h.update(&v);
    }
    for (key, s) in &state.keys {
        let k = key_key(key);
        let v = encode_versioned(&without_uses(s));
        h.update((k.len() as u32).to_be_bytes());
        h.update(&k);
        h.update((v.len() as u64).to_be_bytes());
        h.update(&v);
    }
    h.finalize().into()
}

fn without_uses(k: &KeyState) -> KeyState {
    KeyState {
        uses: Vec::new(),
        ..k.clone()
    }
}

/// What was loaded of one case entry, kept beside the working set until
/// the entry is written back.
#[derive(Clone, Debug, Default)]
struct Loaded {
    late: Vec<forewarn_ledger::auditor::LateRecord>,
    findings: Vec<Finding>,
    counts: Counts,
    parties: BTreeSet<PartyId>,
}

/// The store's side of the working set: what is on disk, what was loaded,
/// and the facts of the records appended since the last write-back.
#[derive(Clone, Debug)]
pub(crate) struct Pager {
    /// Records whose projections are on disk.
    pub(crate) base: u64,
    counts: Counts,
    loose_findings: u64,
    digest: [u8; 32],
    loaded: BTreeMap<CaseId, Loaded>,
    absent: BTreeSet<CaseId>,
    uses_from: BTreeMap<PartyId, Millis>,
    /// Parties whose party or key values a statement of the batch changed.
    touched: BTreeSet<PartyId>,
    /// Facts of records `base..`.
    facts: Vec<RecordFacts>,
    /// Full facts blocks already read and verified (they never change):
    /// citations cluster on a few records, such as party registrations.
    blocks: crate::HashMap<u64, std::sync::Arc<[u8]>>,
}

/// Full facts blocks a [`Pager`] keeps (about 25 KiB each).
const CACHED_BLOCKS: usize = 256;

impl Pager {
    /// The facts of record `i` (below `base`), from the cache for a full
    /// block.
    fn facts_of(
        &mut self,
        db: &sled::Db,
        sealer: &Sealer,
        i: u64,
    ) -> Result<RecordFacts, StoreError> {
        let b = i / BUNDLE;
        let bad = || StoreError::corrupt(Corruption::Malformed, place_of(&facts_key(b)));
        let at = (i % BUNDLE) as usize * RecordFacts::LEN;
        if b >= self.base / BUNDLE {
            // The last block grows in place: read it each time.
            return read_block_exact(db, sealer, b, self.base)?
                .get(at..at + RecordFacts::LEN)
                .and_then(RecordFacts::decode)
                .ok_or_else(bad);
        }
        let block = match self.blocks.get(&b) {
            Some(block) => block.clone(),
            None => {
                let block: std::sync::Arc<[u8]> =
                    read_block_exact(db, sealer, b, self.base)?.into();
                if self.blocks.len() >= CACHED_BLOCKS {
                    self.blocks.clear();
                }
                self.blocks.insert(b, block.clone());
                block
            }
        };
        block
            .get(at..at + RecordFacts::LEN)
            .and_then(RecordFacts::decode)
            .ok_or_else(bad)
    }
}

impl Pager {
    fn new(hot: &HotState) -> Pager {
        Pager {
            base: hot.size,
            counts: hot.counts,
            loose_findings: hot.loose_findings,
            digest: hot.parties_digest,
            loaded: BTreeMap::new(),
            absent: BTreeSet::new(),
            uses_from: BTreeMap::new(),
            touched: BTreeSet::new(),
            facts: Vec::new(),
            blocks: Default::default(),
        }
    }

    /// The pager of an empty log.
    pub(crate) fn empty() -> Pager {
        Pager::new(&empty_hot(&AuditState::default()))
    }
}

fn empty_hot(state: &AuditState) -> HotState {
    HotState::of(state, Counts::default(), 0, parties_digest(state))
}

/// `m:hot` of a new, empty log.
pub(crate) fn initial_hot(sealer: &Sealer) -> Vec<u8> {
    sealer.seal(HOT, empty_hot(&AuditState::default()).to_bytes())
}

/// The facts of record `i` (< the on-disk size).
fn read_facts(db: &sled::Db, sealer: &Sealer, i: u64) -> Result<RecordFacts, StoreError> {
    let block = read_block(db, sealer, i / BUNDLE)?;
    let at = (i % BUNDLE) as usize * RecordFacts::LEN;
    block
        .get(at..at + RecordFacts::LEN)
        .and_then(RecordFacts::decode)
        .ok_or_else(|| StoreError::corrupt(Corruption::Malformed, place_of(&facts_key(i / BUNDLE))))
}

fn read_block(db: &sled::Db, sealer: &Sealer, block: u64) -> Result<Vec<u8>, StoreError> {
    let key = facts_key(block);
    let v = get_open(db, sealer, &key)?
        .ok_or_else(|| StoreError::corrupt(Corruption::Missing, place_of(&key)))?;
    if v.len() % RecordFacts::LEN != 0 || v.len() > BUNDLE as usize * RecordFacts::LEN {
        return Err(StoreError::corrupt(Corruption::Malformed, place_of(&key)));
    }
    Ok(v)
}

/// Facts block `block` of a log whose first `on_disk` records have their
/// facts stored: exactly the records of the block below `on_disk`. A
/// genuine older value of the last block (its tag fits) is shorter, and
/// would put the next records' facts in the wrong places.
fn read_block_exact(
    db: &sled::Db,
    sealer: &Sealer,
    block: u64,
    on_disk: u64,
) -> Result<Vec<u8>, StoreError> {
    let v = read_block(db, sealer, block)?;
    let records = on_disk.saturating_sub(block * BUNDLE).min(BUNDLE);
    if records == 0 || v.len() as u64 != records * RecordFacts::LEN as u64 {
        return Err(StoreError::corrupt(
            Corruption::Malformed,
            place_of(&facts_key(block)),
        ));
    }
    Ok(v)
}

fn read_case(db: &sled::Db, sealer: &Sealer, id: &CaseId) -> Result<Option<CaseEntry>, StoreError> {
    let key = case_key(id);
    let Some(payload) = get_open(db, sealer, &key)? else {
        return Ok(None);
    };
    let unpacked = crate::layout::unpack(&payload, MAX_CASE_ENTRY)
        .map_err(|p| StoreError::corrupt(Corruption::Frame(p), place_of(&key)))?;
    let entry = CaseEntry::from_bytes(&unpacked)
        .map_err(|_| StoreError::corrupt(Corruption::Malformed, place_of(&key)))?;
    if entry.id != *id {
        return Err(StoreError::corrupt(Corruption::Malformed, place_of(&key)));
    }
    Ok(Some(entry))
}

/// Loads the hot part of the state at open: `m:hot`, every party and key
/// (checked against the digest in `m:hot`), the recent leaves from the
/// level-0 hash tiles and the compact ranges kept every 256 records, from
/// which the tree is rebuilt. The caller compares its root with the
/// signed checkpoint's.
pub(crate) fn load_hot(
    db: &sled::Db,
    sealer: &Sealer,
    size: u64,
    config: &AuditConfig,
) -> Result<(Auditor, Pager), StoreError> {
    let hot_payload = get_open(db, sealer, HOT)?
        .ok_or_else(|| StoreError::corrupt(Corruption::Missing, place_of(HOT)))?;
    let hot = HotState::from_bytes(&hot_payload)
        .map_err(|_| StoreError::corrupt(Corruption::Malformed, place_of(HOT)))?;
    if hot.size != size {
        return Err(StoreError::corrupt(
            Corruption::SizeMismatch {
                checkpoint: size,
                stored: hot.size,
            },
            place_of(HOT),
        ));
    }
    let mut state = AuditState {
        version: STATE_VERSION,
        size,
        prev_leaf: hot.prev_leaf,
        last_logged_at: hot.last_logged_at,
        first_logged_at: hot.first_logged_at,
        origin: hot.origin.clone(),
        checkpoint: hot.checkpoint,
        kind_counts: hot.kind_counts.clone(),
        citable: CitationTable::on_disk(size),
        ..AuditState::default()
    };
    for item in db.scan_prefix([b'p']) {
        let (k, v) = item?;
        let payload = sealer.open(&k, &v)?;
        let id = k
            .get(1..9)
            .filter(|_| k.len() == 9)
            .map(|b| PartyId(u64::from_be_bytes(b.try_into().expect("8 bytes"))))
            .ok_or_else(|| StoreError::corrupt(Corruption::Malformed, place_of(&k)))?;
        state
            .parties
            .insert(id, decode_versioned::<PartyState>(&k, payload)?);
    }
    for item in db.scan_prefix([b'k']) {
        let (k, v) = item?;
        let payload = sealer.open(&k, &v)?;
        let key = k
            .get(1..33)
            .filter(|_| k.len() == 33)
            .map(|b| forewarn_ledger::PublicKey(b.try_into().expect("32 bytes")))
            .ok_or_else(|| StoreError::corrupt(Corruption::Malformed, place_of(&k)))?;
        state
            .keys
            .insert(key, decode_versioned::<KeyState>(&k, payload)?);
    }
    if parties_digest(&state) != hot.parties_digest {
        return Err(StoreError::corrupt(
            Corruption::PartiesDigest,
            place_of(HOT),
        ));
    }
    // The window of recent leaves, and the tree from its last kept range.
    let first = RecentTree::window_start(size);
    let leaves = leaves_in(db, first, size)?;
    let mut snapshots = Vec::new();
    let mut at = first;
    while at < size {
        let key = range_key(at);
        snapshots.push(
            get_open(db, sealer, &key)?
                .ok_or_else(|| StoreError::corrupt(Corruption::Missing, place_of(&key)))?,
        );
        at += SNAPSHOT_EVERY;
    }
    // Tiles carry no tag, and the root checked against the signed
    // checkpoint covers only the leaves after the last kept range: the
    // leaves before it must lead from each kept range to the next, or the
    // recent roots (`seen` checks, docs/FORMAT.md §16) would come from
    // edited leaves.
    for (i, pair) in snapshots.windows(2).enumerate() {
        let from = first + i as u64 * SNAPSHOT_EVERY;
        let mut t = CompactRange::from_bytes(&pair[0])
            .ok()
            .filter(|t| t.size() == from)
            .ok_or_else(|| {
                StoreError::corrupt(Corruption::Malformed, place_of(&range_key(from)))
            })?;
        let at = (from - first) as usize;
        for l in &leaves[at..at + SNAPSHOT_EVERY as usize] {
            t.push(*l);
        }
        if t.to_bytes() != pair[1] {
            return Err(StoreError::corrupt(
                Corruption::TileDiffers,
                Place::Tile {
                    level: 0,
                    index: from / BUNDLE,
                },
            ));
        }
    }
    let tree = match snapshots.last() {
        None => CompactRange::new(),
        Some(last) => {
            let from = first + (snapshots.len() as u64 - 1) * SNAPSHOT_EVERY;
            let mut t = CompactRange::from_bytes(last).map_err(|_| {
                StoreError::corrupt(Corruption::Malformed, place_of(&range_key(from)))
            })?;
            if t.size() != from {
                return Err(StoreError::corrupt(
                    Corruption::Malformed,
                    place_of(&range_key(from)),
                ));
            }
            for l in &leaves[(from - first) as usize..] {
                t.push(*l);
            }
            t
        }
    };
    state.tree = tree.to_bytes();
    state.recent = RecentTree::rebuild(size, leaves, snapshots)
        .ok_or_else(|| StoreError::corrupt(Corruption::Malformed, Place::Tiles))?;
    let auditor = Auditor::from_state(config.clone(), state)
        .map_err(|e| StoreError::corrupt(Corruption::Hot(e.to_string()), place_of(HOT)))?;
    Ok((auditor, Pager::new(&hot)))
}

/// Leaf hashes `from..to` from the level-0 hash tiles.
fn leaves_in(db: &sled::Db, from: u64, to: u64) -> Result<Vec<Hash>, StoreError> {
    let mut out = Vec::with_capacity((to - from) as usize);
    let mut i = from;
    while i < to {
        let n = i / BUNDLE;
        let at = Place::Tile { level: 0, index: n };
        let tile = db
            .get(tile_key(0, n))?
            .ok_or_else(|| StoreError::corrupt(Corruption::Missing, at.clone()))?;
        let end = to.min((n + 1) * BUNDLE);
        for j in i..end {
            let o = (j % BUNDLE) as usize * 32;
            let h = tile.get(o..o + 32).ok_or_else(|| {
                StoreError::corrupt(
                    Corruption::ShortTile {
                        got: tile.len(),
                        want: o + 32,
                    },
                    at.clone(),
                )
            })?;
            out.push(Hash(h.try_into().expect("32 bytes")));
        }
        i = end;
    }
    Ok(out)
}

/// Loads into the working set everything the rules read for `statement`
/// (see [`Auditor::working_set`]): its duplicate entry, the facts of the
/// records it cites, the entries of the cases it names or reaches through
/// them, a sealed field without a case it opens, and for a revocation the
/// uses of the party's keys.
///
/// A statement whose signature did not verify is refused before any rule
/// reads the state (§16 step 8 comes before step 9), so for it only the
/// duplicate entry is loaded; nor are a revocation's uses loaded unless its
/// signing key belongs to the revoked key's party (else it is refused
/// before they are read). Anyone can send such statements, and each would
/// otherwise read every record logged since its `effective_at`.
pub(crate) fn page_in(
    db: &sled::Db,
    sealer: &Sealer,
    pager: &mut Pager,
    auditor: &mut Auditor,
    statement: &Statement,
    hash: &[u8; 32],
    signature_ok: bool,
) -> Result<(), StoreError> {
    let size = auditor.size();
    let base = pager.base;
    let state = auditor.working_set();
    let dk = duplicate_key(hash);
    if !state.statements.contains_key(&dk)
        && let Some(v) = get_open(db, sealer, &statement_key(dk))?
    {
        let r: [u8; 8] = v.as_slice().try_into().map_err(|_| {
            StoreError::corrupt(Corruption::Malformed, place_of(&statement_key(dk)))
        })?;
        state
            .statements
            .insert(dk, RecordRef(u64::from_be_bytes(r)));
    }
    if !signature_ok {
        return Ok(());
    }
    let mut cases: BTreeSet<CaseId> = statement.event.case().into_iter().collect();
    // Cases named by the facts of cited records: every accepted record
    // that names a case left that case's entry behind (CaseOpened made it,
    // every other event needed it), so a missing one was removed.
    let mut cited: BTreeSet<CaseId> = BTreeSet::new();
    let mut held = Vec::new();
    for c in statement.event.cites() {
        let i = c.record.0;
        if i >= size {
            continue;
        }
        let facts = if i >= base {
            pager.facts[(i - base) as usize]
        } else {
            let f = pager.facts_of(db, sealer, i)?;
            state.citable.paged.entry(i).or_insert_with(|| f.citable());
            f
        };
        match facts.case {
            Some(case) => {
                cases.insert(case);
                cited.insert(case);
                held.push((case, facts.event, c.record));
            }
            None => {
                if let Event::Opening { field, .. } = &statement.event
                    && i < base
                    && !state.sealed.contains_key(&(c.record, *field))
                {
                    let key = sealed_key(c.record, *field);
                    if let Some(p) = get_open(db, sealer, &key)? {
                        state
                            .sealed
                            .insert((c.record, *field), decode_versioned(&key, &p)?);
                    }
                }
            }
        }
    }
    let removed = |id: &CaseId| StoreError::corrupt(Corruption::Missing, place_of(&case_key(id)));
    for id in cases {
        if state.cases.contains_key(&id) {
            continue;
        }
        if pager.absent.contains(&id) {
            if cited.contains(&id) {
                return Err(removed(&id));
            }
            continue;
        }
        match read_case(db, sealer, &id)? {
            None if cited.contains(&id) => return Err(removed(&id)),
            None => {
                pager.absent.insert(id);
            }
            Some(entry) => {
                entry.load_into(state);
                pager.loaded.insert(
                    id,
                    Loaded {
                        counts: Counts::of(&entry),
                        parties: entry.parties(),
                        late: entry.late,
                        findings: entry.findings,
                    },
                );
            }
        }
    }
    // A cited `Notified` (tag 6) or `EmbargoProposed` (tag 8) left its
    // notice or embargo in its case's entry; one missing there means the
    // entry was put back from before it (a genuine older value).
    for (case, event, r) in held {
        let missing = match event {
            6 => !state.notices.contains_key(&r),
            8 => !state.embargoes.contains_key(&r),
            _ => false,
        };
        if missing {
            return Err(StoreError::corrupt(
                Corruption::Missing,
                place_of(&case_key(&case)),
            ));
        }
    }
    if let Event::KeyRevoked { key, effective_at } = &statement.event
        && let Some(party) = state.keys.get(key).map(|k| k.party)
        && state.keys.get(&statement.signer).map(|k| k.party) == Some(party)
    {
        load_uses(db, sealer, pager, state, party, *effective_at)?;
    }
    match &statement.event {
        Event::PartyRegistered { .. } => {
            pager.touched.insert(PartyId(size));
        }
        Event::KeyAdded { party, .. } => {
            pager.touched.insert(party.party());
        }
        Event::KeyRevoked { key, .. } => {
            if let Some(k) = state.keys.get(key) {
                pager.touched.insert(k.party);
            }
        }
        _ => {}
    }
    Ok(())
}

/// The uses of every key of `party` logged from `from` on, from the facts
/// on disk (log times only grow, so they are a suffix of the log), ahead of
/// those the working set already holds; and the facts of those records
/// (a revocation looks at what each one was).
fn load_uses(
    db: &sled::Db,
    sealer: &Sealer,
    pager: &mut Pager,
    state: &mut AuditState,
    party: PartyId,
    from: Millis,
) -> Result<(), StoreError> {
    if pager.uses_from.get(&party).is_some_and(|t| *t <= from) {
        return Ok(());
    }
    let base = pager.base;
    // First block holding a record logged at or after `from`.
    let blocks = base.div_ceil(BUNDLE);
    let (mut lo, mut hi) = (0u64, blocks);
    while lo < hi {
        let mid = (lo + hi) / 2;
        let block = read_block_exact(db, sealer, mid, base)?;
        let last = RecordFacts::decode(&block[block.len() - RecordFacts::LEN..])
            .ok_or_else(|| StoreError::corrupt(Corruption::Malformed, place_of(&facts_key(mid))))?;
        if last.logged_at < from {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let mut found: BTreeMap<forewarn_ledger::PublicKey, Vec<(RecordRef, Millis)>> = BTreeMap::new();
    for b in lo..blocks {
        let block = read_block_exact(db, sealer, b, base)?;
        for (j, raw) in block.chunks(RecordFacts::LEN).enumerate() {
            let i = b * BUNDLE + j as u64;
            if i >= base {
                break;
            }
            let f = RecordFacts::decode(raw).ok_or_else(|| {
                StoreError::corrupt(Corruption::Malformed, place_of(&facts_key(b)))
            })?;
            if f.party == party && f.logged_at >= from {
                found
                    .entry(f.key)
                    .or_default()
                    .push((RecordRef(i), f.logged_at));
                state.citable.paged.entry(i).or_insert_with(|| f.citable());
            }
        }
    }
    let keys: Vec<forewarn_ledger::PublicKey> = state
        .parties
        .get(&party)
        .map(|p| p.keys.clone())
        .unwrap_or_default();
    for key in keys {
        if let Some(k) = state.keys.get_mut(&key) {
            let newer: Vec<(RecordRef, Millis)> = k
                .uses
                .iter()
                .filter(|(r, _)| r.0 >= base)
                .copied()
                .collect();
            let mut uses = found.remove(&key).unwrap_or_default();
            uses.extend(newer);
            k.uses = uses;
        }
    }
    pager.uses_from.insert(party, from);
    Ok(())
}

/// Notes the facts of the record just appended (index `pager.base +
/// pager.facts.len()`), signed by `key`, about `case` (the case its event
/// names directly).
pub(crate) fn note_appended(
    pager: &mut Pager,
    auditor: &Auditor,
    key: forewarn_ledger::PublicKey,
    case: Option<CaseId>,
    logged_at: Millis,
) {
    let i = pager.base + pager.facts.len() as u64;
    let c = *auditor
        .state()
        .citable
        .get(i as usize)
        .expect("the record was just appended");
    pager.facts.push(RecordFacts {
        leaf: c.leaf,
        key,
        logged_at,
        party: c.signer,
        event: c.event,
        case,
    });
}

/// The keyed values of a drained working set: `(key, payload)` pairs,
/// before sealing. `old` holds what was loaded of each case entry; `pager`
/// carries the counters and the facts of the new records.
struct Values {
    out: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Values {
    fn put(&mut self, key: Vec<u8>, payload: Vec<u8>) {
        self.out.push((key, payload));
    }
}

/// Writes the working set back into `batch`, sealed, and empties it:
/// called once per commit, after validation, so the projections land in
/// the same atomic batch as the records.
pub(crate) fn page_out(
    db: &sled::Db,
    sealer: &Sealer,
    pager: &mut Pager,
    auditor: &mut Auditor,
    packer: &mut Packer,
    batch: &mut sled::Batch,
) -> Result<(), StoreError> {
    let base = pager.base;
    let size = auditor.size();
    let ws = WorkingSet::drain(auditor.working_set(), base);
    let mut values = Values { out: Vec::new() };
    // Findings about a case the set does not hold go to that case's entry.
    let mut orphans: BTreeMap<CaseId, Vec<Finding>> = BTreeMap::new();
    let mut loose = Vec::new();
    for f in ws.loose_findings {
        match f.case {
            Some(c) => orphans.entry(c).or_default().push(f),
            None => loose.push(f),
        }
    }
    let mut cases = ws.cases;
    for (id, found) in orphans {
        if let Some(e) = cases.get_mut(&id) {
            e.findings.extend(found);
            continue;
        }
        match read_case(db, sealer, &id)? {
            Some(mut e) => {
                pager.loaded.insert(
                    id,
                    Loaded {
                        counts: Counts::of(&e),
                        parties: e.parties(),
                        late: core::mem::take(&mut e.late),
                        findings: core::mem::take(&mut e.findings),
                    },
                );
                e.findings = found;
                cases.insert(id, e);
            }
            // A finding about a case that was never opened: kept loose.
            None => loose.extend(found),
        }
    }
    for (id, mut entry) in cases {
        let old = pager.loaded.remove(&id).unwrap_or_default();
        let mut late = old.late;
        late.append(&mut entry.late);
        entry.late = late;
        let mut findings = old.findings;
        findings.append(&mut entry.findings);
        entry.findings = findings;
        pager.counts = pager.counts.changed(Counts::of(&entry), old.counts);
        for p in entry.parties().difference(&old.parties) {
            values.put(party_case_key(*p, entry.case.opened), id.0.to_vec());
        }
        values.put(case_key(&id), packer.pack(&entry.to_bytes())?);
    }
    for ((r, field), s) in ws.loose_sealed {
        values.put(sealed_key(r, field), encode_versioned(&s));
    }
    for l in ws.loose_late {
        values.put(late_key(l.record), encode_versioned(&l));
    }
    for f in loose {
        values.put(finding_key(pager.loose_findings), encode_versioned(&f));
        pager.loose_findings += 1;
    }
    for (k, r) in ws.statements {
        values.put(statement_key(k), r.0.to_be_bytes().to_vec());
    }
    // Facts: the blocks from the one holding `base` on.
    debug_assert_eq!(pager.facts.len() as u64, size - base);
    debug_assert_eq!(ws.citable.len() as u64, size - base);
    if size > base {
        let first = base / BUNDLE;
        let mut block = if base.is_multiple_of(BUNDLE) {
            Vec::new()
        } else {
            read_block_exact(db, sealer, first, base)?
        };
        block.truncate((base % BUNDLE) as usize * RecordFacts::LEN);
        let mut n = first;
        for f in &pager.facts {
            f.encode(&mut block);
            if block.len() == BUNDLE as usize * RecordFacts::LEN {
                values.put(facts_key(n), core::mem::take(&mut block));
                n += 1;
            }
        }
        if !block.is_empty() {
            values.put(facts_key(n), block);
        }
    }
    // Compact ranges at every multiple of 256 the batch passed.
    let state = auditor.state();
    let mut m = base.div_ceil(SNAPSHOT_EVERY) * SNAPSHOT_EVERY;
    while m < size {
        let i = ((m - state.recent.first) / SNAPSHOT_EVERY) as usize;
        let range =
            state.recent.snapshots.get(i).cloned().ok_or_else(|| {
                StoreError::corrupt(Corruption::Malformed, place_of(&range_key(m)))
            })?;
        values.put(range_key(m), range);
        m += SNAPSHOT_EVERY;
    }
    if !pager.touched.is_empty() {
        for p in &pager.touched {
            if let Some(party) = state.parties.get(p) {
                values.put(party_key(*p), encode_versioned(party));
                for key in &party.keys {
                    if let Some(k) = state.keys.get(key) {
                        values.put(key_key(key), encode_versioned(&without_uses(k)));
                    }
                }
            }
        }
        pager.digest = parties_digest(state);
    }
    let hot = HotState::of(state, pager.counts, pager.loose_findings, pager.digest);
    values.put(HOT.to_vec(), hot.to_bytes());
    for (k, v) in values.out {
        let sealed = sealer.seal(&k, v);
        batch.insert(k, sealed);
    }
    pager.base = size;
    pager.facts.clear();
    pager.loaded.clear();
    pager.absent.clear();
    pager.uses_from.clear();
    pager.touched.clear();
    Ok(())
}

/// Empties the working set without writing anything back: for a commit
/// that accepted no statement (the rules change nothing before they
/// accept, so what was loaded is unchanged).
pub(crate) fn discard(pager: &mut Pager, auditor: &mut Auditor) {
    debug_assert!(pager.facts.is_empty(), "nothing was appended");
    WorkingSet::drain(auditor.working_set(), pager.base);
    pager.loaded.clear();
    pager.absent.clear();
    pager.uses_from.clear();
    pager.touched.clear();
}

/// Every keyed value (payload, before sealing) a full state implies:
/// what the projections of a log must be, for `check` and `rebuild`.
/// `facts` are the records' facts in order and `ranges` the compact ranges
/// at every multiple of 256 below the size.
pub(crate) fn expected_values(
    mut state: AuditState,
    facts: &[RecordFacts],
    ranges: &[Vec<u8>],
) -> Result<BTreeMap<Vec<u8>, Vec<u8>>, StoreError> {
    let mut packer = Packer::new()?;
    let size = state.size;
    let ws = WorkingSet::drain(&mut state, 0);
    let mut out = BTreeMap::new();
    let mut counts = Counts::default();
    let mut loose = Vec::new();
    let mut cases = ws.cases;
    for f in ws.loose_findings {
        match f.case.and_then(|c| cases.get_mut(&c)) {
            Some(e) => e.findings.push(f),
            None => loose.push(f),
        }
    }
    for (id, entry) in cases {
        counts = counts.changed(Counts::of(&entry), Counts::default());
        for p in entry.parties() {
            out.insert(party_case_key(p, entry.case.opened), id.0.to_vec());
        }
        out.insert(case_key(&id), packer.pack(&entry.to_bytes())?);
    }
    for ((r, field), s) in ws.loose_sealed {
        out.insert(sealed_key(r, field), encode_versioned(&s));
    }
    for l in ws.loose_late {
        out.insert(late_key(l.record), encode_versioned(&l));
    }
    let n = loose.len() as u64;
    for (i, f) in loose.into_iter().enumerate() {
        out.insert(finding_key(i as u64), encode_versioned(&f));
    }
    for (k, r) in ws.statements {
        out.insert(statement_key(k), r.0.to_be_bytes().to_vec());
    }
    for (b, chunk) in facts.chunks(BUNDLE as usize).enumerate() {
        let mut block = Vec::with_capacity(chunk.len() * RecordFacts::LEN);
        for f in chunk {
            f.encode(&mut block);
        }
        out.insert(facts_key(b as u64), block);
    }
    for (i, r) in ranges.iter().enumerate() {
        out.insert(range_key(i as u64 * SNAPSHOT_EVERY), r.clone());
    }
    for (id, p) in &state.parties {
        out.insert(party_key(*id), encode_versioned(p));
    }
    for (key, k) in &state.keys {
        out.insert(key_key(key), encode_versioned(&without_uses(k)));
    }
    debug_assert_eq!(state.size, size);
    let hot = HotState::of(&state, counts, n, parties_digest(&state));
    out.insert(HOT.to_vec(), hot.to_bytes());
    Ok(out)
}

/// The first difference between the stored projections and `expected`:
/// a value missing, extra, altered or badly tagged.
pub(crate) fn compare(
    db: &sled::Db,
    sealer: &Sealer,
    expected: &BTreeMap<Vec<u8>, Vec<u8>>,
) -> Result<(), StoreError> {
    let differs = |k: &[u8]| StoreError::corrupt(Corruption::ProjectionDiffers, place_of(k));
    let mut seen = 0usize;
    for prefix in PREFIXES {
        for item in db.scan_prefix([prefix]) {
            let (k, v) = item?;
            let payload = sealer.open(&k, &v)?;
            match expected.get(k.as_ref()) {
                Some(want) if want.as_slice() == payload => seen += 1,
                _ => return Err(differs(&k)),
            }
        }
    }
    let hot = db
        .get(HOT)?
        .ok_or_else(|| StoreError::corrupt(Corruption::Missing, place_of(HOT)))?;
    if expected.get(HOT).map(Vec::as_slice) != Some(sealer.open(HOT, &hot)?) {
        return Err(differs(HOT));
    }
    seen += 1;
    if seen != expected.len() {
        // Something expected is not stored: name the first one.
        let missing = expected
            .keys()
            .find(|k| db.get(k).ok().flatten().is_none())
            .cloned()
            .unwrap_or_default();
        return Err(StoreError::corrupt(Corruption::Missing, place_of(&missing)));
    }
    Ok(())
}

/// Replaces every stored projection with `expected`, in one batch.
pub(crate) fn rewrite(
    db: &sled::Db,
    sealer: &Sealer,
    expected: BTreeMap<Vec<u8>, Vec<u8>>,
) -> Result<(), StoreError> {
    let mut b = sled::Batch::default();
    for prefix in PREFIXES {
        for item in db.scan_prefix([prefix]) {
            b.remove(item?.0);
        }
    }
    for (k, v) in expected {
        let sealed = sealer.seal(&k, v);
        b.insert(k, sealed);
    }
    db.apply_batch(b)?;
    db.flush()?;
    Ok(())
}

/// A state holding parties, keys, the chain counters and the listed cases
/// (with their late records and findings), plus every loose sealed field,
/// late record and finding: what report building needs for those cases.
pub(crate) fn state_with(
    db: &sled::Db,
    sealer: &Sealer,
    hot_state: &AuditState,
    cases: &[CaseId],
) -> Result<AuditState, StoreError> {
    let mut state = AuditState {
        parties: hot_state.parties.clone(),
        keys: hot_state.keys.clone(),
        size: hot_state.size,
        prev_leaf: hot_state.prev_leaf,
        last_logged_at: hot_state.last_logged_at,
        first_logged_at: hot_state.first_logged_at,
        origin: hot_state.origin.clone(),
        checkpoint: hot_state.checkpoint,
        kind_counts: hot_state.kind_counts.clone(),
        citable: CitationTable::on_disk(hot_state.size),
        ..AuditState::default()
    };
    for id in cases {
        if let Some(e) = read_case(db, sealer, id)? {
            e.load_into(&mut state);
            state.late.extend(e.late);
            state.findings.extend(e.findings);
        }
    }
    for item in db.scan_prefix([b'z']) {
        let (k, v) = item?;
        let s = decode_versioned(&k, sealer.open(&k, &v)?)?;
        let r = RecordRef(u64::from_be_bytes(k[1..9].try_into().expect("8 bytes")));
        state.sealed.insert((r, k[9]), s);
    }
    for item in db.scan_prefix([b'l']) {
        let (k, v) = item?;
        state.late.push(decode_versioned(&k, sealer.open(&k, &v)?)?);
    }
    // Findings without a case are numbered from 0 and never removed: one
    // missing from the count `m:hot` holds was deleted (a deletion carries
    // no tag to check).
    let stored = read_hot(db, sealer)?.loose_findings;
    let mut next = 0u64;
    for item in db.scan_prefix([b'f']) {
        let (k, v) = item?;
        if next < stored && k != finding_key(next) {
            break;
        }
        state
            .findings
            .push(decode_versioned(&k, sealer.open(&k, &v)?)?);
        next += 1;
    }
    if next < stored {
        return Err(StoreError::corrupt(
            Corruption::Missing,
            place_of(&finding_key(next)),
        ));
    }
    state.late.sort_by_key(|l| l.record);
    Ok(state)
}

/// `m:hot`, checked.
fn read_hot(db: &sled::Db, sealer: &Sealer) -> Result<HotState, StoreError> {
    let payload = get_open(db, sealer, HOT)?
        .ok_or_else(|| StoreError::corrupt(Corruption::Missing, place_of(HOT)))?;
    HotState::from_bytes(&payload)
        .map_err(|_| StoreError::corrupt(Corruption::Malformed, place_of(HOT)))
}

/// Every case with a stored entry, in key order: as many as `m:hot`
/// counts (entries are never removed, so one fewer was deleted).
pub(crate) fn all_cases(db: &sled::Db, sealer: &Sealer) -> Result<Vec<CaseId>, StoreError> {
    let mut out = Vec::new();
    for item in db.scan_prefix([b'x']) {
        let (k, _) = item?;
        let id: [u8; 16] = k[1..]
            .try_into()
            .map_err(|_| StoreError::corrupt(Corruption::Malformed, place_of(&k)))?;
        out.push(CaseId(id));
    }
    if out.len() as u64 != read_hot(db, sealer)?.counts.cases {
        return Err(StoreError::corrupt(Corruption::Missing, place_of(b"x")));
    }
    Ok(out)
}

/// The cases whose reports name `party`.
pub(crate) fn cases_of_party(
    db: &sled::Db,
    sealer: &Sealer,
    party: PartyId,
) -> Result<Vec<CaseId>, StoreError> {
    let mut out = Vec::new();
    for item in db.scan_prefix(key1(b'q', &party.0.to_be_bytes())) {
        let (k, v) = item?;
        let id: [u8; 16] = sealer
            .open(&k, &v)?
            .try_into()
            .map_err(|_| StoreError::corrupt(Corruption::Malformed, place_of(&k)))?;
        out.push(CaseId(id));
    }
    Ok(out)
}

/// The record holding exactly these statement bytes, by the duplicate
/// index (a 128-bit prefix of their SHA-256, as the auditor keys it).
pub(crate) fn find_statement(
    db: &sled::Db,
    sealer: &Sealer,
    statement: &[u8],
) -> Result<Option<u64>, StoreError> {
    let hash: [u8; 32] = Sha256::digest(statement).into();
    let key = statement_key(duplicate_key(&hash));
    match get_open(db, sealer, &key)? {
        None => Ok(None),
        Some(v) => v
            .as_slice()
            .try_into()
            .map(|b| Some(u64::from_be_bytes(b)))
            .map_err(|_| StoreError::corrupt(Corruption::Malformed, place_of(&key))),
    }
}

/// The sealed fields of `record` (from its case's entry, or loose).
pub(crate) fn sealed_of(
    db: &sled::Db,
    sealer: &Sealer,
    size: u64,
    record: u64,
) -> Result<BTreeMap<u8, forewarn_ledger::auditor::SealedState>, StoreError> {
    let mut out = BTreeMap::new();
    if record >= size {
        return Ok(out);
    }
    let facts = read_facts(db, sealer, record)?;
    match facts.case {
        Some(c) => {
            // A record naming a case left its entry behind (see `page_in`).
            let e = read_case(db, sealer, &c)?
                .ok_or_else(|| StoreError::corrupt(Corruption::Missing, place_of(&case_key(&c))))?;
            for ((r, f), s) in e.sealed {
                if r.0 == record {
                    out.insert(f, s);
                }
            }
        }
        None => {
            for item in db.scan_prefix(key1(b'z', &record.to_be_bytes())) {
                let (k, v) = item?;
                out.insert(k[9], decode_versioned(&k, sealer.open(&k, &v)?)?);
            }
        }
    }
    Ok(out)
}
