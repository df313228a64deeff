//! The auditor's state: the chain position (size, previous leaf, compact
//! range, last checkpoint) and the projections the rules maintain and the
//! reports read — parties and keys, cases, notices, embargoes and sealed
//! fields (docs/AUDITING.md, "The auditor in one paragraph").
//!
//! Everything here is plain data, saved with bincode ([`STATE_VERSION`]) by
//! `Auditor::save` and checked on `Auditor::resume`. Nothing here decides
//! anything: the rules live in the subject modules next to this one.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use bincode::{Decode, Encode};
use forewarn_tlog::hash::Hash;

use super::recent::RecentTree;
use crate::event::{Counterparty, EVENT_KINDS};
use crate::finding::Finding;
use crate::sealed::{Commitment, Sealed};
use crate::types::*;

/// Saved-state format version.
pub const STATE_VERSION: u8 = 2;

/// A registered party.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct PartyState {
    /// Display name.
    pub name: String,
    /// Class.
    pub class: PartyClass,
    /// Claimed time of registration.
    pub registered_at: Millis,
    /// Leaf hash of the `PartyRegistered` record, which citations of the
    /// party must carry.
    pub leaf: Hash,
    /// Every key ever added (revoked ones included).
    pub keys: Vec<PublicKey>,
}

/// A key's life. Revocation is by log position: a key signs nothing
/// logged after the record that revoked it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct KeyState {
    /// Owner.
    pub party: PartyId,
    /// Record that added it (the registration, or a `KeyAdded`).
    pub added_by: RecordRef,
    /// The earliest claimed time the key may sign: for a key added by
    /// `KeyAdded`, that record's claimed time, and no more than the clock
    /// skew before its log time (so a backdated `KeyAdded` does not let the
    /// new key backdate too); for a registration key, the registration's
    /// claimed time (not enforced: a party may record its own history).
    pub added_at: Millis,
    /// The revoking record and the revocation's effective time.
    pub revoked: Option<(RecordRef, Millis)>,
    /// Records the key signed, with their log times, in log order (kept to
    /// flag them if a revocation later says the key was compromised).
    pub uses: Vec<(RecordRef, Millis)>,
}

/// The first time each Vultron case state was reached (claimed times).
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct CaseClock {
    /// V: a vendor is aware (vendor opened the case, received or acknowledged the report).
    pub vendor_aware: Option<Millis>,
    /// F: fix ready.
    pub fix_ready: Option<Millis>,
    /// D: fix released/deployed.
    pub fix_released: Option<Millis>,
    /// P: public.
    pub public: Option<Millis>,
    /// X: exploit public.
    pub exploit_public: Option<Millis>,
    /// A: attacks observed.
    pub attacks: Option<Millis>,
}

/// An identifier of a case.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct CaseIdentifier {
    /// Scheme.
    pub scheme: IdScheme,
    /// Value (clear or sealed).
    pub value: Sealed<String>,
    /// Record that assigned it.
    pub record: RecordRef,
}

/// Everything the log says about one case.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct CaseState {
    /// The `CaseOpened` record.
    pub opened: RecordRef,
    /// Who opened it.
    pub opener: PartyId,
    /// Leaf hash of the `CaseOpened` record.
    pub leaf: Hash,
    /// Members (docs/AUDITING.md, "Who may do what"): the opener, every
    /// registered recipient of a notice of the case, and every registered
    /// reporter named by a member.
    pub members: Vec<PartyId>,
    /// Members that signed `ReportReceived` for the case.
    pub receivers: Vec<PartyId>,
    /// Claimed opening time.
    pub opened_at: Millis,
    /// Summary (clear or sealed).
    pub summary: Sealed<String>,
    /// Product (clear or sealed).
    pub product: Sealed<String>,
    /// Vultron case states.
    pub clock: CaseClock,
    /// The `PubliclyDisclosed` record and advisory URL, once public.
    pub advisory: Option<(RecordRef, String)>,
    /// Identifiers.
    pub identifiers: Vec<CaseIdentifier>,
    /// `Notified` records, in log order.
    pub notices: Vec<RecordRef>,
    /// `EmbargoProposed` records, in log order.
    pub embargoes: Vec<RecordRef>,
    /// Regulatory reports, in log order.
    pub regulatory: Vec<RegulatoryFiling>,
    /// Sealed fields of the case's records: (record, field).
    pub sealed: Vec<(RecordRef, u8)>,
    /// Parties that signed statements about the case: first record and
    /// claimed time.
    pub participants: Vec<(PartyId, RecordRef, Millis)>,
}

