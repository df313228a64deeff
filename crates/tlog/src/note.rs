//! C2SP signed notes: text signed by one or more keys (c2sp.org/signed-note).
//!
//! A note is UTF-8 text ending in a newline, a blank line, and one
//! signature line per key: `— <name> base64(key ID || signature)`.
//! Checkpoints, cosigned checkpoints and tlog-proofs all carry notes.
//!
//! * [`Note::parse`] / [`Note::to_bytes`]: strict, size-capped, canonical.
//! * [`VerifierKey`] (`name+hex8+base64(type||pk)`) and [`SignerKey`]
//!   (Go's `PRIVATE+KEY+name+hex8+base64(type||seed)`).
//! * [`open`]: verifies a note against trusted keys with the spec's rules:
//!   unknown keys are ignored (kept as unverified), a known key whose
//!   signature fails rejects the note, and at least one known key must verify.
//!
//! Signatures are verified with Ed25519 `verify_strict`: small-order keys
//! and `R`, and non-canonical `S`, are rejected (see docs/FORMAT.md).
//!
//! ```
//! use forewarn_tlog::note::{open, Note, VerifierKey};
//! // The example of c2sp.org/signed-note.
//! let vkey = VerifierKey::parse("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k").unwrap();
//! let note = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
//! let opened = open(note.as_bytes(), &[vkey]).unwrap();
//! assert_eq!(opened.text, "This is an example message.\n");
//! assert_eq!(Note::parse(note.as_bytes()).unwrap().to_bytes(), note.as_bytes());
//! ```

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use zeroize::{Zeroize, Zeroizing};

use crate::cosignature;
use crate::hash::sha256;

/// Largest note accepted, in bytes.
pub const MAX_NOTE_SIZE: usize = 256 * 1024;
/// Most signature lines accepted in one note (the spec requires ≥ 16).
pub const MAX_SIGNATURES: usize = 100;

/// The four-byte identifier of a note key (c2sp.org/signed-note §Signatures).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 4]);

