//! The ledger commands: each signs one step of a disclosure as a statement
//! with the acting party's key and appends it to the local ledger (or, with
//! `statement sign`, writes it to a file for someone else to append).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use clap::{Args, Subcommand, ValueEnum};
use ed25519_dalek::SigningKey;
use forewarn_ledger::encoding;
use forewarn_ledger::statement::{SignedStatement, Statement};
use forewarn_ledger::*;
use forewarn_store::{Store, StoreConfig};
use sha2::{Digest, Sha256};

use crate::time::{Millis, now, parse_time, parse_time_or_after};
use crate::{Failure, Outcome, load_signer};

/// Where the ledger lives.
#[derive(Args, Clone, Debug)]
pub struct DirArg {
    /// The ledger directory (created by `forewarn init`).
    #[arg(long, default_value = "forewarn-data")]
    pub dir: PathBuf,
}

/// Who signs, and when.
#[derive(Args, Clone, Debug)]
pub struct SignArgs {
    /// The acting party's signing key (the .key file from `forewarn keygen`).
    #[arg(long)]
    pub key: PathBuf,
    /// When the step happened (UTC, e.g. 2026-03-01T09:30:00Z); default: now.
    #[arg(long)]
    pub at: Option<String>,
    #[command(flatten)]
    pub dir: DirArg,
}

/// Party classes on the command line.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ClassArg {
    /// Makes the affected product.
    Vendor,
    /// Found the flaw.
    Finder,
    /// Coordinates disclosure (a CERT).
    Coordinator,
    /// A government agency.
    Government,
    /// Runs the product: a customer or deployer.
    Deployer,
    /// An early-notification or protection programme.
    Program,
    /// Anyone else.
    Other,
}

impl From<ClassArg> for PartyClass {
    fn from(c: ClassArg) -> PartyClass {
        match c {
            ClassArg::Vendor => PartyClass::Vendor,
            ClassArg::Finder => PartyClass::Finder,
            ClassArg::Coordinator => PartyClass::Coordinator,
            ClassArg::Government => PartyClass::Government,
            ClassArg::Deployer => PartyClass::Deployer,
            ClassArg::Program => PartyClass::Program,
            ClassArg::Other => PartyClass::Other,
        }
    }
}

/// Information levels on the command line.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum LevelArg {
    /// That a flaw exists.
    Existence,
    /// Technical details.
    Details,
    /// A working exploit.
    Exploit,
}

/// TLP 2.0 labels on the command line.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum TlpArg {
    /// TLP:CLEAR
    Clear,
    /// TLP:GREEN
    Green,
    /// TLP:AMBER
    Amber,
    /// TLP:AMBER+STRICT
    AmberStrict,
    /// TLP:RED
    Red,
}

/// Channels on the command line.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ChannelArg {
    /// Plain e-mail.
    Email,
    /// Encrypted e-mail.
    EncryptedEmail,
    /// A portal.
    Portal,
    /// An API.
    Api,
    /// A closed mailing list.
    MailingList,
    /// Telephone.
    Phone,
    /// In person.
    InPerson,
    /// Anything else.
    Other,
}

/// Embargo termination reasons on the command line.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ReasonArg {
    /// The agreed end arrived.
    PlannedEnd,
    /// The information leaked.
    Leak,
    /// Attacks were seen.
    ExploitationObserved,
    /// Someone else published.
    PublicElsewhere,
    /// Anything else.
    Other,
}

/// Identifier schemes on the command line.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum SchemeArg {
    /// CVE.
    Cve,
    /// GitHub Security Advisory.
    Ghsa,
    /// OSV.
    Osv,
    /// EU Vulnerability Database.
    Euvd,
    /// The vendor's own advisory id.
    Vendor,
    /// Anything else.
    Other,
}

/// CRA report stages on the command line.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum StageArg {
    /// Art. 14(2)(a) early warning (24 h).
    EarlyWarning,
    /// Art. 14(2)(b) notification (72 h).
    Notification,
    /// Art. 14(2)(c) final report.
    FinalReport,
}

