//! `--json` of `audit` and `report` through the binary (docs/CLI.md, "JSON
//! output"): the document each command streams is, read back, the
//! serialization of the report the ledger gives (built here from the same
//! ledger with the library, through `serde_json::to_value`), and a reader
//! that goes away before the end ends the command with exit 2, never a
//! panic. (Documents of many cases are compared in the binary's unit tests,
//! `src/cli/json.rs`, where no ledger directory is needed.)

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{ok, run};
use forewarn_ledger::report::{self, Report};
use forewarn_ledger::testkit::START;
use forewarn_ledger::{AuditConfig, AuditPolicy};
use serde_json::{Value, json};

const POLICY: &str = "cert-cc";
const AS_OF: &str = "2026-06-01T00:00:00Z";
/// [`AS_OF`]: 151 days after 2026-01-01 ([`START`]).
const AS_OF_MS: u64 = START + 151 * 86_400_000;

/// A demo ledger in a temporary directory, at `demo`.
fn demo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    ok(tmp.path(), &["demo", "--dir", "demo"]);
    tmp
}

/// The report of the ledger at `dir`, built by the library from a fresh
/// replay of its records.
fn library_report(dir: &Path) -> Report {
    let copy = forewarn_store::LogCopy::take(dir, forewarn_store::DEFAULT_LOCK_WAIT).unwrap();
    let auditor = copy.audit(AuditConfig::default(), &|_, _| {}).unwrap();
    let policy = AuditPolicy::preset(POLICY).unwrap();
    report::build(auditor.state(), &policy, AS_OF_MS, &auditor.root())
}

/// `v` printed and read back: serde_json reads floats best-effort (without
/// its `float_roundtrip` feature), so the expected side goes through the
/// same text-to-number step as the command's output.
fn as_printed(v: Value) -> Value {
    serde_json::from_str(&serde_json::to_string_pretty(&v).unwrap()).unwrap()
}

fn parsed(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not one JSON document ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[test]
fn the_streamed_documents_of_the_demo_are_the_serialized_reports() {
    let tmp = demo();
    let d = tmp.path();
    let report = library_report(&d.join("demo"));
    assert!(report.cases.len() >= 3 && !report.findings.is_empty());
    fn with<'a>(args: &[&'a str]) -> Vec<&'a str> {
        let flags = [
            "--dir", "demo", "--policy", POLICY, "--as-of", AS_OF, "--json",
        ];
        [args, &flags[..]].concat()
    }

    let audit = run(d, &with(&["audit"]));
    // Findings: exit 1, the document on standard output all the same.
    assert_eq!(
        audit.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&audit.stderr)
    );
    assert_eq!(
        parsed(&audit),
        as_printed(json!({
            "integrity": "ok",
            "source": "demo",
            "report": serde_json::to_value(&report).unwrap(),
        }))
    );
    // Keys in the documented order: integrity and source before the report,
    // the summary first in it (found by their indentation: the summary has
    // a "cases" and a "parties" of its own).
    let text = String::from_utf8(audit.stdout).unwrap();
    let at = |indent: usize, key: &str| {
        text.find(&format!("\n{:indent$}\"{key}\": ", ""))
            .unwrap_or_else(|| panic!("no {key} at indent {indent}"))
    };
    assert!(at(2, "integrity") < at(2, "source") && at(2, "source") < at(2, "report"));
    let (summary, cases, parties, findings) = (
        at(4, "summary"),
        at(4, "cases"),
        at(4, "parties"),
        at(4, "findings"),
    );
    assert!(summary < cases && cases < parties && parties < findings);
    assert!(text.ends_with("}\n"), "{}", &text[text.len() - 20..]);

    let cases: Value = serde_json::from_str(&ok(d, &with(&["report", "case", "--all"]))).unwrap();
    assert_eq!(
        cases,
        as_printed(serde_json::to_value(&report.cases).unwrap())
    );
    let one = &report.cases[1];
    let case: Value =
        serde_json::from_str(&ok(d, &with(&["report", "case", &one.case.to_string()]))).unwrap();
    assert_eq!(
        case,
        as_printed(json!([serde_json::to_value(one).unwrap()]))
    );

    for p in &report.parties {
        let party: Value =
            serde_json::from_str(&ok(d, &with(&["report", "party", &p.name]))).unwrap();
        assert_eq!(
            party,
            as_printed(serde_json::to_value(p).unwrap()),
            "{}",
            p.name
        );
    }

    // `report` reads the store's saved projection state, whose summary
    // names no verified checkpoint (`audit` replays and verifies it): that
    // one field is compared apart.
    let mut summary: Value =
        serde_json::from_str(&ok(d, &with(&["report", "summary", "--findings"]))).unwrap();
    let checkpoint = summary["summary"]
        .as_object_mut()
        .unwrap()
        .remove("checkpoint");
    assert!(
        matches!(&checkpoint, Some(c) if c.is_null() || *c == json!(report.summary.totals.checkpoint)),
        "{checkpoint:?}"
    );
    let mut expected = as_printed(json!({
        "summary": report.summary,
        "parties": report.parties.iter().map(|p| json!({"party": p.party, "name": p.name, "class": p.class})).collect::<Vec<_>>(),
    }));
    expected["summary"]
        .as_object_mut()
        .unwrap()
        .remove("checkpoint");
    assert_eq!(summary, expected);

    // Without --findings: the same counts, read from the kept counters,
    // and nothing that needs a policy.
    let mut totals: Value = serde_json::from_str(&ok(d, &with(&["report", "summary"]))).unwrap();
    totals["summary"]
        .as_object_mut()
        .unwrap()
        .remove("checkpoint");
    let mut counts = expected.clone();
    for evaluated in [
        "as_of",
        "policy",
        "findings_by_kind",
        "protocol_findings",
        "policy_findings",
        "early_notice",
    ] {
        counts["summary"].as_object_mut().unwrap().remove(evaluated);
    }
    assert_eq!(totals, counts);

    // `report cases`: every case of the replay, in the order opened.
    let listed: Value = serde_json::from_str(&ok(d, &with(&["report", "cases"]))).unwrap();
    let mut opened: Vec<_> = report.cases.iter().collect();
    opened.sort_by_key(|c| c.opened_record);
    assert_eq!(
        listed,
        as_printed(json!({"cases": opened.iter().map(|c| json!({
            "case": c.case,
            "opened_record": c.opened_record,
            "opened_at": c.opened_at,
            "summary": c.summary,
        })).collect::<Vec<_>>()}))
    );
}

#[test]
fn a_reader_that_goes_away_ends_a_json_command_with_exit_2_not_a_panic() {
    // `forewarn audit --json | head -c 100`, with the reader gone before the
    // first byte: what the command would have said was not seen, so it
    // must neither panic (exit 101) nor exit 0 or 1.
    let tmp = demo();
    for args in [
        &["audit", "--dir", "demo", "--json"][..],
        &["report", "case", "--all", "--dir", "demo", "--json"],
        &["report", "summary", "--dir", "demo", "--json"],
        &["report", "summary", "--findings", "--dir", "demo", "--json"],
        &["report", "cases", "--dir", "demo", "--json"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_forewarn"))
            .args(args)
            .current_dir(tmp.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run forewarn");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("forewarn ends");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        // A broken pipe is not an error worth a message.
        assert!(!err.contains("cannot write"), "{args:?}: {err}");
    }
}
