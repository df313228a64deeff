//! Witness policies (c2sp.org/tlog-policy): which logs and witnesses are
//! trusted, and which subsets of witnesses must cosign a checkpoint.
//!
//! ```text
//! log <vkey> [<url>]
//! witness <name> <vkey> [<url>]
//! group <name> all|any|<k> <member>...
//! quorum <name>|none
//! ```
//!
//! [`Policy::check_checkpoint`] opens a checkpoint with the policy log key
//! named by its origin, verifies every signature by a policy log and every
//! cosignature from a policy witness (one that fails refuses the checkpoint,
//! as c2sp.org/signed-note §Signatures asks; unknown keys are ignored), and
//! evaluates the quorum. A failure reports how many cosignatures by policy
//! witnesses were seen, how many verified and how many failed.
//!
//! ```
//! use forewarn_tlog::policy::Policy;
//! let p = Policy::parse("quorum none\n").unwrap();
//! assert_eq!(p.to_text(), "quorum none\n");
//! assert!(Policy::parse("group g 2 a b\nquorum g\n").is_err()); // a, b undefined
//! ```

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::checkpoint::{Checkpoint, CheckpointError, parse_canonical_u64};
use crate::note::{self, KeyId, Note, NoteError, OpenError, SignatureType, VerifierKey};

/// Largest policy file accepted, in bytes.
pub const MAX_POLICY_SIZE: usize = 64 * 1024;
/// Most logs, witnesses or groups accepted (the spec recommends ≥ 32).
pub const MAX_ENTRIES: usize = 256;

/// A log trusted by the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyLog {
    /// The log's key; its name is the log's origin.
    pub key: VerifierKey,
    /// Optional URL.
    pub url: Option<String>,
}

/// A witness trusted by the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyWitness {
    /// Name used in groups and the quorum.
    pub name: String,
    /// The witness cosignature key.
    pub key: VerifierKey,
    /// Optional URL.
    pub url: Option<String>,
}

/// How many members of a group must have witnessed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threshold {
    /// Every member (`all`).
    All,
    /// At least one (`any`).
    Any,
    /// At least k (`<k>`, 1 ≤ k ≤ n).
    AtLeast(usize),
}

/// A named group of witnesses and groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyGroup {
    /// Group name.
    pub name: String,
    /// Threshold.
    pub threshold: Threshold,
    /// Member names, each a witness or an earlier group.
    pub members: Vec<String>,
}

/// A parsed policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Trusted logs.
    pub logs: Vec<PolicyLog>,
    /// Trusted witnesses.
    pub witnesses: Vec<PolicyWitness>,
    /// Groups, in definition order.
    pub groups: Vec<PolicyGroup>,
    /// The quorum: a witness or group name, or `None` for `quorum none`.
    pub quorum: Option<String>,
}

