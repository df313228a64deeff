//! The whole workflow through the binary, as a vendor, a coordinator and a
//! watchdog would run it: init, register, open, embargo, notify, ack
//! (appended, and signed elsewhere then appended), fix, disclose, reveal,
//! annotate, audit, report, export, audit of the export, check. Plus bad
//! input that must leave the ledger unchanged, and the demo.
//!
//! Output is the contract: every command's standard output and standard
//! error are compared in full with the snapshot written next to it (or in
//! `tests/snapshots/workflow/`), and its exit code is checked. Only what
//! genuinely varies between runs is redacted, each by its exact value where
//! the test can know it: keys (`[LOG_VKEY]`, `[ACME_VKEY]` …, read from the
//! files `init` and `keygen` write; `[ACME_KEY]`, from `proof verify
//! --json`), random case ids (`[CASE]`, `[CASE_ONE]` …, from `report
//! summary --json`), sealed commitments (`[HOSPITAL]`, `[SEALED_SUMMARY]` …,
//! from `report case --json`), the tree root (`[ROOT]`, from `check
//! --json`); and by a pattern that matches only there, the log's clock
//! (`[HOURS]` in "logged N h after its claimed time", `[LOGGED_AT]`,
//! `[LOG_MS]`). Values a later step needs come from `--json` output, parsed
//! with serde_json; record numbers are fixed by the story and asserted by
//! the snapshots.
//!
//! After a deliberate change of output, rewrite the snapshots with
//! `SNAPSHOTS=overwrite cargo test -p forewarn --test workflow` and review
//! the diff.

use std::path::Path;

use serde_json::{Value, json};
use snapbox::cmd::{Command, OutputAssert, cargo_bin};
use snapbox::{Assert, Redactions, file, str};

/// A ledger directory and what is known to vary in its outputs.
struct Story {
    tmp: tempfile::TempDir,
    redactions: Redactions,
}

impl Story {
    fn new() -> Story {
        let tmp = tempfile::tempdir().unwrap();
        let mut redactions = Redactions::new();
        redactions
            .insert("[TMP]", tmp.path().to_path_buf())
            .unwrap();
        Story { tmp, redactions }
    }

    /// Redacts the log's clock: in this story records are sequenced now,
    /// long after the claimed times it passes with --at.
    fn with_log_clock(mut self) -> Story {
        let regex = |r: &str| regex::Regex::new(r).unwrap();
        self.redactions
            .insert(
                "[HOURS]",
                regex(r"logged (?<redacted>\d+) h after its claimed time"),
            )
            .unwrap();
        self.redactions
            .insert(
                "[LOGGED_AT]",
                regex(r"· logged (?<redacted>\d{4}-\d\d-\d\d \d\d:\d\dZ) ·"),
            )
            .unwrap();
        self.redactions
            .insert(
                "[LOG_MS]",
                regex(r"after the log time (?<redacted>\d+) plus"),
            )
            .unwrap();
        self
    }

    fn dir(&self) -> &Path {
        self.tmp.path()
    }

    /// Redacts `value` as `placeholder` from now on.
    fn learn(&mut self, placeholder: &'static str, value: &str) {
        assert!(!value.is_empty(), "{placeholder} would redact nothing");
        self.redactions
            .insert(placeholder, value.to_string())
            .unwrap();
    }

    fn assert(&self) -> Assert {
        Assert::new()
            .action_env(snapbox::assert::DEFAULT_ACTION_ENV)
            .redact_with(self.redactions.clone())
    }

    /// Runs `forewarn ARGS` in the ledger's directory.
    fn run(&self, args: &[&str]) -> OutputAssert {
        Command::new(cargo_bin!("forewarn"))
            .args(args)
            .current_dir(self.dir())
            .with_assert(self.assert())
            .assert()
    }

    /// Runs a command that must succeed with empty standard error and
    /// returns its standard output as JSON.
    fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args).success().stderr_eq(str![]);
        let stdout = &out.get_output().stdout;
        serde_json::from_slice(stdout).unwrap_or_else(|e| {
            panic!(
                "forewarn {args:?}: not JSON ({e}): {}",
                String::from_utf8_lossy(stdout)
            )
        })
    }

    /// What identifies the ledger's state: its size and checkpoint.
    fn fingerprint(&self) -> (Value, Value) {
        let v = self.json(&["check", "--json"]);
        (v["records"].clone(), v["root"].clone())
    }

    /// The text of a file in the ledger's directory, without its line feed.
    fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.dir().join(path))
            .unwrap()
            .trim_end()
            .to_string()
    }
}

