//! docs/FORMAT.md §11–§14 is the specification of records and statements.
//! This file holds a second decoder written from that document alone — no
//! bincode, no forewarn-ledger types — and checks that:
//!
//! - it decodes every golden record and statement, consuming every byte,
//!   and agrees with the library on every field it compares;
//! - the golden vectors in `testdata/` are what the golden scenario builds
//!   today, byte for byte (set `FOREWARN_BLESS=1` to rewrite them after a
//!   deliberate format change);
//! - the expected verdict (root, findings) still holds;
//! - FORMAT.md's worked examples are exactly this decoder's annotated dumps;
//! - the invalid vectors fail with the documented error.

use std::fmt::Write as _;

use forewarn_ledger::testkit::golden_scenario;
use forewarn_ledger::*;
use sha2::{Digest, Sha256};

const DIR: &str = env!("CARGO_MANIFEST_DIR");

fn hex(b: &[u8]) -> String {
    ::base16ct::lower::encode_string(b)
}

fn unhex(s: &str) -> Vec<u8> {
    ::base16ct::mixed::decode_vec(s).unwrap()
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

impl<'a> Cursor<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Cursor {
            bytes,
            pos: 0,
            out: String::new(),
            depth: 0,
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

    fn array(&mut self, n: usize, name: &str) -> R<Vec<u8>> {
        let b = self.take(n, name)?;
        self.line(b, format!("{name} ({n} bytes)"));
        Ok(b.to_vec())
    }

    fn bytes(&mut self, name: &str) -> R<Vec<u8>> {
        let l = self.take(8, name)?;
        let n = u64::from_le_bytes(l.try_into().unwrap());
        if n > 65_536 {
            return Err(format!("{name} length {n} over the limit"));
        }
        self.line(l, format!("{name} length = {n}"));
        let b = self.take(n as usize, name)?;
        self.line(b, format!("{name} ({n} bytes)"));
        Ok(b.to_vec())
    }

    fn string(&mut self, name: &str) -> R<String> {
        let l = self.take(8, name)?;
        let n = u64::from_le_bytes(l.try_into().unwrap());
        if n > 65_536 {
            return Err(format!("{name} length {n} over the limit"));
        }
        self.line(l, format!("{name} length = {n}"));
        let b = self.take(n as usize, name)?;
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

    fn sealed_string(&mut self, name: &str) -> R<()> {
        if self.tag(name, &["Clear", "Sealed"])? == 0 {
            self.nested(|c| c.string("value"))?;
        } else {
            self.nested(|c| c.array(32, "commitment"))?;
        }
        Ok(())
    }

    fn sealed_hash(&mut self, name: &str) -> R<()> {
        let t = self.tag(name, &["Clear", "Sealed"])?;
        self.nested(|c| c.array(32, if t == 0 { "sha256" } else { "commitment" }))?;
        Ok(())
    }

    fn counterparty(&mut self, name: &str) -> R<()> {
        if self.tag(name, &["Party", "Unregistered"])? == 0 {
            self.nested(|c| c.u64("party (registration record)"))?;
        } else {
            self.nested(|c| {
                c.tag("class", CLASS)?;
                c.sealed_string("identity")
            })?;
        }
        Ok(())
    }
}

/// What the spec decoder reads from a statement.
#[derive(Debug, PartialEq)]
struct SpecStatement {
    tag: u32,
    claimed_at: u64,
    signer: Vec<u8>,
    seen: Option<(u64, Vec<u8>)>,
}

fn spec_statement(bytes: &[u8]) -> R<(SpecStatement, String)> {
    let mut c = Cursor::new(bytes);
    if c.u8("version")? != 1 {
        return Err("unknown statement version".into());
    }
    let tag = c.tag("event", EVENTS)?;
    c.nested(|c| -> R<()> {
        match tag {
            0 => {
                c.string("name")?;
                c.tag("class", CLASS)?;
                c.array(32, "key")?;
            }
            1 => {
                c.array(32, "key")?;
            }
            2 => {
                c.array(32, "key")?;
                c.u64("effective_at")?;
            }
            3 => {
                c.array(16, "case")?;
                c.sealed_string("summary")?;
                c.sealed_string("product")?;
            }
            4 => {
                c.array(16, "case")?;
                c.counterparty("reporter")?;
                c.sealed_hash("report")?;
            }
            5 | 13 | 14 | 16 | 17 => {
                c.array(16, "case")?;
            }
            6 => {
                c.array(16, "case")?;
                c.counterparty("recipient")?;
                c.tag("level", LEVEL)?;
                c.tag("tlp", TLP)?;
                if c.option("embargo")? {
                    c.nested(|c| c.u64("embargo record"))?;
                }
                c.sealed_hash("content")?;
                c.tag("channel", CHANNEL)?;
            }
            7 => {
                c.u64("notice")?;
                c.array(32, "notice_leaf")?;
                c.u64("received_at")?;
            }
            8 => {
                c.array(16, "case")?;
                c.u64("ends_at")?;
            }
            9 => {
                c.u64("embargo")?;
            }
            10 => {
                c.u64("embargo")?;
                c.u64("ends_at")?;
            }
            11 => {
                c.u64("embargo")?;
                c.tag("reason", REASON)?;
            }
            12 => {
                c.array(16, "case")?;
                c.tag("scheme", SCHEME)?;
                c.sealed_string("value")?;
            }
            15 => {
                c.array(16, "case")?;
                c.string("url")?;
                c.array(32, "sha256")?;
            }
            18 => {
                c.array(16, "case")?;
                c.tag("stage", STAGE)?;
                c.string("authority")?;
            }
            19 => {
                c.u64("record")?;
                c.u8("field")?;
                c.array(32, "salt")?;
                c.bytes("value")?;
            }
            20 => {
                c.u64("record")?;
                c.tag("kind", ANNOTATION)?;
                c.string("text")?;
            }
            _ => unreachable!("tag() refuses unknown tags"),
        }
        Ok(())
    })?;
    let claimed_at = c.u64("claimed_at")?;
    let signer = c.array(32, "signer")?;
    let seen = if c.option("seen")? {
        let size = c.nested(|c| c.u64("size"))?;
        let root = c.nested(|c| c.array(32, "root"))?;
        Some((size, root))
    } else {
        None
    };
    if c.pos != bytes.len() {
        return Err(format!("{} trailing bytes", bytes.len() - c.pos));
    }
    Ok((
        SpecStatement {
            tag,
            claimed_at,
            signer,
            seen,
        },
        c.out,
    ))
}

struct SpecRecord {
    index: u64,
    prev: Vec<u8>,
    logged_at: u64,
    statement: Vec<u8>,
    signature: Vec<u8>,
}

fn spec_record(bytes: &[u8]) -> R<(SpecRecord, String)> {
    let mut c = Cursor::new(bytes);
    if c.u8("version")? != 1 {
        return Err("unknown record version".into());
    }
    let index = c.u64("index")?;
    let prev = c.array(32, "prev")?;
    let logged_at = c.u64("logged_at")?;
    let statement = c.bytes("statement")?;
    let signature = c.array(64, "signature")?;
    if c.pos != bytes.len() {
        return Err(format!("{} trailing bytes", bytes.len() - c.pos));
    }
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
        "# forewarn golden verdict v1 (policy cert-cc, as of the last logged_at + {AS_OF_DAYS_AFTER_LAST} days)"
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
        "# forewarn golden log v1: index leaf_hash record_bytes (hex), one record per line\n",
    );
    for (i, r) in records.iter().enumerate() {
        let leaf: [u8; 32] = Sha256::new()
            .chain_update([0u8])
            .chain_update(r)
            .finalize()
            .into();
        let _ = writeln!(text, "{i} {} {}", hex(&leaf), hex(r));
    }
    let verdict = verdict_text(records);
    if bless() {
        std::fs::write(golden_path("golden_log.txt"), &text).unwrap();
        std::fs::write(golden_path("golden_verdict.txt"), &verdict).unwrap();
    }
    let stored = std::fs::read_to_string(golden_path("golden_log.txt")).unwrap();
    assert!(
        stored == text,
        "the golden log changed: a format change must be deliberate (FOREWARN_BLESS=1)"
    );
    let stored_verdict = std::fs::read_to_string(golden_path("golden_verdict.txt")).unwrap();
    assert_eq!(stored_verdict, verdict, "the golden verdict changed");
}

