//! The keyed form of the projection state, for a store that keeps it on
//! disk and holds only a working set in memory (docs/FORMAT.md §20,
//! docs/DESIGN.md §4).
//!
//! A full [`AuditState`] grows with the log: every case, notice and
//! embargo, and per record a citation entry and a duplicate entry. A store
//! that loaded it whole before every step would pay for the whole log on
//! every step. Instead the state is cut into values a store can key:
//!
//! - [`CaseEntry`]: one case with everything the rules and reports read
//!   about it (its notices, embargoes and sealed fields, and the findings
//!   and late records about it). Every rule that reads a notice, embargo or
//!   sealed field reaches it through a citation of its record, and the
//!   record's [`RecordFacts::case`] names the entry that holds it.
//! - [`RecordFacts`]: the fixed-size facts of one record (leaf, signing
//!   key and party, log time, event, case), for citations and revocations.
//! - [`HotState`]: the chain position and counters, small and written
//!   with every commit.
//! - parties and keys ([`PartyState`](super::PartyState), [`KeyState`](super::KeyState) without their uses),
//!   all of which a step needs and which stay in memory.
//!
//! [`WorkingSet::drain`] takes what a batch of statements touched out of
//! an auditor's state, grouped by key, and leaves the memory-resident part
//! (parties, keys, chain position) in place. Which entries to load before
//! a statement is the store's business; [`crate::auditor::Auditor::working_set`]
//! says what a statement's rules read.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;

use bincode::{Decode, Encode};
use forewarn_tlog::hash::Hash;

use super::state::{
    AuditState, CaseState, Citable, CitationTable, EmbargoState, LateRecord, NoticeState,
    SealedState, TrustedCheckpoint,
};
use crate::encoding::{self, EncodingError};
use crate::event::Counterparty;
use crate::finding::Finding;
use crate::types::{CaseId, Millis, PartyId, PublicKey, RecordRef};

/// Version byte of [`CaseEntry`] and [`HotState`] encodings.
pub const KEYED_VERSION: u8 = 1;

/// One case and everything held about it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct CaseEntry {
    /// [`KEYED_VERSION`].
    pub version: u8,
    /// The case's id.
    pub id: CaseId,
    /// The case.
    pub case: CaseState,
    /// Its notices, by record, in record order.
    pub notices: Vec<(RecordRef, NoticeState)>,
    /// Its embargoes, by proposal record, in record order.
    pub embargoes: Vec<(RecordRef, EmbargoState)>,
    /// Its sealed fields, by (record, field), in order.
    pub sealed: Vec<((RecordRef, u8), SealedState)>,
    /// Records about it logged late (the facts behind `logged-late`).
    pub late: Vec<LateRecord>,
    /// Findings about it raised while streaming, in the order raised.
    pub findings: Vec<Finding>,
}

impl CaseEntry {
    /// Encoded (bincode, docs/FORMAT.md §20).
    pub fn to_bytes(&self) -> Vec<u8> {
        encoding::encode_unbounded(self)
    }

    /// Decoded strictly (version, limit, canonical form).
    pub fn from_bytes(bytes: &[u8]) -> Result<CaseEntry, EncodingError> {
        encoding::decode_versioned_unbounded(bytes, KEYED_VERSION)
    }

    /// The registered parties a report about one of them must read this
    /// case for (the `report party` index): participants, registered
    /// notice recipients, and parties its findings concern.
    pub fn parties(&self) -> BTreeSet<PartyId> {
        let mut out: BTreeSet<PartyId> = self.case.participants.iter().map(|p| p.0).collect();
        out.extend(self.findings.iter().filter_map(|f| f.party));
        for (_, n) in &self.notices {
            if let Counterparty::Party(p) = &n.recipient {
                out.insert(p.party());
            }
        }
        out
    }

    /// Moves the entry into a working set, keeping whatever the set
    /// already holds (it may be newer): its case, notices, embargoes and
    /// sealed fields. Its late records and findings are handed back, not
    /// put in: a working set holds only new ones, and the store keeps the
    /// entry's own beside it.
    pub fn move_into(self, state: &mut AuditState) -> (Vec<LateRecord>, Vec<Finding>) {
        if state.cases.contains_key(&self.id) {
            return (self.late, self.findings);
        }
        state.cases.insert(self.id, self.case);
        for (r, n) in self.notices {
            state.notices.entry(r).or_insert(n);
        }
        for (r, e) in self.embargoes {
            state.embargoes.entry(r).or_insert(e);
        }
        for (k, s) in self.sealed {
            state.sealed.entry(k).or_insert(s);
        }
        (self.late, self.findings)
    }
}

/// A type [`decode_value`] can decode (for callers that name no bincode
/// type themselves).
pub trait Value: bincode::Decode<()> + bincode::Encode {}
impl<T: bincode::Decode<()> + bincode::Encode> Value for T {}