/// Annotation kinds on the command line.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum AnnotationArg {
    /// Corrects the record.
    Correction,
    /// A remark.
    Comment,
    /// Withdraws the record (it stays in the log).
    Retraction,
}

/// The steps of a disclosure, one statement each.
#[derive(Subcommand, Debug)]
pub enum Step {
    /// Parties and their keys.
    #[command(subcommand)]
    Party(PartyStep),
    /// Open a case, record a report, assign an identifier.
    #[command(subcommand)]
    Case(CaseStep),
    /// Record that you told someone about a case (the core event).
    ///
    /// The recipient is a registered party (`--to NAME`) or, if it is not in
    /// the log, a class plus a name that is sealed (`--to-class deployer
    /// --to-name "Big Bank"`). The notice text is sealed as a commitment.
    ///
    /// Example: forewarn notify --key keys/acme.key --case 3f… --to "CERT-Nordland" --level details --embargo 12
    Notify(NotifyArgs),
    /// Countersign a notice you received (by its record number).
    ///
    /// Example: forewarn ack --key keys/cert.key --notice 14
    Ack(AckArgs),
    /// Propose, accept, revise or end an embargo.
    #[command(subcommand)]
    Embargo(EmbargoStep),
    /// Record that a fix is ready or released.
    #[command(subcommand)]
    Fix(FixStep),
    /// Record that the flaw is public, with the advisory.
    ///
    /// Example: forewarn disclose --key keys/acme.key --case 3f… --url https://acme.example/sa-1 --advisory sa-1.json
    Disclose(DiscloseArgs),
    /// Record that an exploit is public, or that attacks were observed.
    #[command(subcommand)]
    Exploit(ExploitStep),
    /// Record a report to a regulator (EU CRA Art. 14).
    ///
    /// Example: forewarn regulatory-report --key keys/acme.key --case 3f… --stage early-warning --authority ENISA
    RegulatoryReport(RegulatoryArgs),
    /// Open the sealed fields of an earlier record (from the local salt file).
    ///
    /// Example: forewarn reveal --key keys/acme.key --record 5
    Reveal(RevealArgs),
    /// Add a correction, comment or retraction to an earlier record.
    ///
    /// Example: forewarn annotate --key keys/acme.key --record 14 --kind correction --text "sent on the 3rd, not the 2nd"
    Annotate(AnnotateArgs),
}

/// Party steps.
#[derive(Subcommand, Debug)]
pub enum PartyStep {
    /// Register a party with its first key (signed by that key).
    ///
    /// Example: forewarn keygen --name acme.example --out keys && forewarn party register --key keys/acme.example.key --name "Acme" --class vendor
    Register {
        #[command(flatten)]
        sign: SignArgs,
        /// Display name.
        #[arg(long)]
        name: String,
        /// What kind of party.
        #[arg(long, value_enum)]
        class: ClassArg,
    },
    /// Add another key to your party (signed with a current key).
    ///
    /// Example: forewarn party add-key --key keys/acme.key --new-key keys/acme-2026.vkey
    AddKey {
        #[command(flatten)]
        sign: SignArgs,
        /// The new key's .key or .vkey file.
        #[arg(long)]
        new_key: PathBuf,
    },
    /// Revoke a key of your party from a given time.
    ///
    /// Example: forewarn party revoke-key --key keys/acme-2026.key --revoke keys/acme.vkey --effective 2026-03-01
    RevokeKey {
        #[command(flatten)]
        sign: SignArgs,
        /// The key to revoke: its .key or .vkey file.
        #[arg(long)]
        revoke: PathBuf,
        /// Statements claimed from this time on are invalid (default: now).
        #[arg(long)]
        effective: Option<String>,
    },
}

