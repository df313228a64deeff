//! `forewarn demo`: builds a realistic ledger from scratch on the embedded
//! store, audits it, and explains the who-knew-when reports.
//!
//! Three cases, told as a story in 2026: a clean coordinated disclosure; an
//! embargo extended twice and then broken by a leak; and a flaw that a
//! government agency and the vendor's early-warning programme heard of weeks
//! before the fix, with one notice logged late. Statements carry the story's
//! times; the log's clock follows the story, a few minutes behind each step
//! (ten days behind for the late notice).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ed25519_dalek::SigningKey;
use forewarn_ledger::sealed::FieldTag;
use forewarn_ledger::statement::Statement;
use forewarn_ledger::*;
use forewarn_store::{Store, StoreConfig};

use crate::cli::files::write_new_file;
use crate::cli::ledger::{open_store, store_failure};
use crate::cli::output::outln;
use crate::cli::time::{format_time, parse_time};
use crate::cli::{Failure, Outcome};
use crate::cmd::report::{print_case, print_summary};

const MARKER: &str = ".forewarn-demo";
const MINUTE: u64 = 60_000;
/// Wire tags of the events whose fields the demo seals (docs/FORMAT.md §12).
const CASE_OPENED: u8 = 3;
const NOTIFIED: u8 = 6;
const IDENTIFIER_ASSIGNED: u8 = 12;

struct Actor {
    /// Its registration record.
    id: Cite,
    key: SigningKey,
}

struct Story {
    store: Store,
    receipts: std::path::PathBuf,
    clock: Arc<AtomicU64>,
    now: Millis,
    log_delay: Millis,
    salts: Vec<(Cite, u8, [u8; 32], Vec<u8>)>,
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("the operating system gave no randomness");
    b
}

impl Actor {
    fn public(&self) -> PublicKey {
        PublicKey(self.key.verifying_key().to_bytes())
    }
}

impl Story {
    fn at(&mut self, when: &str) {
        self.now = parse_time(when).expect("story times are valid");
    }

    fn append(&mut self, actor: &Actor, event: Event) -> Cite {
        self.append_with(&actor.key, event)
    }

    /// Signs `event` with `key`, appends it, and returns its citation.
    fn append_with(&mut self, key: &SigningKey, event: Event) -> Cite {
        let st = Statement::new(
            self.store.origin(),
            event,
            self.now,
            PublicKey(key.verifying_key().to_bytes()),
        );
        let signed = st.sign(key).expect("small statements");
        self.clock
            .store(self.now + self.log_delay, Ordering::SeqCst);
        let result = self
            .store
            .append(&[signed])
            .expect("the store accepts writes")
            .remove(0);
        let receipt =
            result.unwrap_or_else(|r| panic!("the demo's own statement was refused: {r}"));
        let _ = std::fs::write(
            self.receipts.join(format!("{}.tlog-proof", receipt.index)),
            &receipt.proof,
        );
        self.now += MINUTE;
        Cite::new(receipt.index, statement::leaf_hash(&receipt.record))
    }

    /// Seals `value` as field `field` of an event with wire tag `event`
    /// signed by `by`.
    fn seal(
        &mut self,
        value: &str,
        event: u8,
        field: u8,
        by: &Actor,
    ) -> (Sealed<String>, [u8; 32], Vec<u8>) {
        let salt = random::<32>();
        let bytes = encoding::encode(&value.to_string()).expect("small");
        (
            Sealed::seal(
                &value.to_string(),
                FieldTag { event, field },
                &by.public(),
                &salt,
            )
            .expect("small"),
            salt,
            bytes,
        )
    }

    fn register(&mut self, name: &str, class: PartyClass, keys: &Path) -> Actor {
        let key = SigningKey::from_bytes(&random::<32>());
        let id = self.append_with(
            &key,
            Event::PartyRegistered {
                name: name.to_string(),
                class,
                key: PublicKey(key.verifying_key().to_bytes()),
            },
        );
        // Save the key so the user can continue the story with the CLI.
        let stem: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        let note_key = forewarn_tlog::note::SignerKey::from_seed(
            &format!("{stem}.demo"),
            forewarn_tlog::note::SignatureType::Ed25519,
            &key.to_bytes(),
        )
        .expect("valid name");
        let mut text = note_key.to_text();
        text.push('\n');
        let _ = write_new_file(&keys.join(format!("{stem}.key")), text.as_bytes(), true);
        Actor { id, key }
    }

