//! What the auditor reports: hard integrity failures (the log is not
//! trustworthy past this point) and findings (the log is sound, but the
//! disclosure story it tells is inconsistent or breaks the watchdog's
//! policy).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use bincode::{Decode, Encode};
use forewarn_tlog::hash::Hash;
use serde::Serialize;

use crate::authority::Authority;
use crate::encoding::EncodingError;
use crate::types::{CaseId, Millis, PartyId, RecordRef, hex};

/// Why the log failed verification. Every variant names what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntegrityKind {
    /// The record bytes are not a canonical record.
    RecordEncoding(EncodingError),
    /// The statement bytes inside the record are not a canonical statement.
    StatementEncoding(EncodingError),
    /// The record's index is not its position.
    IndexMismatch {
        /// Position in the stream.
        expected: u64,
        /// Index in the record.
        found: u64,
    },
    /// `prev` is not the leaf hash of the previous record.
    PrevMismatch {
        /// Leaf hash of the previous record.
        expected: Hash,
        /// `prev` in the record.
        found: Hash,
    },
    /// `logged_at` went backwards.
    LoggedAtDecreased {
        /// The previous record's `logged_at`.
        previous: Millis,
        /// This record's.
        found: Millis,
    },
    /// The statement claims a time after the log's time plus the allowed skew.
    ClaimedInFuture {
        /// Claimed time.
        claimed: Millis,
        /// Log time.
        logged: Millis,
        /// Allowed skew (ms).
        skew: u64,
    },
    /// The statement says its signer saw a tree larger than the log was
    /// when the statement was sequenced.
    SeenBeyondLog {
        /// Size in the statement's seen-checkpoint.
        seen: u64,
        /// Log size before this record.
        size: u64,
    },
    /// The signer says it saw a tree so much older than the log that its
    /// root can no longer be checked (docs/FORMAT.md §16 step 7).
    SeenTooOld {
        /// Size in the statement's seen-checkpoint.
        seen: u64,
        /// Smallest size the auditor can still check.
        oldest: u64,
    },
    /// The root the signer says it saw is not the log's root at that size:
    /// the log showed the signer another history, or the signer lies.
    SeenRootMismatch {
        /// The size.
        size: u64,
        /// The root in the statement.
        claimed: Hash,
        /// The log's root at that size.
        actual: Hash,
    },
    /// The statement names another log.
    WrongOrigin {
        /// This log's origin.
        expected: String,
        /// The statement's.
        found: String,
    },
    /// The same statement bytes were already logged.
    DuplicateStatement {
        /// The record that first holds them.
        first: RecordRef,
    },
    /// A time outside [`crate::types::PLAUSIBLE_TIMES`], or one that
    /// contradicts another time of the same statement.
    ImplausibleTime {
        /// Which time.
        field: TimeField,
        /// Its value (ms since the epoch).
        value: Millis,
    },
    /// The signature does not verify (verify_strict) under the statement's key.
    BadSignature,
    /// The signing key belongs to no registered party.
    UnknownKey {
        /// The key.
        key: [u8; 32],
    },
    /// The key was revoked by an earlier record.
    RevokedKey {
        /// The key.
        key: [u8; 32],
        /// The `KeyRevoked` record.
        revoked_by: RecordRef,
    },
    /// The statement claims a time before the `KeyAdded` record that added
    /// its key.
    KeyNotYetAdded {
        /// The key.
        key: [u8; 32],
        /// Claimed time of the `KeyAdded` record.
        added_at: Millis,
    },
    /// A `KeyAdded` whose proof of possession does not verify under the
    /// new key.
    BadPossession {
        /// The new key.
        key: [u8; 32],
    },
    /// A key being registered or added already belongs to a party.
    KeyInUse {
        /// The key.
        key: [u8; 32],
        /// Its party.
        party: PartyId,
    },
    /// `PartyRegistered` must be signed by the key it registers.
    NotSelfSigned,
    /// The event names a case that was never opened.
    UnknownCase {
        /// The case.
        case: CaseId,
    },
    /// `CaseOpened` reuses a case id.
    DuplicateCase {
        /// The case.
        case: CaseId,
    },
    /// A reference does not point to an earlier record of the required kind.
    BadReference {
        /// The reference.
        reference: RecordRef,
        /// What it had to be (e.g. an earlier `Notified` record).
        expected: Referent,
    },
    /// A citation whose leaf hash is not the cited record's.
    CiteMismatch {
        /// The cited record.
        reference: RecordRef,
        /// Its real leaf hash.
        expected: Hash,
        /// The hash in the citation.
        found: Hash,
    },
    /// The signer has no authority for this event (docs/AUDITING.md, "Who
    /// may do what"). A sequencer refuses it; an auditor that finds one in
    /// a log reports it as a finding and gives it no effect.
    Unauthorized {
        /// The event's name.
        event: &'static str,
        /// Who may sign it.
        rule: Authority,
    },
    /// An opening whose value is not an encoding of the sealed field's type.
    OpeningType {
        /// The sealed record.
        record: RecordRef,
        /// The field.
        field: u8,
    },
    /// An opening whose salt and value do not match the commitment.
    OpeningMismatch {
        /// The sealed record.
        record: RecordRef,
        /// The field.
        field: u8,
    },
    /// A field value outside its allowed form (length, characters).
    InvalidField {
        /// Which field, and so which limits.
        what: TextField,
    },
    /// A checkpoint for a size other than the number of records audited.
    CheckpointSize {
        /// Records audited.
        audited: u64,
        /// Checkpoint size.
        checkpoint: u64,
    },
    /// The Merkle root of the audited records differs from the checkpoint's.
    RootMismatch {
        /// Root in the checkpoint.
        expected: Hash,
        /// Root computed from the records.
        computed: Hash,
    },
    /// The checkpoint's signature or witness policy check failed.
    CheckpointSignature {
        /// Why.
        detail: String,
    },
}