#[test]
fn golden_records_decode_the_same_with_the_spec_decoder() {
    let golden = read_golden();
    assert!(golden.len() >= 21);
    let mut kinds = std::collections::BTreeSet::new();
    let mut prev = vec![0u8; 32];
    for (i, leaf, bytes) in &golden {
        // Leaf hash per RFC 9162 §2.1.1, computed here from scratch.
        let computed: [u8; 32] = Sha256::new()
            .chain_update([0u8])
            .chain_update(bytes)
            .finalize()
            .into();
        assert_eq!(&computed[..], &leaf[..], "leaf hash of record {i}");
        let (rec, _) = spec_record(bytes).unwrap_or_else(|e| panic!("record {i}: {e}"));
        assert_eq!(rec.index, *i);
        assert_eq!(rec.prev, prev, "prev of record {i}");
        prev = leaf.clone();
        let (st, _) =
            spec_statement(&rec.statement).unwrap_or_else(|e| panic!("statement {i}: {e}"));
        // The library agrees.
        let lib = Record::from_bytes(bytes).unwrap();
        assert_eq!(
            (lib.logged_at, &lib.signature[..]),
            (rec.logged_at, &rec.signature[..])
        );
        let lst = Statement::from_bytes(&lib.statement).unwrap();
        assert_eq!(
            st,
            SpecStatement {
                tag: lst.event.tag(),
                claimed_at: lst.claimed_at,
                signer: lst.signer.0.to_vec(),
                seen: lst.seen.map(|s| (s.size, s.root.0.to_vec())),
            }
        );
        // The signature, checked from scratch: Ed25519 over the prefix and
        // the statement bytes.
        let key = ed25519_dalek::VerifyingKey::from_bytes(&st.signer.clone().try_into().unwrap())
            .unwrap();
        let mut msg = b"forewarn/statement/v1\n".to_vec();
        msg.extend_from_slice(&rec.statement);
        key.verify_strict(
            &msg,
            &ed25519_dalek::Signature::from_slice(&rec.signature).unwrap(),
        )
        .unwrap();
        kinds.insert(st.tag);
    }
    assert_eq!(
        kinds.len(),
        21,
        "every event kind appears in the golden log"
    );
}

