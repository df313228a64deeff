//! Small value types shared by statements, events and reports.
//!
//! Every enum's tag is its declaration order (bincode `u32` tag), frozen by
//! docs/FORMAT.md §12 and the golden vectors: append new variants, never
//! reorder.

use alloc::string::String;
use core::fmt;

use bincode::{Decode, Encode};
use forewarn_tlog::hash::Hash;
use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = u64;

/// One day in milliseconds.
pub const DAY_MS: u64 = 24 * 60 * 60 * 1000;
/// One hour in milliseconds.
pub const HOUR_MS: u64 = 60 * 60 * 1000;

/// An Ed25519 public key (RFC 8032 encoding), as it appears in statements.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode)]
pub struct PublicKey(pub [u8; 32]);

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", hex(&self.0[..8]))
    }
}

impl Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex(&self.0))
    }
}

/// A 128-bit case identifier, chosen at random by whoever opens the case.
/// Ordered as its bytes are (compared as one big-endian `u128`, which is
/// the same order and cheaper than a byte-wise comparison).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Encode, Decode)]
pub struct CaseId(pub [u8; 16]);

impl Ord for CaseId {
    fn cmp(&self, other: &CaseId) -> core::cmp::Ordering {
        u128::from_be_bytes(self.0).cmp(&u128::from_be_bytes(other.0))
    }
}

impl PartialOrd for CaseId {
    fn partial_cmp(&self, other: &CaseId) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Debug for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CaseId({})", hex(&self.0))
    }
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

impl Serialize for CaseId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex(&self.0))
    }
}

/// A reference to an earlier record: its index in the log.
///
/// Encoded as the bare `u64` (docs/FORMAT.md §11) and serialized as a JSON
/// number, exactly like the index it wraps.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Encode,
    Decode,
    Serialize,
    Deserialize,
)]
#[serde(transparent)]
pub struct RecordRef(pub u64);

impl fmt::Display for RecordRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<u64> for RecordRef {
    fn from(index: u64) -> RecordRef {
        RecordRef(index)
    }
}

/// A citation of an earlier record: its index and its leaf hash
/// (RFC 9162 §2.1.1), so that a reference names exactly one record and a
/// signer cannot be made to cite something it did not see (docs/FORMAT.md
/// §11). Encoded as the `u64` index followed by the 32 hash bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Cite {
    /// The record's index.
    pub record: RecordRef,
    /// Its leaf hash, `SHA-256(0x00 || record bytes)`.
    pub leaf: Hash,
}

impl Cite {
    /// The citation of record `index` with leaf hash `leaf`.
    pub fn new(index: u64, leaf: Hash) -> Cite {
        Cite {
            record: RecordRef(index),
            leaf,
        }
    }

    /// The party whose registration record this cites.
    pub fn party(&self) -> PartyId {
        PartyId(self.record.0)
    }
}

impl Serialize for Cite {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Cite", 2)?;
        st.serialize_field("record", &self.record)?;
        st.serialize_field("leaf", &self.leaf.to_hex())?;
        st.end()
    }
}

/// An Ed25519 signature (RFC 8032 encoding, 64 bytes), as it appears
/// inside an event (`KeyAdded.possession`). Serialized as lower-case hex.
#[derive(Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct Signature(pub [u8; 64]);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", hex(&self.0[..8]))
    }
}

impl Serialize for Signature {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex(&self.0))
    }
}

/// The range of plausible times (ms since the Unix epoch): from
/// 1980-01-01T00:00:00Z (before any coordinated disclosure programme) to
/// 2100-01-01T00:00:00Z, exclusive. Claimed, effective, received and
/// embargo-end times outside it are refused (docs/FORMAT.md §13).
pub const PLAUSIBLE_TIMES: core::ops::Range<Millis> = 315_532_800_000..4_102_444_800_000;

/// A party, named by the index of its `PartyRegistered` record.
///
/// Encoded as the bare `u64` (docs/FORMAT.md §11) and serialized as a JSON
/// number.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Encode,
    Decode,
    Serialize,
    Deserialize,
)]
#[serde(transparent)]
pub struct PartyId(pub u64);

impl PartyId {
    /// The party's `PartyRegistered` record.
    pub fn registration(self) -> RecordRef {
        RecordRef(self.0)
    }
}

impl fmt::Display for PartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<RecordRef> for PartyId {
    /// The party registered by that record.
    fn from(registration: RecordRef) -> PartyId {
        PartyId(registration.0)
    }
}

/// What kind of organisation a party is (docs/DESIGN.md §2; Vultron roles
/// and the recipient classes policies care about).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum PartyClass {
    /// Makes the affected product (Vultron Vendor).
    Vendor,
    /// Found the flaw (Vultron Finder/Reporter).
    Finder,
    /// Coordinates disclosure, e.g. a CERT (Vultron Coordinator).
    Coordinator,
    /// A government agency.
    Government,
    /// Runs the product: a customer or deployer (Vultron Deployer).
    Deployer,
    /// A protection or early-notification programme (e.g. MAPP-like).
    Program,
    /// Anyone else.
    Other,
}

impl PartyClass {
    /// Every class, in tag order.
    pub const ALL: [PartyClass; 7] = [
        PartyClass::Vendor,
        PartyClass::Finder,
        PartyClass::Coordinator,
        PartyClass::Government,
        PartyClass::Deployer,
        PartyClass::Program,
        PartyClass::Other,
    ];