/// Case steps.
#[derive(Subcommand, Debug)]
pub enum CaseStep {
    /// Open a case; prints its random id. Summary and product are sealed.
    ///
    /// Example: forewarn case open --key keys/acme.key --summary "heap overflow in TLS parser" --product "acme-server 4.2"
    Open {
        #[command(flatten)]
        sign: SignArgs,
        /// Short description of the flaw (sealed unless --clear).
        #[arg(long)]
        summary: String,
        /// Affected product (sealed unless --clear).
        #[arg(long)]
        product: String,
        /// Put summary and product in the log in clear.
        #[arg(long)]
        clear: bool,
    },
    /// Record that you received the report from a party.
    ///
    /// Example: forewarn case received --key keys/acme.key --case 3f… --from "Mara Okafor"
    Received {
        #[command(flatten)]
        sign: SignArgs,
        /// The case id.
        #[arg(long)]
        case: String,
        /// The reporter: a registered party's name or number.
        #[arg(long)]
        from: String,
    },
    /// Assign an identifier such as a CVE id (sealed unless --clear).
    ///
    /// Example: forewarn case identifier --key keys/acme.key --case 3f… --value CVE-2026-12345
    Identifier {
        #[command(flatten)]
        sign: SignArgs,
        /// The case id.
        #[arg(long)]
        case: String,
        /// Identifier scheme.
        #[arg(long, value_enum, default_value = "cve")]
        scheme: SchemeArg,
        /// The identifier, e.g. CVE-2026-12345.
        #[arg(long)]
        value: String,
        /// Put the identifier in the log in clear.
        #[arg(long)]
        clear: bool,
    },
}

/// Arguments of `notify`.
#[derive(Args, Debug)]
pub struct NotifyArgs {
    #[command(flatten)]
    sign: SignArgs,
    /// The case id.
    #[arg(long)]
    case: String,
    /// The recipient: a registered party's name or number.
    #[arg(long, conflicts_with_all = ["to_class", "to_name"])]
    to: Option<String>,
    /// An unregistered recipient's class.
    #[arg(long, value_enum, requires = "to_name")]
    to_class: Option<ClassArg>,
    /// An unregistered recipient's name (sealed).
    #[arg(long, requires = "to_class")]
    to_name: Option<String>,
    /// How much you told.
    #[arg(long, value_enum, default_value = "details")]
    level: LevelArg,
    /// TLP 2.0 label of the notice.
    #[arg(long, value_enum, default_value = "amber-strict")]
    tlp: TlpArg,
    /// The embargo it was sent under (record number of the proposal).
    #[arg(long)]
    embargo: Option<u64>,
    /// A file with the notice as sent (only its SHA-256 is used, sealed).
    #[arg(long)]
    content: Option<PathBuf>,
    /// How it was delivered.
    #[arg(long, value_enum, default_value = "encrypted-email")]
    channel: ChannelArg,
}

/// Arguments of `ack`.
#[derive(Args, Debug)]
pub struct AckArgs {
    #[command(flatten)]
    sign: SignArgs,
    /// Record number of the notice.
    #[arg(long)]
    notice: u64,
    /// When you received it (default: the --at time).
    #[arg(long)]
    received: Option<String>,
}

/// Embargo steps.
#[derive(Subcommand, Debug)]
pub enum EmbargoStep {
    /// Propose an embargo; prints its record number.
    ///
    /// Example: forewarn embargo propose --key keys/acme.key --case 3f… --ends 30d
    Propose {
        #[command(flatten)]
        sign: SignArgs,
        /// The case id.
        #[arg(long)]
        case: String,
        /// End: a UTC time or a duration after the --at time (30d, 12h).
        #[arg(long)]
        ends: String,
    },
    /// Accept a proposed embargo.
    ///
    /// Example: forewarn embargo accept --key keys/cert.key --embargo 12
    Accept {
        #[command(flatten)]
        sign: SignArgs,
        /// Record number of the proposal.
        #[arg(long)]
        embargo: u64,
    },
    /// Move an embargo's end (a later end counts as an extension).
    ///
    /// Example: forewarn embargo revise --key keys/acme.key --embargo 12 --ends 2026-04-01
    Revise {
        #[command(flatten)]
        sign: SignArgs,
        /// Record number of the proposal.
        #[arg(long)]
        embargo: u64,
        /// New end: a UTC time or a duration after the --at time.
        #[arg(long)]
        ends: String,
    },
    /// End an embargo, with the reason.
    ///
    /// Example: forewarn embargo terminate --key keys/acme.key --embargo 12 --reason leak
    Terminate {
        #[command(flatten)]
        sign: SignArgs,
        /// Record number of the proposal.
        #[arg(long)]
        embargo: u64,
        /// Why it ended.
        #[arg(long, value_enum, default_value = "planned-end")]
        reason: ReasonArg,
    },
}