/// Why a policy file was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyError {
    /// Larger than [`MAX_POLICY_SIZE`].
    TooLarge,
    /// A control character other than tab and newline, or DEL.
    InvalidCharacter {
        /// 1-based line number.
        line: usize,
    },
    /// A line that is not a log, witness, group or quorum definition.
    UnknownKeyword {
        /// 1-based line number.
        line: usize,
    },
    /// Wrong number of fields for the keyword.
    WrongFieldCount {
        /// 1-based line number.
        line: usize,
    },
    /// A key does not parse, or has the wrong signature type for its role.
    BadKey {
        /// 1-based line number.
        line: usize,
        /// The key problem.
        error: NoteError,
    },
    /// A log key wrong for its role (logs sign with type 0x01, witnesses 0x04).
    WrongKeyType {
        /// 1-based line number.
        line: usize,
    },
    /// The same public key is listed twice (as two logs, or two witnesses).
    DuplicateKey {
        /// 1-based line number.
        line: usize,
    },
    /// A name is defined twice, or is `none`.
    DuplicateName {
        /// 1-based line number.
        line: usize,
    },
    /// A group or quorum refers to a name not defined on an earlier line.
    UndefinedName {
        /// 1-based line number.
        line: usize,
        /// The name.
        name: String,
    },
    /// A group lists the same member twice.
    DuplicateMember {
        /// 1-based line number.
        line: usize,
    },
    /// A threshold is not `all`, `any` or a number between 1 and the member count.
    BadThreshold {
        /// 1-based line number.
        line: usize,
    },
    /// There is no quorum line, or more than one.
    QuorumCount {
        /// Quorum lines found.
        found: usize,
    },
    /// More than [`MAX_ENTRIES`] logs, witnesses or groups.
    TooManyEntries,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::TooLarge => write!(f, "policy is larger than {MAX_POLICY_SIZE} bytes"),
            PolicyError::InvalidCharacter { line } => {
                write!(f, "policy line {line}: control character other than tab")
            }
            PolicyError::UnknownKeyword { line } => write!(
                f,
                "policy line {line}: expected log, witness, group or quorum"
            ),
            PolicyError::WrongFieldCount { line } => {
                write!(f, "policy line {line}: wrong number of fields")
            }
            PolicyError::BadKey { line, error } => write!(f, "policy line {line}: {error}"),
            PolicyError::WrongKeyType { line } => write!(
                f,
                "policy line {line}: logs need Ed25519 (0x01) keys, witnesses cosignature (0x04) keys"
            ),
            PolicyError::DuplicateKey { line } => {
                write!(f, "policy line {line}: this public key is already listed")
            }
            PolicyError::DuplicateName { line } => {
                write!(
                    f,
                    "policy line {line}: name already defined, or reserved (none)"
                )
            }
            PolicyError::UndefinedName { line, name } => write!(
                f,
                "policy line {line}: {name:?} is not defined on an earlier line"
            ),
            PolicyError::DuplicateMember { line } => {
                write!(f, "policy line {line}: a group member is listed twice")
            }
            PolicyError::BadThreshold { line } => write!(
                f,
                "policy line {line}: threshold must be all, any, or 1 to the number of members"
            ),
            PolicyError::QuorumCount { found } => {
                write!(f, "policy has {found} quorum lines, want exactly one")
            }
            PolicyError::TooManyEntries => {
                write!(
                    f,
                    "policy has more than {MAX_ENTRIES} logs, witnesses or groups"
                )
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for PolicyError {}

/// Why a checkpoint does not satisfy a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyCheckError {
    /// The note does not parse, or is not signed by any policy log.
    Log(CheckpointError),
    /// A signature by a policy log key (name and key ID match) does not
    /// verify, even if another signature does (c2sp.org/signed-note
    /// §Signatures).
    BadLogSignature {
        /// The log key's name.
        log: String,
        /// The log key's ID.
        key_id: KeyId,
    },
    /// A cosignature from a policy witness does not verify.
    BadCosignature {
        /// The witness.
        witness: String,
        /// Cosignatures by policy witnesses seen.
        seen: usize,
        /// Of those, verified.
        verified: usize,
        /// Of those, failed.
        failed: usize,
    },
    /// The verified cosignatures do not satisfy the quorum.
    QuorumNotMet {
        /// The quorum name.
        quorum: String,
        /// Cosignatures by policy witnesses seen.
        seen: usize,
        /// Of those, verified.
        verified: usize,
        /// Of those, failed.
        failed: usize,
    },
}

impl fmt::Display for PolicyCheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyCheckError::Log(e) => write!(f, "{e}"),
            PolicyCheckError::BadLogSignature { log, key_id } => write!(
                f,
                "signature by policy log key {log}+{key_id} does not verify"
            ),
            PolicyCheckError::BadCosignature {
                witness,
                seen,
                verified,
                failed,
            } => write!(
                f,
                "cosignature by witness {witness:?} does not verify ({seen} cosignatures from policy witnesses seen, {verified} verified, {failed} failed)"
            ),
            PolicyCheckError::QuorumNotMet {
                quorum,
                seen,
                verified,
                failed,
            } => write!(
                f,
                "witness quorum {quorum:?} not met: {seen} cosignatures from policy witnesses seen, {verified} verified, {failed} failed"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for PolicyCheckError {}

/// The outcome of a successful policy check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyVerdict {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// The policy log that signed it.
    pub log: VerifierKey,
    /// Policy witnesses whose cosignatures verified, with their timestamps.
    pub witnessed: Vec<(String, u64)>,
}

fn is_ws(c: char) -> bool {
    c == ' ' || c == '\t'
}

impl Policy {
    /// A policy that trusts one log and needs no witnesses.
    pub fn single_log(key: VerifierKey) -> Policy {
        Policy {
            logs: alloc::vec![PolicyLog { key, url: None }],
            witnesses: Vec::new(),
            groups: Vec::new(),
            quorum: None,
        }
    }

