//! Deterministic scenario builder for tests, benchmarks, fuzzing and the
//! demo: parties with keys derived from their names, cases, and events with
//! explicit times, chained into canonical records exactly as a log would.
//!
//! Nothing here is random: keys, salts and case ids come from SHA-256 of
//! labels and counters, so every scenario is reproducible byte for byte.
//! Never use these keys or salts for real data.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use ed25519_dalek::SigningKey;
use forewarn_tlog::hash::Hash;
use sha2::{Digest, Sha256};

use crate::auditor::{AuditConfig, Auditor};
use crate::event::{Counterparty, Event};
use crate::finding::IntegrityFailure;
use crate::sealed::{FieldTag, Salt, Sealed};
use crate::statement::{
    RECORD_VERSION, Record, SignedStatement, Statement, leaf_hash, prove_possession,
};
use crate::types::*;

mod generate;
mod golden;

pub use generate::{RealisticLog, Rng, with_backdated_revocation};
pub use golden::golden_scenario;

/// A registered party and its current key.
#[derive(Clone, Debug)]
pub struct Actor {
    /// Party id (index of its registration record).
    pub id: PartyId,
    /// Its registration record, as statements cite it.
    pub registration: Cite,
    /// Signing key.
    pub key: SigningKey,
    /// Class.
    pub class: PartyClass,
    /// Name.
    pub name: String,
}

impl Actor {
    /// The public key.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.key.verifying_key().to_bytes())
    }

    /// As a notice recipient.
    pub fn as_recipient(&self) -> Counterparty {
        Counterparty::Party(self.registration)
    }
}

/// A key derived from a label (test use only).
pub fn test_key(label: &str) -> SigningKey {
    let seed: [u8; 32] = Sha256::new()
        .chain_update(b"forewarn/testkit/key\n")
        .chain_update(label.as_bytes())
        .finalize()
        .into();
    SigningKey::from_bytes(&seed)
}

/// The origin of scenario logs (and of the test stores): the name of the
/// log key that signs their checkpoints.
pub const ORIGIN: &str = "example.org/ledger";

/// The tag of sealed field `field` of events with wire tag `event`.
pub fn field(event: u8, field: u8) -> FieldTag {
    FieldTag { event, field }
}

/// Builds a log record by record.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The origin every statement names.
    pub origin: String,
    records: Vec<Vec<u8>>,
    leaves: Vec<Hash>,
    keep_leaves: bool,
    prev: Hash,
    size: u64,
    last_logged: Millis,
    /// Current claimed time for the next statement.
    pub now: Millis,
    /// Log time minus claimed time for the next statements.
    pub log_delay: Millis,
    counter: u64,
}

/// 2026-01-01T00:00:00Z, the default start of scenarios.
pub const START: Millis = 1_767_225_600_000;

/// A self-signed registration of a fresh vendor named `label`, claimed at
/// [`START`] with [`test_key`]`(label)`: always valid, independent of every
/// other statement.
pub fn registration(label: &str) -> SignedStatement {
    let key = test_key(label);
    let pk = PublicKey(key.verifying_key().to_bytes());
    Statement::new(
        ORIGIN,
        Event::PartyRegistered {
            name: label.into(),
            class: PartyClass::Vendor,
            key: pk,
        },
        START,
        pk,
    )
    .sign(&key)
    .expect("a registration is far below the size limit")
}

impl Default for Scenario {
    fn default() -> Scenario {
        Scenario::new(START)
    }
}

impl Scenario {
    /// An empty log whose clock starts at `start`.
    pub fn new(start: Millis) -> Scenario {
        Scenario {
            origin: ORIGIN.to_string(),
            records: Vec::new(),
            leaves: Vec::new(),
            keep_leaves: true,
            prev: Hash([0; 32]),
            size: 0,
            last_logged: 0,
            now: start,
            log_delay: 1_000,
            counter: 0,
        }
    }

    /// Do not remember every leaf hash (for very large generated logs).
    pub fn forget_leaves(mut self) -> Scenario {
        self.keep_leaves = false;
        self
    }

    /// Advances the clock.
    pub fn advance(&mut self, ms: Millis) -> &mut Scenario {
        self.now += ms;
        self
    }

    /// Advances the clock by days.
    pub fn days(&mut self, d: u64) -> &mut Scenario {
        self.advance(d * DAY_MS)
    }

    /// Advances the clock by hours.
    pub fn hours(&mut self, h: u64) -> &mut Scenario {
        self.advance(h * HOUR_MS)
    }

    /// Records so far.
    pub fn records(&self) -> &[Vec<u8>] {
        &self.records
    }

    /// Number of records appended so far (including drained ones).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Removes and returns the records built so far (streaming generation).
    pub fn drain(&mut self) -> Vec<Vec<u8>> {
        core::mem::take(&mut self.records)
    }

    /// Leaf hash of record `i` (if leaves are kept).
    pub fn leaf(&self, i: RecordRef) -> Hash {
        self.leaves[i.0 as usize]
    }

    /// The citation of record `i` (if leaves are kept).
    pub fn cite(&self, i: RecordRef) -> Cite {
        Cite {
            record: i,
            leaf: self.leaf(i),
        }
    }

    /// The citation of the last record appended.
    pub fn last(&self) -> Cite {
        Cite::new(self.size - 1, self.prev)
    }

    /// Merkle root of the first `size` records (if leaves are kept).
    pub fn root_at(&self, size: u64) -> Hash {
        let mut tree = forewarn_tlog::tree::InMemoryTree::new();
        for leaf in &self.leaves[..size as usize] {
            tree.append(*leaf);
        }
        tree.root()
    }

