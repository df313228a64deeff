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
//!
//! | module | job |
//! |---|---|
//! | this one | keys, the seal, reading and checking single values |
//! | `load` | what opening a store loads |
//! | `page` | the working set: loading before a statement, writing back after a commit |
//! | `expect` | the values a full replay implies; comparing and rewriting them |
//! | `read` | reads for reports and steps |

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

    /// The MAC state over `u32 length of key ‖ key ‖ payload`.
    fn mac_of(&self, key: &[u8], payload: &[u8]) -> HmacSha256 {
        let mut m = self.mac.clone();
        m.update(&(key.len() as u32).to_be_bytes());
        m.update(key);
        m.update(payload);
        m
    }

    fn tag(&self, key: &[u8], payload: &[u8]) -> [u8; TAG] {
        let full = self.mac_of(key, payload).finalize().into_bytes();
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
        // Constant-time comparison of the truncated tag.
        self.mac_of(key, payload)
            .verify_truncated_left(tag)
            .map_err(|_| bad())?;
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

/// `m:hot`, checked.
fn read_hot(db: &sled::Db, sealer: &Sealer) -> Result<HotState, StoreError> {
    let payload = get_open(db, sealer, HOT)?
        .ok_or_else(|| StoreError::corrupt(Corruption::Missing, place_of(HOT)))?;
    HotState::from_bytes(&payload)
        .map_err(|_| StoreError::corrupt(Corruption::Malformed, place_of(HOT)))
}

mod expect;
mod load;
mod page;
mod read;

pub(crate) use expect::{compare, expected_values, rewrite};
pub(crate) use load::load_hot;
pub(crate) use page::{Pager, discard, initial_hot, note_appended, page_in, page_out};
pub(crate) use read::{
    all_cases, cases_of_party, find_statement, load_case_part, sealed_of, state_with,
};