/// Encodes a party, key, sealed field, late record or finding as a keyed
/// value: [`KEYED_VERSION`], then its bincode.
pub fn encode_value<T: bincode::Encode>(value: &T) -> Vec<u8> {
    let mut out = alloc::vec![KEYED_VERSION];
    out.extend_from_slice(&encoding::encode_unbounded(value));
    out
}

/// Decodes [`encode_value`] output strictly (version, canonical form, no
/// trailing bytes).
pub fn decode_value<T: Value>(bytes: &[u8]) -> Result<T, EncodingError> {
    match bytes.split_first() {
        Some((&KEYED_VERSION, rest)) => encoding::decode_unversioned_unbounded(rest),
        Some((&v, _)) => Err(EncodingError::UnknownVersion {
            found: v,
            expected: KEYED_VERSION,
        }),
        None => Err(EncodingError::Malformed {
            detail: "empty value".into(),
        }),
    }
}

/// Counts a summary reads without loading any case.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct Counts {
    /// Cases.
    pub cases: u64,
    /// Cases made public.
    pub public_cases: u64,
    /// Notices.
    pub notices: u64,
    /// Notices acknowledged.
    pub acknowledged_notices: u64,
}

impl Counts {
    /// What `entry` adds to the counts.
    pub fn of(entry: &CaseEntry) -> Counts {
        Counts {
            cases: 1,
            public_cases: u64::from(entry.case.clock.public.is_some()),
            notices: entry.notices.len() as u64,
            acknowledged_notices: entry
                .notices
                .iter()
                .filter(|(_, n)| n.acknowledged.is_some())
                .count() as u64,
        }
    }

    /// `self + add - sub` (a case entry rewritten: its new counts added,
    /// its old ones taken away).
    pub fn changed(self, add: Counts, sub: Counts) -> Counts {
        Counts {
            cases: self.cases + add.cases - sub.cases,
            public_cases: self.public_cases + add.public_cases - sub.public_cases,
            notices: self.notices + add.notices - sub.notices,
            acknowledged_notices: self.acknowledged_notices + add.acknowledged_notices
                - sub.acknowledged_notices,
        }
    }
}

/// The chain position and counters: what a step needs besides parties,
/// keys and the entries its statement touches.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct HotState {
    /// [`KEYED_VERSION`].
    pub version: u8,
    /// Records.
    pub size: u64,
    /// Leaf hash of the last record.
    pub prev_leaf: Hash,
    /// Log time of the last record.
    pub last_logged_at: Millis,
    /// Log time of the first record.
    pub first_logged_at: Option<Millis>,
    /// The log's origin, once a record named it.
    pub origin: Option<String>,
    /// The last checkpoint the auditor verified.
    pub checkpoint: Option<TrustedCheckpoint>,
    /// Records per event tag.
    pub kind_counts: Vec<u64>,
    /// Case and notice counts.
    pub counts: Counts,
    /// Findings without a case stored so far (the next one's number).
    pub loose_findings: u64,
    /// SHA-256 over every stored party and key value, in key order: binds
    /// them to this value, which is bound to the signed checkpoint's size.
    pub parties_digest: [u8; 32],
}

impl HotState {
    /// The hot part of `state`.
    pub fn of(state: &AuditState, counts: Counts, loose_findings: u64, digest: [u8; 32]) -> Self {
        HotState {
            version: KEYED_VERSION,
            size: state.size,
            prev_leaf: state.prev_leaf,
            last_logged_at: state.last_logged_at,
            first_logged_at: state.first_logged_at,
            origin: state.origin.clone(),
            checkpoint: state.checkpoint,
            kind_counts: state.kind_counts.clone(),
            counts,
            loose_findings,
            parties_digest: digest,
        }
    }

    /// Encoded (bincode).
    pub fn to_bytes(&self) -> Vec<u8> {
        encoding::encode_unbounded(self)
    }

    /// Decoded strictly.
    pub fn from_bytes(bytes: &[u8]) -> Result<HotState, EncodingError> {
        encoding::decode_versioned_unbounded(bytes, KEYED_VERSION)
    }
}

/// The fixed-size facts of one record (docs/FORMAT.md §20): what citing it
/// and revoking its key need, without reading the record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordFacts {
    /// Leaf hash.
    pub leaf: Hash,
    /// The key that signed it.
    pub key: PublicKey,
    /// Log time.
    pub logged_at: Millis,
    /// The signing party (a registration is its own party).
    pub party: PartyId,
    /// Wire tag of its event.
    pub event: u8,
    /// The case the event names directly, whose entry holds its notice,
    /// embargo or sealed fields.
    pub case: Option<CaseId>,
}

impl RecordFacts {
    /// Bytes of one encoded entry.
    pub const LEN: usize = 32 + 32 + 8 + 8 + 1 + 1 + 16;