    /// A statement by `signer` for this log, claimed now.
    pub fn statement(&self, event: Event, signer: &SigningKey) -> Statement {
        Statement::new(
            &self.origin,
            event,
            self.now,
            PublicKey(signer.verifying_key().to_bytes()),
        )
    }

    /// A fresh deterministic salt.
    pub fn salt(&mut self) -> Salt {
        self.counter += 1;
        Sha256::new()
            .chain_update(b"forewarn/testkit/salt\n")
            .chain_update(self.counter.to_le_bytes())
            .finalize()
            .into()
    }

    /// A fresh deterministic case id.
    pub fn case_id(&mut self) -> CaseId {
        self.counter += 1;
        let h: [u8; 32] = Sha256::new()
            .chain_update(b"forewarn/testkit/case\n")
            .chain_update(self.counter.to_le_bytes())
            .finalize()
            .into();
        let mut id = [0; 16];
        id.copy_from_slice(&h[..16]);
        CaseId(id)
    }

    /// Appends a record with explicit times and signer. Returns its index.
    pub fn append_statement(
        &mut self,
        key: &SigningKey,
        statement: &Statement,
        logged_at: Millis,
    ) -> Cite {
        let signed = statement.sign(key).expect("statement under 64 KiB");
        self.append_raw(signed.bytes, signed.signature, logged_at)
    }

    /// Appends already-signed statement bytes.
    pub fn append_raw(
        &mut self,
        statement: Vec<u8>,
        signature: [u8; 64],
        logged_at: Millis,
    ) -> Cite {
        let record = Record {
            version: RECORD_VERSION,
            index: self.size,
            prev: self.prev,
            logged_at,
            statement,
            signature,
        };
        let bytes = record.to_bytes().expect("record under 64 KiB");
        let leaf = leaf_hash(&bytes);
        self.prev = leaf;
        if self.keep_leaves {
            self.leaves.push(leaf);
        }
        self.records.push(bytes);
        self.last_logged = self.last_logged.max(logged_at);
        self.size += 1;
        Cite::new(self.size - 1, leaf)
    }

    /// Signs `event` at the current time with `key` and logs it
    /// `log_delay` later (never before the previous record).
    pub fn submit_with_key(&mut self, key: &SigningKey, event: Event) -> Cite {
        let st = self.statement(event, key);
        let logged = (self.now + self.log_delay).max(self.last_logged);
        self.append_statement(key, &st, logged)
    }

    /// Signs `event` as `actor` at the current time.
    pub fn submit(&mut self, actor: &Actor, event: Event) -> Cite {
        self.submit_with_key(&actor.key.clone(), event)
    }

    /// Registers a party whose key is derived from its name.
    pub fn party(&mut self, name: &str, class: PartyClass) -> Actor {
        let key = test_key(name);
        let id = self.submit_with_key(
            &key,
            Event::PartyRegistered {
                name: name.to_string(),
                class,
                key: PublicKey(key.verifying_key().to_bytes()),
            },
        );
        Actor {
            id: id.party(),
            registration: id,
            key,
            class,
            name: name.to_string(),
        }
    }

    /// Adds a key (derived from `label`) to `actor`'s party and returns
    /// the actor using the new key.
    pub fn add_key(&mut self, actor: &Actor, label: &str) -> Actor {
        let key = test_key(label);
        let possession = prove_possession(&self.origin, &actor.registration, &key);
        self.submit(
            actor,
            Event::KeyAdded {
                party: actor.registration,
                key: PublicKey(key.verifying_key().to_bytes()),
                possession,
            },
        );
        Actor {
            key,
            ..actor.clone()
        }
    }

    /// Opens a case with sealed summary and product; returns the case and
    /// the salts (summary, product).
    pub fn open_case(
        &mut self,
        actor: &Actor,
        summary: &str,
        product: &str,
    ) -> (CaseId, Salt, Salt) {
        let case = self.case_id();
        let (s1, s2) = (self.salt(), self.salt());
        let signer = actor.public();
        self.submit(
            actor,
            Event::CaseOpened {
                case,
                summary: Sealed::seal(&summary.to_string(), field(3, 0), &signer, &s1)
                    .expect("small"),
                product: Sealed::seal(&product.to_string(), field(3, 1), &signer, &s2)
                    .expect("small"),
            },
        );
        (case, s1, s2)
    }

    /// `from` notifies registered `to` about `case` with a sealed content hash.
    pub fn notify(
        &mut self,
        from: &Actor,
        case: CaseId,
        to: &Actor,
        level: InfoLevel,
        embargo: Option<Cite>,
    ) -> Cite {
        let salt = self.salt();
        let signer = from.public();
        self.submit(
            from,
            Event::Notified {
                case,
                recipient: to.as_recipient(),
                level,
                tlp: Tlp::AmberStrict,
                embargo,
                content: Sealed::seal(&[7u8; 32], field(6, 1), &signer, &salt).expect("small"),
                channel: Channel::EncryptedEmail,
            },
        )
    }

    /// `by` acknowledges notice `notice`, received `received_at`.
    pub fn ack(&mut self, by: &Actor, notice: Cite, received_at: Millis) -> Cite {
        self.submit(
            by,
            Event::Acknowledged {
                notice,
                received_at,
            },
        )
    }

    /// Audits every record built so far (they must not have been drained).
    pub fn audit(&self, config: AuditConfig) -> Result<Auditor, IntegrityFailure> {
        let mut a = Auditor::new(AuditConfig {
            origin: config.origin.or_else(|| Some(self.origin.clone())),
            ..config
        });
        for r in &self.records {
            a.push(r)?;
        }
        Ok(a)
    }
}