/// What a record reference must point to (docs/FORMAT.md §16 step 10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Referent {
    /// Any earlier record (`Annotation`).
    EarlierRecord,
    /// An earlier `Notified` record (`Acknowledged`).
    Notice,
    /// An earlier `EmbargoProposed` record (`Embargo*`, `Notified`).
    Embargo,
    /// An `EmbargoProposed` record of the notice's own case (`Notified`).
    EmbargoOfSameCase,
    /// An earlier `PartyRegistered` record (`Counterparty::Party`).
    Party,
    /// An earlier record with the named sealed field (`Opening`).
    SealedField,
}

impl Referent {
    /// What the reference had to be, as a phrase.
    pub fn as_str(self) -> &'static str {
        match self {
            Referent::EarlierRecord => "an earlier record (not an Opening or Annotation)",
            Referent::Notice => "an earlier Notified record",
            Referent::Embargo => "an earlier EmbargoProposed record",
            Referent::EmbargoOfSameCase => "an EmbargoProposed record of the same case",
            Referent::Party => "an earlier PartyRegistered record",
            Referent::SealedField => "an earlier record with that sealed field",
        }
    }
}

impl fmt::Display for Referent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A time field checked for plausibility (docs/FORMAT.md §13).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeField {
    /// `Statement.claimed_at`.
    Claimed,
    /// `Record.logged_at`.
    Logged,
    /// `KeyRevoked.effective_at`.
    Effective,
    /// `Acknowledged.received_at` (also: after the acknowledgement's own
    /// claimed time).
    Received,
    /// `EmbargoProposed.ends_at`, `EmbargoRevised.ends_at` (also: not after
    /// the statement's claimed time).
    EmbargoEnd,
}

impl TimeField {
    /// The field's name as in docs/FORMAT.md.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeField::Claimed => "claimed_at",
            TimeField::Logged => "logged_at",
            TimeField::Effective => "effective_at",
            TimeField::Received => "received_at",
            TimeField::EmbargoEnd => "ends_at",
        }
    }
}

