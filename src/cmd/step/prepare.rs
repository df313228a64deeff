//! From a step on the command line to the events to sign: looks up
//! parties and records in the ledger, seals fields with fresh salts, reads
//! the files a step names.

use std::path::PathBuf;

use ed25519_dalek::SigningKey;
use forewarn_ledger::encoding;
use forewarn_ledger::statement::{SignedStatement, Statement};
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

/// One or more statements ready to sign, with their sealed values.
pub(crate) struct Prepared {
    key: SigningKey,
    claimed: Millis,
    events: Vec<(Event, Vec<SaltEntry>)>,
    pub(crate) dir: PathBuf,
}

fn seal_string(
    field: u8,
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
        field,
        salt,
        value: bytes,
    });
    Sealed::seal(&value.to_string(), &salt)
        .map_err(|e| Failure::input(e.to_string(), "shorten the text"))
}

fn seal_hash(
    field: u8,
    value: [u8; 32],
    salts: &mut Vec<SaltEntry>,
) -> Result<Sealed<[u8; 32]>, Failure> {
    let salt = random_bytes::<32>()?;
    salts.push(SaltEntry {
        field,
        salt,
        value: value.to_vec(),
    });
    Sealed::seal(&value, &salt).map_err(|e| Failure::input(e.to_string(), "internal"))
}

/// Finds a registered party by name or number.
fn find_party(store: &Store, who: &str) -> Result<PartyId, Failure> {
    let parties = &store.auditor().state().parties;
    if let Ok(n) = who.parse::<u64>()
        && parties.contains_key(&PartyId(n))
    {
        return Ok(PartyId(n));
    }
    let matches: Vec<PartyId> = parties
        .iter()
        .filter(|(_, p)| p.name == who)
        .map(|(id, _)| *id)
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
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
    let at = claimed(sign)?;
    let mut salts = Vec::new();
    let event = match step {
        Step::Party(PartyStep::Register { name, class, .. }) => Event::PartyRegistered {
            name: name.clone(),
            class: (*class).into(),
            key: PublicKey(key.verifying_key().to_bytes()),
        },
        Step::Party(PartyStep::AddKey { new_key, .. }) => Event::KeyAdded {
            key: public_key_file(new_key)?,
        },
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
            summary: seal_string(0, summary, *clear, &mut salts)?,
            product: seal_string(1, product, *clear, &mut salts)?,
        },
        Step::Case(CaseStep::Received { case, from, .. }) => {
            let report = Sha256::digest(format!("report for case {case} from {from}")).into();
            Event::ReportReceived {
                case: parse_case(case)?,
                reporter: Counterparty::Party(find_party(store, from)?),
                report: seal_hash(1, report, &mut salts)?,
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
            value: seal_string(0, value, *clear, &mut salts)?,
        },
        Step::Notify(a) => {
            let recipient = match (&a.to, a.to_class, &a.to_name) {
                (Some(who), _, _) => Counterparty::Party(find_party(store, who)?),
                (None, Some(class), Some(name)) => Counterparty::Unregistered {
                    class: class.into(),
                    identity: seal_string(0, name, false, &mut salts)?,
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
                embargo: a.embargo.map(RecordRef),
                content: seal_hash(1, content, &mut salts)?,
                channel: Channel::from(a.channel),
            }
        }
        Step::Ack(a) => {
            let record = store
                .record(a.notice)
                .map_err(store_failure)?
                .ok_or_else(|| {
                    Failure::input(
                        format!("the ledger has no record {}", a.notice),
                        "pass the record number of the notice, as printed when it was appended",
                    )
                })?;
            Event::Acknowledged {
                notice: RecordRef(a.notice),
                notice_leaf: forewarn_ledger::statement::leaf_hash(&record),
                received_at: match &a.received {
                    None => at,
                    Some(t) => {
                        parse_time(t).map_err(|e| Failure::input(e, "pass --received in UTC"))?
                    }
                },
            }
        }
        Step::Embargo(EmbargoStep::Propose { case, ends, .. }) => Event::EmbargoProposed {
            case: parse_case(case)?,
            ends_at: parse_time_or_after(ends, at).map_err(|e| {
                Failure::input(e, "pass --ends as a UTC time or a duration such as 30d")
            })?,
        },
        Step::Embargo(EmbargoStep::Accept { embargo, .. }) => Event::EmbargoAccepted {
            embargo: RecordRef(*embargo),
        },
        Step::Embargo(EmbargoStep::Revise { embargo, ends, .. }) => Event::EmbargoRevised {
            embargo: RecordRef(*embargo),
            ends_at: parse_time_or_after(ends, at).map_err(|e| {
                Failure::input(e, "pass --ends as a UTC time or a duration such as 30d")
            })?,
        },
        Step::Embargo(EmbargoStep::Terminate {
            embargo, reason, ..
        }) => Event::EmbargoTerminated {
            embargo: RecordRef(*embargo),
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
            record: RecordRef(a.record),
            kind: AnnotationKind::from(a.kind),
            text: a.text.clone(),
        },
        Step::Reveal(a) => {
            let record = store
                .record(a.record)
                .map_err(store_failure)?
                .ok_or_else(|| {
                    Failure::input(
                        format!("the ledger has no record {}", a.record),
                        "pass a record number",
                    )
                })?;
            // The store returned a record that does not decode: damage to
            // the ledger, an integrity failure like every other (exit 3).
            let rec = Record::from_bytes(&record).map_err(|e| {
                Failure::integrity(
                    format!("the ledger is damaged: record {}: {e}", a.record),
                    Some(DAMAGED_HINT.into()),
                )
            })?;
            let known = read_salts(&sign.dir.dir, &rec.statement)?;
            let state = store.auditor().state();
            let events: Vec<(Event, Vec<SaltEntry>)> = known
                .into_iter()
                .filter(|e| a.field.is_none_or(|x| x == e.field))
                .filter(|e| {
                    state
                        .sealed
                        .get(&(RecordRef(a.record), e.field))
                        .is_some_and(|s| s.opened.is_none())
                })
                .map(|e| {
                    (
                        Event::Opening {
                            record: RecordRef(a.record),
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
                claimed: at,
                events,
                dir: sign.dir.dir.clone(),
            });
        }
    };
    Ok(Prepared {
        key,
        claimed: at,
        events: vec![(event, salts)],
        dir: sign.dir.dir.clone(),
    })
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
