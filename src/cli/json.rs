//! `--json` documents as they are written: one JSON document per command,
//! serialized straight from the report types into a buffered standard
//! output, never built first as a `serde_json::Value` tree or a string
//! (docs/CLI.md, "JSON output"). The memory a `--json` command needs for its
//! output therefore does not grow with the size of that output (a
//! `serde_json::Value` of a report is several times the size of its text).
//!
//! The big arrays of a report (cases, parties, findings) are written element
//! by element through [`Seq`], which takes any iterator, so a report whose
//! cases come from an iterator instead of a `Vec` prints the same bytes.
//!
//! Keys come in the order of the types' fields (`crates/ledger/src/report.rs`
//! and the documents below), which is stable; maps inside the report
//! (`events`, `findings_by_kind`) are sorted by key.

use std::cell::Cell;
use std::io::{self, Write};

use forewarn_ledger::report::Summary;
use forewarn_ledger::{CaseId, PartyClass, PartyId};
use serde::ser::{Error as _, Serialize, Serializer};

/// How a document is laid out.
#[derive(Clone, Copy, Debug)]
pub enum Layout {
    /// Indented by two spaces (reports).
    Pretty,
    /// One line (verdicts of `verify` and `check`).
    Line,
}

/// Writes `value` to `out` as one JSON document followed by a newline, as it
/// is serialized. Nothing is flushed: `out` is the caller's (buffered)
/// writer. A failing writer (a reader that went away) is an `Err` with the
/// writer's own error, never a panic.
pub fn write_document<W: Write>(
    mut out: W,
    value: &impl Serialize,
    layout: Layout,
) -> io::Result<()> {
    match layout {
        Layout::Pretty => value.serialize(&mut serde_json::Serializer::pretty(&mut out)),
        Layout::Line => value.serialize(&mut serde_json::Serializer::new(&mut out)),
    }
    // An I/O error comes back as itself; any other error of serde_json
    // (none is possible for these types) as `InvalidData`.
    .map_err(io::Error::from)?;
    out.write_all(b"\n")
}

/// A JSON array written element by element from an iterator, which it
/// consumes: it can be serialized once (a second time is a serialization
/// error, not a panic).
pub struct Seq<I>(Cell<Option<I>>);

/// The array of `items`, written as they come.
pub fn seq<I: IntoIterator>(items: I) -> Seq<I::IntoIter> {
    Seq(Cell::new(Some(items.into_iter())))
}

impl<I> Serialize for Seq<I>
where
    I: Iterator,
    I::Item: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let items = self
            .0
            .take()
            .ok_or_else(|| S::Error::custom("a streamed array is written only once"))?;
        s.collect_seq(items)
    }
}

/// `forewarn audit --json`: the audit passed its integrity checks (a failure
/// is an error on standard error, not a document), where the records came
/// from, and the full report.
#[derive(serde::Serialize)]
pub struct AuditDocument<'a, R> {
    /// Always `"ok"`.
    pub integrity: &'static str,
    /// The ledger directory or tile export audited.
    pub source: &'a str,
    /// The report (a [`ReportDocument`]).
    pub report: R,
}

/// The audit document of `report` read from `source`: the reference that
/// the document `audit --json` writes
/// ([`crate::cli::projected::write_audit_document`]) is tested against.
#[cfg(test)]
pub fn audit_document<'a>(
    source: &'a str,
    report: &'a forewarn_ledger::report::Report,
) -> impl Serialize + 'a {
    AuditDocument {
        integrity: "ok",
        source,
        report: report_document(report),
    }
}

/// A [`forewarn_ledger::report::Report`] in the shape (and field order) of its derived
/// serialization, with its arrays written element by element.
#[derive(serde::Serialize)]
pub struct ReportDocument<'a, C, P, F> {
    /// The counts.
    pub summary: &'a Summary,
    /// Every case ([`Seq`] of `CaseReport`).
    pub cases: C,
    /// Every party ([`Seq`] of `PartyReport`).
    pub parties: P,
    /// Every finding ([`Seq`] of `Finding`).
    pub findings: F,
}

/// `report` as a [`ReportDocument`].
#[cfg(test)]
pub fn report_document(report: &forewarn_ledger::report::Report) -> impl Serialize + '_ {
    ReportDocument {
        summary: &report.summary,
        cases: seq(&report.cases),
        parties: seq(&report.parties),
        findings: seq(&report.findings),
    }
}

/// `forewarn report summary --json`: the counts (with `--findings`, the
/// findings and early notice beside them), and who the parties are.
#[derive(serde::Serialize)]
pub struct SummaryDocument<'a, S, P> {
    /// The counts: a [`forewarn_ledger::report::Totals`], or with
    /// `--findings` a [`Summary`] (the same fields and more).
    pub summary: &'a S,
    /// Every party ([`Seq`] of [`PartyRow`]).
    pub parties: P,
}

/// One party in [`SummaryDocument`].
#[derive(serde::Serialize)]
pub struct PartyRow<'a> {
    /// Its number (the record that registered it).
    pub party: PartyId,
    /// Its registered name.
    pub name: &'a str,
    /// Its class.
    pub class: PartyClass,
}

/// The summary document: the counts, then the parties as they come.
pub fn summary_document<'a, S: Serialize>(
    summary: &'a S,
    parties: impl Iterator<Item = PartyRow<'a>> + 'a,
) -> impl Serialize + 'a {
    SummaryDocument {
        summary,
        parties: seq(parties),
    }
}