impl fmt::Display for TimeField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A text field with length and character limits (docs/FORMAT.md §13).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextField {
    /// `PartyRegistered.name`: 1–256 bytes, no control characters.
    PartyName,
    /// An unregistered counterparty's clear name: 1–256 bytes, no control
    /// characters.
    CounterpartyName,
    /// `CaseOpened.summary` and `.product` in clear: 1–4096 bytes.
    CaseText,
    /// `IdentifierAssigned.value` in clear: 1–256 bytes, no control
    /// characters.
    Identifier,
    /// `PubliclyDisclosed.url`: 1–2048 bytes, no control characters.
    AdvisoryUrl,
    /// `RegulatoryReport.authority`: 1–256 bytes, no control characters.
    Authority,
    /// `Annotation.text`: 1–4096 bytes.
    AnnotationText,
    /// `Statement.origin`: 1–256 bytes, no control characters.
    Origin,
}

impl TextField {
    /// Longest value in bytes, and whether newlines are allowed.
    pub fn limits(self) -> (usize, bool) {
        match self {
            TextField::PartyName
            | TextField::CounterpartyName
            | TextField::Identifier
            | TextField::Authority
            | TextField::Origin => (256, false),
            TextField::CaseText | TextField::AnnotationText => (4096, true),
            TextField::AdvisoryUrl => (2048, false),
        }
    }

    /// True if `s` obeys the field's rules: 1 to the limit's bytes, no
    /// control characters (newlines only where allowed), and none of the
    /// invisible formatting characters that make text display as something
    /// else ([`is_invisible_format`]).
    pub fn accepts(self, s: &str) -> bool {
        let (max, newlines) = self.limits();
        !s.is_empty()
            && s.len() <= max
            && s.chars()
                .all(|c| (!c.is_control() || (newlines && c == '\n')) && !is_invisible_format(c))
    }
}

impl TextField {
    /// The field's rule, as a sentence.
    pub fn as_str(self) -> &'static str {
        match self {
            TextField::PartyName => {
                "party name must be 1-256 bytes without control or invisible formatting characters"
            }
            TextField::CounterpartyName => {
                "counterparty name must be 1-256 bytes without control or invisible formatting characters"
            }
            TextField::CaseText => {
                "case summary and product must be 1-4096 bytes without control (other than newline) or invisible formatting characters"
            }
            TextField::Identifier => {
                "identifier must be 1-256 bytes without control or invisible formatting characters"
            }
            TextField::AdvisoryUrl => {
                "advisory URL must be 1-2048 bytes without control or invisible formatting characters"
            }
            TextField::Authority => {
                "authority must be 1-256 bytes without control or invisible formatting characters"
            }
            TextField::AnnotationText => {
                "annotation text must be 1-4096 bytes without control (other than newline) or invisible formatting characters"
            }
            TextField::Origin => {
                "origin must be 1-256 bytes without control or invisible formatting characters"
            }
        }
    }
}

impl fmt::Display for TextField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Bidirectional overrides, embeddings and isolates, zero-width characters,
/// invisible operators and the byte-order mark: Unicode format characters
/// (general category Cf) with which a name or an advisory URL can be made
/// to display as another ("Trojan Source", CVE-2021-42574). Refused in
/// every text field.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

/// A hard failure, with its evidence: the offending bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntegrityFailure {
    /// Index of the offending record (for checkpoints: the tree size).
    pub index: u64,
    /// What is wrong.
    pub kind: IntegrityKind,
    /// The record (or checkpoint) bytes as received.
    pub evidence: Vec<u8>,
}

impl fmt::Display for IntegrityFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "record {}: {}", self.index, self.kind)
    }
}