/// One `RegulatoryReport`, with what its lateness is judged by.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct RegulatoryFiling {
    /// The stage.
    pub stage: RegulatoryStage,
    /// Claimed time.
    pub at: Millis,
    /// The record.
    pub record: RecordRef,
    /// Who filed it.
    pub by: PartyId,
    /// When the stage's clock had started, as the log showed when it was
    /// filed (`None`: not started).
    pub clock_started: Option<Millis>,
}

/// The first acknowledgement of a notice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct AckState {
    /// The `Acknowledged` record.
    pub record: RecordRef,
    /// When the recipient says it received the notice.
    pub received_at: Millis,
    /// The acknowledgement's claimed time.
    pub claimed_at: Millis,
}

/// One notice.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct NoticeState {
    /// The case.
    pub case: CaseId,
    /// Who sent it.
    pub sender: PartyId,
    /// Who received it.
    pub recipient: Counterparty,
    /// Information level.
    pub level: InfoLevel,
    /// TLP label.
    pub tlp: Tlp,
    /// Embargo it was sent under.
    pub embargo: Option<RecordRef>,
    /// Claimed time.
    pub claimed_at: Millis,
    /// Log time.
    pub logged_at: Millis,
    /// Leaf hash of the `Notified` record.
    pub leaf: Hash,
    /// Whether the case's fix was ready at the notice's claimed time, as
    /// the log showed when the notice was logged.
    pub fix_was_ready: bool,
    /// First acknowledgement.
    pub acknowledged: Option<AckState>,
}

/// A change of an embargo's end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct EmbargoRevision {
    /// The `EmbargoRevised` record.
    pub record: RecordRef,
    /// Who revised it.
    pub by: PartyId,
    /// Claimed time.
    pub at: Millis,
    /// The end before.
    pub from: Millis,
    /// The new end.
    pub to: Millis,
}

/// One embargo.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct EmbargoState {
    /// The case.
    pub case: CaseId,
    /// Proposer.
    pub proposer: PartyId,
    /// Leaf hash of the `EmbargoProposed` record.
    pub leaf: Hash,
    /// Claimed proposal time.
    pub proposed_at: Millis,
    /// The end proposed.
    pub proposed_end: Millis,
    /// Current end.
    pub ends_at: Millis,
    /// First acceptance (claimed time), making it active.
    pub accepted_at: Option<Millis>,
    /// The first `EmbargoAccepted` record and the end at that time.
    pub first_acceptance: Option<(RecordRef, Millis)>,
    /// Parties that accepted.
    pub acceptors: Vec<PartyId>,
    /// Revisions that moved the end later.
    pub extensions: u32,
    /// Every revision, in log order.
    pub revisions: Vec<EmbargoRevision>,
    /// Termination: claimed time and reason.
    pub terminated: Option<(Millis, TerminationReason)>,
}

impl EmbargoState {
    /// Active at `t`: accepted, not terminated, not past its end.
    pub fn active_at(&self, t: Millis) -> bool {
        self.accepted_at.is_some_and(|a| a <= t)
            && self.terminated.is_none_or(|(x, _)| x > t)
            && self.ends_at > t
    }
}

/// One sealed field.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct SealedState {
    /// The commitment.
    pub commitment: Commitment,
    /// Wire tag of the sealing record's event (the commitment's field tag).
    pub event: u8,
    /// The sealing statement's signing key (inside the commitment).
    pub signer: PublicKey,
    /// The sealing party: the only one that may open the field.
    pub party: PartyId,
    /// The case, if the record belongs to one.
    pub case: Option<CaseId>,
    /// Opening record and the revealed bytes.
    pub opened: Option<(RecordRef, Vec<u8>)>,
}

/// A record that can be cited: its leaf hash and who signed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Citable {
    /// Leaf hash.
    pub leaf: Hash,
    /// The signing party.
    pub signer: PartyId,
    /// Wire tag of its event.
    pub event: u8,
}

/// A vector kept in chunks of [`Chunked::CHUNK`] elements, so that it
/// grows without ever copying what it holds: a sequencer appending to a
/// log of millions of records never stalls on one large reallocation.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Chunked<T> {
    chunks: Vec<Vec<T>>,
}

impl<T> Default for Chunked<T> {
    fn default() -> Chunked<T> {
        Chunked { chunks: Vec::new() }
    }
}

