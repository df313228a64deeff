//! docs/FORMAT.md §11–§17 is the specification of records and statements.
//! This file holds a second decoder and checker written from that document
//! alone — no bincode, no forewarn-ledger decoding, hashing or signature
//! code: bytes are read by hand, hashes come from `sha2`, signatures are
//! checked with `ed25519-dalek` — and checks that:
//!
//! - it decodes every golden record and statement, consuming every byte,
//!   and agrees with the library on every field it compares;
//! - every golden record passes its own reading of §16: the hash chain, the
//!   origin, no duplicate, plausible times, the seen root (recomputed per
//!   RFC 9162 from the leaves), the signature over the v2 prefix, every
//!   citation's leaf hash, the `KeyAdded` proof of possession, and every
//!   opening (commitment v2 recomputed, value decoded as its field's type);
//! - the golden vectors in `testdata/` are what the golden scenario builds
//!   today, byte for byte (set `FOREWARN_BLESS=1` to rewrite them after a
//!   deliberate format change);
//! - the expected verdict (root, findings) still holds;
//! - FORMAT.md's worked examples are exactly this decoder's annotated dumps;
//! - the invalid vectors fail with the documented error, in the library and
//!   in the checker here.

use std::fmt::Write as _;

use forewarn_ledger::event::Counterparty;
use forewarn_ledger::sealed::{Commitment, Sealed};
use forewarn_ledger::statement::{SeenCheckpoint, prove_possession};
use forewarn_ledger::testkit::{ORIGIN, Scenario, field, golden_scenario, test_key};
use forewarn_ledger::*;
use sha2::{Digest, Sha256};

const DIR: &str = env!("CARGO_MANIFEST_DIR");

fn hex(b: &[u8]) -> String {
    ::base16ct::lower::encode_string(b)
}

fn unhex(s: &str) -> Vec<u8> {
    ::base16ct::mixed::decode_vec(s).unwrap()
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

// ---------------------------------------------------------------------------
// The independent decoder (FORMAT.md §11: little-endian fixed-width
// integers, u64 lengths, u32 enum tags, u8 option tags, arrays bare).
// ---------------------------------------------------------------------------

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    out: String,
    depth: usize,
    /// Every citation read (§11 `Cite`): index and leaf hash.
    cites: Vec<(u64, [u8; 32])>,
    /// Every sealed field read: field number and commitment.
    sealed: Vec<(u8, [u8; 32])>,
    /// Every event time read, by name (§13 "Times").
    times: Vec<(&'static str, u64)>,
}

type R<T> = Result<T, String>;

const CLASS: &[&str] = &[
    "Vendor",
    "Finder",
    "Coordinator",
    "Government",
    "Deployer",
    "Program",
    "Other",
];
const LEVEL: &[&str] = &["Existence", "Details", "Exploit"];
const TLP: &[&str] = &["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"];
const CHANNEL: &[&str] = &[
    "Email",
    "EncryptedEmail",
    "Portal",
    "Api",
    "MailingList",
    "Phone",
    "InPerson",
    "Other",
];
const REASON: &[&str] = &[
    "PlannedEnd",
    "Leak",
    "ExploitationObserved",
    "PublicElsewhere",
    "Other",
];
const SCHEME: &[&str] = &["Cve", "Ghsa", "Osv", "Euvd", "Vendor", "Other"];
const STAGE: &[&str] = &["EarlyWarning", "Notification", "FinalReport"];
const ANNOTATION: &[&str] = &["Correction", "Comment", "Retraction"];
const EVENTS: &[&str] = &[
    "PartyRegistered",
    "KeyAdded",
    "KeyRevoked",
    "CaseOpened",
    "ReportReceived",
    "ReportAcknowledged",
    "Notified",
    "Acknowledged",
    "EmbargoProposed",
    "EmbargoAccepted",
    "EmbargoRevised",
    "EmbargoTerminated",
    "IdentifierAssigned",
    "FixReady",
    "FixReleased",
    "PubliclyDisclosed",
    "ExploitPublic",
    "ExploitationObserved",
    "RegulatoryReport",
    "Opening",
    "Annotation",
];

/// §12: the prefix of the message a statement signature covers.
const STATEMENT_PREFIX: &[u8] = b"forewarn/statement/v2\n";
/// §13: the prefix of a `KeyAdded` proof of possession.
const POSSESSION_PREFIX: &[u8] = b"forewarn/key-possession/v2\n";
/// §15: the prefix of every commitment.
const COMMIT_PREFIX: &[u8] = b"forewarn/commit/v2";
/// §13: 1980-01-01T00:00:00Z ≤ t < 2100-01-01T00:00:00Z.
const PLAUSIBLE: std::ops::Range<u64> = 315_532_800_000..4_102_444_800_000;
/// §16 step 6: the default skew.
const SKEW_MS: u64 = 5 * 60 * 1000;
/// §16 step 7: how far back a seen size is always checked.
const SEEN_WINDOW: u64 = 65_536;

/// §15: the type a sealed field's value must decode as.
#[derive(Clone, Copy, Debug, PartialEq)]
enum FieldType {
    Text,
    Sha256,
}

/// §13's table of sealed fields: `(event tag, field number)` to type.
fn field_type(tag: u32, field: u8) -> Option<FieldType> {
    match (tag, field) {
        (3, 0 | 1) | (4 | 6, 0) | (12, 0) => Some(FieldType::Text),
        (4 | 6, 1) => Some(FieldType::Sha256),
        _ => None,
    }
}

impl<'a> Cursor<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Cursor {
            bytes,
            pos: 0,
            out: String::new(),
            depth: 0,
            cites: Vec::new(),
            sealed: Vec::new(),
            times: Vec::new(),
        }
    }

    fn take(&mut self, n: usize, what: &str) -> R<&'a [u8]> {
        if self.bytes.len() - self.pos < n {
            return Err(format!("truncated in {what}"));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn line(&mut self, raw: &[u8], desc: String) {
        let indent = "  ".repeat(self.depth);
        let h = format!("{indent}{}", hex(raw));
        let _ = writeln!(self.out, "{h:<68} {desc}");
    }

    fn u8(&mut self, name: &str) -> R<u8> {
        let b = self.take(1, name)?;
        self.line(b, format!("{name} = {}", b[0]));
        Ok(b[0])
    }

    fn u64(&mut self, name: &str) -> R<u64> {
        let b = self.take(8, name)?;
        let v = u64::from_le_bytes(b.try_into().unwrap());
        self.line(b, format!("{name} = {v}"));
        Ok(v)
    }

    /// A time field (§13 "Times"), remembered for the checks of §16.
    fn time(&mut self, name: &'static str) -> R<u64> {
        let t = self.u64(name)?;
        self.times.push((name, t));
        Ok(t)
    }

    fn array<const N: usize>(&mut self, name: &str) -> R<[u8; N]> {
        let b = self.take(N, name)?;
        self.line(b, format!("{name} ({N} bytes)"));
        Ok(b.try_into().unwrap())
    }

    fn length(&mut self, name: &str) -> R<usize> {
        let l = self.take(8, name)?;
        let n = u64::from_le_bytes(l.try_into().unwrap());
        if n > 65_536 {
            return Err(format!("{name} length {n} over the limit"));
        }
        self.line(l, format!("{name} length = {n}"));
        Ok(n as usize)
    }

    fn bytes(&mut self, name: &str) -> R<Vec<u8>> {
        let n = self.length(name)?;
        let b = self.take(n, name)?;
        self.line(b, format!("{name} ({n} bytes)"));
        Ok(b.to_vec())
    }

    fn string(&mut self, name: &str) -> R<String> {
        let n = self.length(name)?;
        let b = self.take(n, name)?;
        let s = std::str::from_utf8(b)
            .map_err(|_| format!("{name} is not UTF-8"))?
            .to_string();
        self.line(b, format!("{name} = {s:?}"));
        Ok(s)
    }

    fn tag(&mut self, name: &str, names: &[&str]) -> R<u32> {
        let b = self.take(4, name)?;
        let t = u32::from_le_bytes(b.try_into().unwrap());
        let n = names
            .get(t as usize)
            .ok_or(format!("{name}: unknown tag {t}"))?;
        self.line(b, format!("{name} = {t} ({n})"));
        Ok(t)
    }

    fn option(&mut self, name: &str) -> R<bool> {
        let b = self.take(1, name)?;
        match b[0] {
            0 => {
                self.line(b, format!("{name}: none"));
                Ok(false)
            }
            1 => {
                self.line(b, format!("{name}: some"));
                Ok(true)
            }
            t => Err(format!("{name}: option tag {t}")),
        }
    }

    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> R<T>) -> R<T> {
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    /// §11 `Cite`: the record's index, then its leaf hash.
    fn cite(&mut self, name: &str) -> R<(u64, [u8; 32])> {
        let record = self.u64(&format!("{name}.record"))?;
        let leaf = self.array::<32>(&format!("{name}.leaf"))?;
        self.cites.push((record, leaf));
        Ok((record, leaf))
    }

    fn sealed_string(&mut self, name: &str, field: u8) -> R<()> {
        if self.tag(&format!("{name} (field {field})"), &["Clear", "Sealed"])? == 0 {
            self.nested(|c| c.string("value"))?;
        } else {
            let c = self.nested(|c| c.array::<32>("commitment"))?;
            self.sealed.push((field, c));
        }
        Ok(())
    }

    fn sealed_hash(&mut self, name: &str, field: u8) -> R<()> {
        let t = self.tag(&format!("{name} (field {field})"), &["Clear", "Sealed"])?;
        let v = self.nested(|c| c.array::<32>(if t == 0 { "sha256" } else { "commitment" }))?;
        if t == 1 {
            self.sealed.push((field, v));
        }
        Ok(())
    }

    fn counterparty(&mut self, name: &str) -> R<()> {
        if self.tag(name, &["Party", "Unregistered"])? == 0 {
            self.nested(|c| c.cite("party"))?;
        } else {
            self.nested(|c| {
                c.tag("class", CLASS)?;
                c.sealed_string("identity", 0)
            })?;
        }
        Ok(())
    }

    fn end(&self) -> R<()> {
        if self.pos != self.bytes.len() {
            return Err(format!("{} trailing bytes", self.bytes.len() - self.pos));
        }
        Ok(())
    }
}

