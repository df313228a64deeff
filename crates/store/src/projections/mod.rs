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
//! | `s` ‖ generation (u64 BE) ‖ bucket (u16 BE) | the duplicate index: for each statement of records 2²²·generation … whose key (the first 16 bytes of its SHA-256) falls in the bucket (chosen by a MAC under a key derived from the log key, [`Sealer`]), the key and its record (24 bytes each, in record order; the bucket grows in place) |
//! | `z` ‖ record (u64 BE) ‖ field | a [`SealedState`] of a record without a case |
//! | `l` ‖ record (u64 BE) | a [`LateRecord`] without a case |
//! | `f` ‖ n (u64 BE) | the n-th [`Finding`] without a case |
//! | `q` ‖ party (u64 BE) ‖ chunk (u32 BE) | the party's cases: for each case whose report names the party, its `CaseOpened` record and id (24 bytes each), 64 to a chunk, new ones appended to the last chunk |
//! | `r` ‖ size (u64 BE) | the compact range of the tree at that size (every multiple of 256) |
//!
//! Why `s` and `q` are packed: sled 0.34 keeps a table of its pages
//! (leaves of at most 16 values) and rebuilds it at every open, so the cost
//! of opening grows with the number of values. One value per statement
//! and per party-case link made that cost grow with the log; packed, each
//! kind adds one value per 64 entries or fewer.
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
    /// Chooses a statement's duplicate bucket, so that nobody without the
    /// log key can aim statements at one bucket and make it grow.
    bucket: HmacSha256,
}

impl Sealer {
    pub(crate) fn new(key: &SignerKey) -> Sealer {
        let seed = zeroize::Zeroizing::new(key.ed25519().to_bytes());
        let mut kdf = <HmacSha256 as KeyInit>::new_from_slice(&seed[..]).expect("any key length");
        kdf.update(b"forewarn/projection-mac/v1");
        let derived: zeroize::Zeroizing<[u8; 32]> =
            zeroize::Zeroizing::new(kdf.finalize().into_bytes().into());
        let mut kdf = <HmacSha256 as KeyInit>::new_from_slice(&seed[..]).expect("any key length");
        kdf.update(b"forewarn/duplicate-bucket/v1");
        let bucket: zeroize::Zeroizing<[u8; 32]> =
            zeroize::Zeroizing::new(kdf.finalize().into_bytes().into());
        Sealer {
            mac: <HmacSha256 as KeyInit>::new_from_slice(&derived[..]).expect("any key length"),
            bucket: <HmacSha256 as KeyInit>::new_from_slice(&bucket[..]).expect("any key length"),
        }
    }