impl<T> Chunked<T> {
    /// Elements per chunk.
    pub const CHUNK: usize = 1 << 16;

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self.chunks.last() {
            None => 0,
            Some(last) => (self.chunks.len() - 1) * Self::CHUNK + last.len(),
        }
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element `i`.
    pub fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i / Self::CHUNK)?.get(i % Self::CHUNK)
    }

    /// The last element.
    pub fn last(&self) -> Option<&T> {
        self.chunks.last()?.last()
    }

    /// Appends an element.
    pub fn push(&mut self, value: T) {
        match self.chunks.last_mut() {
            Some(last) if last.len() < Self::CHUNK => last.push(value),
            // A chunk grows like any vector (its copies stay under one
            // chunk's size); a full one is never touched again.
            _ => self.chunks.push(alloc::vec![value]),
        }
    }

    /// True if every chunk but the last is full and none is empty: the one
    /// layout [`Chunked::push`] builds (checked when a saved state resumes).
    pub fn is_canonical(&self) -> bool {
        let n = self.chunks.len();
        self.chunks
            .iter()
            .enumerate()
            .all(|(i, c)| !c.is_empty() && (i + 1 == n || c.len() == Self::CHUNK))
    }
}

/// The [`Citable`] facts of every record, by index.
///
/// An auditor holding its whole state keeps them all, in order
/// (`base` 0). A store that keeps the state in keyed form on disk holds
/// only a working set: the records from `base` on (appended since the last
/// write-back) and the older ones it loaded for the statements at hand
/// (`paged`). Either way [`CitationTable::len`] is the number of records.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct CitationTable {
    /// Index of the first record in `recent`.
    pub base: u64,
    /// Records `base..`, in order.
    pub recent: Chunked<Citable>,
    /// Older records loaded by a paging store.
    pub paged: BTreeMap<u64, Citable>,
}

impl CitationTable {
    /// Number of records (held or not).
    pub fn len(&self) -> usize {
        self.base as usize + self.recent.len()
    }

    /// True before the first record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Record `i`'s facts, if it exists and is held.
    pub fn get(&self, i: usize) -> Option<&Citable> {
        let i = i as u64;
        if i >= self.base {
            return self.recent.get((i - self.base) as usize);
        }
        let held = self.paged.get(&i);
        // A paging store loads every record a statement cites before the
        // statement is applied (crates/store, `paged`): a miss here is a bug
        // in that list, which the equivalence tests would show.
        debug_assert!(held.is_some(), "record {i} is not in the working set");
        held
    }

    /// The last record's facts, if held.
    pub fn last(&self) -> Option<&Citable> {
        self.recent.last()
    }

    /// Appends the next record's facts.
    pub fn push(&mut self, c: Citable) {
        self.recent.push(c);
    }

    /// A table whose first `len` records are on disk: nothing held.
    pub fn on_disk(len: u64) -> CitationTable {
        CitationTable {
            base: len,
            ..CitationTable::default()
        }
    }

    /// True if `recent` has the layout [`Chunked::push`] builds.
    pub fn is_canonical(&self) -> bool {
        self.recent.is_canonical()
    }
}

/// A record logged more than an hour after its claimed time: the facts
/// behind the `logged-late` policy finding, judged at report time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct LateRecord {
    /// The record.
    pub record: RecordRef,
    /// Its event's wire tag.
    pub event: u8,
    /// The case it is about, if any.
    pub case: Option<CaseId>,
    /// Its signer.
    pub party: PartyId,
    /// `logged_at - claimed_at` (ms).
    pub delay: Millis,
}

/// Delays shorter than this are not kept: policies count in whole hours,
/// from one.
pub const LATE_FLOOR_MS: Millis = HOUR_MS;

/// The key of a statement in [`AuditState::statements`]: the first 16
/// bytes of the SHA-256 of its bytes.
pub fn duplicate_key(statement_hash: &[u8; 32]) -> u128 {
    let mut k = [0; 16];
    k.copy_from_slice(&statement_hash[..16]);
    u128::from_be_bytes(k)
}

/// The checkpoint the auditor last verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct TrustedCheckpoint {
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
}