/// `KeyAdded`'s fields.
#[derive(Clone, Debug, PartialEq)]
struct SpecKeyAdded {
    party: (u64, [u8; 32]),
    key: [u8; 32],
    possession: Vec<u8>,
}

/// `Opening`'s fields.
#[derive(Clone, Debug, PartialEq)]
struct SpecOpening {
    record: (u64, [u8; 32]),
    field: u8,
    salt: [u8; 32],
    value: Vec<u8>,
}

/// What the spec decoder reads from a statement.
#[derive(Clone, Debug, PartialEq)]
struct SpecStatement {
    origin: String,
    tag: u32,
    claimed_at: u64,
    signer: [u8; 32],
    seen: Option<(u64, [u8; 32])>,
    cites: Vec<(u64, [u8; 32])>,
    sealed: Vec<(u8, [u8; 32])>,
    times: Vec<(&'static str, u64)>,
    key_added: Option<SpecKeyAdded>,
    opening: Option<SpecOpening>,
}

/// §12–§13: a statement, with its annotated dump.
fn spec_statement(bytes: &[u8]) -> R<(SpecStatement, String)> {
    let mut c = Cursor::new(bytes);
    if c.u8("version")? != 2 {
        return Err("unknown statement version".into());
    }
    let origin = c.string("origin")?;
    let tag = c.tag("event", EVENTS)?;
    let mut key_added = None;
    let mut opening = None;
    c.nested(|c| -> R<()> {
        match tag {
            0 => {
                c.string("name")?;
                c.tag("class", CLASS)?;
                c.array::<32>("key")?;
            }
            1 => {
                let party = c.cite("party")?;
                let key = c.array::<32>("key")?;
                let possession = c.array::<64>("possession")?.to_vec();
                key_added = Some(SpecKeyAdded {
                    party,
                    key,
                    possession,
                });
            }
            2 => {
                c.array::<32>("key")?;
                c.time("effective_at")?;
            }
            3 => {
                c.array::<16>("case")?;
                c.sealed_string("summary", 0)?;
                c.sealed_string("product", 1)?;
            }
            4 => {
                c.array::<16>("case")?;
                c.counterparty("reporter")?;
                c.sealed_hash("report", 1)?;
            }
            5 | 13 | 14 | 16 | 17 => {
                c.array::<16>("case")?;
            }
            6 => {
                c.array::<16>("case")?;
                c.counterparty("recipient")?;
                c.tag("level", LEVEL)?;
                c.tag("tlp", TLP)?;
                if c.option("embargo")? {
                    c.nested(|c| c.cite("embargo"))?;
                }
                c.sealed_hash("content", 1)?;
                c.tag("channel", CHANNEL)?;
            }
            7 => {
                c.cite("notice")?;
                c.time("received_at")?;
            }
            8 => {
                c.array::<16>("case")?;
                c.time("ends_at")?;
            }
            9 => {
                c.cite("embargo")?;
            }
            10 => {
                c.cite("embargo")?;
                c.time("ends_at")?;
            }
            11 => {
                c.cite("embargo")?;
                c.tag("reason", REASON)?;
            }
            12 => {
                c.array::<16>("case")?;
                c.tag("scheme", SCHEME)?;
                c.sealed_string("value", 0)?;
            }
            15 => {
                c.array::<16>("case")?;
                c.string("url")?;
                c.array::<32>("sha256")?;
            }
            18 => {
                c.array::<16>("case")?;
                c.tag("stage", STAGE)?;
                c.string("authority")?;
            }
            19 => {
                let record = c.cite("record")?;
                let field = c.u8("field")?;
                let salt = c.array::<32>("salt")?;
                let value = c.bytes("value")?;
                opening = Some(SpecOpening {
                    record,
                    field,
                    salt,
                    value,
                });
            }
            20 => {
                c.cite("record")?;
                c.tag("kind", ANNOTATION)?;
                c.string("text")?;
            }
            _ => unreachable!("tag() refuses unknown tags"),
        }
        Ok(())
    })?;
    let claimed_at = c.u64("claimed_at")?;
    let signer = c.array::<32>("signer")?;
    let seen = if c.option("seen")? {
        let size = c.nested(|c| c.u64("size"))?;
        let root = c.nested(|c| c.array::<32>("root"))?;
        Some((size, root))
    } else {
        None
    };
    c.end()?;
    Ok((
        SpecStatement {
            origin,
            tag,
            claimed_at,
            signer,
            seen,
            cites: std::mem::take(&mut c.cites),
            sealed: std::mem::take(&mut c.sealed),
            times: std::mem::take(&mut c.times),
            key_added,
            opening,
        },
        c.out,
    ))
}

struct SpecRecord {
    index: u64,
    prev: [u8; 32],
    logged_at: u64,
    statement: Vec<u8>,
    signature: [u8; 64],
}

/// §14: a record, with its annotated dump.
fn spec_record(bytes: &[u8]) -> R<(SpecRecord, String)> {
    if bytes.len() > 65_536 {
        return Err("over the size limit".into());
    }
    let mut c = Cursor::new(bytes);
    if c.u8("version")? != 2 {
        return Err("unknown record version".into());
    }
    let index = c.u64("index")?;
    let prev = c.array::<32>("prev")?;
    let logged_at = c.u64("logged_at")?;
    let statement = c.bytes("statement")?;
    let signature = c.array::<64>("signature")?;
    c.end()?;
    Ok((
        SpecRecord {
            index,
            prev,
            logged_at,
            statement,
            signature,
        },
        c.out,
    ))
}

// ---------------------------------------------------------------------------
// The independent checker: FORMAT.md §16 steps 1–8, and the parts of steps
// 9–10 the format defines (citations, possession, openings, times).
// ---------------------------------------------------------------------------

/// RFC 9162 §2.1.1 leaf hash.
fn leaf_of(record: &[u8]) -> [u8; 32] {
    sha256(&[&[0], record])
}

/// RFC 9162 §2.1.1 Merkle tree hash of `leaves`.
fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
    match leaves.len() {
        0 => sha256(&[]),
        1 => leaves[0],
        n => {
            let k = n.next_power_of_two() / 2;
            sha256(&[&[1], &mth(&leaves[..k]), &mth(&leaves[k..])])
        }
    }
}

