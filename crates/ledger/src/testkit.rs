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
use sha2::{Digest, Sha256};

use crate::auditor::{AuditConfig, Auditor};
use crate::event::{Counterparty, Event};
use crate::finding::IntegrityFailure;
use crate::sealed::{Salt, Sealed};
use crate::statement::{RECORD_VERSION, Record, Statement, leaf_hash};
use crate::types::*;

/// A registered party and its current key.
#[derive(Clone, Debug)]
pub struct Actor {
    /// Party id (index of its registration record).
    pub id: PartyId,
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
        Counterparty::Party(self.id)
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

/// Builds a log record by record.
#[derive(Clone, Debug)]
pub struct Scenario {
    records: Vec<Vec<u8>>,
    leaves: Vec<[u8; 32]>,
    keep_leaves: bool,
    prev: [u8; 32],
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

impl Default for Scenario {
    fn default() -> Scenario {
        Scenario::new(START)
    }
}

impl Scenario {
    /// An empty log whose clock starts at `start`.
    pub fn new(start: Millis) -> Scenario {
        Scenario {
            records: Vec::new(),
            leaves: Vec::new(),
            keep_leaves: true,
            prev: [0; 32],
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
    pub fn leaf(&self, i: RecordRef) -> [u8; 32] {
        self.leaves[i as usize]
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
    ) -> RecordRef {
        let signed = statement.sign(key).expect("statement under 64 KiB");
        self.append_raw(signed.bytes, signed.signature, logged_at)
    }

    /// Appends already-signed statement bytes.
    pub fn append_raw(
        &mut self,
        statement: Vec<u8>,
        signature: [u8; 64],
        logged_at: Millis,
    ) -> RecordRef {
        let record = Record {
            version: RECORD_VERSION,
            index: self.size,
            prev: self.prev,
            logged_at,
            statement,
            signature,
        };
        let bytes = record.to_bytes().expect("record under 64 KiB");
        let leaf = leaf_hash(&bytes).0;
        self.prev = leaf;
        if self.keep_leaves {
            self.leaves.push(leaf);
        }
        self.records.push(bytes);
        self.last_logged = self.last_logged.max(logged_at);
        self.size += 1;
        self.size - 1
    }

    /// Signs `event` at the current time with `key` and logs it
    /// `log_delay` later (never before the previous record).
    pub fn submit_with_key(&mut self, key: &SigningKey, event: Event) -> RecordRef {
        let st = Statement::new(event, self.now, PublicKey(key.verifying_key().to_bytes()));
        let logged = (self.now + self.log_delay).max(self.last_logged);
        self.append_statement(key, &st, logged)
    }

    /// Signs `event` as `actor` at the current time.
    pub fn submit(&mut self, actor: &Actor, event: Event) -> RecordRef {
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
            id,
            key,
            class,
            name: name.to_string(),
        }
    }

    /// Adds a key (derived from `label`) to `actor`'s party and returns
    /// the actor using the new key.
    pub fn add_key(&mut self, actor: &Actor, label: &str) -> Actor {
        let key = test_key(label);
        self.submit(
            actor,
            Event::KeyAdded {
                key: PublicKey(key.verifying_key().to_bytes()),
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
        self.submit(
            actor,
            Event::CaseOpened {
                case,
                summary: Sealed::seal(&summary.to_string(), &s1).expect("small"),
                product: Sealed::seal(&product.to_string(), &s2).expect("small"),
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
        embargo: Option<RecordRef>,
    ) -> RecordRef {
        let salt = self.salt();
        self.submit(
            from,
            Event::Notified {
                case,
                recipient: to.as_recipient(),
                level,
                tlp: Tlp::AmberStrict,
                embargo,
                content: Sealed::seal(&[7u8; 32], &salt).expect("small"),
                channel: Channel::EncryptedEmail,
            },
        )
    }

    /// `by` acknowledges notice `notice`, received `received_at`.
    pub fn ack(&mut self, by: &Actor, notice: RecordRef, received_at: Millis) -> RecordRef {
        let notice_leaf = self.leaf(notice);
        self.submit(
            by,
            Event::Acknowledged {
                notice,
                notice_leaf,
                received_at,
            },
        )
    }

    /// Audits every record built so far (they must not have been drained).
    pub fn audit(&self, config: AuditConfig) -> Result<Auditor, IntegrityFailure> {
        let mut a = Auditor::new(config);
        for r in &self.records {
            a.push(r)?;
        }
        Ok(a)
    }
}

/// A small deterministic PRNG (SplitMix64) for generated logs.
#[derive(Clone, Debug)]
pub struct Rng(pub u64);

impl Rng {
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Generates a realistic log: `parties` registered parties of every class
/// (some with a second key), then cases with a full disclosure life —
/// report, embargo, notices to registered and unregistered recipients,
/// acknowledgements, identifiers, fix, publication, openings, the
/// occasional exploitation, CRA report, revision and annotation.
#[derive(Clone, Debug)]
pub struct RealisticLog {
    /// The scenario being built.
    pub scenario: Scenario,
    /// Registered actors.
    pub actors: Vec<Actor>,
    rng: Rng,
    cases: u64,
}

impl RealisticLog {
    /// Registers `parties` parties (at least 8).
    pub fn new(seed: u64, parties: usize, keep_leaves: bool) -> RealisticLog {
        let mut scenario = Scenario::new(START);
        if !keep_leaves {
            scenario = scenario.forget_leaves();
        }
        let mut rng = Rng(seed);
        let mut actors = Vec::new();
        for i in 0..parties.max(8) {
            let class = PartyClass::ALL[i % PartyClass::ALL.len()];
            let name = alloc::format!("{}-{seed}-{i}", class.name());
            scenario.advance(1 + rng.below(60_000));
            let mut a = scenario.party(&name, class);
            if rng.chance(20) {
                a = scenario.add_key(&a, &alloc::format!("{name}/key2"));
            }
            actors.push(a);
        }
        RealisticLog {
            scenario,
            actors,
            rng,
            cases: 0,
        }
    }

    fn pick(&mut self, class: PartyClass) -> Actor {
        let of: Vec<&Actor> = self.actors.iter().filter(|a| a.class == class).collect();
        of[self.rng.below(of.len() as u64) as usize].clone()
    }

    /// Adds one case's life (about 15–40 records).
    pub fn add_case(&mut self) {
        self.cases += 1;
        let vendor = self.pick(PartyClass::Vendor);
        let finder = self.pick(PartyClass::Finder);
        let s = &mut self.scenario;
        s.advance(1 + self.rng.below(6 * HOUR_MS));
        let product = alloc::format!("product-{}", self.rng.below(50));
        let (case, sum_salt, prod_salt) = s.open_case(
            &vendor,
            &alloc::format!("memory corruption in parser #{}", self.cases),
            &product,
        );
        let salt = s.salt();
        s.submit(
            &vendor,
            Event::ReportReceived {
                case,
                reporter: finder.as_recipient(),
                report: Sealed::seal(&[1u8; 32], &salt).expect("small"),
            },
        );
        s.hours(2);
        s.submit(&vendor, Event::ReportAcknowledged { case });
        let days = 7 + self.rng.below(40);
        let embargo = s.submit(
            &vendor,
            Event::EmbargoProposed {
                case,
                ends_at: s.now + days * DAY_MS,
            },
        );
        s.hours(1);
        s.submit(&finder, Event::EmbargoAccepted { embargo });
        let cve_salt = s.salt();
        let cve = alloc::format!("CVE-2026-{}", 10000 + self.cases);
        let cve_record = s.submit(
            &vendor,
            Event::IdentifierAssigned {
                case,
                scheme: IdScheme::Cve,
                value: Sealed::seal(&cve, &cve_salt).expect("small"),
            },
        );
        // Notices: registered recipients of several classes, plus one
        // unregistered recipient with a sealed identity.
        let n = 3 + self.rng.below(12);
        let mut pending_acks = Vec::new();
        for _ in 0..n {
            let class = PartyClass::ALL[2 + self.rng.below(5) as usize];
            let to = self.pick(class);
            let s = &mut self.scenario;
            s.advance(1 + self.rng.below(DAY_MS));
            let level = [InfoLevel::Existence, InfoLevel::Details, InfoLevel::Exploit]
                [self.rng.below(3) as usize];
            let r = s.notify(&vendor, case, &to, level, Some(embargo));
            if self.rng.chance(85) {
                pending_acks.push((to, r));
            }
        }
        let s = &mut self.scenario;
        let salt = s.salt();
        let id_salt = s.salt();
        let unregistered = s.submit(
            &vendor,
            Event::Notified {
                case,
                recipient: Counterparty::Unregistered {
                    class: PartyClass::Deployer,
                    identity: Sealed::seal(&"a large customer".to_string(), &id_salt)
                        .expect("small"),
                },
                level: InfoLevel::Existence,
                tlp: Tlp::Amber,
                embargo: Some(embargo),
                content: Sealed::seal(&[2u8; 32], &salt).expect("small"),
                channel: Channel::Portal,
            },
        );
        s.hours(3);
        for (to, r) in pending_acks {
            let received = s.now - self.rng.below(HOUR_MS);
            s.advance(1 + self.rng.below(HOUR_MS));
            s.ack(&to, r, received);
        }
        if self.rng.chance(20) {
            let s = &mut self.scenario;
            s.submit(
                &vendor,
                Event::EmbargoRevised {
                    embargo,
                    ends_at: s.now + (days + 7) * DAY_MS,
                },
            );
        }
        let s = &mut self.scenario;
        s.days(1 + self.rng.below(days / 2));
        s.submit(&vendor, Event::FixReady { case });
        s.days(1 + self.rng.below(days / 2));
        s.submit(&vendor, Event::FixReleased { case });
        s.hours(1);
        s.submit(
            &vendor,
            Event::EmbargoTerminated {
                embargo,
                reason: TerminationReason::PlannedEnd,
            },
        );
        s.submit(
            &vendor,
            Event::PubliclyDisclosed {
                case,
                url: alloc::format!("https://vendor.example/advisories/{}.json", self.cases),
                sha256: [3u8; 32],
            },
        );
        let case_opened = cve_record - 5;
        for (record, field, salt, value) in [
            (
                cve_record,
                0,
                cve_salt,
                crate::encoding::encode(&cve).expect("small"),
            ),
            (
                case_opened,
                0,
                sum_salt,
                crate::encoding::encode(&alloc::format!(
                    "memory corruption in parser #{}",
                    self.cases
                ))
                .expect("small"),
            ),
            (
                case_opened,
                1,
                prod_salt,
                crate::encoding::encode(&product).expect("small"),
            ),
        ] {
            s.submit(
                &vendor,
                Event::Opening {
                    record,
                    field,
                    salt,
                    value,
                },
            );
        }
        let _ = unregistered;
        if self.rng.chance(10) {
            let s = &mut self.scenario;
            s.days(2);
            s.submit(&vendor, Event::ExploitationObserved { case });
            s.hours(10);
            s.submit(
                &vendor,
                Event::RegulatoryReport {
                    case,
                    stage: RegulatoryStage::EarlyWarning,
                    authority: "ENISA".to_string(),
                },
            );
        }
        if self.rng.chance(5) {
            let s = &mut self.scenario;
            s.submit(
                &finder,
                Event::Annotation {
                    record: case_opened,
                    kind: AnnotationKind::Comment,
                    text: "reported on 2026-01-01 by e-mail".to_string(),
                },
            );
        }
    }

    /// Adds cases until the log has at least `records` records.
    pub fn grow_to(&mut self, records: u64) {
        while self.scenario.size() < records {
            self.add_case();
        }
    }
}

/// The golden log: every event kind at least once, with sealed and clear
/// fields, a registered and an unregistered recipient, and a statement
/// carrying a seen-checkpoint. Frozen by `testdata/golden_log.txt` and
/// explained byte by byte in docs/FORMAT.md §14.
pub fn golden_scenario() -> Scenario {
    let mut s = Scenario::default();
    let vendor = s.party("Acme Corp", PartyClass::Vendor);
    let finder = s.party("Jane Finder", PartyClass::Finder);
    let gov = s.party("National CSIRT", PartyClass::Government);
    s.hours(1);
    let vendor2 = s.add_key(&vendor, "Acme Corp/2026");
    let case = CaseId(*b"golden-case-0001");
    let salt = |n: u8| [n; 32];
    s.submit(
        &vendor,
        Event::CaseOpened {
            case,
            summary: Sealed::seal(&"heap overflow in the TLS parser".to_string(), &salt(1))
                .expect("small"),
            product: Sealed::Clear("acme-server 4.2".to_string()),
        },
    );
    s.submit(
        &vendor,
        Event::ReportReceived {
            case,
            reporter: finder.as_recipient(),
            report: Sealed::seal(&[0xaa; 32], &salt(2)).expect("small"),
        },
    );
    s.hours(2);
    s.submit(&vendor, Event::ReportAcknowledged { case });
    let embargo = s.submit(
        &vendor,
        Event::EmbargoProposed {
            case,
            ends_at: s.now + 30 * DAY_MS,
        },
    );
    s.hours(1);
    s.submit(&finder, Event::EmbargoAccepted { embargo });
    s.days(1);
    let notice = s.submit(
        &vendor,
        Event::Notified {
            case,
            recipient: gov.as_recipient(),
            level: InfoLevel::Details,
            tlp: Tlp::AmberStrict,
            embargo: Some(embargo),
            content: Sealed::seal(&[0xbb; 32], &salt(3)).expect("small"),
            channel: Channel::EncryptedEmail,
        },
    );
    s.submit(
        &vendor,
        Event::Notified {
            case,
            recipient: Counterparty::Unregistered {
                class: PartyClass::Deployer,
                identity: Sealed::seal(&"Big Bank plc".to_string(), &salt(4)).expect("small"),
            },
            level: InfoLevel::Existence,
            tlp: Tlp::Amber,
            embargo: Some(embargo),
            content: Sealed::Clear([0xcc; 32]),
            channel: Channel::Portal,
        },
    );
    s.hours(3);
    let received = s.now - HOUR_MS;
    s.ack(&gov, notice, received);
    s.days(2);
    s.submit(
        &vendor,
        Event::EmbargoRevised {
            embargo,
            ends_at: s.now + 35 * DAY_MS,
        },
    );
    let cve = "CVE-2026-12345".to_string();
    let cve_record = s.submit(
        &vendor,
        Event::IdentifierAssigned {
            case,
            scheme: IdScheme::Cve,
            value: Sealed::seal(&cve, &salt(5)).expect("small"),
        },
    );
    s.days(10);
    s.submit(&vendor2, Event::FixReady { case });
    s.days(5);
    s.submit(&vendor2, Event::FixReleased { case });
    s.submit(
        &vendor2,
        Event::EmbargoTerminated {
            embargo,
            reason: TerminationReason::PlannedEnd,
        },
    );
    s.submit(
        &vendor2,
        Event::PubliclyDisclosed {
            case,
            url: "https://acme.example/advisories/ASA-2026-001.json".to_string(),
            sha256: [0xdd; 32],
        },
    );
    s.days(3);
    s.submit(&finder, Event::ExploitPublic { case });
    s.days(1);
    s.submit(&vendor2, Event::ExploitationObserved { case });
    s.hours(20);
    s.submit(
        &vendor2,
        Event::RegulatoryReport {
            case,
            stage: RegulatoryStage::EarlyWarning,
            authority: "ENISA".to_string(),
        },
    );
    s.submit(
        &vendor2,
        Event::Opening {
            record: cve_record,
            field: 0,
            salt: salt(5),
            value: crate::encoding::encode(&cve).expect("small"),
        },
    );
    // An annotation whose signer states the tree it had seen.
    let seen = crate::statement::SeenCheckpoint {
        size: 20,
        root: [0xee; 32],
    };
    let mut st = Statement::new(
        Event::Annotation {
            record: notice,
            kind: AnnotationKind::Comment,
            text: "received via the CSIRT's PGP key".to_string(),
        },
        s.now,
        gov.public(),
    );
    st.seen = Some(seen);
    let logged = s.now + s.log_delay;
    s.append_statement(&gov.key, &st, logged);
    s.days(1);
    s.submit(
        &vendor2,
        Event::KeyRevoked {
            key: vendor.public(),
            effective_at: s.now,
        },
    );
    s
}
