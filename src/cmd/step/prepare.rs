//! From a step on the command line to the events to sign: looks up
//! parties and records in the ledger and cites them by index and leaf hash
//! (docs/FORMAT.md §11), seals fields with fresh salts bound to their
//! field and to the signer (§15), reads the files a step names. Every
//! statement names the ledger's origin, so it means nothing in another log.

use std::path::PathBuf;

use ed25519_dalek::SigningKey;
use forewarn_ledger::encoding;
use forewarn_ledger::sealed::FieldTag;
use forewarn_ledger::statement::{SignedStatement, Statement, leaf_hash, prove_possession};
use forewarn_ledger::*;
use forewarn_store::Store;
use sha2::{Digest, Sha256};

use super::*;
use crate::cli::Failure;
use crate::cli::files::{load_signer, public_key_file, sha256_file};
use crate::cli::formats::read_salts;
use crate::cli::ledger::{DAMAGED_HINT, parse_case, random_bytes, store_failure};
use crate::cli::time::{Millis, now, parse_time, parse_time_or_after};
use forewarn_ledger::salt_file::SaltEntry;

/// Wire tags of the events that seal fields (docs/FORMAT.md §12).
const CASE_OPENED: u8 = 3;
const REPORT_RECEIVED: u8 = 4;
const NOTIFIED: u8 = 6;
const IDENTIFIER_ASSIGNED: u8 = 12;

/// One or more statements ready to sign, with their sealed values.
pub(crate) struct Prepared {
    key: SigningKey,
    /// The ledger's origin, which every statement names.
    origin: String,
    claimed: Millis,
    events: Vec<(Event, Vec<SaltEntry>)>,
    pub(crate) dir: PathBuf,
}

/// Seals `value` as field `field.field` of an event with tag
/// `field.event`, signed by `signer`, under a fresh salt (unless `clear`).
fn seal_string(
    field: FieldTag,
    signer: &PublicKey,
    value: &str,
    clear: bool,
    salts: &mut Vec<SaltEntry>,
) -> Result<Sealed<String>, Failure> {
    if clear {
        return Ok(Sealed::Clear(value.to_string()));
    }
    let salt = random_bytes::<32>()?;
    let bytes = encoding::encode(&value.to_string())
        .map_err(|e| Failure::input(e.to_string(), "shorten the text"))?;
    salts.push(SaltEntry {
        field: field.field,
        salt,
        value: bytes,
    });
    Sealed::seal(&value.to_string(), field, signer, &salt)
        .map_err(|e| Failure::input(e.to_string(), "shorten the text"))
}

fn seal_hash(
    field: FieldTag,
    signer: &PublicKey,
    value: [u8; 32],
    salts: &mut Vec<SaltEntry>,
) -> Result<Sealed<[u8; 32]>, Failure> {
    let salt = random_bytes::<32>()?;
    salts.push(SaltEntry {
        field: field.field,
        salt,
        value: value.to_vec(),
    });
    Sealed::seal(&value, field, signer, &salt)
        .map_err(|e| Failure::input(e.to_string(), "internal"))
}

/// The citation of record `index` (its index and leaf hash, read from the
/// ledger); `flag` names the argument that gave it.
fn cite(store: &Store, index: u64, flag: &str) -> Result<Cite, Failure> {
    let record = read_record(store, index, flag)?;
    Ok(Cite::new(index, leaf_hash(&record)))
}

/// Record `index`, or why there is none; `flag` names the argument.
fn read_record(store: &Store, index: u64, flag: &str) -> Result<Vec<u8>, Failure> {
    store.record(index).map_err(store_failure)?.ok_or_else(|| {
        Failure::input(
            format!(
                "{flag} {index}: the ledger has no record {index} (it holds {} records)",
                store.size()
            ),
            "pass a record number as printed when it was appended (`forewarn report case ID` lists a case's records)",
        )
    })
}