/// §13: the message a `KeyAdded` proof of possession signs.
fn possession_message(origin: &str, party: (u64, [u8; 32]), key: &[u8; 32]) -> Vec<u8> {
    let mut m = POSSESSION_PREFIX.to_vec();
    m.extend_from_slice(&(origin.len() as u64).to_le_bytes());
    m.extend_from_slice(origin.as_bytes());
    m.extend_from_slice(&party.0.to_le_bytes());
    m.extend_from_slice(&party.1);
    m.extend_from_slice(key);
    m
}

/// §15: commitment v2.
fn commitment(tag: u32, field: u8, signer: &[u8; 32], salt: &[u8; 32], value: &[u8]) -> [u8; 32] {
    sha256(&[COMMIT_PREFIX, &[tag as u8, field], signer, salt, value])
}

/// §6: Ed25519 with the strict rules, straight from ed25519-dalek.
fn verifies(key: &[u8; 32], message: &[u8], signature: &[u8]) -> bool {
    let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(key) else {
        return false;
    };
    let Ok(sig) = ed25519_dalek::Signature::from_slice(signature) else {
        return false;
    };
    key.verify_strict(message, &sig).is_ok()
}

/// A log as this checker sees it: every accepted record, decoded.
#[derive(Default)]
struct SpecLog {
    leaves: Vec<[u8; 32]>,
    statements: Vec<(Vec<u8>, SpecStatement)>,
    last_logged: u64,
}