    /// The duplicate bucket of key `k`: the first 16 bits of
    /// HMAC-SHA256(bucket key, k).
    fn bucket_of(&self, k: u128) -> u16 {
        let mut m = self.bucket.clone();
        m.update(&k.to_be_bytes());
        let out = m.finalize().into_bytes();
        u16::from_be_bytes([out[0], out[1]])
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
/// Records per generation of the duplicate index: 2^22. With 2^16
/// buckets a full generation holds 64 entries (1.5 KiB) per bucket, and a
/// look-up reads one bucket per generation (3 at ten million records).
pub(crate) const DUP_GENERATION_BITS: u32 = 22;
/// Bytes of one duplicate-index entry: the key (16) and the record (u64).
const DUP_ENTRY: usize = 24;

/// The generation of the duplicate index that holds record `record`.
fn dup_generation(record: u64) -> u64 {
    record >> DUP_GENERATION_BITS
}

/// `s` ‖ generation ‖ bucket.
fn dup_bucket_key(generation: u64, bucket: u16) -> Vec<u8> {
    let mut key = key1(b's', &generation.to_be_bytes());
    key.extend_from_slice(&bucket.to_be_bytes());
    key
}

/// The entries of duplicate bucket `key` (payload after its tag): each
/// record lies in the bucket's generation, records ascend. Anything else
/// is damage. (Which bucket a key belongs in is not checked here, which
/// would cost a MAC per entry: the tag vouches for the payload, and
/// `check` compares it with a replay.)
fn dup_entries(key: &[u8], payload: &[u8]) -> Result<Vec<(u128, u64)>, StoreError> {
    let bad = || StoreError::corrupt(Corruption::Malformed, place_of(key));
    let generation = match key {
        [b's', g @ .., _, _] if g.len() == 8 => u64::from_be_bytes(g.try_into().expect("8 bytes")),
        _ => return Err(bad()),
    };
    if payload.is_empty() || !payload.len().is_multiple_of(DUP_ENTRY) {
        return Err(bad());
    }
    let mut out = Vec::with_capacity(payload.len() / DUP_ENTRY);
    for e in payload.chunks_exact(DUP_ENTRY) {
        let k = u128::from_be_bytes(e[..16].try_into().expect("16 bytes"));
        let r = u64::from_be_bytes(e[16..].try_into().expect("8 bytes"));
        if dup_generation(r) != generation || out.last().is_some_and(|(_, last)| *last >= r) {
            return Err(bad());
        }
        out.push((k, r));
    }
    Ok(out)
}

fn push_dup_entry(payload: &mut Vec<u8>, k: u128, r: u64) {
    payload.extend_from_slice(&k.to_be_bytes());
    payload.extend_from_slice(&r.to_be_bytes());
}

/// The first record below `on_disk` holding a statement with duplicate
/// key `k`, from the duplicate index: `k`'s bucket (`sealer.bucket_of(k)`)
/// in each generation.
fn find_duplicate(
    db: &sled::Db,
    sealer: &Sealer,
    on_disk: u64,
    k: u128,
    bucket: u16,
    mut keep: impl FnMut(Vec<u8>, Vec<u8>),
) -> Result<Option<RecordRef>, StoreError> {
    if on_disk == 0 {
        return Ok(None);
    }
    let mut found = None;
    for generation in 0..=dup_generation(on_disk - 1) {
        let key = dup_bucket_key(generation, bucket);
        let Some(payload) = get_open(db, sealer, &key)? else {
            continue;
        };
        if found.is_none()
            && let Some((_, r)) = dup_entries(&key, &payload)?
                .into_iter()
                .find(|(e, r)| *e == k && *r < on_disk)
        {
            found = Some(RecordRef(r));
        }
        keep(key, payload);
    }
    Ok(found)
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
/// Links (a case's `CaseOpened` record and id) per chunk of a party's
/// case list.
pub(crate) const LINKS_PER_CHUNK: usize = 64;
/// Bytes of one link: the opening record (u64) and the case (16).
const LINK: usize = 24;

/// `q` ‖ party ‖ chunk: the `chunk`-th run of a party's case list.
fn party_cases_key(p: PartyId, chunk: u32) -> Vec<u8> {
    let mut k = key1(b'q', &p.0.to_be_bytes());
    k.extend_from_slice(&chunk.to_be_bytes());
    k
}

/// The party and chunk number of a `q` key.
fn party_cases_of_key(key: &[u8]) -> Result<(PartyId, u32), StoreError> {
    match key {
        [b'q', rest @ ..] if rest.len() == 12 => Ok((
            PartyId(u64::from_be_bytes(rest[..8].try_into().expect("8 bytes"))),
            u32::from_be_bytes(rest[8..].try_into().expect("4 bytes")),
        )),
        _ => Err(StoreError::corrupt(Corruption::Malformed, place_of(key))),
    }
}

/// The links of one `q` chunk (payload after its tag): 1 to 64 of them.
fn links_of(key: &[u8], payload: &[u8]) -> Result<Vec<(RecordRef, CaseId)>, StoreError> {
    if payload.is_empty()
        || !payload.len().is_multiple_of(LINK)
        || payload.len() > LINKS_PER_CHUNK * LINK
    {
        return Err(StoreError::corrupt(Corruption::Malformed, place_of(key)));
    }
    Ok(payload
        .chunks_exact(LINK)
        .map(|l| {
            (
                RecordRef(u64::from_be_bytes(l[..8].try_into().expect("8 bytes"))),
                CaseId(l[8..].try_into().expect("16 bytes")),
            )
        })
        .collect())
}

fn push_link(payload: &mut Vec<u8>, opened: RecordRef, case: &CaseId) {
    payload.extend_from_slice(&opened.0.to_be_bytes());
    payload.extend_from_slice(&case.0);
}

/// Checks the chunks of one party's case list (keys and payloads, in key
/// order) and returns its links: chunks numbered from 0 without a gap,
/// every one full but the last. A link may appear twice (a step appends a
/// party again after its case's entry was put back from an older copy);
/// readers drop the repeat and `check` finds it.
fn party_links(chunks: &[(Vec<u8>, Vec<u8>)]) -> Result<Vec<(RecordRef, CaseId)>, StoreError> {
    let mut out = Vec::new();
    for (n, (key, payload)) in chunks.iter().enumerate() {
        let (_, chunk) = party_cases_of_key(key)?;
        let links = links_of(key, payload)?;
        let last = n + 1 == chunks.len();
        if chunk as usize != n || (!last && links.len() != LINKS_PER_CHUNK) {
            return Err(StoreError::corrupt(Corruption::Malformed, place_of(key)));
        }
        out.extend(links);
    }
    Ok(out)
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

#[cfg(test)]
pub(crate) use expect::compare;
pub(crate) use expect::{DuplicateIndexCheck, compare_replayed, expected_values, rewrite};
pub(crate) use load::load_hot;
pub(crate) use page::{Pager, discard, initial_hot, note_appended, page_in, page_out};
pub(crate) use read::{
    all_cases, cases_of_party, find_statement, load_case_part, sealed_of, state_with,
};

#[cfg(test)]
mod tests {
    use super::*;
    use forewarn_tlog::note::SignatureType;

    fn sealer() -> Sealer {
        Sealer::new(
            &SignerKey::from_seed("example.org/ledger", SignatureType::Ed25519, &[7; 32]).unwrap(),
        )
    }

    /// A duplicate is found in whichever generation holds it, and only
    /// below the size asked about; a bucket out of shape is damage.
    #[test]
    fn duplicates_are_found_across_generations() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let sealer = sealer();
        let g1 = 1u64 << DUP_GENERATION_BITS;
        let (a, b, c) = (11u128, 12u128, 13u128);
        let mut gen0 = Vec::new();
        push_dup_entry(&mut gen0, a, 5);
        push_dup_entry(&mut gen0, c, 9);
        let mut gen1 = Vec::new();
        push_dup_entry(&mut gen1, b, g1 + 3);
        let k0 = dup_bucket_key(0, sealer.bucket_of(a));
        let k1 = dup_bucket_key(1, sealer.bucket_of(b));
        db.insert(&k0, sealer.seal(&k0, gen0[..24].to_vec()))
            .unwrap();
        db.insert(&k1, sealer.seal(&k1, gen1)).unwrap();
        let find = |size, k| {
            find_duplicate(&db, &sealer, size, k, sealer.bucket_of(k), |_, _| ()).unwrap()
        };
        assert_eq!(find(g1 + 10, a), Some(RecordRef(5)));
        assert_eq!(find(g1 + 10, b), Some(RecordRef(g1 + 3)));
        assert_eq!(find(g1 + 3, b), None, "not below the size");
        assert_eq!(find(g1, b), None, "generation 1 is not read below it");
        assert_eq!(find(6, a), Some(RecordRef(5)));
        assert_eq!(find(5, a), None);
        assert_eq!(find(0, a), None);
        if sealer.bucket_of(c) != sealer.bucket_of(a) {
            assert_eq!(find(g1 + 10, c), None, "not looked for in another bucket");
        }
        let mut wrong_generation = Vec::new();
        push_dup_entry(&mut wrong_generation, a, g1 + 1);
        for bad in [
            wrong_generation,
            gen0[..23].to_vec(),
            Vec::new(),
            [&gen0[..24], &gen0[..24]].concat(),
        ] {
            db.insert(&k0, sealer.seal(&k0, bad)).unwrap();
            let r = find_duplicate(&db, &sealer, g1 + 10, a, sealer.bucket_of(a), |_, _| ());
            assert!(
                matches!(
                    r,
                    Err(StoreError::Corrupt {
                        what: Corruption::Malformed,
                        ..
                    })
                ),
                "{r:?}"
            );
        }
    }

    /// The bucket is chosen by a key derived from the log key: the same
    /// statement key lands in different buckets under two log keys, and
    /// the choice spreads keys chosen by a submitter.
    #[test]
    fn buckets_depend_on_the_log_key() {
        let a = sealer();
        let b = Sealer::new(
            &SignerKey::from_seed("example.org/ledger", SignatureType::Ed25519, &[8; 32]).unwrap(),
        );
        let differ = (0..64u128)
            .filter(|k| a.bucket_of(*k) != b.bucket_of(*k))
            .count();
        assert!(differ > 60, "{differ}");
        // Keys that share their first 16 bits (what a submitter could aim
        // for) do not share a bucket.
        let mut buckets: Vec<u16> = (0..256u128)
            .map(|k| a.bucket_of(0xabcd << 112 | k))
            .collect();
        buckets.sort_unstable();
        buckets.dedup();
        assert!(buckets.len() > 250, "{}", buckets.len());
    }

    /// `check`'s comparison of the duplicate index: the buckets rebuilt
    /// from the statements in record order equal the stored ones across
    /// generations, and a changed key, a moved, missing or extra entry, a
    /// left-over bucket or statements out of order are each found.
    #[test]
    fn the_duplicate_index_is_compared_generation_by_generation() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let sealer = sealer();
        let g1 = 1u64 << DUP_GENERATION_BITS;
        // Statements of records 0..40 and g1..g1+10 (the replay's order).
        let statements: Vec<(u128, u64)> = (0..40u64)
            .chain(g1..g1 + 10)
            .map(|r| {
                (
                    u128::from(r).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c) ^ 0x55,
                    r,
                )
            })
            .collect();
        let mut buckets: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        for (k, r) in &statements {
            let key = dup_bucket_key(dup_generation(*r), sealer.bucket_of(*k));
            push_dup_entry(buckets.entry(key).or_default(), *k, *r);
        }
        let store = |buckets: &BTreeMap<Vec<u8>, Vec<u8>>| {
            db.clear().unwrap();
            for (key, payload) in buckets {
                db.insert(key, sealer.seal(key, payload.clone())).unwrap();
            }
        };
        let run = |pushed: &[(u128, u64)]| -> Result<(), StoreError> {
            let mut check = DuplicateIndexCheck::new(&db, &sealer)?;
            for (k, r) in pushed {
                check.push(*k, *r)?;
            }
            check.finish()
        };
        let what = |r: Result<(), StoreError>| match r {
            Err(StoreError::Corrupt { what, .. }) => what,
            other => panic!("not found: {other:?}"),
        };
        store(&buckets);
        run(&statements).unwrap();

        let mut changed = statements.clone();
        changed[3].0 ^= 1 << 100;
        assert!(matches!(
            what(run(&changed)),
            Corruption::ProjectionDiffers | Corruption::Missing
        ));
        let mut changed = statements.clone();
        changed[45].0 ^= 1;
        assert!(matches!(
            what(run(&changed)),
            Corruption::ProjectionDiffers | Corruption::Missing
        ));
        // A record missing from the replay, one more than stored.
        let fewer: Vec<_> = statements
            .iter()
            .copied()
            .filter(|(_, r)| *r != 7)
            .collect();
        assert!(matches!(
            what(run(&fewer)),
            Corruption::ProjectionDiffers | Corruption::Missing
        ));
        let mut more = statements.clone();
        more.push((99, g1 + 20));
        assert!(matches!(
            what(run(&more)),
            Corruption::ProjectionDiffers | Corruption::Missing
        ));
        // Out of order: a bug, never a pass.
        let mut swapped = statements.clone();
        swapped.swap(40, 39);
        assert!(matches!(
            what(run(&swapped)),
            Corruption::ProjectionDiffers | Corruption::Malformed
        ));
        let mut late = statements.clone();
        late.push(statements[7]);
        assert_eq!(what(run(&late)), Corruption::Malformed);

        // Stored: an entry moved to the other generation's bucket, a
        // bucket left over beyond the log, a bucket gone.
        let mut moved = buckets.clone();
        let (k, r) = statements[0];
        let from = dup_bucket_key(0, sealer.bucket_of(k));
        let payload = moved.remove(&from).unwrap();
        if payload.len() > DUP_ENTRY {
            moved.insert(from, payload[DUP_ENTRY..].to_vec());
        }
        let mut other = Vec::new();
        push_dup_entry(&mut other, k, r);
        moved.insert(dup_bucket_key(2, sealer.bucket_of(k)), other);
        store(&moved);
        assert!(matches!(
            what(run(&statements)),
            Corruption::ProjectionDiffers | Corruption::Missing
        ));
        let mut extra = buckets.clone();
        let mut left = Vec::new();
        push_dup_entry(&mut left, 1, 3 * g1);
        extra.insert(dup_bucket_key(3, 0), left);
        store(&extra);
        assert_eq!(what(run(&statements)), Corruption::ProjectionDiffers);
        let mut gone = buckets.clone();
        let last = gone.keys().next_back().unwrap().clone();
        gone.remove(&last);
        store(&gone);
        assert_eq!(what(run(&statements)), Corruption::Missing);
        store(&buckets);
        run(&statements).unwrap();
    }
}