    fn open_case(&mut self, vendor: &Actor, summary: &str, product: &str) -> (CaseId, Cite) {
        let case = CaseId(random::<16>());
        let (s, s_salt, s_bytes) = self.seal(summary, CASE_OPENED, 0, vendor);
        let (p, p_salt, p_bytes) = self.seal(product, CASE_OPENED, 1, vendor);
        let r = self.append(
            vendor,
            Event::CaseOpened {
                case,
                summary: s,
                product: p,
            },
        );
        self.salts.push((r, 0, s_salt, s_bytes));
        self.salts.push((r, 1, p_salt, p_bytes));
        (case, r)
    }

    fn notify(
        &mut self,
        from: &Actor,
        case: CaseId,
        to: &Actor,
        level: InfoLevel,
        embargo: Option<Cite>,
    ) -> Cite {
        let salt = random::<32>();
        let content = FieldTag {
            event: NOTIFIED,
            field: 1,
        };
        self.append(
            from,
            Event::Notified {
                case,
                recipient: Counterparty::Party(to.id),
                level,
                tlp: Tlp::AmberStrict,
                embargo,
                content: Sealed::seal(&random::<32>(), content, &from.public(), &salt)
                    .expect("small"),
                channel: Channel::EncryptedEmail,
            },
        )
    }

    /// The recipient countersigns, saying it received the notice
    /// `minutes` after it was sent.
    fn ack(&mut self, by: &Actor, notice: Cite, minutes: u64) -> Cite {
        let record = self
            .store
            .record(notice.record.0)
            .expect("readable")
            .expect("exists");
        let sent = Statement::from_bytes(&Record::from_bytes(&record).expect("valid").statement)
            .expect("valid")
            .claimed_at;
        let received_at = sent + minutes * MINUTE;
        self.now = self.now.max(received_at);
        self.append(
            by,
            Event::Acknowledged {
                notice,
                received_at,
            },
        )
    }

    fn reveal(&mut self, by: &Actor, record: Cite) {
        let fields: Vec<_> = self
            .salts
            .iter()
            .filter(|s| s.0 == record)
            .cloned()
            .collect();
        for (record, field, salt, value) in fields {
            self.append(
                by,
                Event::Opening {
                    record,
                    field,
                    salt,
                    value,
                },
            );
        }
    }
}

/// The demo's policy: CERT/CC's thresholds plus the EU CRA clocks.
pub fn demo_policy() -> AuditPolicy {
    AuditPolicy {
        name: "cert-cc + eu-cra clocks".into(),
        cra: true,
        ..AuditPolicy::preset("cert-cc").expect("preset")
    }
}

/// What a demo directory may hold: what `build` writes, and what the
/// commands its closing lines suggest add (`export --to DIR/public`, a
/// reveal's salt file, the store's rollback-mark swap).
const DEMO_ENTRIES: &[&str] = &[
    MARKER,
    "db",
    "keys",
    "receipts",
    "public",
    "salts",
    "log.key",
    "log.vkey",
    "checkpoint.mark",
    "checkpoint.mark.old",
    "checkpoint.mark.tmp",
];

/// The names in `dir` that a demo does not write.
fn foreign_entries(dir: &Path) -> Result<Vec<String>, Failure> {
    let read = std::fs::read_dir(dir).map_err(|e| {
        Failure::input(
            format!("cannot read {}: {e}", dir.display()),
            "pass another --dir",
        )
    })?;
    let mut foreign = Vec::new();
    for entry in read {
        let name = entry
            .map_err(|e| {
                Failure::input(
                    format!("cannot read {}: {e}", dir.display()),
                    "pass another --dir",
                )
            })?
            .file_name()
            .to_string_lossy()
            .into_owned();
        if !DEMO_ENTRIES.contains(&name.as_str()) {
            foreign.push(name);
        }
    }
    foreign.sort();
    Ok(foreign)
}