/// The auditor's complete state: chain position plus projections. Saved
/// with [`Auditor::save`](super::Auditor::save), restored with
/// [`Auditor::resume`](super::Auditor::resume).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct AuditState {
    /// [`STATE_VERSION`].
    pub version: u8,
    /// Records audited.
    pub size: u64,
    /// Leaf hash of the last record (zero before the first).
    pub prev_leaf: Hash,
    /// `logged_at` of the last record.
    pub last_logged_at: Millis,
    /// Log time of the first record, if any.
    pub first_logged_at: Option<Millis>,
    /// Compact range of the Merkle tree (forewarn-tlog encoding).
    pub tree: Vec<u8>,
    /// The recent leaves and compact ranges, for `seen` checks.
    pub recent: RecentTree,
    /// The log's origin: every statement must name it.
    pub origin: Option<String>,
    /// Every statement logged, by the first 16 bytes of the SHA-256 of its
    /// bytes (as a big-endian `u128`, [`duplicate_key`]): the first record
    /// holding it. (Two different statements with
    /// the same key need 2^64 work to find, and only make their finder's
    /// own second statement look like a duplicate; matching someone else's
    /// statement needs a 2^128 second preimage.)
    pub statements: BTreeMap<u128, RecordRef>,
    /// Every record, by index: its leaf hash, signer and event, for
    /// checking citations (records of `Opening` and `Annotation` may not be
    /// cited).
    pub citable: CitationTable,
    /// Records logged late by more than [`LATE_FLOOR_MS`].
    pub late: Vec<LateRecord>,
    /// Last verified checkpoint.
    pub checkpoint: Option<TrustedCheckpoint>,
    /// Parties by registration record.
    pub parties: BTreeMap<PartyId, PartyState>,
    /// Keys.
    pub keys: BTreeMap<PublicKey, KeyState>,
    /// Cases.
    pub cases: BTreeMap<CaseId, CaseState>,
    /// Notices by record.
    pub notices: BTreeMap<RecordRef, NoticeState>,
    /// Embargoes by proposal record.
    pub embargoes: BTreeMap<RecordRef, EmbargoState>,
    /// Sealed fields by (record, field).
    pub sealed: BTreeMap<(RecordRef, u8), SealedState>,
    /// Records per event tag.
    pub kind_counts: Vec<u64>,
    /// Findings raised while streaming, none of which depends on the
    /// policy (policy and deadline findings come from
    /// [`super::all_findings`] and
    /// [`Auditor::findings_as_of`](super::Auditor::findings_as_of)).
    pub findings: Vec<Finding>,
}

impl Default for AuditState {
    fn default() -> AuditState {
        AuditState {
            version: STATE_VERSION,
            size: 0,
            prev_leaf: Hash([0; 32]),
            last_logged_at: 0,
            first_logged_at: None,
            tree: Vec::new(),
            recent: RecentTree::default(),
            origin: None,
            statements: BTreeMap::new(),
            citable: CitationTable::default(),
            late: Vec::new(),
            checkpoint: None,
            parties: BTreeMap::new(),
            keys: BTreeMap::new(),
            cases: BTreeMap::new(),
            notices: BTreeMap::new(),
            embargoes: BTreeMap::new(),
            sealed: BTreeMap::new(),
            kind_counts: alloc::vec![0; EVENT_KINDS],
            findings: Vec::new(),
        }
    }
}

impl AuditState {
    /// The class of a counterparty: a registered party's, or the class an
    /// unregistered one was given. `None` for an unknown party.
    pub fn class_of(&self, c: &Counterparty) -> Option<PartyClass> {
        match c {
            Counterparty::Party(id) => self.parties.get(&id.party()).map(|p| p.class),
            Counterparty::Unregistered { class, .. } => Some(*class),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Chunked;

    #[test]
    fn chunked_holds_what_a_vector_would() {
        let mut c = Chunked::default();
        let n = 2 * Chunked::<u32>::CHUNK + 7;
        for i in 0..n as u32 {
            c.push(i);
        }
        assert_eq!(c.len(), n);
        assert!(c.is_canonical());
        for i in [
            0,
            1,
            Chunked::<u32>::CHUNK - 1,
            Chunked::<u32>::CHUNK,
            n - 1,
        ] {
            assert_eq!(c.get(i), Some(&(i as u32)));
        }
        assert_eq!(c.get(n), None);
        assert_eq!(c.last(), Some(&(n as u32 - 1)));
        let encoded = crate::encoding::encode_unbounded(&c);
        let back: Chunked<u32> = bincode::decode_from_slice(&encoded, bincode::config::legacy())
            .unwrap()
            .0;
        assert_eq!(back, c);
        // A chunk short of full before the last is not what push builds.
        let odd = Chunked {
            chunks: alloc::vec![alloc::vec![1u32], alloc::vec![2]],
        };
        assert!(!odd.is_canonical());
        assert!(
            !Chunked::<u32> {
                chunks: alloc::vec![alloc::vec![]]
            }
            .is_canonical()
        );
    }
}