#[test]
fn format_md_worked_examples_are_exact() {
    let doc = std::fs::read_to_string(format!("{DIR}/../../docs/FORMAT.md")).unwrap();
    let golden = read_golden();
    let mut seen = std::collections::BTreeSet::new();
    let mut missing = Vec::new();
    let (_, record_dump) = spec_record(&golden[0].2).unwrap();
    if !doc.contains(&record_dump) {
        missing.push(format!("record 0:\n{record_dump}"));
    }
    for (i, _, bytes) in &golden {
        let (rec, _) = spec_record(bytes).unwrap();
        let (st, dump) = spec_statement(&rec.statement).unwrap();
        if seen.insert(st.tag) {
            let block = format!(
                "Tag {} `{}` — record {i}, statement of {} bytes:\n\n```text\n{dump}```\n",
                st.tag,
                EVENTS[st.tag as usize],
                rec.statement.len()
            );
            if !doc.contains(&block) {
                missing.push(block);
            }
        }
    }
    if bless() && !missing.is_empty() {
        std::fs::write(
            format!("{DIR}/../../target-format-examples.md"),
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

#[test]
fn invalid_vectors_fail_as_documented() {
    let text = std::fs::read_to_string(golden_path("golden_invalid.txt")).unwrap();
    let mut n = 0;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let f: Vec<&str> = line.split(' ').collect();
        let (name, what, expected, bytes) = (f[0], f[1], f[2], unhex(f[3]));
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
        n += 1;
    }
    assert!(n >= 8, "only {n} invalid vectors");
    // Over the size limit: refused before decoding.
    let big = vec![1u8; encoding::MAX_ENCODED_SIZE + 1];
    assert!(matches!(
        Record::from_bytes(&big),
        Err(encoding::EncodingError::TooLarge { .. })
    ));
}