/// Builds the demo ledger in `dir`; returns the store (closed by the caller).
pub fn build(dir: &Path) -> Result<Store, Failure> {
    if dir.exists() {
        if !dir.join(MARKER).exists() {
            return Err(Failure::input(
                format!("{} exists and is not a forewarn demo", dir.display()),
                "pass another --dir, or remove it",
            ));
        }
        // The marker alone does not make a directory the demo's: anyone can
        // plant it. Replace only a directory that holds nothing but what a
        // demo (and the commands its closing lines suggest) write.
        let foreign = foreign_entries(dir)?;
        if !foreign.is_empty() {
            return Err(Failure::input(
                format!(
                    "{} holds files a demo did not write ({}); not replacing it",
                    dir.display(),
                    foreign.join(", ")
                ),
                "pass another --dir, or remove it by hand",
            ));
        }
        std::fs::remove_dir_all(dir).map_err(|e| {
            Failure::input(
                format!("cannot remove the old demo in {}: {e}", dir.display()),
                "remove it by hand",
            )
        })?;
    }
    let clock = Arc::new(AtomicU64::new(parse_time("2026-01-05").expect("valid")));
    let c = clock.clone();
    let config = StoreConfig {
        clock: Arc::new(move || c.load(Ordering::SeqCst)),
        ..StoreConfig::default()
    };
    let store = Store::init(dir, "demo.forewarn.example/ledger", &random::<32>(), config)
        .map_err(store_failure)?;
    std::fs::write(
        dir.join(MARKER),
        "built by `forewarn demo`; safe to delete\n",
    )
    .map_err(|e| {
        Failure::input(
            format!("cannot write in {}: {e}", dir.display()),
            "check the directory",
        )
    })?;
    let keys = dir.join("keys");
    std::fs::create_dir_all(&keys).map_err(|e| {
        Failure::input(
            format!("cannot create {}: {e}", keys.display()),
            "check the directory",
        )
    })?;
    let receipts = dir.join("receipts");
    std::fs::create_dir_all(&receipts).map_err(|e| {
        Failure::input(
            format!("cannot create {}: {e}", receipts.display()),
            "check the directory",
        )
    })?;
    let mut s = Story {
        store,
        receipts,
        clock,
        now: 0,
        log_delay: 2 * MINUTE,
        salts: Vec::new(),
    };

    s.at("2026-01-05T09:00:00Z");
    let acme = s.register("Acme Software", PartyClass::Vendor, &keys);
    let mara = s.register("Mara Okafor", PartyClass::Finder, &keys);
    let cert = s.register("CERT-Nordland", PartyClass::Coordinator, &keys);
    let ministry = s.register(
        "Nordland Ministry of Interior",
        PartyClass::Government,
        &keys,
    );
    let globex = s.register("Acme Early Warning: Globex", PartyClass::Program, &keys);
    let initech = s.register("Acme Early Warning: Initech", PartyClass::Program, &keys);
    let fennix = s.register("Fennix Linux security team", PartyClass::Vendor, &keys);
    let bank = s.register("Big Bank plc", PartyClass::Deployer, &keys);
    let hospital = s.register("Northwind Hospital", PartyClass::Deployer, &keys);

    // The three cases interleave in time; the log sequences them in order.
    // Case 1 (a clean coordinated disclosure) begins.
    s.at("2026-01-10T10:00:00Z");
    let (c1, c1_open) = s.open_case(
        &acme,
        "heap overflow in the TLS record parser",
        "acme-server 4.2",
    );
    s.append(
        &acme,
        Event::ReportReceived {
            case: c1,
            reporter: Counterparty::Party(mara.id),
            report: Sealed::Clear([0x11; 32]),
        },
    );
    s.append(&acme, Event::ReportAcknowledged { case: c1 });
    s.at("2026-01-11T09:00:00Z");
    let e1 = s.append(
        &acme,
        Event::EmbargoProposed {
            case: c1,
            ends_at: parse_time("2026-02-24T12:00:00Z").expect("valid"),
        },
    );
    s.append(&mara, Event::EmbargoAccepted { embargo: e1 });
    s.at("2026-01-12T08:00:00Z");
    let n = s.notify(&acme, c1, &cert, InfoLevel::Details, Some(e1));
    s.ack(&cert, n, 70);
    // Told of the case, the CERT joins its embargo.
    s.append(&cert, Event::EmbargoAccepted { embargo: e1 });
    s.at("2026-01-20T14:00:00Z");
    let (cve, cve_salt, cve_bytes) = s.seal("CVE-2026-10001", IDENTIFIER_ASSIGNED, 0, &acme);
    let c1_cve = s.append(
        &acme,
        Event::IdentifierAssigned {
            case: c1,
            scheme: IdScheme::Cve,
            value: cve,
        },
    );
    s.salts.push((c1_cve, 0, cve_salt, cve_bytes));

    // Case 2 (an embargo extended twice, then broken by a leak) begins.
    s.at("2026-02-01T09:00:00Z");
    let (c2, c2_open) = s.open_case(
        &acme,
        "authentication bypass in the admin console",
        "acme-portal 2.x",
    );
    s.append(
        &acme,
        Event::ReportReceived {
            case: c2,
            reporter: Counterparty::Party(mara.id),
            report: Sealed::Clear([0x22; 32]),
        },
    );
    let e2 = s.append(
        &acme,
        Event::EmbargoProposed {
            case: c2,
            ends_at: parse_time("2026-02-15T09:00:00Z").expect("valid"),
        },
    );
    let n = s.notify(&acme, c2, &cert, InfoLevel::Details, Some(e2));
    s.ack(&cert, n, 15);
    s.append(&cert, Event::EmbargoAccepted { embargo: e2 });
    let n = s.notify(&acme, c2, &fennix, InfoLevel::Details, Some(e2));
    s.ack(&fennix, n, 600);

    // Case 1: fix ready; the distribution and the customers are told.
    s.at("2026-02-10T10:00:00Z");
    s.append(&acme, Event::FixReady { case: c1 });
    let n = s.notify(&acme, c1, &fennix, InfoLevel::Details, Some(e1));
    s.ack(&fennix, n, 45);
    s.at("2026-02-11T09:00:00Z");
    let nb = s.notify(&acme, c1, &bank, InfoLevel::Existence, Some(e1));
    let nh = s.notify(&acme, c1, &hospital, InfoLevel::Existence, Some(e1));
    s.ack(&bank, nb, 240);
    s.ack(&hospital, nh, 390);

    // Case 2: first extension.
    s.at("2026-02-14T16:00:00Z");
    s.append(
        &acme,
        Event::EmbargoRevised {
            embargo: e2,
            ends_at: parse_time("2026-03-01T09:00:00Z").expect("valid"),
        },
    );

    // Case 1: fix released, published at the embargo's end, sealed fields opened.
    s.at("2026-02-23T12:00:00Z");
    s.append(&acme, Event::FixReleased { case: c1 });
    s.at("2026-02-24T12:00:00Z");
    s.append(
        &acme,
        Event::EmbargoTerminated {
            embargo: e1,
            reason: TerminationReason::PlannedEnd,
        },
    );
    s.append(
        &acme,
        Event::PubliclyDisclosed {
            case: c1,
            url: "https://acme.example/advisories/ASA-2026-001.json".into(),
            sha256: [0xa1; 32],
        },
    );
    s.reveal(&acme, c1_open);
    s.reveal(&acme, c1_cve);

    // Case 2: second extension.
    s.at("2026-02-28T16:00:00Z");
    s.append(
        &acme,
        Event::EmbargoRevised {
            embargo: e2,
            ends_at: parse_time("2026-03-15T09:00:00Z").expect("valid"),
        },
    );

    // Case 3 (the ministry and the programme told weeks before the fix) begins.
    s.at("2026-03-02T09:00:00Z");
    let (c3, _) = s.open_case(
        &acme,
        "remote code execution in the update service",
        "acme-agent 7",
    );
    s.at("2026-03-03T11:00:00Z");
    let n = s.notify(&acme, c3, &ministry, InfoLevel::Exploit, None);
    s.ack(&ministry, n, 25);
    s.at("2026-03-04T09:00:00Z");
    let ng = s.notify(&acme, c3, &globex, InfoLevel::Details, None);
    s.notify(&acme, c3, &initech, InfoLevel::Details, None);
    s.ack(&globex, ng, 50);

    // Case 2: the leak. An exploit is published, the embargo ends, the
    // advisory goes out before any fix, and attacks follow.
    s.at("2026-03-05T07:00:00Z");
    s.append(&mara, Event::ExploitPublic { case: c2 });
    s.at("2026-03-05T08:00:00Z");
    s.append(
        &acme,
        Event::EmbargoTerminated {
            embargo: e2,
            reason: TerminationReason::Leak,
        },
    );
    s.append(
        &acme,
        Event::PubliclyDisclosed {
            case: c2,
            url: "https://acme.example/advisories/ASA-2026-002.json".into(),
            sha256: [0xa2; 32],
        },
    );
    s.at("2026-03-06T10:00:00Z");
    s.append(&cert, Event::ExploitationObserved { case: c2 });
    s.at("2026-03-08T11:00:00Z");
    s.append(
        &acme,
        Event::RegulatoryReport {
            case: c2,
            stage: RegulatoryStage::EarlyWarning,
            authority: "ENISA".into(),
        },
    );
    s.at("2026-03-09T10:00:00Z");
    s.append(&acme, Event::FixReady { case: c2 });
    s.at("2026-03-10T08:00:00Z");
    s.append(&acme, Event::FixReleased { case: c2 });
    s.reveal(&acme, c2_open);

    // Case 3: a notice to the CERT, claimed on the 10th but logged ten days later.
    s.at("2026-03-10T09:00:00Z");
    s.log_delay = 10 * 24 * 60 * MINUTE;
    s.notify(&acme, c3, &cert, InfoLevel::Details, None);
    s.log_delay = 2 * MINUTE;

    // Case 3: the fix, and only now the customers; published without
    // opening the sealed summary and product.
    s.at("2026-04-14T10:00:00Z");
    s.append(&acme, Event::FixReady { case: c3 });
    s.at("2026-04-15T09:00:00Z");
    let nb = s.notify(&acme, c3, &bank, InfoLevel::Existence, None);
    s.notify(&acme, c3, &hospital, InfoLevel::Existence, None);
    s.ack(&bank, nb, 35);
    s.at("2026-04-16T12:00:00Z");
    s.append(&acme, Event::FixReleased { case: c3 });
    s.append(
        &acme,
        Event::PubliclyDisclosed {
            case: c3,
            url: "https://acme.example/advisories/ASA-2026-003.json".into(),
            sha256: [0xa3; 32],
        },
    );
    let _ = (c3, initech);
    Ok(s.store)
}