impl fmt::Display for IntegrityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntegrityKind::RecordEncoding(e) => write!(f, "record bytes: {e}"),
            IntegrityKind::StatementEncoding(e) => write!(f, "statement bytes: {e}"),
            IntegrityKind::IndexMismatch { expected, found } => {
                write!(
                    f,
                    "index is {found}, expected {expected} (missing, duplicated or reordered record)"
                )
            }
            IntegrityKind::PrevMismatch { expected, found } => write!(
                f,
                "prev is {}, expected the previous leaf hash {} (hash chain broken)",
                found.to_hex(),
                expected.to_hex()
            ),
            IntegrityKind::LoggedAtDecreased { previous, found } => {
                write!(
                    f,
                    "logged_at {found} is before the previous record's {previous}"
                )
            }
            IntegrityKind::ClaimedInFuture {
                claimed,
                logged,
                skew,
            } => write!(
                f,
                "claimed time {claimed} is after the log time {logged} plus the {skew} ms skew"
            ),
            IntegrityKind::SeenBeyondLog { seen, size } => write!(
                f,
                "statement claims its signer saw a tree of size {seen}, but the log had {size} records"
            ),
            IntegrityKind::SeenTooOld { seen, oldest } => write!(
                f,
                "statement's seen checkpoint (size {seen}) is older than the oldest size that can be checked ({oldest}); sign again after fetching a fresh checkpoint"
            ),
            IntegrityKind::SeenRootMismatch {
                size,
                claimed,
                actual,
            } => write!(
                f,
                "statement says its signer saw root {} at size {size}, but the log's root at that size is {} (a forked view, or a false claim)",
                claimed.to_hex(),
                actual.to_hex()
            ),
            IntegrityKind::WrongOrigin { expected, found } => {
                // An origin from a hostile statement can be 64 KiB long.
                let mut end = found.len().min(256);
                while !found.is_char_boundary(end) {
                    end -= 1;
                }
                let more = if end < found.len() { "…" } else { "" };
                write!(
                    f,
                    "statement is for the log {:?}{more}, not this log {expected:?}",
                    &found[..end]
                )
            }
            IntegrityKind::DuplicateStatement { first } => {
                write!(f, "the same statement is already logged as record {first}")
            }
            IntegrityKind::ImplausibleTime { field, value } => write!(
                f,
                "{field} {value} is outside the plausible range (1980-01-01 to 2100-01-01 UTC, and not after the statement's claimed time where that applies)"
            ),
            IntegrityKind::BadSignature => {
                f.write_str("statement signature does not verify (Ed25519, verify_strict)")
            }
            IntegrityKind::UnknownKey { key } => {
                write!(f, "signing key {} belongs to no registered party", hex(key))
            }
            IntegrityKind::RevokedKey { key, revoked_by } => write!(
                f,
                "signing key {} was revoked by record {revoked_by}",
                hex(key)
            ),
            IntegrityKind::KeyNotYetAdded { key, added_at } => write!(
                f,
                "signing key {} was added by a statement claimed at {added_at}, after this statement's claimed time",
                hex(key)
            ),
            IntegrityKind::BadPossession { key } => write!(
                f,
                "KeyAdded's proof of possession does not verify under the new key {}",
                hex(key)
            ),
            IntegrityKind::KeyInUse { key, party } => {
                write!(f, "key {} already belongs to party {party}", hex(key))
            }
            IntegrityKind::NotSelfSigned => {
                f.write_str("PartyRegistered must be signed by the key it registers")
            }
            IntegrityKind::UnknownCase { case } => write!(f, "case {case} was never opened"),
            IntegrityKind::DuplicateCase { case } => write!(f, "case {case} is already open"),
            IntegrityKind::BadReference {
                reference,
                expected,
            } => write!(f, "reference {reference} is not {expected}"),
            IntegrityKind::CiteMismatch {
                reference,
                expected,
                found,
            } => write!(
                f,
                "citation of record {reference} carries leaf hash {}, but that record's is {}",
                found.to_hex(),
                expected.to_hex()
            ),
            IntegrityKind::Unauthorized { event, rule } => {
                write!(f, "{event} may be signed only by {rule}")
            }
            IntegrityKind::OpeningType { record, field } => write!(
                f,
                "opening of record {record} field {field} is not a canonical value of the field's type"
            ),
            IntegrityKind::OpeningMismatch { record, field } => write!(
                f,
                "opening of record {record} field {field} does not match its commitment"
            ),
            IntegrityKind::InvalidField { what } => write!(f, "invalid field: {what}"),
            IntegrityKind::CheckpointSize {
                audited,
                checkpoint,
            } => write!(
                f,
                "checkpoint is for size {checkpoint} but {audited} records were audited"
            ),
            IntegrityKind::RootMismatch { expected, computed } => write!(
                f,
                "Merkle root of the records is {}, the signed checkpoint says {}",
                computed.to_hex(),
                expected.to_hex()
            ),
            IntegrityKind::CheckpointSignature { detail } => write!(f, "checkpoint: {detail}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for IntegrityFailure {}

/// Protocol findings are errors in the disclosure story; policy findings
/// are thresholds the chosen policy sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// The story is inconsistent.
    Protocol,
    /// The story breaks the watchdog's policy.
    Policy,
}

