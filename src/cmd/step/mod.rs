//! The ledger steps: each signs one step of a disclosure as a statement
//! with the acting party's key and appends it to the local ledger (or, with
//! `statement sign`, writes it to a file for someone else to append).
//!
//! The clap definitions are here; [`prepare`] turns a step into the events
//! to sign, [`args`] holds the value enums.

// The doc comments below are also clap's `--help` text, where an example
// URL must read as typed, not as a Markdown link.
#![allow(rustdoc::bare_urls)]

pub mod args;
pub mod prepare;

use std::path::PathBuf;

use clap::{Args, Subcommand};

use self::args::*;
use crate::cli::Failure;
use crate::cli::Outcome;
use crate::cli::formats::save_salts;
use crate::cli::ledger::{DirArg, open_store, store_failure};
use crate::cmd::append::{commit, report};
use forewarn_ledger::statement::SignedStatement;
use forewarn_store::Store;

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
    /// The new key proves it is yours: it signs this ledger's origin, your
    /// party and itself, so --new-key is its private .key file (read once,
    /// never stored or logged).
    ///
    /// Example: forewarn keygen --name acme-2026.example --out keys && forewarn party add-key --key keys/acme.key --new-key keys/acme-2026.example.key
    AddKey {
        #[command(flatten)]
        sign: SignArgs,
        /// The new key's private .key file (from `forewarn keygen`).
        #[arg(long)]
        new_key: PathBuf,
    },
    /// Revoke a key of your party (signed with another current key).
    ///
    /// The revoked key signs nothing logged after this record, whatever
    /// time a statement claims.
    ///
    /// Example: forewarn party revoke-key --key keys/acme-2026.key --revoke keys/acme.vkey --effective 2026-03-01
    RevokeKey {
        #[command(flatten)]
        sign: SignArgs,
        /// The key to revoke: its .key or .vkey file.
        #[arg(long)]
        revoke: PathBuf,
        /// When the key stopped being trustworthy (default: now); records
        /// it signed that were logged from then on are flagged.
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

/// Runs a step: sign and append, print what was appended.
pub fn run(step: &Step, json: bool) -> Outcome {
    let dir = &prepare::step_sign(step).dir.dir;
    let mut store = open_store(dir, json)?;
    let outcome = sign_and_append(&mut store, step, json);
    store.close_at_exit().map_err(store_failure)?;
    outcome
}

/// Signs the step's statements and appends them, all or none. The salts
/// of their sealed fields are written to the salt file only once the
/// records are durable, so a refused step writes nothing
/// (docs/RELIABILITY.md, "Salts of sealed fields").
fn sign_and_append(store: &mut Store, step: &Step, json: bool) -> Outcome {
    let prepared = prepare::prepare(step, store)?;
    let signed = prepare::sign_all(&prepared)?;
    let statements: Vec<SignedStatement> = signed.iter().map(|(s, _)| s.clone()).collect();
    let receipts = commit(store, &statements, None, json)?;
    let saved = signed
        .iter()
        .zip(&receipts)
        .try_for_each(|((s, salts), receipt)| {
            save_salts(&prepared.dir, &s.bytes, salts).map_err(|f| Failure {
                message: format!(
                    "record {} was appended, but the salts of its sealed fields were not saved, so they cannot be revealed: {}",
                    receipt.index, f.message
                ),
                ..f
            })
        });
    report(store, &statements, &receipts, None, json)?;
    saved
}