/// The citation of a party's registration record.
fn party_cite(store: &Store, party: PartyId) -> Result<Cite, Failure> {
    let state = store.auditor().state();
    state
        .parties
        .get(&party)
        .map(|p| Cite::new(party.0, p.leaf))
        .ok_or_else(|| {
            Failure::input(
                format!("no party was registered by record {party}"),
                "list the parties with `forewarn report summary`",
            )
        })
}

/// Finds a registered party by name or number: the citation of its
/// registration record.
fn find_party(store: &Store, who: &str) -> Result<Cite, Failure> {
    let parties = &store.auditor().state().parties;
    if let Ok(n) = who.parse::<u64>()
        && parties.contains_key(&PartyId(n))
    {
        return party_cite(store, PartyId(n));
    }
    let matches: Vec<PartyId> = parties
        .iter()
        .filter(|(_, p)| p.name == who)
        .map(|(id, _)| *id)
        .collect();
    match matches.as_slice() {
        [one] => party_cite(store, *one),
        [] => Err(Failure::input(
            format!("no registered party is named {who:?}"),
            "list the parties with `forewarn report summary`; register one with `forewarn party register`",
        )),
        many => Err(Failure::input(
            format!(
                "{} parties are named {who:?} (records {many:?})",
                many.len()
            ),
            "name the party by its number instead",
        )),
    }
}

/// The claimed time: `--at`, or now.
fn claimed(sign: &SignArgs) -> Result<Millis, Failure> {
    match &sign.at {
        None => Ok(now()),
        Some(t) => parse_time(t).map_err(|e| Failure::input(e, "pass --at in UTC")),
    }
}

