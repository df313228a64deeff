//! `FOREWARN_TRACE` on `forewarn audit` (docs/CLI.md, "Environment"): the
//! phases and the auditor's own rate on standard error, and nothing else
//! changed: the same verdict, exit code and standard output as without it.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{ok, run};

fn audit(dir: &Path, args: &[&str], trace: bool) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_forewarn"));
    c.args(args).current_dir(dir).env_remove("FOREWARN_TRACE");
    if trace {
        c.env("FOREWARN_TRACE", "1");
    }
    c.output().expect("run forewarn")
}

/// The phase names of the trace lines on standard error, in order.
fn phases(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("forewarn: trace: "))
        .map(|l| l.split(' ').next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn the_trace_names_each_phase_and_changes_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let demo = run(tmp.path(), &["demo", "--dir", "demo"]);
    assert!(demo.status.success());
    ok(tmp.path(), &["export", "--dir", "demo", "--to", "public"]);
    let as_of = ["--as-of", "2026-06-01T00:00:00Z"];
    let dir = [&["audit", "--dir", "demo"][..], &as_of].concat();
    let tiles = [
        &["audit", "--tiles", "public", "--vkey", "demo/log.vkey"][..],
        &as_of,
    ]
    .concat();
    for (args, want) in [
        (&dir, vec!["copy", "audit", "report", "output"]),
        (&tiles, vec!["audit", "report", "output"]),
    ] {
        let plain = audit(tmp.path(), args, false);
        let traced = audit(tmp.path(), args, true);
        assert_eq!(phases(&plain), Vec::<String>::new(), "{args:?}");
        assert_eq!(phases(&traced), want, "{args:?}");
        let stderr = String::from_utf8_lossy(&traced.stderr);
        assert!(
            stderr.contains(" records/s)"),
            "the audit phase gives its rate: {stderr}"
        );
        assert_eq!(plain.status.code(), traced.status.code(), "{args:?}");
        assert_eq!(plain.stdout, traced.stdout, "{args:?}");
        assert!(!plain.stdout.is_empty());
    }
}