impl SpecLog {
    /// Checks the next record; on success it joins the log. The error
    /// starts with the name §16 gives the failure.
    fn push(&mut self, bytes: &[u8]) -> R<()> {
        let i = self.leaves.len() as u64;
        // Steps 1–4: the record.
        let (rec, _) = spec_record(bytes).map_err(|e| format!("RecordEncoding: {e}"))?;
        if rec.index != i {
            return Err(format!("IndexMismatch: {}", rec.index));
        }
        let prev = self.leaves.last().copied().unwrap_or([0; 32]);
        if rec.prev != prev {
            return Err("PrevMismatch".into());
        }
        if !PLAUSIBLE.contains(&rec.logged_at) {
            return Err(format!("ImplausibleTime: logged_at {}", rec.logged_at));
        }
        if rec.logged_at < self.last_logged {
            return Err("LoggedAtDecreased".into());
        }
        // Step 5: the statement, for this log, never logged before.
        let (st, _) =
            spec_statement(&rec.statement).map_err(|e| format!("StatementEncoding: {e}"))?;
        if let Some((_, first)) = self.statements.first()
            && first.origin != st.origin
        {
            return Err(format!("WrongOrigin: {:?}", st.origin));
        }
        if self.statements.iter().any(|(b, _)| *b == rec.statement) {
            return Err("DuplicateStatement".into());
        }
        // Step 6: the claimed time.
        if !PLAUSIBLE.contains(&st.claimed_at) {
            return Err(format!("ImplausibleTime: claimed_at {}", st.claimed_at));
        }
        if st.claimed_at > rec.logged_at + SKEW_MS {
            return Err("ClaimedInFuture".into());
        }
        // Step 7: the tree the signer saw is this log's.
        if let Some((size, root)) = st.seen {
            if size > i {
                return Err("SeenBeyondLog".into());
            }
            if size + SEEN_WINDOW < i {
                return Err("SeenTooOld".into());
            }
            if mth(&self.leaves[..size as usize]) != root {
                return Err(format!("SeenRootMismatch: size {size}"));
            }
        }
        // Step 8: the signature over the v2 prefix and the statement.
        let mut msg = STATEMENT_PREFIX.to_vec();
        msg.extend_from_slice(&rec.statement);
        if !verifies(&st.signer, &msg, &rec.signature) {
            return Err("BadSignature".into());
        }
        // Step 10, as far as the format goes: citations name earlier
        // records by their leaf hash; the proof of possession; openings.
        for (r, leaf) in &st.cites {
            let Some(real) = self.leaves.get(*r as usize) else {
                return Err(format!("BadReference: {r}"));
            };
            if real != leaf {
                return Err(format!("CiteMismatch: record {r}"));
            }
        }
        if let Some(k) = &st.key_added {
            let m = possession_message(&st.origin, k.party, &k.key);
            if !verifies(&k.key, &m, &k.possession) {
                return Err("BadPossession".into());
            }
        }
        for (name, t) in &st.times {
            let ok = PLAUSIBLE.contains(t)
                && match *name {
                    "received_at" => *t <= st.claimed_at,
                    "ends_at" => *t > st.claimed_at,
                    _ => true,
                };
            if !ok {
                return Err(format!("ImplausibleTime: {name} {t}"));
            }
        }
        if let Some(o) = &st.opening {
            let (_, sealer) = &self.statements[o.record.0 as usize];
            let Some((_, sealed)) = sealer.sealed.iter().find(|(f, _)| *f == o.field) else {
                return Err(format!("BadReference: {} field {}", o.record.0, o.field));
            };
            if commitment(sealer.tag, o.field, &sealer.signer, &o.salt, &o.value) != *sealed {
                return Err("OpeningMismatch".into());
            }
            let ty = field_type(sealer.tag, o.field).ok_or("OpeningType: no such field")?;
            let decodes = match ty {
                FieldType::Sha256 => o.value.len() == 32,
                FieldType::Text => {
                    let mut c = Cursor::new(&o.value);
                    c.string("value").and_then(|_| c.end()).is_ok()
                }
            };
            if !decodes {
                return Err(format!(
                    "OpeningType: record {} field {}",
                    o.record.0, o.field
                ));
            }
        }
        self.leaves.push(leaf_of(bytes));
        self.statements.push((rec.statement, st));
        self.last_logged = rec.logged_at;
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Golden vectors
// ---------------------------------------------------------------------------

fn bless() -> bool {
    std::env::var("FOREWARN_BLESS").is_ok_and(|v| v == "1")
}

fn golden_path(name: &str) -> String {
    format!("{DIR}/testdata/{name}")
}

/// Reads `index leaf record` lines.
fn read_golden() -> Vec<(u64, Vec<u8>, Vec<u8>)> {
    std::fs::read_to_string(golden_path("golden_log.txt"))
        .expect("testdata/golden_log.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f[0].parse().unwrap(), unhex(f[1]), unhex(f[2]))
        })
        .collect()
}

const AS_OF_DAYS_AFTER_LAST: u64 = 120;

fn verdict_text(records: &[Vec<u8>]) -> String {
    let mut a = Auditor::new(AuditConfig {
        policy: AuditPolicy::preset("cert-cc").unwrap(),
        ..Default::default()
    });
    for r in records {
        a.push(r).expect("golden log is clean");
    }
    let as_of = a.state().last_logged_at + AS_OF_DAYS_AFTER_LAST * DAY_MS;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# forewarn golden verdict v2 (policy cert-cc, as of the last logged_at + {AS_OF_DAYS_AFTER_LAST} days)"
    );
    let _ = writeln!(s, "size {}", a.size());
    let _ = writeln!(s, "root {}", hex(&a.root().0));
    let _ = writeln!(s, "integrity ok");
    for f in auditor::all_findings(a.state(), &a.config().policy, as_of) {
        let _ = writeln!(s, "finding {} {}", f.record, report::serde_name(f.kind));
    }
    s
}

