//! The value enums of the step arguments (`--class vendor`, `--tlp red` …)
//! and their ledger types.

use clap::ValueEnum;
use forewarn_ledger::*;

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

impl From<SchemeArg> for IdScheme {
    fn from(a: SchemeArg) -> IdScheme {
        match a {
            SchemeArg::Cve => IdScheme::Cve,
            SchemeArg::Ghsa => IdScheme::Ghsa,
            SchemeArg::Osv => IdScheme::Osv,
            SchemeArg::Euvd => IdScheme::Euvd,
            SchemeArg::Vendor => IdScheme::Vendor,
            SchemeArg::Other => IdScheme::Other,
        }
    }
}

impl From<LevelArg> for InfoLevel {
    fn from(a: LevelArg) -> InfoLevel {
        match a {
            LevelArg::Existence => InfoLevel::Existence,
            LevelArg::Details => InfoLevel::Details,
            LevelArg::Exploit => InfoLevel::Exploit,
        }
    }
}

impl From<TlpArg> for Tlp {
    fn from(a: TlpArg) -> Tlp {
        match a {
            TlpArg::Clear => Tlp::Clear,
            TlpArg::Green => Tlp::Green,
            TlpArg::Amber => Tlp::Amber,
            TlpArg::AmberStrict => Tlp::AmberStrict,
            TlpArg::Red => Tlp::Red,
        }
    }
}

impl From<ChannelArg> for Channel {
    fn from(a: ChannelArg) -> Channel {
        match a {
            ChannelArg::Email => Channel::Email,
            ChannelArg::EncryptedEmail => Channel::EncryptedEmail,
            ChannelArg::Portal => Channel::Portal,
            ChannelArg::Api => Channel::Api,
            ChannelArg::MailingList => Channel::MailingList,
            ChannelArg::Phone => Channel::Phone,
            ChannelArg::InPerson => Channel::InPerson,
            ChannelArg::Other => Channel::Other,
        }
    }
}

impl From<ReasonArg> for TerminationReason {
    fn from(a: ReasonArg) -> TerminationReason {
        match a {
            ReasonArg::PlannedEnd => TerminationReason::PlannedEnd,
            ReasonArg::Leak => TerminationReason::Leak,
            ReasonArg::ExploitationObserved => TerminationReason::ExploitationObserved,
            ReasonArg::PublicElsewhere => TerminationReason::PublicElsewhere,
            ReasonArg::Other => TerminationReason::Other,
        }
    }
}

impl From<StageArg> for RegulatoryStage {
    fn from(a: StageArg) -> RegulatoryStage {
        match a {
            StageArg::EarlyWarning => RegulatoryStage::EarlyWarning,
            StageArg::Notification => RegulatoryStage::Notification,
            StageArg::FinalReport => RegulatoryStage::FinalReport,
        }
    }
}

impl From<AnnotationArg> for AnnotationKind {
    fn from(a: AnnotationArg) -> AnnotationKind {
        match a {
            AnnotationArg::Correction => AnnotationKind::Correction,
            AnnotationArg::Comment => AnnotationKind::Comment,
            AnnotationArg::Retraction => AnnotationKind::Retraction,
        }
    }
}