/// `forewarn demo`
pub fn run(dir: &Path) -> Outcome {
    outln!("forewarn demo: who learned of each flaw, and when.");
    outln!();
    outln!(
        "Building a ledger in {} on the embedded store. Every step below is a statement",
        dir.display()
    );
    outln!("signed by the party that took it, sequenced into an append-only Merkle log whose");
    outln!("checkpoints the log key signs. Nine parties: a vendor (Acme), a finder, a national");
    outln!("CERT, a government ministry, two members of Acme's early-warning programme, a Linux");
    outln!("distribution and two large customers. Three cases in 2026:");
    outln!("  1. a clean coordinated disclosure;");
    outln!("  2. an embargo extended twice, then broken by a leak;");
    outln!(
        "  3. the ministry and the programme told weeks before the fix, one notice logged late."
    );
    outln!();
    let store = build(dir)?;
    let size = store.size();
    let vkey = store.vkey().to_string();
    store.close().map_err(store_failure)?;
    outln!(
        "{size} records appended, each with a receipt (c2sp.org/tlog-proof) the recipient can check offline."
    );
    outln!();
    // Audit it exactly as a watchdog would: replay every record from disk.
    let policy = demo_policy();
    let store = open_store(dir, true)?;
    let mut auditor = Auditor::new(AuditConfig {
        policy: policy.clone(),
        origin: Some(store.origin().to_string()),
        ..AuditConfig::default()
    });
    for r in store.records(0, size) {
        let r = r.map_err(store_failure)?;
        auditor
            .push(&r)
            .map_err(|f| Failure::integrity(format!("integrity failure: {f}"), None))?;
    }
    auditor
        .verify_checkpoint(store.checkpoint(), store.vkey(), None)
        .map_err(|f| Failure::integrity(format!("integrity failure: {f}"), None))?;
    let as_of = parse_time("2026-09-01").expect("valid");
    let report = report::build(auditor.state(), &policy, as_of, &auditor.root());
    outln!(
        "AUDIT: integrity ok — {size} records; every hash, chain link, signature, key and reference checked,"
    );
    outln!(
        "and the Merkle root equals the signed checkpoint. Policy: {} (deadlines as of {}).",
        policy.name,
        format_time(as_of)
    );
    outln!();
    outln!("WHO KNEW, AND WHEN. For each case: every party that acted on it or was told, how it");
    outln!("learned, the claimed time, the information level, its countersigned acknowledgement,");
    outln!("and how many days before publication (P) and the fix release (D) it knew.");
    outln!();
    for c in &report.cases {
        print_case(c, &report);
    }
    print_summary(&report.summary);
    outln!();
    outln!(
        "Sealed values (summaries, products, CVE ids) stay commitments until their sender opens"
    );
    outln!(
        "them: cases 1 and 2 were opened after publication, case 3 was not, which the policy flags."
    );
    outln!();
    outln!("Next:");
    outln!(
        "  forewarn audit --dir {} --policy cert-cc          # the full audit, --json for machines",
        dir.display()
    );
    outln!("  forewarn report summary --dir {}", dir.display());
    outln!(
        "  forewarn export --dir {} --to {}/public      # static C2SP tiles any web server can host",
        dir.display(),
        dir.display()
    );
    outln!(
        "  forewarn audit --tiles {}/public --vkey {}/log.vkey",
        dir.display(),
        dir.display()
    );
    outln!(
        "  forewarn proof verify --vkey {}/log.vkey {}/receipts/42.tlog-proof   # a receipt, checked offline",
        dir.display(),
        dir.display()
    );
    outln!(
        "The parties' keys are in {}/keys/; the log key is {vkey}.",
        dir.display()
    );
    Ok(())
}