/// Fix steps.
#[derive(Subcommand, Debug)]
pub enum FixStep {
    /// A fix is ready but not released (Vultron F).
    ///
    /// Example: forewarn fix ready --key keys/acme.key --case 3f…
    Ready(CaseOnly),
    /// The fix is released (Vultron D).
    ///
    /// Example: forewarn fix released --key keys/acme.key --case 3f…
    Released(CaseOnly),
}

/// Exploit steps.
#[derive(Subcommand, Debug)]
pub enum ExploitStep {
    /// An exploit is public (Vultron X).
    ///
    /// Example: forewarn exploit public --key keys/finder.key --case 3f…
    Public(CaseOnly),
    /// Attacks were observed (Vultron A).
    ///
    /// Example: forewarn exploit observed --key keys/cert.key --case 3f…
    Observed(CaseOnly),
}

/// Steps that only name a case.
#[derive(Args, Debug)]
pub struct CaseOnly {
    #[command(flatten)]
    sign: SignArgs,
    /// The case id.
    #[arg(long)]
    case: String,
}

/// Arguments of `disclose`.
#[derive(Args, Debug)]
pub struct DiscloseArgs {
    #[command(flatten)]
    sign: SignArgs,
    /// The case id.
    #[arg(long)]
    case: String,
    /// Where the advisory is published.
    #[arg(long)]
    url: String,
    /// The advisory document (e.g. CSAF JSON); its SHA-256 is recorded.
    #[arg(long)]
    advisory: Option<PathBuf>,
}

/// Arguments of `regulatory-report`.
#[derive(Args, Debug)]
pub struct RegulatoryArgs {
    #[command(flatten)]
    sign: SignArgs,
    /// The case id.
    #[arg(long)]
    case: String,
    /// Which report.
    #[arg(long, value_enum)]
    stage: StageArg,
    /// Who received it.
    #[arg(long)]
    authority: String,
}

/// Arguments of `reveal`.
#[derive(Args, Debug)]
pub struct RevealArgs {
    #[command(flatten)]
    sign: SignArgs,
    /// Record number whose sealed fields to open.
    #[arg(long)]
    record: u64,
    /// Only this field (default: every field the salt file knows).
    #[arg(long)]
    field: Option<u8>,
}

/// Arguments of `annotate`.
#[derive(Args, Debug)]
pub struct AnnotateArgs {
    #[command(flatten)]
    sign: SignArgs,
    /// The record annotated.
    #[arg(long)]
    record: u64,
    /// What kind of annotation.
    #[arg(long, value_enum, default_value = "comment")]
    kind: AnnotationArg,
    /// The text.
    #[arg(long)]
    text: String,
}

/// A sealed value to remember: (field, salt, canonical value bytes).
type SaltEntry = (u8, [u8; 32], Vec<u8>);

/// One or more statements ready to sign, with their sealed values.
struct Prepared {
    key: SigningKey,
    claimed: Millis,
    events: Vec<(Event, Vec<SaltEntry>)>,
    dir: PathBuf,
}