#[test]
fn golden_log_is_frozen() {
    let built = golden_scenario();
    let records = built.records();
    let mut text = String::from(
        "# forewarn golden log v2: index leaf_hash record_bytes (hex), one record per line\n",
    );
    for (i, r) in records.iter().enumerate() {
        let _ = writeln!(text, "{i} {} {}", hex(&leaf_of(r)), hex(r));
    }
    let verdict = verdict_text(records);
    let invalid = invalid_vectors_text();
    if bless() {
        std::fs::write(golden_path("golden_log.txt"), &text).unwrap();
        std::fs::write(golden_path("golden_verdict.txt"), &verdict).unwrap();
        std::fs::write(golden_path("golden_invalid.txt"), &invalid).unwrap();
    }
    let stored = std::fs::read_to_string(golden_path("golden_log.txt")).unwrap();
    assert!(
        stored == text,
        "the golden log changed: a format change must be deliberate (FOREWARN_BLESS=1)"
    );
    let stored_verdict = std::fs::read_to_string(golden_path("golden_verdict.txt")).unwrap();
    assert_eq!(stored_verdict, verdict, "the golden verdict changed");
    let stored_invalid = std::fs::read_to_string(golden_path("golden_invalid.txt")).unwrap();
    assert!(
        stored_invalid == invalid,
        "the invalid vectors changed (FOREWARN_BLESS=1 rewrites them)"
    );
}

/// The library's view of a statement, in the spec decoder's terms.
fn library_view(lst: &Statement) -> SpecStatement {
    use forewarn_ledger::event::Event as E;
    let c = |c: &Cite| (c.record.0, c.leaf.0);
    let mut cites = Vec::new();
    let mut times = Vec::new();
    let mut key_added = None;
    let mut opening = None;
    match &lst.event {
        E::KeyAdded {
            party,
            key,
            possession,
        } => {
            cites.push(c(party));
            key_added = Some(SpecKeyAdded {
                party: c(party),
                key: key.0,
                possession: possession.0.to_vec(),
            });
        }
        E::KeyRevoked { effective_at, .. } => times.push(("effective_at", *effective_at)),
        E::ReportReceived {
            reporter: Counterparty::Party(p),
            ..
        } => cites.push(c(p)),
        E::Notified {
            recipient, embargo, ..
        } => {
            if let Counterparty::Party(p) = recipient {
                cites.push(c(p));
            }
            cites.extend(embargo.iter().map(c));
        }
        E::Acknowledged {
            notice,
            received_at,
        } => {
            cites.push(c(notice));
            times.push(("received_at", *received_at));
        }
        E::EmbargoProposed { ends_at, .. } => times.push(("ends_at", *ends_at)),
        E::EmbargoAccepted { embargo } | E::EmbargoTerminated { embargo, .. } => {
            cites.push(c(embargo))
        }
        E::EmbargoRevised { embargo, ends_at } => {
            cites.push(c(embargo));
            times.push(("ends_at", *ends_at));
        }
        E::Opening {
            record,
            field,
            salt,
            value,
        } => {
            cites.push(c(record));
            opening = Some(SpecOpening {
                record: c(record),
                field: *field,
                salt: *salt,
                value: value.clone(),
            });
        }
        E::Annotation { record, .. } => cites.push(c(record)),
        _ => {}
    }
    SpecStatement {
        origin: lst.origin.clone(),
        tag: lst.event.tag(),
        claimed_at: lst.claimed_at,
        signer: lst.signer.0,
        seen: lst.seen.map(|s| (s.size, s.root.0)),
        cites,
        sealed: lst
            .event
            .sealed_fields()
            .into_iter()
            .map(|(f, c)| (f, c.0))
            .collect(),
        times,
        key_added,
        opening,
    }
}

#[test]
fn golden_records_decode_and_check_with_the_spec_decoder() {
    let golden = read_golden();
    assert_eq!(golden.len(), 24);
    let mut kinds = std::collections::BTreeSet::new();
    let mut log = SpecLog::default();
    let (mut cites, mut proofs, mut openings, mut seen) = (0, 0, 0, 0);
    for (i, leaf, bytes) in &golden {
        // Leaf hash per RFC 9162 §2.1.1, computed here from scratch.
        assert_eq!(&leaf_of(bytes)[..], &leaf[..], "leaf hash of record {i}");
        let (rec, _) = spec_record(bytes).unwrap_or_else(|e| panic!("record {i}: {e}"));
        assert_eq!(rec.index, *i);
        let (st, _) =
            spec_statement(&rec.statement).unwrap_or_else(|e| panic!("statement {i}: {e}"));
        assert_eq!(st.origin, ORIGIN, "record {i} names the golden log");
        // The library agrees on every field compared.
        let lib = Record::from_bytes(bytes).unwrap();
        assert_eq!(
            (lib.index, lib.prev.0, lib.logged_at, &lib.signature[..]),
            (rec.index, rec.prev, rec.logged_at, &rec.signature[..])
        );
        let lst = Statement::from_bytes(&lib.statement).unwrap();
        assert_eq!(st, library_view(&lst), "statement {i}");
        // And every check of §16 the format defines passes here.
        log.push(bytes)
            .unwrap_or_else(|e| panic!("record {i} fails the spec checker: {e}"));
        kinds.insert(st.tag);
        cites += st.cites.len();
        proofs += usize::from(st.key_added.is_some());
        openings += usize::from(st.opening.is_some());
        seen += usize::from(st.seen.is_some());
    }
    assert_eq!(log.leaves.last().map(|l| &l[..]), Some(&golden[23].1[..]));
    assert_eq!(
        kinds.len(),
        21,
        "every event kind appears in the golden log"
    );
    // The golden log exercises each v2 check at least once.
    assert_eq!((proofs, openings, seen), (1, 1, 1));
    assert_eq!(cites, 11, "citations in the golden log");
    // The verdict's root is RFC 9162's root of the leaves, computed here.
    let verdict = std::fs::read_to_string(golden_path("golden_verdict.txt")).unwrap();
    assert!(verdict.contains(&format!("root {}\n", hex(&mth(&log.leaves)))));
}