/// The kinds of findings. Names are stable (used in `--json`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Encode, Decode, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// Protocol: a second embargo became active while one was active.
    MultipleActiveEmbargoes,
    /// Protocol: published while an embargo was active and not terminated.
    PublishedDuringEmbargo,
    /// Protocol: V before F before D violated (a fix ready before the vendor
    /// knew, or released before ready).
    OutOfCausalOrder,
    /// Protocol (allowed, reported): public before any fix was ready.
    PublicBeforeFix,
    /// Protocol: an acknowledgement says it was received before the notice was sent.
    AckBeforeNotice,
    /// Protocol: a notice sent after the case was public.
    NoticeAfterPublic,
    /// Protocol: signed by a key that a later revocation says was
    /// compromised by the time the record was logged.
    SignedByRevokedKey,
    /// Protocol: a statement by a party without authority for it; the log
    /// holds it, but it had no effect (docs/AUDITING.md, "Who may do what").
    Unauthorized,
    /// Protocol: a statement about a case claimed before the case was opened.
    BeforeCaseOpened,
    /// Policy: logged long after the claimed time.
    LoggedLate,
    /// Policy: embargo longer than the policy allows.
    EmbargoTooLong,
    /// Policy: embargo extended more often than the policy allows.
    TooManyExtensions,
    /// Policy: a government agency or programme told before the fix was ready.
    PrivilegedBeforeFix,
    /// Policy: a government agency or programme told before affected deployers.
    PrivilegedBeforeDeployers,
    /// Policy: acknowledged later than the policy allows.
    AcknowledgedLate,
    /// Policy: a notice never acknowledged within the policy's time.
    NeverAcknowledged,
    /// Policy: a sealed field not opened long after publication.
    NotOpened,
    /// Policy: CRA early warning (24 h) late or missing.
    CraEarlyWarningLate,
    /// Policy: CRA notification (72 h) late or missing.
    CraNotificationLate,
    /// Policy: CRA final report (14 days after the fix) late or missing.
    CraFinalReportLate,
    /// Policy: a Vultron desideratum (e.g. F≺P) violated.
    DesideratumViolated,
}

impl FindingKind {
    /// Protocol or policy.
    pub fn category(self) -> Category {
        use FindingKind::*;
        match self {
            MultipleActiveEmbargoes
            | PublishedDuringEmbargo
            | OutOfCausalOrder
            | PublicBeforeFix
            | AckBeforeNotice
            | NoticeAfterPublic
            | SignedByRevokedKey
            | Unauthorized
            | BeforeCaseOpened => Category::Protocol,
            _ => Category::Policy,
        }
    }
}

/// One finding, tied to the record that shows it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct Finding {
    /// What kind.
    pub kind: FindingKind,
    /// The record that shows it.
    pub record: RecordRef,
    /// The case, if any.
    pub case: Option<CaseId>,
    /// The party it concerns most, if any.
    pub party: Option<PartyId>,
    /// A sentence saying what was seen and what was expected.
    pub detail: String,
}

impl Finding {
    /// Protocol or policy.
    pub fn category(&self) -> Category {
        self.kind.category()
    }
}