fn random_bytes<const N: usize>() -> Result<[u8; N], Failure> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| Failure {
        code: 2,
        message: format!("the operating system gave no randomness: {e}"),
        hint: None,
    })?;
    Ok(b)
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
    salts.push((field, salt, bytes));
    Sealed::seal(&value.to_string(), &salt)
        .map_err(|e| Failure::input(e.to_string(), "shorten the text"))
}

fn seal_hash(
    field: u8,
    value: [u8; 32],
    salts: &mut Vec<SaltEntry>,
) -> Result<Sealed<[u8; 32]>, Failure> {
    let salt = random_bytes::<32>()?;
    salts.push((field, salt, value.to_vec()));
    Sealed::seal(&value, &salt).map_err(|e| Failure::input(e.to_string(), "internal"))
}

pub(crate) fn parse_case(s: &str) -> Result<CaseId, Failure> {
    let b = hex_decode(s).filter(|b| b.len() == 16).ok_or_else(|| {
        Failure::input(
            format!("{s:?} is not a case id"),
            "a case id is 32 hex digits, as printed by `forewarn case open` or `forewarn report summary`",
        )
    })?;
    Ok(CaseId(b.try_into().expect("16 bytes")))
}

pub(crate) fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn read_file(path: &Path, what: &str) -> Result<Vec<u8>, Failure> {
    fs::read(path).map_err(|e| {
        Failure::input(
            format!("cannot read {what} {}: {e}", path.display()),
            "check the path",
        )
    })
}

/// A party key given as a .key or .vkey file.
fn public_key_file(path: &Path) -> Result<PublicKey, Failure> {
    let text = fs::read_to_string(path).map_err(|e| {
        Failure::input(
            format!("cannot read {}: {e}", path.display()),
            "check the path",
        )
    })?;
    let text = text.trim_end();
    if let Ok(k) = forewarn_tlog::note::SignerKey::parse(text) {
        return Ok(PublicKey(k.ed25519().verifying_key().to_bytes()));
    }
    let v = forewarn_tlog::note::VerifierKey::parse(text).map_err(|e| {
        Failure::input(
            format!("{} is not a key file: {e}", path.display()),
            "pass a .key or .vkey file from forewarn keygen",
        )
    })?;
    Ok(PublicKey(v.public_key().to_bytes()))
}

/// Opens the ledger, explaining how to create one if missing.
pub(crate) fn open_store(dir: &Path, quiet: bool) -> Result<Store, Failure> {
    let mut config = StoreConfig::default();
    if !quiet {
        config.progress = Some(crate::audit::progress_callback("opening the ledger"));
    }
    Store::open(dir, config).map_err(store_failure)
}

/// Every corruption of the store is exit 3, with what to do next; any
/// other store failure is exit 2.
pub(crate) fn store_failure(e: forewarn_store::StoreError) -> Failure {
    if e.is_corruption() {
        return Failure {
            code: 3,
            message: e.to_string(),
            hint: Some(
                "run `forewarn check` to see what is damaged; restore the ledger from a backup or an export (`forewarn export`)"
                    .into(),
            ),
        };
    }
    Failure {
        code: 2,
        message: e.to_string(),
        hint: None,
    }
}