impl KeyId {
    /// `SHA-256(name || 0x0A || type || public key)[:4]`.
    pub fn compute(name: &str, kind: SignatureType, public_key: &[u8; 32]) -> KeyId {
        let mut buf = Vec::with_capacity(name.len() + 2 + 32);
        buf.extend_from_slice(name.as_bytes());
        buf.push(b'\n');
        buf.push(kind as u8);
        buf.extend_from_slice(public_key);
        let h = sha256(&buf);
        KeyId([h[0], h[1], h[2], h[3]])
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", u32::from_be_bytes(self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// Signature types this crate signs and verifies (c2sp.org/signed-note
/// §Signature types).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureType {
    /// 0x01: Ed25519 over the note text.
    Ed25519 = 0x01,
    /// 0x04: timestamped Ed25519 witness cosignature (c2sp.org/tlog-cosignature).
    CosignatureV1 = 0x04,
}

impl SignatureType {
    fn from_byte(b: u8) -> Option<Self> {
        match b {
            0x01 => Some(SignatureType::Ed25519),
            0x04 => Some(SignatureType::CosignatureV1),
            _ => None,
        }
    }
}

/// Why a note, key or signature line was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoteError {
    /// Larger than [`MAX_NOTE_SIZE`].
    TooLarge {
        /// Size given.
        size: usize,
    },
    /// Not valid UTF-8.
    NotUtf8,
    /// A control character other than newline, at this byte offset.
    ControlCharacter {
        /// Byte offset of the first offending character.
        offset: usize,
    },
    /// The note or text does not end with a newline.
    MissingFinalNewline,
    /// No blank line separates the text from the signatures.
    MissingSignatureBlock,
    /// More than [`MAX_SIGNATURES`] signature lines.
    TooManySignatures {
        /// Lines found.
        count: usize,
    },
    /// A signature line is malformed (line number within the signature block, from 1).
    MalformedSignatureLine {
        /// Line number within the signature block, from 1.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A key name is empty or contains a space or `+`.
    InvalidKeyName,
    /// A verifier or signer key string is malformed.
    MalformedKey {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A key's declared ID does not match the one computed from its name and key.
    KeyIdMismatch {
        /// ID computed from the key material.
        computed: KeyId,
        /// ID written in the key string.
        declared: KeyId,
    },
}

impl fmt::Display for NoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoteError::TooLarge { size } => {
                write!(f, "note is {size} bytes, the limit is {MAX_NOTE_SIZE}")
            }
            NoteError::NotUtf8 => f.write_str("note is not valid UTF-8"),
            NoteError::ControlCharacter { offset } => write!(
                f,
                "note has a control character other than newline at byte {offset}"
            ),
            NoteError::MissingFinalNewline => f.write_str("note does not end with a newline"),
            NoteError::MissingSignatureBlock => {
                f.write_str("note has no blank line followed by signature lines")
            }
            NoteError::TooManySignatures { count } => write!(
                f,
                "note has {count} signature lines, the limit is {MAX_SIGNATURES}"
            ),
            NoteError::MalformedSignatureLine { line, reason } => {
                write!(f, "signature line {line} is malformed: {reason}")
            }
            NoteError::InvalidKeyName => {
                f.write_str("key name is empty or contains a space or '+'")
            }
            NoteError::MalformedKey { reason } => write!(f, "malformed key: {reason}"),
            NoteError::KeyIdMismatch { computed, declared } => write!(
                f,
                "key ID {declared} does not match the ID {computed} computed from the key"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for NoteError {}

/// One signature line of a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The key ID (first four bytes of the decoded signature field).
    pub key_id: KeyId,
    /// The signature bytes after the key ID.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The line without its final newline: `— name base64(id || sig)`.
    pub fn to_line(&self) -> String {
        let mut raw = Vec::with_capacity(4 + self.signature.len());
        raw.extend_from_slice(&self.key_id.0);
        raw.extend_from_slice(&self.signature);
        format!("\u{2014} {} {}", self.name, BASE64.encode(raw))
    }
}

/// A parsed, not yet verified, note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

/// True if `name` is a valid key name: non-empty, no Unicode space, no `+`.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
}

fn check_text(bytes: &[u8]) -> Result<&str, NoteError> {
    let text = core::str::from_utf8(bytes).map_err(|_| NoteError::NotUtf8)?;
    if let Some(offset) = bytes.iter().position(|&b| b < 0x20 && b != b'\n') {
        return Err(NoteError::ControlCharacter { offset });
    }
    if !text.ends_with('\n') {
        return Err(NoteError::MissingFinalNewline);
    }
    Ok(text)
}

impl Note {
    /// A note with `text` and no signatures yet. The text must be valid
    /// note text: UTF-8, no control characters but newline, final newline.
    pub fn new(text: &str) -> Result<Note, NoteError> {
        if text.len() > MAX_NOTE_SIZE {
            return Err(NoteError::TooLarge { size: text.len() });
        }
        check_text(text.as_bytes())?;
        Ok(Note {
            text: text.to_string(),
            signatures: Vec::new(),
        })
    }

    /// A note from text the caller built from validated parts.
    pub(crate) fn from_valid_text(text: String) -> Note {
        debug_assert!(check_text(text.as_bytes()).is_ok());
        Note {
            text,
            signatures: Vec::new(),
        }
    }

    /// Parses a signed note strictly (c2sp.org/signed-note §Format).
    pub fn parse(bytes: &[u8]) -> Result<Note, NoteError> {
        if bytes.len() > MAX_NOTE_SIZE {
            return Err(NoteError::TooLarge { size: bytes.len() });
        }
        let all = check_text(bytes)?;
        // The text ends at the last blank line; signatures follow it.
        let split = all.rfind("\n\n").ok_or(NoteError::MissingSignatureBlock)?;
        let text = &all[..=split];
        let block = &all[split + 2..];
        if block.is_empty() {
            return Err(NoteError::MissingSignatureBlock);
        }
        let lines: Vec<&str> = block[..block.len() - 1].split('\n').collect();
        if lines.len() > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures { count: lines.len() });
        }
        let mut signatures = Vec::with_capacity(lines.len());
        for (i, line) in lines.iter().enumerate() {
            signatures.push(parse_signature_line(line, i + 1)?);
        }
        Ok(Note {
            text: text.to_string(),
            signatures,
        })
    }

    /// The signed text, final newline included.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines, in order.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Appends a signature line.
    pub fn push_signature(&mut self, sig: NoteSignature) {
        self.signatures.push(sig);
    }

    /// Signs the text with `key` and appends the signature line.
    pub fn sign(&mut self, key: &SignerKey) {
        let sig = key.sign(self.text.as_bytes());
        self.signatures.push(sig);
    }

    /// The note's bytes: text, blank line, signature lines.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::with_capacity(self.text.len() + 1 + 120 * self.signatures.len());
        out.push_str(&self.text);
        out.push('\n');
        for s in &self.signatures {
            out.push_str(&s.to_line());
            out.push('\n');
        }
        out.into_bytes()
    }
}