    /// The citation facts.
    pub fn citable(&self) -> Citable {
        Citable {
            leaf: self.leaf,
            signer: self.party,
            event: self.event,
        }
    }

    /// leaf ‖ key ‖ logged_at (u64 BE) ‖ party (u64 BE) ‖ event ‖ 0 or 1 ‖
    /// case (16 bytes, zero without a case).
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.leaf.0);
        out.extend_from_slice(&self.key.0);
        out.extend_from_slice(&self.logged_at.to_be_bytes());
        out.extend_from_slice(&self.party.0.to_be_bytes());
        out.push(self.event);
        match self.case {
            None => {
                out.push(0);
                out.extend_from_slice(&[0; 16]);
            }
            Some(c) => {
                out.push(1);
                out.extend_from_slice(&c.0);
            }
        }
    }

    /// Decodes one entry; `None` unless it is exactly [`RecordFacts::LEN`]
    /// canonical bytes.
    pub fn decode(b: &[u8]) -> Option<RecordFacts> {
        if b.len() != Self::LEN {
            return None;
        }
        let u64_at = |i: usize| u64::from_be_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        let case = match b[81] {
            0 if b[82..98] == [0; 16] => None,
            1 => Some(CaseId(b[82..98].try_into().expect("16 bytes"))),
            _ => return None,
        };
        Some(RecordFacts {
            leaf: Hash(b[0..32].try_into().expect("32 bytes")),
            key: PublicKey(b[32..64].try_into().expect("32 bytes")),
            logged_at: u64_at(64),
            party: PartyId(u64_at(72)),
            event: b[80],
            case,
        })
    }
}

/// What a batch of statements left in a working set, grouped by key.
#[derive(Debug, Default)]
pub struct WorkingSet {
    /// Cases held, with what the set holds of them (late records and
    /// findings: only those added since the set was last drained).
    pub cases: BTreeMap<CaseId, CaseEntry>,
    /// Sealed fields of records without a case.
    pub loose_sealed: Vec<((RecordRef, u8), SealedState)>,
    /// Late records without a case.
    pub loose_late: Vec<LateRecord>,
    /// Findings without a case, or about a case the set does not hold
    /// (the store adds those to their case's entry).
    pub loose_findings: Vec<Finding>,
    /// Duplicate entries added: key and record.
    pub statements: Vec<(u128, RecordRef)>,
    /// Citation facts of the records from `base` on, in order.
    pub citable: Vec<Citable>,
}

impl WorkingSet {
    /// Takes the working set out of `state`: cases with their notices,
    /// embargoes, sealed fields, new late records and new findings; new
    /// duplicate entries (those of records from `base` on); and it empties
    /// the loaded citation entries and every key's uses. Parties, keys and
    /// the chain position stay.
    pub fn drain(state: &mut AuditState, base: u64) -> WorkingSet {
        let mut cases: BTreeMap<CaseId, CaseEntry> = core::mem::take(&mut state.cases)
            .into_iter()
            .map(|(id, case)| {
                (
                    id,
                    CaseEntry {
                        version: KEYED_VERSION,
                        id,
                        case,
                        notices: Vec::new(),
                        embargoes: Vec::new(),
                        sealed: Vec::new(),
                        late: Vec::new(),
                        findings: Vec::new(),
                    },
                )
            })
            .collect();
        let mut out = WorkingSet::default();
        for (r, n) in core::mem::take(&mut state.notices) {
            if let Some(c) = cases.get_mut(&n.case) {
                c.notices.push((r, n));
            }
        }
        for (r, e) in core::mem::take(&mut state.embargoes) {
            if let Some(c) = cases.get_mut(&e.case) {
                c.embargoes.push((r, e));
            }
        }
        for (k, s) in core::mem::take(&mut state.sealed) {
            match s.case.and_then(|c| cases.get_mut(&c)) {
                Some(c) => c.sealed.push((k, s)),
                None => out.loose_sealed.push((k, s)),
            }
        }
        for l in core::mem::take(&mut state.late) {
            match l.case.and_then(|c| cases.get_mut(&c)) {
                Some(c) => c.late.push(l),
                None => out.loose_late.push(l),
            }
        }
        for f in core::mem::take(&mut state.findings) {
            match f.case.and_then(|c| cases.get_mut(&c)) {
                Some(c) => c.findings.push(f),
                None => out.loose_findings.push(f),
            }
        }
        out.statements = core::mem::take(&mut state.statements)
            .into_iter()
            .filter(|(_, r)| r.0 >= base)
            .collect();
        let held = core::mem::replace(&mut state.citable, CitationTable::on_disk(state.size));
        out.citable = (held.base..state.size)
            .filter_map(|i| held.get(i as usize).copied())
            .collect();
        for k in state.keys.values_mut() {
            k.uses.clear();
        }
        out.cases = cases;
        out
    }
}
