//! The projection indexes: statement hash → record (replay detection),
//! case → records, party → records it signed.
//!
//! They are folds over the records, kept in memory and rebuilt at every
//! open, never a second source of truth: nothing in them is stored, and
//! `check` compares them with a fresh fold.

use forewarn_ledger::PartyId;
use forewarn_ledger::auditor::Auditor;
use forewarn_ledger::statement::{Record, Statement};
use sha2::{Digest, Sha256};

use crate::HashMap;
use crate::error::StoreError;

/// The projection indexes.
#[derive(Default, PartialEq, Eq)]
pub(crate) struct Indexes {
    /// SHA-256 of statement bytes → record (replay detection).
    pub(crate) statements: HashMap<[u8; 32], u64>,
    /// Case → its records.
    pub(crate) cases: HashMap<[u8; 16], Vec<u64>>,
    /// Party → the records it signed.
    pub(crate) parties: HashMap<PartyId, Vec<u64>>,
}

/// What one record adds to the [`Indexes`].
pub(crate) struct IndexEntry {
    /// SHA-256 of the statement bytes.
    pub(crate) statement: [u8; 32],
    /// The case the event belongs to, if any.
    pub(crate) case: Option<[u8; 16]>,
    /// The party that signed it (a PartyRegistered record is its own party).
    pub(crate) party: Option<PartyId>,
}

impl Indexes {
    /// The indexes as a fresh fold over `records` (record 0 first), with
    /// the key state of `auditor` (keys never move between parties, so the
    /// final key state names every signer's party).
    pub(crate) fn fold(
        records: impl Iterator<Item = Result<Vec<u8>, StoreError>>,
        auditor: &Auditor,
    ) -> Result<Indexes, StoreError> {
        let keys = &auditor.state().keys;
        let mut indexes = Indexes::default();
        for (i, r) in records.enumerate() {
            indexes.add(i as u64, &r?, |k| keys.get(k).map(|s| s.party));
        }
        Ok(indexes)
    }

    /// Indexes record `index` from its bytes; `party_of` maps a signer key
    /// to its party.
    fn add(
        &mut self,
        index: u64,
        record: &[u8],
        party_of: impl Fn(&forewarn_ledger::PublicKey) -> Option<PartyId>,
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
            forewarn_ledger::Event::PartyRegistered { .. } => Some(PartyId(index)),
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

    pub(crate) fn insert(&mut self, index: u64, entry: IndexEntry) {
        self.statements.insert(entry.statement, index);
        if let Some(case) = entry.case {
            self.cases.entry(case).or_default().push(index);
        }
        if let Some(p) = entry.party {
            self.parties.entry(p).or_default().push(index);
        }
    }
}