const AT: &str = "--at";

#[test]
fn a_disclosure_through_the_cli() {
    let mut s = Story::new().with_log_clock();
    let init = s
        .run(&["init", "--origin", "ledger.acme.example"])
        .success();
    let log_vkey = s.read("forewarn-data/log.vkey");
    assert!(log_vkey.starts_with("ledger.acme.example+"), "{log_vkey}");
    s.learn("[LOG_VKEY]", &log_vkey);
    init.with_assert(s.assert())
        .stdout_eq(str![[r#"
[LOG_VKEY]

"#]])
        .stderr_eq(str![[r#"
created a ledger in forewarn-data (log key: forewarn-data/log.key, mode 0600)
next: make a party key with `forewarn keygen --name you.example --out keys` and register it with `forewarn party register`

"#]]);

    for (name, placeholder) in [
        ("acme.example", "[ACME_VKEY]"),
        ("cert.example", "[CERT_VKEY]"),
        ("agency.example", "[AGENCY_VKEY]"),
        ("bank.example", "[BANK_VKEY]"),
    ] {
        let out = s
            .run(&["keygen", "--name", name, "--out", "keys"])
            .success();
        let vkey = s.read(&format!("keys/{name}.vkey"));
        assert!(vkey.starts_with(&format!("{name}+")), "{vkey}");
        s.learn(placeholder, &vkey);
        out.with_assert(s.assert())
            .stdout_eq(format!("{placeholder}\n"))
            .stderr_eq(format!(
                "wrote keys/{name}.key (private, mode 0600)\nwrote keys/{name}.vkey\n"
            ));
    }

    let register = |key: &str, name: &str, class: &str| {
        s.run(&[
            "party",
            "register",
            "--key",
            key,
            "--name",
            name,
            "--class",
            class,
            AT,
            "2026-01-05T09:00:00Z",
        ])
        .success()
        .stderr_eq(str![])
    };
    register("keys/acme.example.key", "Acme", "vendor").stdout_eq(str![[r#"
appended record 0: PartyRegistered
receipt: forewarn-data/receipts/0.tlog-proof

"#]]);
    register("keys/cert.example.key", "CERT-X", "coordinator").stdout_eq(str![[r#"
appended record 1: PartyRegistered
receipt: forewarn-data/receipts/1.tlog-proof

"#]]);
    register("keys/agency.example.key", "Agency", "government").stdout_eq(str![[r#"
appended record 2: PartyRegistered
receipt: forewarn-data/receipts/2.tlog-proof

"#]]);
    register("keys/bank.example.key", "Bank", "deployer").stdout_eq(str![[r#"
appended record 3: PartyRegistered
receipt: forewarn-data/receipts/3.tlog-proof

"#]]);

    let open = s
        .run(&[
            "case",
            "open",
            "--key",
            "keys/acme.example.key",
            "--summary",
            "heap overflow",
            "--product",
            "acme-server",
            AT,
            "2026-01-10T10:00:00Z",
        ])
        .success();
    // The case id is random: the ledger's one case, from the JSON summary.
    let listed = s.json(&["report", "cases", "--json"]);
    let cases = listed["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 1, "{listed}");
    let case = cases[0]["case"].as_str().unwrap().to_string();
    assert!(
        case.len() == 32 && case.bytes().all(|b| b.is_ascii_hexdigit()),
        "{case}"
    );
    s.learn("[CASE]", &case);
    open.with_assert(s.assert())
        .stdout_eq(str![[r#"
appended record 4: CaseOpened (case [CASE])
receipt: forewarn-data/receipts/4.tlog-proof

"#]])
        .stderr_eq(str![]);
    let case = case.as_str();

    // Record numbers below are the story's: the snapshots assert each one.
    s.run(&[
        "embargo",
        "propose",
        "--key",
        "keys/acme.example.key",
        "--case",
        case,
        "--ends",
        "30d",
        AT,
        "2026-01-10T11:00:00Z",
    ])
    .success()
    .stdout_eq(str![[r#"
appended record 5: EmbargoProposed (case [CASE])
receipt: forewarn-data/receipts/5.tlog-proof

"#]])
    .stderr_eq(str![]);
    let embargo = "5";
    s.run(&[
        "notify",
        "--key",
        "keys/acme.example.key",
        "--case",
        case,
        "--to",
        "CERT-X",
        "--level",
        "details",
        "--embargo",
        embargo,
        AT,
        "2026-01-11T09:00:00Z",
    ])
    .success()
    .stdout_eq(str![[r#"
appended record 6: Notified (case [CASE])
receipt: forewarn-data/receipts/6.tlog-proof

"#]])
    .stderr_eq(str![]);
    let n_cert = "6";
    // Told of the case, the CERT joins its embargo (only a member may).
    s.run(&[
        "embargo",
        "accept",
        "--key",
        "keys/cert.example.key",
        "--embargo",
        embargo,
        AT,
        "2026-01-11T09:30:00Z",
    ])
    .success()
    .stdout_eq(str![[r#"
appended record 7: EmbargoAccepted
receipt: forewarn-data/receipts/7.tlog-proof

"#]])
    .stderr_eq(str![]);
    s.run(&[
        "ack",
        "--key",
        "keys/cert.example.key",
        "--notice",
        n_cert,
        AT,
        "2026-01-11T10:00:00Z",
    ])
    .success()
    .stdout_eq(str![[r#"
appended record 8: Acknowledged
receipt: forewarn-data/receipts/8.tlog-proof

"#]])
    .stderr_eq(str![]);

    // The agency is told early; it signs its acknowledgement elsewhere and
    // hands the file over.
    s.run(&[
        "notify",
        "--key",
        "keys/acme.example.key",
        "--case",
        case,
        "--to",
        "Agency",
        "--level",
        "exploit",
        AT,
        "2026-01-12T09:00:00Z",
    ])
    .success()
    .stdout_eq(str![[r#"
appended record 9: Notified (case [CASE])
receipt: forewarn-data/receipts/9.tlog-proof

"#]])
    .stderr_eq(str![]);
    let n_agency = "9";
    s.run(&[
        "statement",
        "sign",
        "--out",
        "ack.statement",
        "ack",
        "--key",
        "keys/agency.example.key",
        "--notice",
        n_agency,
        AT,
        "2026-01-12T11:00:00Z",
    ])
    .success()
    .stdout_eq(str![])
    .stderr_eq(str![[r#"
wrote ack.statement (hand it to the ledger's operator: forewarn append ack.statement)

"#]]);
    let statement = s.read("ack.statement");
    assert!(
        statement.starts_with("forewarn-statement@v1\n") && statement.lines().count() == 3,
        "{statement}"
    );
    let appended = s.json(&["append", "ack.statement", "--json"]);
    assert_eq!(
        appended,
        json!([{
            "case": null,
            "event": "Acknowledged",
            "file": "ack.statement",
            "receipt": "forewarn-data/receipts/10.tlog-proof",
            "record": 10,
        }])
    );

    // An unregistered customer, sealed.
    s.run(&[
        "notify",
        "--key",
        "keys/acme.example.key",
        "--case",
        case,
        "--to-class",
        "deployer",
        "--to-name",
        "Hospital",
        "--level",
        "existence",
        AT,
        "2026-01-20T09:00:00Z",
    ])
    .success()
    .stdout_eq(str![[r#"
appended record 11: Notified (case [CASE])
receipt: forewarn-data/receipts/11.tlog-proof

"#]])
    .stderr_eq(str![]);
    s.run(&[
        "fix",
        "ready",
        "--key",
        "keys/acme.example.key",
        "--case",
        case,
        AT,
        "2026-02-01T09:00:00Z",
    ])
    .success()
    .stdout_eq(str![[r#"
appended record 12: FixReady (case [CASE])
receipt: forewarn-data/receipts/12.tlog-proof

"#]])
    .stderr_eq(str![]);
    s.run(&[
        "fix",
        "released",
        "--key",
        "keys/acme.example.key",
        "--case",
        case,
        AT,
        "2026-02-05T09:00:00Z",
    ])
    .success()
    .stdout_eq(str![[r#"
appended record 13: FixReleased (case [CASE])
receipt: forewarn-data/receipts/13.tlog-proof

"#]])
    .stderr_eq(str![]);
    std::fs::write(s.dir().join("advisory.json"), b"{\"document\":{}}").unwrap();
    s.run(&[
        "disclose",
        "--key",
        "keys/acme.example.key",
        "--case",
        case,
        "--url",
        "https://acme.example/sa-1",
        "--advisory",
        "advisory.json",
        AT,
        "2026-02-09T12:00:00Z",
    ])
    .success()
    .stdout_eq(str![[r#"
appended record 14: PubliclyDisclosed (case [CASE])
receipt: forewarn-data/receipts/14.tlog-proof

"#]])
    .stderr_eq(str![]);
    // The case's summary and product, opened from the salt file.
    s.run(&[
        "reveal",
        "--key",
        "keys/acme.example.key",
        "--record",
        "4",
        AT,
        "2026-02-09T13:00:00Z",
    ])
    .success()
    .stdout_eq(str![[r#"
appended record 15: Opening
receipt: forewarn-data/receipts/15.tlog-proof
appended record 16: Opening
receipt: forewarn-data/receipts/16.tlog-proof

"#]])
    .stderr_eq(str![]);
    s.run(&[
        "annotate",
        "--key",
        "keys/cert.example.key",
        "--record",
        n_cert,
        "--text",
        "received via PGP",
        AT,
        "2026-02-10T10:00:00Z",
    ])
    .success()
    .stdout_eq(str![[r#"
appended record 17: Annotation
receipt: forewarn-data/receipts/17.tlog-proof

"#]])
    .stderr_eq(str![]);

    // Every receipt verifies offline.
    let receipt = "forewarn-data/receipts/6.tlog-proof";
    let v = s.json(&[
        "proof",
        "verify",
        "--vkey",
        "forewarn-data/log.vkey",
        "--json",
        receipt,
    ]);
    assert_eq!(v["verified"], true);
    assert_eq!(v["event"], "Notified");
    assert_eq!(v["index"], 6);
    assert_eq!(v["tree_size"], 7);
    assert_eq!(v["case"], case);
    let acme_key = v["signer"].as_str().unwrap().to_string();
    assert_eq!(acme_key.len(), 64, "{v}");
    s.learn("[ACME_KEY]", &acme_key);
    s.run(&[
        "proof",
        "verify",
        "--vkey",
        "forewarn-data/log.vkey",
        receipt,
    ])
    .success()
    .stdout_eq(str![[r#"
verified: record 6 (Notified) is in ledger.acme.example at tree size 7
claimed 2026-01-11 09:00Z · logged [LOGGED_AT] · signed by [ACME_KEY]

"#]])
    .stderr_eq(str![]);

    // The report: who knew, and when.
    let r = s.json(&["report", "case", case, "--json", "--as-of", "2026-03-01"]);
    let rows = r[0]["who_knew"].as_array().unwrap();
    let row = |name: &str| {
        rows.iter()
            .find(|w| w["name"]["clear"] == name)
            .unwrap_or_else(|| panic!("{name} missing from {rows:?}"))
    };
    assert_eq!(row("Agency")["how"], "notified");
    assert_eq!(row("Agency")["level"], "exploit");
    assert_eq!(
        row("Agency")["lead_before_public_ms"],
        (28 * 24 + 3) * 3_600_000i64
    );
    assert!(row("Agency")["acknowledged_at"].is_number());
    assert_eq!(row("CERT-X")["how"], "notified");
    assert_eq!(r[0]["summary"]["opened"], "heap overflow");
    let hospital = rows
        .iter()
        .find(|w| w["class"] == "deployer")
        .and_then(|w| w["name"]["sealed"].as_str())
        .unwrap_or_else(|| panic!("no sealed deployer in {rows:?}"));
    s.learn("[HOSPITAL]", &hospital[..12]);
    s.run(&["report", "case", case, "--as-of", "2026-03-01"])
        .success()
        .stdout_eq(file!["snapshots/workflow/report_case.txt"])
        .stderr_eq(str![]);
    let party = s.json(&["report", "party", "Agency", "--json"]);
    assert_eq!(party["cases"].as_array().unwrap().len(), 1);
    assert_eq!(party["cases"][0]["case"], case);
    s.run(&["report", "party", "Agency"])
        .success()
        .stdout_eq(str![[r#"
Agency (government, party 2), registered 2026-01-05 09:00Z
case                               how       knew at            level          before P
[CASE]   notified  2026-01-12 09:00Z  exploit          +28.1d
findings concerning this party: 2

"#]])
        .stderr_eq(str![]);

    let (_, root) = s.fingerprint();
    s.learn("[ROOT]", root.as_str().unwrap());

    // Audit: integrity ok; findings (the agency was told before the fix) → exit 1.
    let audit = s
        .run(&[
            "audit",
            "--policy",
            "cert-cc",
            "--json",
            "--as-of",
            "2026-03-01",
        ])
        .code(1)
        .stderr_eq(str![[r#"
forewarn: 20 findings (see above)

"#]]);
    let a: Value = serde_json::from_slice(&audit.get_output().stdout).unwrap();
    assert_eq!(a["integrity"], "ok");
    let kinds: Vec<&str> = a["report"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"privileged-before-fix"), "{kinds:?}");
    s.run(&["audit", "--policy", "cert-cc", "--as-of", "2026-03-01"])
        .code(1)
        .stdout_eq(file!["snapshots/workflow/audit_cert_cc.txt"])
        .stderr_eq(str![[r#"
forewarn: 20 findings (see above)

"#]]);
    // A policy with no thresholds: clean, exit 0.
    std::fs::write(s.dir().join("lenient.toml"), "name = \"lenient\"\nmax_log_delay_hours = 100000\nack_within_days = 1000\nopen_within_days = 1000\n").unwrap();
    s.run(&["audit", "--policy", "lenient.toml", "--as-of", "2026-03-01"])
        .success()
        .stdout_eq(file!["snapshots/workflow/audit_lenient.txt"])
        .stderr_eq(str![]);
    // A bad policy file is bad input.
    std::fs::write(s.dir().join("bad.toml"), "max_embargo_days = \"long\"\n").unwrap();
    s.run(&["audit", "--policy", "bad.toml"])
        .code(2)
        .stdout_eq(str![])
        .stderr_eq(str![[r#"
forewarn: bad.toml is not a valid policy: line 1, column 20: invalid type: string "…", expected u32
hint: see docs/AUDITING.md for the fields

"#]]);

    // Export; the export audits to the same verdict; tampering is caught.
    s.run(&["export", "--to", "public"])
        .success()
        .stdout_eq(str![[r#"
wrote 3 files for 18 records to public
serve that directory with any static web server; audit it with:
  forewarn audit --tiles public --vkey forewarn-data/log.vkey

"#]])
        .stderr_eq(str![]);
    let tiles = s.json(&[
        "audit",
        "--tiles",
        "public",
        "--vkey",
        "forewarn-data/log.vkey",
        "--policy",
        "lenient.toml",
        "--json",
        "--as-of",
        "2026-03-01",
    ]);
    let dir = s.json(&[
        "audit",
        "--policy",
        "lenient.toml",
        "--json",
        "--as-of",
        "2026-03-01",
    ]);
    assert_eq!(tiles["report"]["summary"], dir["report"]["summary"]);
    assert_eq!(tiles["report"]["cases"], dir["report"]["cases"]);
    s.run(&[
        "audit",
        "--tiles",
        "public",
        "--vkey",
        "forewarn-data/log.vkey",
        "--policy",
        "lenient.toml",
        "--as-of",
        "2026-03-01",
    ])
    .success()
    .stdout_eq(file!["snapshots/workflow/audit_lenient.txt"])
    .stderr_eq(str![]);
    let bundle = std::fs::read_dir(s.dir().join("public/tile/entries/000.p"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&bundle).unwrap_or_else(|e| panic!("{}: {e}", bundle.display()));
    bytes[100] ^= 1;
    std::fs::write(&bundle, &bytes).unwrap();
    s.run(&[
        "audit",
        "--tiles",
        "public",
        "--vkey",
        "forewarn-data/log.vkey",
    ])
    .code(3)
    .stdout_eq(str![])
    .stderr_eq(str![[r#"
forewarn: integrity failure in public: record 0: statement signature does not verify (Ed25519, verify_strict)
hint: the export does not match a log signed by this key; do not trust its contents

"#]]);
    // Without a pinned key, the export is not audited.
    s.run(&["audit", "--tiles", "public"])
        .code(2)
        .stdout_eq(str![])
        .stderr_eq(str![[r#"
forewarn: --tiles needs --vkey
hint: pin the log's public key: --vkey log.vkey (from the log's operator, not from the export)

"#]]);

    // Bad input is refused with a clear error and changes nothing.
    let before = s.fingerprint();
    let refused = |args: &[&str], code: i32, stderr: snapbox::data::Inline| {
        s.run(args).code(code).stdout_eq(str![]).stderr_eq(stderr);
        assert_eq!(s.fingerprint(), before, "{args:?} changed the ledger");
    };
    refused(
        &[
            "fix",
            "ready",
            "--key",
            "keys/acme.example.key",
            "--case",
            "00000000000000000000000000000000",
        ],
        1,
        str![[r#"
forewarn: the ledger refused the statement: case 00000000000000000000000000000000 was never opened
hint: nothing was written; check the case id (`forewarn report cases` lists them)

"#]],
    );
    refused(
        &[
            "notify",
            "--key",
            "keys/acme.example.key",
            "--case",
            case,
            "--to",
            "Nobody",
        ],
        2,
        str![[r#"
forewarn: no registered party is named "Nobody"
hint: list the parties with `forewarn report summary`; register one with `forewarn party register`

"#]],
    );
    refused(
        &[
            "embargo",
            "accept",
            "--key",
            "keys/bank.example.key",
            "--embargo",
            n_cert,
        ],
        1,
        str![[r#"
forewarn: the ledger refused the statement: reference 6 is not an earlier EmbargoProposed record
hint: nothing was written; check the record number (`forewarn report case ID` lists a case's records)

"#]],
    );
    refused(
        &["ack", "--key", "keys/bank.example.key", "--notice", n_cert],
        1,
        str![[r#"
forewarn: the ledger refused the statement: Acknowledged may be signed only by the notice's registered recipient
hint: nothing was written; sign Acknowledged with a key of the notice's registered recipient

"#]],
    );
    refused(
        &[
            "party",
            "register",
            "--key",
            "keys/acme.example.key",
            "--name",
            "Acme",
            "--class",
            "vendor",
        ],
        1,
        str![[r#"
forewarn: the ledger refused the statement: key [ACME_KEY] already belongs to party 0
hint: nothing was written; that key is already registered; make a new one with `forewarn keygen`

"#]],
    );
    refused(
        &[
            "fix",
            "ready",
            "--key",
            "keys/acme.example.key",
            "--case",
            case,
            AT,
            "2099-01-01",
        ],
        1,
        str![[r#"
forewarn: the ledger refused the statement: claimed time 4070908800000 is after the log time [LOG_MS] plus the 300000 ms skew
hint: nothing was written; pass an --at no later than now (UTC)

"#]],
    );
    refused(
        &[
            "fix",
            "ready",
            "--key",
            "keys/acme.example.key",
            "--case",
            "xyz",
        ],
        2,
        str![[r#"
forewarn: "xyz" is not a case id
hint: a case id is 32 hex digits, as printed by `forewarn case open` or `forewarn report cases`

"#]],
    );
    refused(
        &[
            "party",
            "register",
            "--key",
            "keys/acme.example.key",
            "--name",
            "A",
            "--class",
            "wizard",
        ],
        2,
        str![[r#"
error: invalid value 'wizard' for '--class <CLASS>'
  [possible values: vendor, finder, coordinator, government, deployer, program, other]

For more information, try '--help'.

"#]],
    );
    // A record number the ledger does not hold is never cited.
    refused(
        &["ack", "--key", "keys/cert.example.key", "--notice", "99"],
        2,
        str![[r#"
forewarn: --notice 99: the ledger has no record 99 (it holds 18 records)
hint: pass a record number as printed when it was appended (`forewarn report case ID` lists a case's records)

"#]],
    );
    // Adding a key needs the new key's secret, to prove possession.
    refused(
        &[
            "party",
            "add-key",
            "--key",
            "keys/acme.example.key",
            "--new-key",
            "keys/bank.example.vkey",
        ],
        2,
        str![[r#"
forewarn: keys/bank.example.vkey is not a signer key: malformed key: signer key does not start with PRIVATE+KEY+
hint: pass the .key file (PRIVATE+KEY+…) written by forewarn keygen, not the .vkey

"#]],
    );
    // Replaying a signed statement is refused.
    refused(
        &["append", "ack.statement"],
        1,
        str![[r#"
forewarn: the ledger refused ack.statement: replay: this statement is already record 10
hint: nothing was written; it is already in the ledger; there is nothing to do

"#]],
    );
}

#[test]
fn demo_builds_audits_and_explains() {
    let mut s = Story::new();
    let demo = s.run(&["demo"]).success().stderr_eq(str![]);
    s.learn("[LOG_VKEY]", &s.read("forewarn-demo/log.vkey"));
    // The three cases' random ids, in the order they were opened.
    let listed = s.json(&["report", "cases", "--dir", "forewarn-demo", "--json"]);
    let mut cases: Vec<(u64, String, Value)> = listed["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let c = c["case"].as_str().unwrap().to_string();
            let r = s.json(&["report", "case", &c, "--dir", "forewarn-demo", "--json"]);
            (r[0]["opened_at"].as_u64().unwrap(), c, r[0].clone())
        })
        .collect();
    cases.sort_by_key(|(opened_at, _, _)| *opened_at);
    assert_eq!(cases.len(), 3, "{listed}");
    s.learn("[CASE_ONE]", &cases[0].1);
    s.learn("[CASE_TWO]", &cases[1].1);
    s.learn("[CASE_THREE]", &cases[2].1);
    // Case 3's summary and product stay sealed.
    let third = &cases[2].2;
    s.learn(
        "[SEALED_SUMMARY]",
        &third["summary"]["sealed"].as_str().unwrap()[..12],
    );
    s.learn(
        "[SEALED_PRODUCT]",
        &third["product"]["sealed"].as_str().unwrap()[..12],
    );
    demo.with_assert(s.assert())
        .stdout_eq(file!["snapshots/workflow/demo.txt"]);

    // Its ledger audits from the command line too, and re-running replaces it.
    let audit = s
        .run(&[
            "audit",
            "--dir",
            "forewarn-demo",
            "--policy",
            "cert-cc",
            "--json",
        ])
        .code(1);
    let a: Value = serde_json::from_slice(&audit.get_output().stdout).unwrap();
    assert_eq!(a["integrity"], "ok");
    assert_eq!(a["report"]["summary"]["records"], 63);
    s.run(&["demo"]).success().stderr_eq(str![]);
    let check = s.json(&["check", "--dir", "forewarn-demo", "--json"]);
    assert_eq!(check["records"], 63);
    s.learn("[ROOT]", check["root"].as_str().unwrap());
    s.run(&["check", "--dir", "forewarn-demo"])
        .success()
        .stdout_eq(str![[r#"
consistent: 63 records, root [ROOT], matching the signed checkpoint, every stored hash and projection

"#]])
        .stderr_eq(str![]);
    // It never replaces a directory that is not a demo.
    std::fs::create_dir(s.dir().join("precious")).unwrap();
    s.run(&["demo", "--dir", "precious"])
        .code(2)
        .stdout_eq(str![[r#"
forewarn demo: who learned of each flaw, and when.

Building a ledger in precious on the embedded store. Every step below is a statement
signed by the party that took it, sequenced into an append-only Merkle log whose
checkpoints the log key signs. Nine parties: a vendor (Acme), a finder, a national
CERT, a government ministry, two members of Acme's early-warning programme, a Linux
distribution and two large customers. Three cases in 2026:
  1. a clean coordinated disclosure;
  2. an embargo extended twice, then broken by a leak;
  3. the ministry and the programme told weeks before the fix, one notice logged late.


"#]])
        .stderr_eq(str![[r#"
forewarn: precious exists and is not a forewarn demo
hint: pass another --dir, or remove it

"#]]);
    // Nor one where someone planted the demo's marker beside other files.
    std::fs::write(s.dir().join("precious/.forewarn-demo"), "planted\n").unwrap();
    std::fs::write(s.dir().join("precious/thesis.tex"), "years of work\n").unwrap();
    s.run(&["demo", "--dir", "precious"])
        .code(2)
        .stderr_eq(str![[r#"
forewarn: precious holds files a demo did not write (thesis.tex); not replacing it
hint: pass another --dir, or remove it by hand

"#]]);
    assert!(s.dir().join("precious/thesis.tex").exists());
}