    /// Lower-case name, as used in reports and policy files.
    pub fn name(self) -> &'static str {
        match self {
            PartyClass::Vendor => "vendor",
            PartyClass::Finder => "finder",
            PartyClass::Coordinator => "coordinator",
            PartyClass::Government => "government",
            PartyClass::Deployer => "deployer",
            PartyClass::Program => "program",
            PartyClass::Other => "other",
        }
    }

    /// Government agencies and early-notification programmes: the
    /// recipients whose head start policies watch.
    pub fn is_privileged(self) -> bool {
        matches!(self, PartyClass::Government | PartyClass::Program)
    }
}

/// How much a notice told (ordered: existence < details < exploit).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum InfoLevel {
    /// That a flaw exists (and roughly where).
    Existence,
    /// Technical details sufficient to understand or fix it.
    Details,
    /// A working exploit or proof of concept.
    Exploit,
}

/// FIRST Traffic Light Protocol 2.0 label.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode, Serialize, Deserialize,
)]
pub enum Tlp {
    /// TLP:CLEAR
    #[serde(rename = "CLEAR")]
    Clear,
    /// TLP:GREEN
    #[serde(rename = "GREEN")]
    Green,
    /// TLP:AMBER
    #[serde(rename = "AMBER")]
    Amber,
    /// TLP:AMBER+STRICT
    #[serde(rename = "AMBER+STRICT")]
    AmberStrict,
    /// TLP:RED
    #[serde(rename = "RED")]
    Red,
}

/// How a notice was delivered.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    /// Plain e-mail.
    Email,
    /// OpenPGP- or S/MIME-encrypted e-mail.
    EncryptedEmail,
    /// A web portal or ticketing system.
    Portal,
    /// A machine-to-machine API.
    Api,
    /// A closed mailing list (e.g. linux-distros).
    MailingList,
    /// Telephone or video call.
    Phone,
    /// In person.
    InPerson,
    /// Anything else.
    Other,
}

/// Why an embargo ended (Vultron EM state Exited).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum TerminationReason {
    /// The agreed end date arrived.
    PlannedEnd,
    /// The information leaked.
    Leak,
    /// Attacks were observed in the wild.
    ExploitationObserved,
    /// Someone else published.
    PublicElsewhere,
    /// Anything else.
    Other,
}

/// Identifier schemes for `IdentifierAssigned`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum IdScheme {
    /// CVE (cve.org).
    Cve,
    /// GitHub Security Advisory.
    Ghsa,
    /// OSV.dev identifier.
    Osv,
    /// EU Vulnerability Database (ENISA EUVD).
    Euvd,
    /// A vendor's own advisory identifier.
    Vendor,
    /// Anything else.
    Other,
}

/// EU Cyber Resilience Act Art. 14 report stages.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum RegulatoryStage {
    /// Art. 14(2)(a): early warning within 24 hours of awareness.
    EarlyWarning,
    /// Art. 14(2)(b): vulnerability notification within 72 hours.
    Notification,
    /// Art. 14(2)(c): final report within 14 days of a corrective measure.
    FinalReport,
}

/// Kinds of `Annotation`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum AnnotationKind {
    /// The annotated record contains a mistake; the text corrects it.
    Correction,
    /// A remark.
    Comment,
    /// The signer withdraws the annotated record (it stays in the log).
    Retraction,
}

/// Lower-case hex, for display only.
pub fn hex(bytes: &[u8]) -> String {
    ::base16ct::lower::encode_string(bytes)
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;

    use super::*;
    use crate::encoding;

    #[test]
    fn newtypes_encode_exactly_as_what_they_wrap() {
        assert_eq!(
            encoding::encode(&RecordRef(0x0102_0304)).unwrap(),
            0x0102_0304u64.to_le_bytes()
        );
        assert_eq!(encoding::encode(&PartyId(7)).unwrap(), 7u64.to_le_bytes());
        assert_eq!(
            encoding::decode::<RecordRef>(&9u64.to_le_bytes()).unwrap(),
            RecordRef(9)
        );
        let h = Hash([9; 32]);
        assert_eq!(encoding::encode(&h).unwrap(), [9u8; 32]);
        assert_eq!(
            encoding::encode(&h).unwrap(),
            encoding::encode(&h.0).unwrap()
        );
        assert_eq!(encoding::decode::<Hash>(&[9; 32]).unwrap(), h);
        assert!(encoding::decode::<Hash>(&[9; 31]).is_err());
    }

    #[test]
    fn case_ids_order_as_their_bytes() {
        let ids = [
            [0u8; 16],
            [1; 16],
            [0xff; 16],
            *b"golden-case-0001",
            *b"golden-case-0002",
        ];
        let mut with_bytes = alloc::vec::Vec::new();
        for a in ids {
            for mut b in ids {
                b[15] ^= 1;
                with_bytes.push((a, b));
                with_bytes.push((b, a));
                with_bytes.push((a, a));
            }
        }
        for (a, b) in with_bytes {
            assert_eq!(CaseId(a).cmp(&CaseId(b)), a.cmp(&b), "{a:?} {b:?}");
        }
    }

    #[test]
    fn newtypes_are_plain_numbers_in_json() {
        assert_eq!(serde_json::to_string(&PartyId(7)).unwrap(), "7");
        assert_eq!(serde_json::to_string(&RecordRef(8)).unwrap(), "8");
        assert_eq!(serde_json::from_str::<PartyId>("7").unwrap(), PartyId(7));
        assert_eq!(PartyId(7).to_string(), "7");
        assert_eq!(RecordRef(8).to_string(), "8");
        assert_eq!(PartyId::from(RecordRef(8)).registration(), RecordRef(8));
    }
}