fn parse_signature_line(line: &str, n: usize) -> Result<NoteSignature, NoteError> {
    let bad = |reason| NoteError::MalformedSignatureLine { line: n, reason };
    let rest = line
        .strip_prefix("\u{2014} ")
        .ok_or(bad("does not start with an em dash (U+2014) and a space"))?;
    let (name, b64) = rest
        .split_once(' ')
        .ok_or(bad("no space between key name and signature"))?;
    if !is_valid_key_name(name) {
        return Err(bad("key name is empty or contains a space or '+'"));
    }
    let raw = BASE64
        .decode(b64)
        .map_err(|_| bad("signature is not canonical base64"))?;
    if raw.len() < 5 {
        return Err(bad("signature is shorter than a key ID plus one byte"));
    }
    Ok(NoteSignature {
        name: name.to_string(),
        key_id: KeyId([raw[0], raw[1], raw[2], raw[3]]),
        signature: raw[4..].to_vec(),
    })
}

/// A public key trusted to sign notes: `name+hex8+base64(type || key)`.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    key_id: KeyId,
    kind: SignatureType,
    key: VerifyingKey,
}

fn parse_key_id(hex: &str) -> Result<KeyId, NoteError> {
    if hex.len() != 8 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(NoteError::MalformedKey {
            reason: "key ID is not 8 lowercase hexadecimal digits",
        });
    }
    let v = u32::from_str_radix(hex, 16).map_err(|_| NoteError::MalformedKey {
        reason: "key ID is not hexadecimal",
    })?;
    Ok(KeyId(v.to_be_bytes()))
}

/// The parts of `name+hex8+base64(type || key)`.
struct KeyParts<'a> {
    name: &'a str,
    declared: KeyId,
    kind: SignatureType,
    /// Public key or secret seed; wiped when dropped.
    key: Zeroizing<[u8; 32]>,
}

/// Splits `name+hex8+base64` and decodes the typed 33-byte key material.
/// The key bytes may be a secret seed, so every copy is wiped after use.
fn split_key(text: &str) -> Result<KeyParts<'_>, NoteError> {
    let (name, rest) = text.split_once('+').ok_or(NoteError::MalformedKey {
        reason: "expected name+keyid+key",
    })?;
    if !is_valid_key_name(name) {
        return Err(NoteError::InvalidKeyName);
    }
    let (hex, b64) = rest.split_once('+').ok_or(NoteError::MalformedKey {
        reason: "expected name+keyid+key",
    })?;
    let declared = parse_key_id(hex)?;
    let raw = Zeroizing::new(BASE64.decode(b64).map_err(|_| NoteError::MalformedKey {
        reason: "key material is not canonical base64",
    })?);
    if raw.len() != 33 {
        return Err(NoteError::MalformedKey {
            reason: "key material is not a type byte and 32 key bytes",
        });
    }
    let kind = SignatureType::from_byte(raw[0]).ok_or(NoteError::MalformedKey {
        reason: "unsupported signature type (want 0x01 Ed25519 or 0x04 cosignature/v1)",
    })?;
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&raw[1..]);
    Ok(KeyParts {
        name,
        declared,
        kind,
        key,
    })
}

impl VerifierKey {
    /// Parses a vkey and checks its key ID against its name and key.
    pub fn parse(text: &str) -> Result<VerifierKey, NoteError> {
        let KeyParts {
            name,
            declared,
            kind,
            key,
        } = split_key(text)?;
        let computed = KeyId::compute(name, kind, &key);
        if computed != declared {
            return Err(NoteError::KeyIdMismatch { computed, declared });
        }
        let key = VerifyingKey::from_bytes(&key).map_err(|_| NoteError::MalformedKey {
            reason: "not a valid Ed25519 public key",
        })?;
        if key.is_weak() {
            // verify_strict would reject every signature by it anyway.
            return Err(NoteError::MalformedKey {
                reason: "small-order (weak) Ed25519 public key",
            });
        }
        Ok(VerifierKey {
            name: name.to_string(),
            key_id: computed,
            kind,
            key,
        })
    }