/// The golden scenario's sealed fields and their secrets (golden.rs): every
/// commitment is recomputed here with sha2 alone.
#[test]
fn golden_commitments_recompute_from_their_secrets() {
    let golden = read_golden();
    let statement = |i: usize| {
        let (rec, _) = spec_record(&golden[i].2).unwrap();
        spec_statement(&rec.statement).unwrap().0
    };
    let string = |s: &str| {
        let mut v = (s.len() as u64).to_le_bytes().to_vec();
        v.extend_from_slice(s.as_bytes());
        v
    };
    let secrets: [(usize, u8, u8, Vec<u8>); 5] = [
        (4, 0, 1, string("heap overflow in the TLS parser")),
        (5, 1, 2, vec![0xaa; 32]),
        (9, 1, 3, vec![0xbb; 32]),
        (10, 0, 4, string("Big Bank plc")),
        (13, 0, 5, string("CVE-2026-12345")),
    ];
    for (i, field, salt, value) in &secrets {
        let st = statement(*i);
        let sealed = st.sealed.iter().find(|(f, _)| f == field).unwrap().1;
        assert_eq!(
            commitment(st.tag, *field, &st.signer, &[*salt; 32], value),
            sealed,
            "record {i} field {field}"
        );
        // The field tag and the signer are inside the hash: the same secret
        // under another field or signer gives another commitment.
        assert_ne!(
            commitment(st.tag, field ^ 1, &st.signer, &[*salt; 32], value),
            sealed
        );
        assert_ne!(
            commitment(st.tag, *field, &[0x11; 32], &[*salt; 32], value),
            sealed
        );
    }
    // The golden Opening (record 21) opens record 13's identifier.
    let o = statement(21).opening.unwrap();
    assert_eq!((o.record.0, o.field, o.salt), (13, 0, [5; 32]));
    assert_eq!(o.value, string("CVE-2026-12345"));
}

// ---------------------------------------------------------------------------
// FORMAT.md's worked examples
// ---------------------------------------------------------------------------

/// §13: the possession message of the golden `KeyAdded` (record 3), dumped.
fn possession_dump(st: &SpecStatement) -> String {
    let k = st.key_added.as_ref().unwrap();
    let msg = possession_message(&st.origin, k.party, &k.key);
    let mut c = Cursor::new(&msg);
    let p = c.take(POSSESSION_PREFIX.len(), "prefix").unwrap();
    c.line(
        p,
        "prefix \"forewarn/key-possession/v2\\n\" (27 bytes)".into(),
    );
    c.string("origin").unwrap();
    c.cite("party").unwrap();
    c.array::<32>("key").unwrap();
    c.end().unwrap();
    c.out
}

/// §15: the commitment of the golden summary (record 4, field 0), dumped.
fn commitment_dump(st: &SpecStatement) -> String {
    let value = "heap overflow in the TLS parser";
    let mut input = COMMIT_PREFIX.to_vec();
    input.extend_from_slice(&[st.tag as u8, 0]);
    input.extend_from_slice(&st.signer);
    input.extend_from_slice(&[1; 32]);
    input.extend_from_slice(&(value.len() as u64).to_le_bytes());
    input.extend_from_slice(value.as_bytes());
    let mut c = Cursor::new(&input);
    let p = c.take(COMMIT_PREFIX.len(), "prefix").unwrap();
    c.line(p, "prefix \"forewarn/commit/v2\" (18 bytes)".into());
    let t = c.take(1, "tag").unwrap();
    c.line(
        t,
        format!("event tag = {} ({})", t[0], EVENTS[t[0] as usize]),
    );
    let f = c.take(1, "field").unwrap();
    c.line(f, format!("field = {} (summary)", f[0]));
    c.array::<32>("signer key").unwrap();
    c.array::<32>("salt").unwrap();
    c.string("value").unwrap();
    c.end().unwrap();
    let out = sha256(&[&input]);
    assert_eq!(
        st.sealed[0],
        (0, out),
        "the dump computes record 4's commitment"
    );
    c.line(
        &out,
        format!("commitment = SHA-256 of the {} bytes above", input.len()),
    );
    c.out
}

#[test]
fn format_md_worked_examples_are_exact() {
    let doc = std::fs::read_to_string(format!("{DIR}/../../docs/FORMAT.md")).unwrap();
    let golden = read_golden();
    let mut seen = std::collections::BTreeSet::new();
    let mut missing = Vec::new();
    let mut need = |block: String| {
        if !doc.contains(&block) {
            missing.push(block);
        }
    };
    let (_, record_dump) = spec_record(&golden[0].2).unwrap();
    need(format!(
        "Golden record 0 (leaf hash `{}`):\n\n```text\n{record_dump}```\n",
        hex(&golden[0].1)
    ));
    let statement = |i: usize| {
        let (rec, _) = spec_record(&golden[i].2).unwrap();
        spec_statement(&rec.statement).unwrap().0
    };
    need(format!("```text\n{}```\n", possession_dump(&statement(3))));
    need(format!("```text\n{}```\n", commitment_dump(&statement(4))));
    for (i, _, bytes) in &golden {
        let (rec, _) = spec_record(bytes).unwrap();
        let (st, dump) = spec_statement(&rec.statement).unwrap();
        if seen.insert(st.tag) {
            need(format!(
                "Tag {} `{}` — record {i}, statement of {} bytes:\n\n```text\n{dump}```\n",
                st.tag,
                EVENTS[st.tag as usize],
                rec.statement.len()
            ));
        }
    }
    if bless() && !missing.is_empty() {
        std::fs::write(
            format!("{DIR}/../../target/format-examples.md"),
            missing.join("\n"),
        )
        .unwrap();
    }
    assert!(
        missing.is_empty(),
        "docs/FORMAT.md lacks these worked examples:\n{}",
        missing.join("\n")
    );
}

// ---------------------------------------------------------------------------
// Invalid vectors
// ---------------------------------------------------------------------------

/// Golden record 0 with `f` applied to its bytes.
fn mutated(bytes: &[u8], f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut b = bytes.to_vec();
    f(&mut b);
    b
}

/// Records appended to the golden log, the last of which must fail.
fn appended(f: impl FnOnce(&mut Scenario)) -> Vec<Vec<u8>> {
    let mut s = golden_scenario();
    let n = s.records().len();
    f(&mut s);
    s.records()[n..].to_vec()
}

