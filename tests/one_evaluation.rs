//! `report` and `audit` under the same policy give the same findings: for
//! every preset, the findings `report case --all --json` shows for each
//! case are exactly that case's findings in `audit --json` (docs/AUDITING.md,
//! "The auditor in one paragraph": one evaluation). Under format v1 the
//! report read the store's auditor, built with the baseline policy, so an
//! 18-day embargo was a finding of `audit --policy linux-distros` and absent
//! from `report case --policy linux-distros`.

mod common;

use std::collections::BTreeMap;

use common::{ok, run};
use forewarn_ledger::policy::PRESETS;
use serde_json::Value;

/// A finding as both commands print it, for comparison.
fn key(f: &Value) -> String {
    format!(
        "{}|{}|{}|{}",
        f["kind"], f["record"], f["party"], f["detail"]
    )
}

#[test]
fn report_and_audit_agree_under_every_preset() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(tmp.path(), &["demo", "--dir", "demo"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let as_of = "2026-06-01T00:00:00Z";
    let mut differing_presets = std::collections::BTreeSet::new();
    for preset in PRESETS {
        let flags = [
            "--dir", "demo", "--policy", preset, "--as-of", as_of, "--json",
        ];
        // `audit` exits 1 when there are findings; its JSON is on stdout.
        let audit = run(tmp.path(), &[&["audit"][..], &flags].concat());
        assert!(
            matches!(audit.status.code(), Some(0 | 1)),
            "{}",
            String::from_utf8_lossy(&audit.stderr)
        );
        let audit: Value = serde_json::from_slice(&audit.stdout).unwrap();
        let mut from_audit: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for f in audit["report"]["findings"].as_array().unwrap() {
            if let Some(case) = f["case"].as_str() {
                from_audit.entry(case.into()).or_default().push(key(f));
            }
        }
        let cases: Value = serde_json::from_str(&ok(
            tmp.path(),
            &[&["report", "case", "--all"][..], &flags].concat(),
        ))
        .unwrap();
        let mut from_report: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for c in cases.as_array().unwrap() {
            let id = c["case"].as_str().unwrap().to_string();
            let mut fs: Vec<String> = c["findings"].as_array().unwrap().iter().map(key).collect();
            if !fs.is_empty() {
                fs.sort();
                from_report.insert(id, fs);
            }
        }
        for fs in from_audit.values_mut() {
            fs.sort();
        }
        assert_eq!(from_report, from_audit, "preset {preset}");
        differing_presets.insert(from_audit.values().flatten().cloned().collect::<Vec<_>>());
    }
    // The presets must not all agree with each other, or this test would
    // not notice a report stuck on one policy.
    assert!(
        differing_presets.len() > 1,
        "every preset gave the same findings"
    );
}