    /// A verifier key from its parts (key ID computed). Small-order (weak)
    /// keys are refused.
    pub fn new(name: &str, kind: SignatureType, key: VerifyingKey) -> Result<Self, NoteError> {
        if !is_valid_key_name(name) {
            return Err(NoteError::InvalidKeyName);
        }
        if key.is_weak() {
            return Err(NoteError::MalformedKey {
                reason: "small-order (weak) Ed25519 public key",
            });
        }
        Ok(VerifierKey {
            name: name.to_string(),
            key_id: KeyId::compute(name, kind, key.as_bytes()),
            kind,
            key,
        })
    }

    /// The vkey text.
    pub fn to_text(&self) -> String {
        let mut raw = [0u8; 33];
        raw[0] = self.kind as u8;
        raw[1..].copy_from_slice(self.key.as_bytes());
        format!("{}+{}+{}", self.name, self.key_id, BASE64.encode(raw))
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The signature type.
    pub fn kind(&self) -> SignatureType {
        self.kind
    }

    /// The Ed25519 public key.
    pub fn public_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// True if this key signed `text` with `signature` (the bytes after
    /// the key ID). For cosignature keys the signature is the 8-byte
    /// timestamp followed by the Ed25519 signature over the
    /// `cosignature/v1` message.
    pub fn verify(&self, text: &[u8], signature: &[u8]) -> bool {
        match self.kind {
            SignatureType::Ed25519 => match Signature::from_slice(signature) {
                Ok(sig) => self.key.verify_strict(text, &sig).is_ok(),
                Err(_) => false,
            },
            SignatureType::CosignatureV1 => {
                let Ok(text) = core::str::from_utf8(text) else {
                    return false;
                };
                cosignature::verify_timestamped(&self.key, text, signature).is_some()
            }
        }
    }
}

impl fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifierKey({})", self.to_text())
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// A private note key. Its `Debug` output never shows the secret.
#[derive(Clone)]
pub struct SignerKey {
    name: String,
    key_id: KeyId,
    kind: SignatureType,
    key: SigningKey,
}

impl SignerKey {
    /// The underlying Ed25519 signing key, for signing other formats with
    /// the same key (e.g. forewarn ledger statements, which carry their own
    /// domain separation).
    pub fn ed25519(&self) -> &SigningKey {
        &self.key
    }

    /// A signer from a 32-byte Ed25519 seed (the caller supplies randomness).
    pub fn from_seed(name: &str, kind: SignatureType, seed: &[u8; 32]) -> Result<Self, NoteError> {
        if !is_valid_key_name(name) {
            return Err(NoteError::InvalidKeyName);
        }
        let key = SigningKey::from_bytes(seed);
        Ok(SignerKey {
            name: name.to_string(),
            key_id: KeyId::compute(name, kind, key.verifying_key().as_bytes()),
            kind,
            key,
        })
    }

    /// Parses Go's private key text: `PRIVATE+KEY+name+hex8+base64(type || seed)`.
    pub fn parse(text: &str) -> Result<SignerKey, NoteError> {
        let rest = text
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(NoteError::MalformedKey {
                reason: "signer key does not start with PRIVATE+KEY+",
            })?;
        let KeyParts {
            name,
            declared,
            kind,
            key: seed,
        } = split_key(rest)?;
        let signer = SignerKey::from_seed(name, kind, &seed)?;
        if signer.key_id != declared {
            return Err(NoteError::KeyIdMismatch {
                computed: signer.key_id,
                declared,
            });
        }
        Ok(signer)
    }

    /// The private key text. It holds the secret: write it only to a file
    /// readable by its owner alone. It is wiped from memory when dropped.
    pub fn to_text(&self) -> Zeroizing<String> {
        let mut raw = Zeroizing::new([0u8; 33]);
        raw[0] = self.kind as u8;
        raw[1..].copy_from_slice(self.key.as_bytes());
        let mut b64 = Zeroizing::new(BASE64.encode(*raw));
        let text = format!("PRIVATE+KEY+{}+{}+{}", self.name, self.key_id, b64.as_str());
        b64.zeroize();
        Zeroizing::new(text)
    }