    /// Parses a policy file (c2sp.org/tlog-policy §Policy file syntax).
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        if text.len() > MAX_POLICY_SIZE {
            return Err(PolicyError::TooLarge);
        }
        let mut p = Policy {
            logs: Vec::new(),
            witnesses: Vec::new(),
            groups: Vec::new(),
            quorum: None,
        };
        let mut quorum_lines = 0;
        for (i, raw) in text.split('\n').enumerate() {
            let line = i + 1;
            if raw.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
                return Err(PolicyError::InvalidCharacter { line });
            }
            let fields: Vec<&str> = raw.split(is_ws).filter(|f| !f.is_empty()).collect();
            let Some(&keyword) = fields.first() else {
                continue;
            };
            if keyword.starts_with('#') {
                continue;
            }
            if p.logs.len() + p.witnesses.len() + p.groups.len() >= MAX_ENTRIES {
                return Err(PolicyError::TooManyEntries);
            }
            match keyword {
                "log" => {
                    if !(2..=3).contains(&fields.len()) {
                        return Err(PolicyError::WrongFieldCount { line });
                    }
                    let key = parse_key(fields[1], line, SignatureType::Ed25519)?;
                    if p.logs
                        .iter()
                        .any(|l| l.key.public_key() == key.public_key())
                    {
                        return Err(PolicyError::DuplicateKey { line });
                    }
                    p.logs.push(PolicyLog {
                        key,
                        url: fields.get(2).map(|s| s.to_string()),
                    });
                }
                "witness" => {
                    if !(3..=4).contains(&fields.len()) {
                        return Err(PolicyError::WrongFieldCount { line });
                    }
                    let name = fields[1];
                    if p.is_defined(name) || name == "none" {
                        return Err(PolicyError::DuplicateName { line });
                    }
                    let key = parse_key(fields[2], line, SignatureType::CosignatureV1)?;
                    if p.witnesses
                        .iter()
                        .any(|w| w.key.public_key() == key.public_key())
                    {
                        return Err(PolicyError::DuplicateKey { line });
                    }
                    p.witnesses.push(PolicyWitness {
                        name: name.to_string(),
                        key,
                        url: fields.get(3).map(|s| s.to_string()),
                    });
                }
                "group" => {
                    if fields.len() < 4 {
                        return Err(PolicyError::WrongFieldCount { line });
                    }
                    let name = fields[1];
                    if p.is_defined(name) || name == "none" {
                        return Err(PolicyError::DuplicateName { line });
                    }
                    let members: Vec<String> = fields[3..].iter().map(|s| s.to_string()).collect();
                    for (j, m) in members.iter().enumerate() {
                        if !p.is_defined(m) {
                            return Err(PolicyError::UndefinedName {
                                line,
                                name: m.clone(),
                            });
                        }
                        if members[..j].contains(m) {
                            return Err(PolicyError::DuplicateMember { line });
                        }
                    }
                    let threshold = match fields[2] {
                        "all" => Threshold::All,
                        "any" => Threshold::Any,
                        k => match parse_canonical_u64(k) {
                            Some(k) if k >= 1 && (k as usize) <= members.len() => {
                                Threshold::AtLeast(k as usize)
                            }
                            _ => return Err(PolicyError::BadThreshold { line }),
                        },
                    };
                    p.groups.push(PolicyGroup {
                        name: name.to_string(),
                        threshold,
                        members,
                    });
                }
                "quorum" => {
                    if fields.len() != 2 {
                        return Err(PolicyError::WrongFieldCount { line });
                    }
                    quorum_lines += 1;
                    if quorum_lines > 1 {
                        return Err(PolicyError::QuorumCount {
                            found: quorum_lines,
                        });
                    }
                    let name = fields[1];
                    if name == "none" {
                        p.quorum = None;
                    } else if p.is_defined(name) {
                        p.quorum = Some(name.to_string());
                    } else {
                        return Err(PolicyError::UndefinedName {
                            line,
                            name: name.to_string(),
                        });
                    }
                }
                _ => return Err(PolicyError::UnknownKeyword { line }),
            }
        }
        if quorum_lines != 1 {
            return Err(PolicyError::QuorumCount {
                found: quorum_lines,
            });
        }
        Ok(p)
    }

    fn is_defined(&self, name: &str) -> bool {
        self.witnesses.iter().any(|w| w.name == name) || self.groups.iter().any(|g| g.name == name)
    }

    /// The policy in canonical form: logs, witnesses, groups, quorum.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for l in &self.logs {
            s.push_str(&format!("log {}", l.key));
            if let Some(u) = &l.url {
                s.push(' ');
                s.push_str(u);
            }
            s.push('\n');
        }
        for w in &self.witnesses {
            s.push_str(&format!("witness {} {}", w.name, w.key));
            if let Some(u) = &w.url {
                s.push(' ');
                s.push_str(u);
            }
            s.push('\n');
        }
        for g in &self.groups {
            let t = match g.threshold {
                Threshold::All => "all".to_string(),
                Threshold::Any => "any".to_string(),
                Threshold::AtLeast(k) => format!("{k}"),
            };
            s.push_str(&format!("group {} {} {}\n", g.name, t, g.members.join(" ")));
        }
        s.push_str(&format!(
            "quorum {}\n",
            self.quorum.as_deref().unwrap_or("none")
        ));
        s
    }

    /// True if the named witness or group has witnessed, given the set of
    /// witnesses whose cosignatures verified.
    fn satisfied(&self, name: &str, witnessed: &[&str]) -> bool {
        if self.witnesses.iter().any(|w| w.name == name) {
            return witnessed.contains(&name);
        }
        let Some(group) = self.groups.iter().find(|g| g.name == name) else {
            return false;
        };
        // Groups only refer to earlier names, so this recursion ends.
        let count = group
            .members
            .iter()
            .filter(|m| self.satisfied(m, witnessed))
            .count();
        let need = match group.threshold {
            Threshold::All => group.members.len(),
            Threshold::Any => 1,
            Threshold::AtLeast(k) => k,
        };
        count >= need
    }

    /// Verifies a signed checkpoint against the policy: signed by a policy
    /// log whose key name is the origin (c2sp.org/tlog-policy §Defining a
    /// log), every cosignature from a policy witness valid, and the quorum
    /// met.
    ///
    /// Signature lines follow c2sp.org/signed-note §Signatures as Go's
    /// `note.Open` does (`InvalidSignatureError`): a line whose key name
    /// and ID match a policy log or witness must verify, or the whole
    /// checkpoint is refused ([`PolicyCheckError::BadLogSignature`],
    /// [`PolicyCheckError::BadCosignature`]) even if another signature
    /// verifies; lines by keys the policy does not list are ignored.
    pub fn check_checkpoint(&self, note_bytes: &[u8]) -> Result<PolicyVerdict, PolicyCheckError> {
        let note = Note::parse(note_bytes)
            .map_err(|e| PolicyCheckError::Log(CheckpointError::Note(OpenError::Malformed(e))))?;
        let checkpoint = Checkpoint::parse(note.text()).map_err(PolicyCheckError::Log)?;
        let text = note.text().as_bytes();
        // Every line by a policy log key must verify; remember which did.
        let mut signed = alloc::vec![false; self.logs.len()];
        for sig in note.signatures() {
            let Some(i) = self
                .logs
                .iter()
                .position(|l| l.key.name() == sig.name && l.key.key_id() == sig.key_id)
            else {
                continue;
            };
            if !self.logs[i].key.verify(text, &sig.signature) {
                return Err(PolicyCheckError::BadLogSignature {
                    log: sig.name.clone(),
                    key_id: sig.key_id,
                });
            }
            signed[i] = true;
        }
        // The first policy log named by the origin whose signature verified.
        let log = (self.logs.iter().zip(&signed))
            .find(|(l, signed)| **signed && l.key.name() == checkpoint.origin())
            .map(|(l, _)| l);
        let log = log.ok_or_else(|| {
            PolicyCheckError::Log(CheckpointError::NotSignedByLog {
                log: format!("for origin {:?} in the policy", checkpoint.origin()),
            })
        })?;
        let (mut seen, mut verified, mut failed) = (0, 0, 0);
        let mut witnessed: Vec<(String, u64)> = Vec::new();
        let mut first_bad = None;
        for sig in note.signatures() {
            let Some(w) = self
                .witnesses
                .iter()
                .find(|w| w.key.name() == sig.name && w.key.key_id() == sig.key_id)
            else {
                continue;
            };
            seen += 1;
            match crate::cosignature::verify_timestamped(
                w.key.public_key(),
                note.text(),
                &sig.signature,
            ) {
                Some(time) => {
                    verified += 1;
                    if !witnessed.iter().any(|(n, _)| *n == w.name) {
                        witnessed.push((w.name.clone(), time));
                    }
                }
                None => {
                    failed += 1;
                    first_bad.get_or_insert_with(|| w.name.clone());
                }
            }
        }
        if let Some(witness) = first_bad {
            return Err(PolicyCheckError::BadCosignature {
                witness,
                seen,
                verified,
                failed,
            });
        }
        if let Some(q) = &self.quorum {
            let names: Vec<&str> = witnessed.iter().map(|(n, _)| n.as_str()).collect();
            if !self.satisfied(q, &names) {
                return Err(PolicyCheckError::QuorumNotMet {
                    quorum: q.clone(),
                    seen,
                    verified,
                    failed,
                });
            }
        }
        Ok(PolicyVerdict {
            checkpoint,
            log: log.key.clone(),
            witnessed,
        })
    }
}

fn parse_key(text: &str, line: usize, want: SignatureType) -> Result<VerifierKey, PolicyError> {
    let key =
        note::VerifierKey::parse(text).map_err(|error| PolicyError::BadKey { line, error })?;
    if key.kind() != want {
        return Err(PolicyError::WrongKeyType { line });
    }
    Ok(key)
}