/// Logs `event` signed by `key`, after `edit` changed the statement.
fn log_edited(s: &mut Scenario, key: &str, event: event::Event, edit: impl FnOnce(&mut Statement)) {
    let key = test_key(key);
    let mut st = s.statement(event, &key);
    edit(&mut st);
    let logged = s.now + s.log_delay;
    s.append_statement(&key, &st, logged);
}

/// A comment by the finder on golden record `record`.
fn comment(s: &Scenario, record: u64) -> event::Event {
    event::Event::Annotation {
        record: s.cite(RecordRef(record)),
        kind: AnnotationKind::Comment,
        text: "seen".into(),
    }
}

const FINDER: &str = "Jane Finder";
const VENDOR2: &str = "Acme Corp/2026";
const OTHER_LOG: &str = "example.net/another-ledger";

/// `(name, target, expected error, hex)` of every invalid vector.
fn invalid_vectors() -> Vec<(&'static str, &'static str, &'static str, String)> {
    let golden = golden_scenario();
    let r0 = golden.records()[0].clone();
    let s0 = Record::from_bytes(&r0).unwrap().statement;
    // Offsets in record 0 (§14) and its statement (§12–§13): the origin is
    // 8 + 18 bytes, so the event tag is at 27 and the name at 39.
    assert_eq!(s0.len(), 125);
    let (tag, name, class, seen) = (27, 39, 48, 124);
    let st = 57;
    let mut v: Vec<(&str, &str, &str, Vec<u8>)> = vec![
        (
            "record_trailing_byte",
            "record",
            "TrailingBytes",
            mutated(&r0, |b| b.push(0)),
        ),
        (
            "record_truncated",
            "record",
            "Malformed",
            mutated(&r0, |b| b.truncate(b.len() - 1)),
        ),
        (
            "record_version_1",
            "record",
            "UnknownVersion",
            mutated(&r0, |b| b[0] = 1),
        ),
        (
            "record_version_3",
            "record",
            "UnknownVersion",
            mutated(&r0, |b| b[0] = 3),
        ),
        (
            "record_version_0",
            "record",
            "UnknownVersion",
            mutated(&r0, |b| b[0] = 0),
        ),
        (
            "record_statement_length_huge",
            "record",
            "Malformed",
            mutated(&r0, |b| b[49..57].copy_from_slice(&[0xff; 8])),
        ),
        (
            "record_statement_length_short",
            "record",
            "Malformed",
            mutated(&r0, |b| b[49] += 1),
        ),
        (
            "statement_trailing_byte",
            "statement",
            "TrailingBytes",
            mutated(&s0, |b| b.push(0)),
        ),
        (
            "statement_version_1",
            "statement",
            "UnknownVersion",
            mutated(&s0, |b| b[0] = 1),
        ),
        (
            "statement_origin_length_huge",
            "statement",
            "Malformed",
            mutated(&s0, |b| b[1..9].copy_from_slice(&[0xff; 8])),
        ),
        (
            "statement_origin_not_utf8",
            "statement",
            "Malformed",
            mutated(&s0, |b| b[9] = 0xff),
        ),
        (
            "statement_unknown_event_tag_21",
            "statement",
            "Malformed",
            mutated(&s0, |b| b[tag] = 21),
        ),
        (
            "statement_event_tag_high_bytes",
            "statement",
            "Malformed",
            mutated(&s0, |b| b[tag + 3] = 1),
        ),
        (
            "statement_class_tag_7",
            "statement",
            "Malformed",
            mutated(&s0, |b| b[class] = 7),
        ),
        (
            "statement_name_not_utf8",
            "statement",
            "Malformed",
            mutated(&s0, |b| b[name] = 0xff),
        ),
        (
            "statement_option_tag_2",
            "statement",
            "Malformed",
            mutated(&s0, |b| b[seen] = 2),
        ),
        (
            "statement_truncated_key",
            "statement",
            "Malformed",
            mutated(&s0, |b| b.truncate(70)),
        ),
    ];
    assert_eq!(&r0[st..st + 125], &s0[..]);
    let mut out: Vec<_> = v.drain(..).map(|(n, t, e, b)| (n, t, e, hex(&b))).collect();
    // §16 failures: records appended after the golden log (the last one of
    // each vector fails; those before it are valid).
    let logs: Vec<(&str, &str, Vec<Vec<u8>>)> = vec![
        (
            "wrong_origin",
            "WrongOrigin",
            appended(|s| {
                let e = comment(s, 22);
                log_edited(s, FINDER, e, |st| st.origin = OTHER_LOG.into());
            }),
        ),
        (
            "cite_wrong_leaf",
            "CiteMismatch",
            appended(|s| {
                let e = event::Event::Annotation {
                    record: Cite::new(9, s.leaf(RecordRef(8))),
                    kind: AnnotationKind::Comment,
                    text: "seen".into(),
                };
                log_edited(s, FINDER, e, |_| {});
            }),
        ),
        (
            "possession_for_another_log",
            "BadPossession",
            appended(|s| {
                let party = s.cite(RecordRef(1));
                let new = test_key("Jane Finder/2026");
                let e = event::Event::KeyAdded {
                    party,
                    key: PublicKey(new.verifying_key().to_bytes()),
                    possession: prove_possession(OTHER_LOG, &party, &new),
                };
                log_edited(s, FINDER, e, |_| {});
            }),
        ),
        (
            "possession_by_the_signer",
            "BadPossession",
            appended(|s| {
                let party = s.cite(RecordRef(1));
                let new = test_key("Jane Finder/2026");
                let e = event::Event::KeyAdded {
                    party,
                    key: PublicKey(new.verifying_key().to_bytes()),
                    possession: prove_possession(ORIGIN, &party, &test_key(FINDER)),
                };
                log_edited(s, FINDER, e, |_| {});
            }),
        ),
        (
            "seen_root_mismatch",
            "SeenRootMismatch",
            appended(|s| {
                let e = comment(s, 22);
                let root = s.root_at(23);
                log_edited(s, FINDER, e, |st| {
                    st.seen = Some(SeenCheckpoint { size: 24, root })
                });
            }),
        ),
        (
            "duplicate_statement",
            "DuplicateStatement",
            appended(|s| {
                let r = Record::from_bytes(&s.records()[22]).unwrap();
                let logged = s.now + s.log_delay;
                s.append_raw(r.statement, r.signature, logged);
            }),
        ),
        (
            "claimed_in_1970",
            "ImplausibleTime",
            appended(|s| {
                let e = comment(s, 22);
                log_edited(s, FINDER, e, |st| st.claimed_at = 86_400_000);
            }),
        ),
        (
            "logged_in_2128",
            "ImplausibleTime",
            appended(|s| {
                let key = test_key(FINDER);
                let st = s.statement(comment(s, 22), &key);
                s.append_statement(&key, &st, 5_000_000_000_000);
            }),
        ),
        (
            "embargo_ends_in_9999",
            "ImplausibleTime",
            appended(|s| {
                let e = event::Event::EmbargoProposed {
                    case: CaseId(*b"golden-case-0001"),
                    ends_at: 253_402_300_800_000,
                };
                log_edited(s, VENDOR2, e, |_| {});
            }),
        ),
        (
            "opening_of_the_wrong_type",
            "OpeningType",
            appended(|s| {
                // An identifier sealed over 32 raw bytes, which are not a
                // String: the commitment opens, the value does not decode.
                let pk = PublicKey(test_key(VENDOR2).verifying_key().to_bytes());
                let raw = [0x41u8; 32];
                let c = Commitment::compute(field(12, 0), &pk, &[6; 32], &raw);
                log_edited(
                    s,
                    VENDOR2,
                    event::Event::IdentifierAssigned {
                        case: CaseId(*b"golden-case-0001"),
                        scheme: IdScheme::Other,
                        value: Sealed::Sealed(c),
                    },
                    |_| {},
                );
                let sealed = s.last();
                let e = event::Event::Opening {
                    record: sealed,
                    field: 0,
                    salt: [6; 32],
                    value: raw.to_vec(),
                };
                log_edited(s, VENDOR2, e, |_| {});
            }),
        ),
    ];
    for (name, expected, records) in logs {
        let h: Vec<String> = records.iter().map(|r| hex(r)).collect();
        out.push((name, "log", expected, h.join(",")));
    }
    out
}