/// One case in the `forewarn report cases --json` document.
#[derive(serde::Serialize)]
pub struct CaseRow<'a> {
    /// Its id.
    pub case: CaseId,
    /// The record that opened it.
    pub opened_record: forewarn_ledger::types::RecordRef,
    /// When it was opened (claimed time, ms since the Unix epoch).
    pub opened_at: forewarn_ledger::types::Millis,
    /// What it is about (clear, opened, or sealed).
    pub summary: &'a forewarn_ledger::report::Shown,
}

/// `forewarn report cases --json`: `{"cases": [CaseRow…]}`, written as the
/// rows come.
pub fn cases_document<'a>(rows: impl Iterator<Item = CaseRow<'a>> + 'a) -> impl Serialize + 'a {
    #[derive(serde::Serialize)]
    struct CasesDocument<C> {
        cases: C,
    }
    CasesDocument { cases: seq(rows) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use forewarn_ledger::report::Report;
    use forewarn_ledger::testkit::RealisticLog;
    use forewarn_ledger::{AuditConfig, AuditPolicy, report};
    use serde_json::Value;

    /// The report of a generated log of at least `records` records.
    fn generated_report(seed: u64, records: u64, policy: &str) -> Report {
        let mut log = RealisticLog::new(seed, 12, false);
        log.grow_to(records);
        let auditor = log.scenario.audit(AuditConfig::default()).unwrap();
        let policy = AuditPolicy::preset(policy).unwrap();
        let as_of = log.scenario.now + 30 * 86_400_000;
        report::build(auditor.state(), &policy, as_of, &auditor.root())
    }

    fn streamed(value: &impl Serialize, layout: Layout) -> Vec<u8> {
        let mut out = Vec::new();
        write_document(&mut out, value, layout).unwrap();
        out
    }

    /// `v` as the previous `--json` printed it (through `serde_json::Value`)
    /// and read back. serde_json reads floats best-effort (without its
    /// `float_roundtrip` feature), so both sides of a comparison go through
    /// the same text-to-number step.
    fn through_value(v: Value) -> Value {
        serde_json::from_str(&serde_json::to_string_pretty(&v).unwrap()).unwrap()
    }

    fn parsed(bytes: &[u8]) -> Value {
        serde_json::from_slice(bytes).unwrap()
    }

    fn assert_streams_like_to_value(report: &Report) {
        let audit = streamed(&audit_document("D", report), Layout::Pretty);
        assert_eq!(audit.last(), Some(&b'\n'));
        let expected = serde_json::json!({
            "integrity": "ok",
            "source": "D",
            "report": serde_json::to_value(report).unwrap(),
        });
        assert_eq!(parsed(&audit), through_value(expected));
        // Byte for byte what serde_json's own derived serialization of the
        // report writes: the streamed arrays change nothing.
        let derived = AuditDocument {
            integrity: "ok",
            source: "D",
            report,
        };
        assert_eq!(
            String::from_utf8(audit).unwrap(),
            serde_json::to_string_pretty(&derived).unwrap() + "\n"
        );
        let rows = report.parties.iter().map(|p| PartyRow {
            party: p.party,
            name: &p.name,
            class: p.class,
        });
        let summary = streamed(&summary_document(&report.summary, rows), Layout::Pretty);
        let expected = serde_json::json!({
            "summary": report.summary,
            "parties": report.parties.iter().map(|p| serde_json::json!({"party": p.party, "name": p.name, "class": p.class})).collect::<Vec<_>>(),
        });
        assert_eq!(parsed(&summary), through_value(expected));
        // Field order: the small fields first, the report last.
        let text = String::from_utf8(streamed(&audit_document("D", report), Layout::Line)).unwrap();
        assert!(
            text.starts_with(r#"{"integrity":"ok","source":"D","report":{"summary":{"records":"#),
            "{}",
            &text[..80]
        );
    }

    #[test]
    fn a_report_with_many_cases_streams_to_the_document_of_to_value() {
        let report = generated_report(5, 5_000, "cert-cc");
        assert!(report.cases.len() > 100, "{} cases", report.cases.len());
        assert!(!report.findings.is_empty());
        assert!(
            report
                .summary
                .early_notice
                .iter()
                .any(|c| c.median_days_before_public.is_some()),
            "no float in the report"
        );
        assert_streams_like_to_value(&report);
    }

    #[test]
    fn an_empty_and_a_small_report_stream_to_the_document_of_to_value() {
        let report = generated_report(6, 0, "baseline");
        assert!(report.cases.is_empty());
        assert_streams_like_to_value(&report);
        assert_streams_like_to_value(&generated_report(7, 60, "baseline"));
    }

    /// Accepts `room` bytes, then fails as a closed pipe does.
    struct ClosedAfter {
        room: usize,
        written: Vec<u8>,
    }

    impl Write for ClosedAfter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            self.written.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_writer_is_an_error_with_its_own_kind_not_a_panic() {
        let report = generated_report(8, 200, "baseline");
        let whole = streamed(&audit_document("D", &report), Layout::Pretty);
        for room in [0, 1, 100, whole.len() - 1] {
            let mut out = ClosedAfter {
                room,
                written: Vec::new(),
            };
            let e = write_document(&mut out, &audit_document("D", &report), Layout::Pretty)
                .unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::BrokenPipe, "room {room}");
            assert_eq!(out.written, whole[..room], "room {room}");
        }
    }

    #[test]
    fn a_streamed_array_written_twice_is_an_error() {
        let items = seq([1, 2, 3]);
        assert_eq!(serde_json::to_string(&items).unwrap(), "[1,2,3]");
        let e = serde_json::to_string(&items).unwrap_err();
        assert!(e.to_string().contains("only once"), "{e}");
        assert_eq!(
            serde_json::to_string(&seq(std::iter::empty::<u8>())).unwrap(),
            "[]"
        );
    }
}