    /// The matching verifier key.
    pub fn verifier(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            key_id: self.key_id,
            kind: self.kind,
            key: self.key.verifying_key(),
        }
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The signature type.
    pub fn kind(&self) -> SignatureType {
        self.kind
    }

    /// Signs note text as a plain Ed25519 note signature (type 0x01 keys).
    /// Cosignature keys use [`SignerKey::cosign`], which needs a time.
    pub fn sign(&self, text: &[u8]) -> NoteSignature {
        NoteSignature {
            name: self.name.clone(),
            key_id: self.key_id,
            signature: self.key.sign(text).to_bytes().to_vec(),
        }
    }

    /// A cosignature/v1 over checkpoint `text` at `time` (POSIX seconds).
    pub fn cosign(&self, text: &str, time: u64) -> NoteSignature {
        let msg = cosignature::message(text, time);
        let sig = self.key.sign(msg.as_bytes());
        let mut out = Vec::with_capacity(72);
        out.extend_from_slice(&time.to_be_bytes());
        out.extend_from_slice(&sig.to_bytes());
        NoteSignature {
            name: self.name.clone(),
            key_id: self.key_id,
            signature: out,
        }
    }
}

impl fmt::Debug for SignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SignerKey({}+{}, secret hidden)", self.name, self.key_id)
    }
}

/// A note whose signatures were checked against trusted keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenedNote {
    /// The text (trust it only because `verified` is non-empty).
    pub text: String,
    /// Signatures by known keys that verified.
    pub verified: Vec<NoteSignature>,
    /// Signatures by keys not in the trusted set (ignored, kept).
    pub unverified: Vec<NoteSignature>,
}

impl OpenedNote {
    /// True if a signature by `key` verified.
    pub fn verified_by(&self, key: &VerifierKey) -> bool {
        self.verified
            .iter()
            .any(|s| s.name == key.name && s.key_id == key.key_id)
    }
}

/// Why a note did not open.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OpenError {
    /// The note is malformed.
    Malformed(NoteError),
    /// A signature by a trusted key does not verify.
    BadSignature {
        /// The key's name.
        name: String,
        /// The key's ID.
        key_id: KeyId,
    },
    /// No trusted key signed the note.
    NoTrustedSignature {
        /// Signature lines by unknown keys.
        unknown: usize,
    },
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Malformed(e) => write!(f, "malformed note: {e}"),
            OpenError::BadSignature { name, key_id } => write!(
                f,
                "the signature by trusted key {name}+{key_id} does not verify"
            ),
            OpenError::NoTrustedSignature { unknown } => write!(
                f,
                "no trusted key signed the note ({unknown} signatures by unknown keys)"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for OpenError {}

impl From<NoteError> for OpenError {
    fn from(e: NoteError) -> Self {
        OpenError::Malformed(e)
    }
}

/// Parses and verifies a note against `verifiers` (c2sp.org/signed-note
/// §Signatures). A key is known when both its name and ID match.
pub fn open(bytes: &[u8], verifiers: &[VerifierKey]) -> Result<OpenedNote, OpenError> {
    open_note(Note::parse(bytes)?, verifiers)
}

/// [`open`] for an already parsed note.
pub fn open_note(note: Note, verifiers: &[VerifierKey]) -> Result<OpenedNote, OpenError> {
    let mut verified = Vec::new();
    let mut unverified = Vec::new();
    for sig in note.signatures {
        let known = verifiers
            .iter()
            .find(|k| k.name == sig.name && k.key_id == sig.key_id);
        match known {
            None => unverified.push(sig),
            Some(key) => {
                if !key.verify(note.text.as_bytes(), &sig.signature) {
                    return Err(OpenError::BadSignature {
                        name: sig.name,
                        key_id: sig.key_id,
                    });
                }
                if !verified.contains(&sig) {
                    verified.push(sig);
                }
            }
        }
    }
    if verified.is_empty() {
        return Err(OpenError::NoTrustedSignature {
            unknown: unverified.len(),
        });
    }
    Ok(OpenedNote {
        text: note.text,
        verified,
        unverified,
    })
}