fn invalid_vectors_text() -> String {
    let mut s = String::from(
        "# Invalid records and statements: name target expected_error hex.\n\
         # Target record or statement: golden record 0 or its statement\n\
         # (PartyRegistered \"Acme Corp\"), changed; decoding fails.\n\
         # Target log: records appended to the golden log (hex, comma-separated);\n\
         # all but the last are valid, and auditing the last fails (FORMAT.md §16).\n",
    );
    for (name, target, expected, hex) in invalid_vectors() {
        let _ = writeln!(s, "{name} {target} {expected} {hex}");
    }
    s
}

#[test]
fn invalid_vectors_fail_as_documented() {
    let text = std::fs::read_to_string(golden_path("golden_invalid.txt")).unwrap();
    let golden: Vec<Vec<u8>> = read_golden().into_iter().map(|(_, _, r)| r).collect();
    let (mut decoding, mut logs) = (0, 0);
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let f: Vec<&str> = line.split(' ').collect();
        let (name, what, expected) = (f[0], f[1], f[2]);
        if what == "log" {
            let records: Vec<Vec<u8>> = f[3].split(',').map(unhex).collect();
            let (last, before) = records.split_last().unwrap();
            // The library's auditor, for the golden log's origin.
            let mut a = Auditor::new(AuditConfig {
                origin: Some(ORIGIN.into()),
                ..Default::default()
            });
            for r in golden.iter().chain(before) {
                a.push(r).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            }
            let err = a.push(last).unwrap_err();
            let got = format!("{:?}", err.kind);
            assert!(
                got.starts_with(expected),
                "{name}: expected {expected}, got {got}"
            );
            assert_eq!(err.index, (golden.len() + before.len()) as u64);
            assert_eq!(err.evidence, *last, "{name}: the record is the evidence");
            // The spec checker: the same failure, found independently.
            let mut spec = SpecLog::default();
            for r in golden.iter().chain(before) {
                spec.push(r).unwrap_or_else(|e| panic!("{name}: spec: {e}"));
            }
            let got = spec.push(last).unwrap_err();
            assert!(
                got.starts_with(expected),
                "{name}: the spec checker says {got}"
            );
            logs += 1;
            continue;
        }
        let bytes = unhex(f[3]);
        let err = match what {
            "record" => Record::from_bytes(&bytes).unwrap_err(),
            "statement" => Statement::from_bytes(&bytes).unwrap_err(),
            _ => panic!("{name}: unknown target {what}"),
        };
        let got = format!("{err:?}");
        assert!(
            got.starts_with(expected),
            "{name}: expected {expected}, got {got}"
        );
        // The spec decoder refuses them too.
        let spec = match what {
            "record" => spec_record(&bytes).map(|_| ()),
            _ => spec_statement(&bytes).map(|_| ()),
        };
        assert!(spec.is_err(), "{name}: the spec decoder accepted it");
        decoding += 1;
    }
    assert_eq!((decoding, logs), (17, 10));
    // Over the size limit: refused before decoding.
    let big = vec![2u8; encoding::MAX_ENCODED_SIZE + 1];
    assert!(matches!(
        Record::from_bytes(&big),
        Err(encoding::EncodingError::TooLarge { .. })
    ));
    assert!(spec_record(&big).is_err());
}

/// v1 is not accepted: golden record 0 re-encoded with the v1 version
/// bytes is refused as an unknown version, by the library and here.
#[test]
fn version_1_is_refused() {
    let r0 = golden_scenario().records()[0].clone();
    let mut v1 = r0.clone();
    v1[0] = 1;
    assert_eq!(
        Record::from_bytes(&v1),
        Err(encoding::EncodingError::UnknownVersion {
            found: 1,
            expected: 2
        })
    );
    let mut st = Record::from_bytes(&r0).unwrap().statement;
    st[0] = 1;
    assert_eq!(
        Statement::from_bytes(&st),
        Err(encoding::EncodingError::UnknownVersion {
            found: 1,
            expected: 2
        })
    );
    assert!(spec_record(&v1).is_err() && spec_statement(&st).is_err());
}