/// The events of `step` (several for `reveal`, one otherwise), with the
/// salts of the fields they seal, ready to sign with the step's key.
pub(crate) fn prepare(step: &Step, store: &Store) -> Result<Prepared, Failure> {
    let sign = step_sign(step);
    let key = load_signer(&sign.key)?.ed25519().clone();
    let signer = PublicKey(key.verifying_key().to_bytes());
    let origin = store.origin().to_string();
    let at = claimed(sign)?;
    let mut salts = Vec::new();
    let event = match step {
        Step::Party(PartyStep::Register { name, class, .. }) => Event::PartyRegistered {
            name: name.clone(),
            class: (*class).into(),
            key: PublicKey(key.verifying_key().to_bytes()),
        },
        Step::Party(PartyStep::AddKey { new_key, .. }) => {
            // The new key proves possession by signing (origin, party,
            // key): its secret is needed once, here.
            let new_key = load_signer(new_key)?.ed25519().clone();
            let party = own_party(store, &signer)?;
            Event::KeyAdded {
                party,
                key: PublicKey(new_key.verifying_key().to_bytes()),
                possession: prove_possession(&origin, &party, &new_key),
            }
        }
        Step::Party(PartyStep::RevokeKey {
            revoke, effective, ..
        }) => Event::KeyRevoked {
            key: public_key_file(revoke)?,
            effective_at: match effective {
                None => at,
                Some(t) => {
                    parse_time(t).map_err(|e| Failure::input(e, "pass --effective in UTC"))?
                }
            },
        },
        Step::Case(CaseStep::Open {
            summary,
            product,
            clear,
            ..
        }) => Event::CaseOpened {
            case: CaseId(random_bytes::<16>()?),
            summary: seal_string(field(CASE_OPENED, 0), &signer, summary, *clear, &mut salts)?,
            product: seal_string(field(CASE_OPENED, 1), &signer, product, *clear, &mut salts)?,
        },
        Step::Case(CaseStep::Received { case, from, .. }) => {
            let report = Sha256::digest(format!("report for case {case} from {from}")).into();
            Event::ReportReceived {
                case: parse_case(case)?,
                reporter: Counterparty::Party(find_party(store, from)?),
                report: seal_hash(field(REPORT_RECEIVED, 1), &signer, report, &mut salts)?,
            }
        }
        Step::Case(CaseStep::Identifier {
            case,
            scheme,
            value,
            clear,
            ..
        }) => Event::IdentifierAssigned {
            case: parse_case(case)?,
            scheme: IdScheme::from(*scheme),
            value: seal_string(
                field(IDENTIFIER_ASSIGNED, 0),
                &signer,
                value,
                *clear,
                &mut salts,
            )?,
        },
        Step::Notify(a) => {
            let recipient = match (&a.to, a.to_class, &a.to_name) {
                (Some(who), _, _) => Counterparty::Party(find_party(store, who)?),
                (None, Some(class), Some(name)) => Counterparty::Unregistered {
                    class: class.into(),
                    identity: seal_string(field(NOTIFIED, 0), &signer, name, false, &mut salts)?,
                },
                _ => {
                    return Err(Failure::input(
                        "no recipient",
                        "pass --to NAME for a registered party, or --to-class and --to-name",
                    ));
                }
            };
            let content: [u8; 32] = match &a.content {
                Some(p) => sha256_file(p, "notice")?,
                None => Sha256::digest(b"").into(),
            };
            Event::Notified {
                case: parse_case(&a.case)?,
                recipient,
                level: InfoLevel::from(a.level),
                tlp: Tlp::from(a.tlp),
                embargo: a.embargo.map(|e| cite(store, e, "--embargo")).transpose()?,
                content: seal_hash(field(NOTIFIED, 1), &signer, content, &mut salts)?,
                channel: Channel::from(a.channel),
            }
        }
        Step::Ack(a) => Event::Acknowledged {
            notice: cite(store, a.notice, "--notice")?,
            received_at: match &a.received {
                None => at,
                Some(t) => {
                    parse_time(t).map_err(|e| Failure::input(e, "pass --received in UTC"))?
                }
            },
        },
        Step::Embargo(EmbargoStep::Propose { case, ends, .. }) => Event::EmbargoProposed {
            case: parse_case(case)?,
            ends_at: parse_time_or_after(ends, at).map_err(|e| {
                Failure::input(e, "pass --ends as a UTC time or a duration such as 30d")
            })?,
        },
        Step::Embargo(EmbargoStep::Accept { embargo, .. }) => Event::EmbargoAccepted {
            embargo: cite(store, *embargo, "--embargo")?,
        },
        Step::Embargo(EmbargoStep::Revise { embargo, ends, .. }) => Event::EmbargoRevised {
            embargo: cite(store, *embargo, "--embargo")?,
            ends_at: parse_time_or_after(ends, at).map_err(|e| {
                Failure::input(e, "pass --ends as a UTC time or a duration such as 30d")
            })?,
        },
        Step::Embargo(EmbargoStep::Terminate {
            embargo, reason, ..
        }) => Event::EmbargoTerminated {
            embargo: cite(store, *embargo, "--embargo")?,
            reason: TerminationReason::from(*reason),
        },
        Step::Fix(FixStep::Ready(c)) => Event::FixReady {
            case: parse_case(&c.case)?,
        },
        Step::Fix(FixStep::Released(c)) => Event::FixReleased {
            case: parse_case(&c.case)?,
        },
        Step::Exploit(ExploitStep::Public(c)) => Event::ExploitPublic {
            case: parse_case(&c.case)?,
        },
        Step::Exploit(ExploitStep::Observed(c)) => Event::ExploitationObserved {
            case: parse_case(&c.case)?,
        },
        Step::Disclose(a) => Event::PubliclyDisclosed {
            case: parse_case(&a.case)?,
            url: a.url.clone(),
            sha256: match &a.advisory {
                Some(p) => sha256_file(p, "advisory")?,
                None => [0; 32],
            },
        },
        Step::RegulatoryReport(a) => Event::RegulatoryReport {
            case: parse_case(&a.case)?,
            stage: RegulatoryStage::from(a.stage),
            authority: a.authority.clone(),
        },
        Step::Annotate(a) => Event::Annotation {
            record: cite(store, a.record, "--record")?,
            kind: AnnotationKind::from(a.kind),
            text: a.text.clone(),
        },
        Step::Reveal(a) => {
            let record = read_record(store, a.record, "--record")?;
            let sealed = Cite::new(a.record, leaf_hash(&record));
            // The store returned a record that does not decode: damage to
            // the ledger, an integrity failure like every other (exit 3).
            let rec = Record::from_bytes(&record).map_err(|e| {
                Failure::integrity(
                    format!("the ledger is damaged: record {}: {e}", a.record),
                    Some(DAMAGED_HINT.into()),
                )
            })?;
            let known = read_salts(&sign.dir.dir, &rec.statement)?;
            let fields = store.sealed_of(a.record).map_err(store_failure)?;
            let events: Vec<(Event, Vec<SaltEntry>)> = known
                .into_iter()
                .filter(|e| a.field.is_none_or(|x| x == e.field))
                .filter(|e| fields.get(&e.field).is_some_and(|s| s.opened.is_none()))
                .map(|e| {
                    (
                        Event::Opening {
                            record: sealed,
                            field: e.field,
                            salt: e.salt,
                            value: e.value,
                        },
                        Vec::new(),
                    )
                })
                .collect();
            if events.is_empty() {
                return Err(Failure::input(
                    format!("nothing to reveal for record {}", a.record),
                    "the salt file in the ledger directory holds the salts of statements signed there; fields already opened are skipped",
                ));
            }
            return Ok(Prepared {
                key,
                origin,
                claimed: at,
                events,
                dir: sign.dir.dir.clone(),
            });
        }
    };
    Ok(Prepared {
        key,
        origin,
        claimed: at,
        events: vec![(event, salts)],
        dir: sign.dir.dir.clone(),
    })
}