/// Finds a registered party by name or number.
fn find_party(store: &Store, who: &str) -> Result<PartyId, Failure> {
    let parties = &store.auditor().state().parties;
    if let Ok(n) = who.parse::<u64>()
        && parties.contains_key(&n)
    {
        return Ok(n);
    }
    let matches: Vec<u64> = parties
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

fn claimed(sign: &SignArgs) -> Result<Millis, Failure> {
    match &sign.at {
        None => Ok(now()),
        Some(t) => parse_time(t).map_err(|e| Failure::input(e, "pass --at in UTC")),
    }
}

fn prepare(step: &Step, store: &Store) -> Result<Prepared, Failure> {
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
            scheme: match scheme {
                SchemeArg::Cve => IdScheme::Cve,
                SchemeArg::Ghsa => IdScheme::Ghsa,
                SchemeArg::Osv => IdScheme::Osv,
                SchemeArg::Euvd => IdScheme::Euvd,
                SchemeArg::Vendor => IdScheme::Vendor,
                SchemeArg::Other => IdScheme::Other,
            },
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
                Some(p) => Sha256::digest(read_file(p, "notice")?).into(),
                None => Sha256::digest(b"").into(),
            };
            Event::Notified {
                case: parse_case(&a.case)?,
                recipient,
                level: match a.level {
                    LevelArg::Existence => InfoLevel::Existence,
                    LevelArg::Details => InfoLevel::Details,
                    LevelArg::Exploit => InfoLevel::Exploit,
                },
                tlp: match a.tlp {
                    TlpArg::Clear => Tlp::Clear,
                    TlpArg::Green => Tlp::Green,
                    TlpArg::Amber => Tlp::Amber,
                    TlpArg::AmberStrict => Tlp::AmberStrict,
                    TlpArg::Red => Tlp::Red,
                },
                embargo: a.embargo,
                content: seal_hash(1, content, &mut salts)?,
                channel: match a.channel {
                    ChannelArg::Email => Channel::Email,
                    ChannelArg::EncryptedEmail => Channel::EncryptedEmail,
                    ChannelArg::Portal => Channel::Portal,
                    ChannelArg::Api => Channel::Api,
                    ChannelArg::MailingList => Channel::MailingList,
                    ChannelArg::Phone => Channel::Phone,
                    ChannelArg::InPerson => Channel::InPerson,
                    ChannelArg::Other => Channel::Other,
                },
            }
        }
        Step::Ack(a) => {
            let record = store
                .record(a.notice)
                .map_err(crate::ledger::store_failure)?
                .ok_or_else(|| {
                    Failure::input(
                        format!("the ledger has no record {}", a.notice),
                        "pass the record number of the notice, as printed when it was appended",
                    )
                })?;
            Event::Acknowledged {
                notice: a.notice,
                notice_leaf: forewarn_ledger::statement::leaf_hash(&record).0,
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
        Step::Embargo(EmbargoStep::Accept { embargo, .. }) => {
            Event::EmbargoAccepted { embargo: *embargo }
        }
        Step::Embargo(EmbargoStep::Revise { embargo, ends, .. }) => Event::EmbargoRevised {
            embargo: *embargo,
            ends_at: parse_time_or_after(ends, at).map_err(|e| {
                Failure::input(e, "pass --ends as a UTC time or a duration such as 30d")
            })?,
        },
        Step::Embargo(EmbargoStep::Terminate {
            embargo, reason, ..
        }) => Event::EmbargoTerminated {
            embargo: *embargo,
            reason: match reason {
                ReasonArg::PlannedEnd => TerminationReason::PlannedEnd,
                ReasonArg::Leak => TerminationReason::Leak,
                ReasonArg::ExploitationObserved => TerminationReason::ExploitationObserved,
                ReasonArg::PublicElsewhere => TerminationReason::PublicElsewhere,
                ReasonArg::Other => TerminationReason::Other,
            },
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
                Some(p) => Sha256::digest(read_file(p, "advisory")?).into(),
                None => [0; 32],
            },
        },
        Step::RegulatoryReport(a) => Event::RegulatoryReport {
            case: parse_case(&a.case)?,
            stage: match a.stage {
                StageArg::EarlyWarning => RegulatoryStage::EarlyWarning,
                StageArg::Notification => RegulatoryStage::Notification,
                StageArg::FinalReport => RegulatoryStage::FinalReport,
            },
            authority: a.authority.clone(),
        },
        Step::Annotate(a) => Event::Annotation {
            record: a.record,
            kind: match a.kind {
                AnnotationArg::Correction => AnnotationKind::Correction,
                AnnotationArg::Comment => AnnotationKind::Comment,
                AnnotationArg::Retraction => AnnotationKind::Retraction,
            },
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
            let rec = Record::from_bytes(&record)
                .map_err(|e| Failure::input(e.to_string(), "the ledger is damaged"))?;
            let known = read_salts(&sign.dir.dir, &rec.statement)?;
            let state = store.auditor().state();
            let events: Vec<(Event, Vec<SaltEntry>)> = known
                .into_iter()
                .filter(|(f, _, _)| a.field.is_none_or(|x| x == *f))
                .filter(|(f, _, _)| {
                    state
                        .sealed
                        .get(&(a.record, *f))
                        .is_some_and(|s| s.opened.is_none())
                })
                .map(|(field, salt, value)| {
                    (
                        Event::Opening {
                            record: a.record,
                            field,
                            salt,
                            value,
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

fn step_sign(step: &Step) -> &SignArgs {
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

// --- salts -------------------------------------------------------------------

const SALT_FILE: &str = "salts";

/// Remembers sealed values (0600 file in the ledger directory): one line per
/// field, `statement-sha256 field salt value` in hex.
fn save_salts(dir: &Path, statement: &[u8], salts: &[SaltEntry]) -> Outcome {
    if salts.is_empty() {
        return Ok(());
    }
    let path = dir.join(SALT_FILE);
    let mut opts = fs::OpenOptions::new();
    opts.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&path).map_err(|e| {
        Failure::input(
            format!("cannot write {}: {e}", path.display()),
            "check the ledger directory is writable",
        )
    })?;
    let id = forewarn_ledger::types::hex(&Sha256::digest(statement));
    let mut text = String::new();
    for (field, salt, value) in salts {
        text.push_str(&format!(
            "{id} {field} {} {}\n",
            forewarn_ledger::types::hex(salt),
            forewarn_ledger::types::hex(value)
        ));
    }
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| {
            Failure::input(
                format!("cannot write {}: {e}", path.display()),
                "check free disk space",
            )
        })
}

fn read_salts(dir: &Path, statement: &[u8]) -> Result<Vec<SaltEntry>, Failure> {
    let path = dir.join(SALT_FILE);
    let text = fs::read_to_string(&path).unwrap_or_default();
    let id = forewarn_ledger::types::hex(&Sha256::digest(statement));
    let mut out = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        if f.len() == 4 && f[0] == id {
            let field = f[1].parse().map_err(|_| {
                Failure::input(
                    format!("{} is damaged", path.display()),
                    "restore it from a backup",
                )
            })?;
            let salt = hex_decode(f[2]).and_then(|s| <[u8; 32]>::try_from(s).ok());
            let value = hex_decode(f[3]);
            if let (Some(salt), Some(value)) = (salt, value) {
                out.push((field, salt, value));
            }
        }
    }
    Ok(out)
}

// --- statement files -----------------------------------------------------------

const STATEMENT_HEADER: &str = "forewarn-statement@v1";

fn statement_file(s: &SignedStatement) -> String {
    format!(
        "{STATEMENT_HEADER}\n{}\n{}\n",
        B64.encode(&s.bytes),
        B64.encode(s.signature)
    )
}

fn parse_statement_file(path: &Path) -> Result<SignedStatement, Failure> {
    let text = fs::read_to_string(path).map_err(|e| {
        Failure::input(
            format!("cannot read {}: {e}", path.display()),
            "check the path",
        )
    })?;
    let bad = || {
        Failure::input(
            format!("{} is not a signed statement file", path.display()),
            "pass a file written by `forewarn statement sign`",
        )
    };
    let mut lines = text.lines();
    if lines.next() != Some(STATEMENT_HEADER) {
        return Err(bad());
    }
    let bytes = lines
        .next()
        .and_then(|l| B64.decode(l).ok())
        .ok_or_else(bad)?;
    let sig = lines
        .next()
        .and_then(|l| B64.decode(l).ok())
        .and_then(|s| <[u8; 64]>::try_from(s).ok())
        .ok_or_else(bad)?;
    if lines.next().is_some() {
        return Err(bad());
    }
    Ok(SignedStatement {
        bytes,
        signature: sig,
    })
}

// --- running -------------------------------------------------------------------

fn sign_all(p: &Prepared) -> Result<Vec<(SignedStatement, Vec<SaltEntry>)>, Failure> {
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

/// Runs a step: sign and append, print what was appended.
pub fn run(step: &Step, json: bool) -> Outcome {
    let dir = &step_sign(step).dir.dir;
    let mut store = open_store(dir, json)?;
    let prepared = prepare(step, &store)?;
    let signed = sign_all(&prepared)?;
    for (s, salts) in &signed {
        save_salts(&prepared.dir, &s.bytes, salts)?;
    }
    let statements: Vec<SignedStatement> = signed.into_iter().map(|(s, _)| s).collect();
    let outcome = append_and_report(&mut store, &statements, json);
    store.close().map_err(store_failure)?;
    outcome
}

/// `statement sign`: sign and write to a file.
pub fn sign_to_file(step: &Step, out: &Path) -> Outcome {
    let dir = &step_sign(step).dir.dir;
    let store = open_store(dir, true)?;
    let prepared = prepare(step, &store)?;
    let signed = sign_all(&prepared)?;
    if signed.len() != 1 {
        return Err(Failure::input(
            "this step makes several statements",
            "append it directly instead of signing to a file",
        ));
    }
    let (s, salts) = &signed[0];
    save_salts(&prepared.dir, &s.bytes, salts)?;
    crate::write_new_file(out, statement_file(s).as_bytes(), false)?;
    eprintln!(
        "wrote {} (hand it to the ledger's operator: forewarn append {})",
        out.display(),
        out.display()
    );
    Ok(())
}

/// `append FILE...`: append statements signed elsewhere.
pub fn append_files(dir: &Path, files: &[PathBuf], json: bool) -> Outcome {
    let statements = files
        .iter()
        .map(|p| parse_statement_file(p))
        .collect::<Result<Vec<_>, _>>()?;
    let mut store = open_store(dir, json)?;
    let outcome = append_and_report(&mut store, &statements, json);
    store.close().map_err(store_failure)?;
    outcome
}

fn append_and_report(store: &mut Store, statements: &[SignedStatement], json: bool) -> Outcome {
    let results = store.append(statements).map_err(store_failure)?;
    let receipts_dir = store.dir().join("receipts");
    let mut rows = Vec::new();
    let mut rejected = None;
    for (s, r) in statements.iter().zip(results) {
        match r {
            Ok(receipt) => {
                fs::create_dir_all(&receipts_dir).map_err(|e| {
                    Failure::input(
                        format!("cannot create {}: {e}", receipts_dir.display()),
                        "check the ledger directory is writable",
                    )
                })?;
                let path = receipts_dir.join(format!("{}.tlog-proof", receipt.index));
                fs::write(&path, &receipt.proof).map_err(|e| {
                    Failure::input(
                        format!("cannot write {}: {e}", path.display()),
                        "check free disk space",
                    )
                })?;
                let st = Statement::from_bytes(&s.bytes).expect("appended");
                let case = st.event.case().map(|c| c.to_string());
                if !json {
                    println!(
                        "appended record {}: {}{}",
                        receipt.index,
                        st.event.name(),
                        case.as_ref()
                            .map(|c| format!(" (case {c})"))
                            .unwrap_or_default()
                    );
                    println!("receipt: {}", path.display());
                }
                rows.push(serde_json::json!({
                    "record": receipt.index,
                    "event": st.event.name(),
                    "case": case,
                    "receipt": path.display().to_string(),
                }));
            }
            Err(rejection) => {
                rejected.get_or_insert_with(|| rejection.to_string());
                rows.push(serde_json::json!({ "rejected": rejection.to_string() }));
            }
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows).expect("JSON"));
    }
    match rejected {
        None => Ok(()),
        Some(why) => Err(Failure {
            code: 1,
            message: format!("the ledger refused the statement: {why}"),
            hint: Some("nothing was written for it; fix the step and run it again".into()),
        }),
    }
}