/// The tag of sealed field `field` of events with wire tag `event`.
fn field(event: u8, field: u8) -> FieldTag {
    FieldTag { event, field }
}

/// The registration of the party that `signer` belongs to (a `KeyAdded`
/// names the signer's own party).
fn own_party(store: &Store, signer: &PublicKey) -> Result<Cite, Failure> {
    let state = store.auditor().state();
    let party = state.keys.get(signer).map(|k| k.party).ok_or_else(|| {
        Failure::input(
            "the --key is not a key of any registered party",
            "sign with a current key of your party (`forewarn party register` registers a new party)",
        )
    })?;
    party_cite(store, party)
}

/// The `--key`, `--at` and `--dir` of any step.
pub(crate) fn step_sign(step: &Step) -> &SignArgs {
    match step {
        Step::Party(PartyStep::Register { sign, .. })
        | Step::Party(PartyStep::AddKey { sign, .. })
        | Step::Party(PartyStep::RevokeKey { sign, .. })
        | Step::Case(CaseStep::Open { sign, .. })
        | Step::Case(CaseStep::Received { sign, .. })
        | Step::Case(CaseStep::Identifier { sign, .. })
        | Step::Embargo(EmbargoStep::Propose { sign, .. })
        | Step::Embargo(EmbargoStep::Accept { sign, .. })
        | Step::Embargo(EmbargoStep::Revise { sign, .. })
        | Step::Embargo(EmbargoStep::Terminate { sign, .. }) => sign,
        Step::Notify(a) => &a.sign,
        Step::Ack(a) => &a.sign,
        Step::Fix(FixStep::Ready(c) | FixStep::Released(c)) => &c.sign,
        Step::Exploit(ExploitStep::Public(c) | ExploitStep::Observed(c)) => &c.sign,
        Step::Disclose(a) => &a.sign,
        Step::RegulatoryReport(a) => &a.sign,
        Step::Reveal(a) => &a.sign,
        Step::Annotate(a) => &a.sign,
    }
}

/// Signs each prepared event as a statement.
pub(crate) fn sign_all(p: &Prepared) -> Result<Vec<(SignedStatement, Vec<SaltEntry>)>, Failure> {
    p.events
        .iter()
        .map(|(event, salts)| {
            let st = Statement::new(
                &p.origin,
                event.clone(),
                p.claimed,
                PublicKey(p.key.verifying_key().to_bytes()),
            );
            let signed = st.sign(&p.key).map_err(|e| {
                Failure::input(
                    format!("the statement is too large: {e}"),
                    "shorten the text fields",
                )
            })?;
            Ok((signed, salts.clone()))
        })
        .collect()
}
