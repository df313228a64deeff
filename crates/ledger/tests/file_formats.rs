//! The statement file (docs/FORMAT.md §18) and the salt file (§19): round
//! trips, one spelling per file (`encode(parse(b)) == b` for every accepted
//! `b`), every rejection with its typed error, no secret in any message, and
//! FORMAT.md's worked examples byte for byte.

use forewarn_ledger::Record;
use forewarn_ledger::salt_file::{
    self, SaltEntry, SaltFile, SaltFileError, SaltLine, SaltLineError, statement_id,
};
use forewarn_ledger::statement::SignedStatement;
use forewarn_ledger::statement_file::{self, Line, StatementFileError};
use forewarn_ledger::testkit::golden_scenario;
use proptest::prelude::*;

const DIR: &str = env!("CARGO_MANIFEST_DIR");

fn format_md() -> String {
    std::fs::read_to_string(format!("{DIR}/../../docs/FORMAT.md")).unwrap()
}

fn golden_statements() -> Vec<SignedStatement> {
    golden_scenario()
        .records()
        .iter()
        .map(|r| {
            let r = Record::from_bytes(r).unwrap();
            SignedStatement {
                bytes: r.statement,
                signature: r.signature,
            }
        })
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

// --- statement files ----------------------------------------------------------

fn statement_file_of(statement: &str, signature: &str) -> Vec<u8> {
    format!("forewarn-statement@v1\n{statement}\n{signature}\n").into_bytes()
}

/// A valid file's second and third lines: the first golden statement
/// whose base64 ends in one padding character (its length is 2 mod 3).
fn valid_lines() -> (String, String) {
    let s = golden_statements()
        .into_iter()
        .find(|s| s.bytes.len() % 3 == 2)
        .expect("a golden statement of length 2 mod 3");
    let text = statement_file::encode(&s);
    let lines: Vec<&str> = text.lines().collect();
    (lines[1].to_string(), lines[2].to_string())
}

#[test]
fn statement_files_round_trip_for_the_golden_log() {
    for s in golden_statements() {
        let text = statement_file::encode(&s);
        assert!(text.starts_with("forewarn-statement@v1\n"));
        assert_eq!(text.lines().count(), 3);
        assert_eq!(statement_file::parse(text.as_bytes()), Ok(s.clone()));
    }
}

#[test]
fn statement_file_example_is_in_format_md() {
    let example = statement_file::encode(&golden_statements()[0]);
    let block = format!("```text\n{example}```\n");
    assert!(
        format_md().contains(&block),
        "docs/FORMAT.md §18 lacks the statement file of golden record 0:\n{block}"
    );
}

#[test]
fn statement_file_rejections() {
    use StatementFileError as E;
    let (st, sig) = valid_lines();
    assert!(st.ends_with('=') && !st.ends_with("=="), "{st}");
    let parse = |b: &[u8]| statement_file::parse(b);
    let cases: Vec<(Vec<u8>, E)> = vec![
        (Vec::new(), E::MissingLine { line: Line::Header }),
        (
            b"forewarn-statement@v1".to_vec(),
            E::MissingLineFeed { line: Line::Header },
        ),
        (
            b"forewarn-statement@v1\n".to_vec(),
            E::MissingLine {
                line: Line::Statement,
            },
        ),
        (
            format!("forewarn-statement@v1\n{st}").into_bytes(),
            E::MissingLineFeed {
                line: Line::Statement,
            },
        ),
        (
            format!("forewarn-statement@v1\n{st}\n").into_bytes(),
            E::MissingLine {
                line: Line::Signature,
            },
        ),
        (
            format!("forewarn-statement@v1\n{st}\n{sig}").into_bytes(),
            E::MissingLineFeed {
                line: Line::Signature,
            },
        ),
        (
            format!("forewarn-statement@v1\r\n{st}\r\n{sig}\r\n").into_bytes(),
            E::CarriageReturn { line: Line::Header },
        ),
        (
            format!("forewarn-statement@v1\n{st}\r\n{sig}\n").into_bytes(),
            E::CarriageReturn {
                line: Line::Statement,
            },
        ),
        (
            format!("forewarn-statement@v1\n{st}\n{sig}\r\n").into_bytes(),
            E::CarriageReturn {
                line: Line::Signature,
            },
        ),
        (
            format!("forewarn-statement@v2\n{st}\n{sig}\n").into_bytes(),
            E::BadHeader,
        ),
        (
            format!("Forewarn-statement@v1\n{st}\n{sig}\n").into_bytes(),
            E::BadHeader,
        ),
        (
            format!(" forewarn-statement@v1\n{st}\n{sig}\n").into_bytes(),
            E::BadHeader,
        ),
        (
            format!("forewarn-statement@v1 \n{st}\n{sig}\n").into_bytes(),
            E::BadHeader,
        ),
        (
            format!("\nforewarn-statement@v1\n{st}\n{sig}\n").into_bytes(),
            E::BadHeader,
        ),
        // Base64: padding dropped, a space, a line break inside, the URL-safe
        // alphabet, a stray character, non-zero unused bits.
        (
            statement_file_of(st.trim_end_matches('='), &sig),
            E::NotBase64 {
                line: Line::Statement,
            },
        ),
        (
            statement_file_of(&format!(" {st}"), &sig),
            E::NotBase64 {
                line: Line::Statement,
            },
        ),
        (
            statement_file_of(&format!("{}\n{}", &st[..41], &st[41..]), &sig),
            E::NotBase64 {
                line: Line::Statement,
            },
        ),
        (
            statement_file_of("_-__", &sig),
            E::NotBase64 {
                line: Line::Statement,
            },
        ),
        (
            statement_file_of("AAA*", &sig),
            E::NotBase64 {
                line: Line::Statement,
            },
        ),
        (
            statement_file_of("AB==", &sig),
            E::NotBase64 {
                line: Line::Statement,
            },
        ),
        (
            statement_file_of(&st, sig.trim_end_matches('=')),
            E::NotBase64 {
                line: Line::Signature,
            },
        ),
        (
            statement_file_of(&st, &sig.replace("==", "=B")),
            E::NotBase64 {
                line: Line::Signature,
            },
        ),
        (
            statement_file_of(&st, &format!("{} ", sig)),
            E::NotBase64 {
                line: Line::Signature,
            },
        ),
        // Lengths.
        (
            statement_file_of(&st, &b64(&[0; 63])),
            E::SignatureLength { len: 63 },
        ),
        (
            statement_file_of(&st, &b64(&[0; 65])),
            E::SignatureLength { len: 65 },
        ),
        (statement_file_of(&st, ""), E::SignatureLength { len: 0 }),
        (
            statement_file_of(&b64(&vec![0; 65_537]), ""),
            E::StatementTooLarge { len: 65_537 },
        ),
        (
            vec![b'a'; statement_file::MAX_FILE_BYTES + 1],
            E::TooLarge {
                len: statement_file::MAX_FILE_BYTES + 1,
            },
        ),
        // Anything after the signature line.
        (
            format!("forewarn-statement@v1\n{st}\n{sig}\n\n").into_bytes(),
            E::TrailingData {
                offset: 22 + st.len() + 1 + sig.len() + 1,
            },
        ),
        (
            format!("forewarn-statement@v1\n{st}\n{sig}\nmore\n").into_bytes(),
            E::TrailingData {
                offset: 22 + st.len() + 1 + sig.len() + 1,
            },
        ),
    ];
    for (input, want) in cases {
        let got = parse(&input);
        assert_eq!(
            got.as_ref(),
            Err(&want),
            "{:?}",
            String::from_utf8_lossy(&input[..input.len().min(200)])
        );
        let message = want.to_string();
        assert!(message.starts_with("not a signed statement file: "));
    }
    // The valid file itself parses.
    assert!(parse(&statement_file_of(&st, &sig)).is_ok());
}

fn b64(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[test]
fn statement_and_salt_files_refuse_byte_order_marks_and_nul_bytes() {
    // What an editor or a careless pipe adds: a UTF-8 byte order mark, a
    // NUL, a trailing NUL after the last line.
    let (st, sig) = valid_lines();
    let good = statement_file_of(&st, &sig);
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend_from_slice(&good);
    assert_eq!(
        statement_file::parse(&bom),
        Err(StatementFileError::BadHeader)
    );
    let nul_header = format!("forewarn-statement@v1\0\n{st}\n{sig}\n");
    assert_eq!(
        statement_file::parse(nul_header.as_bytes()),
        Err(StatementFileError::BadHeader)
    );
    let nul_line = statement_file_of(&format!("{st}\0"), &sig);
    assert_eq!(
        statement_file::parse(&nul_line),
        Err(StatementFileError::NotBase64 {
            line: Line::Statement
        })
    );
    let mut trailing = good.clone();
    trailing.push(0);
    assert_eq!(
        statement_file::parse(&trailing),
        Err(StatementFileError::TrailingData { offset: good.len() })
    );
    let id = "ab".repeat(32);
    let salt = "5e".repeat(32);
    let line = salt_line(&id, "1", &salt, "00ff");
    let bad_line = |reason| {
        Err(SaltFileError::BadLine {
            line: 1,
            offset: 0,
            reason,
        })
    };
    let with_bom = format!("\u{feff}{line}");
    assert_eq!(
        salt_file::parse(with_bom.as_bytes()),
        bad_line(SaltLineError::StatementId)
    );
    let with_nul = line.replacen(' ', "\0", 1);
    assert_eq!(
        salt_file::parse(with_nul.as_bytes()),
        bad_line(SaltLineError::FieldCount { found: 3 })
    );
    let nul_value = line.replace("00ff", "00ff\0");
    assert_eq!(
        salt_file::parse(nul_value.as_bytes()),
        bad_line(SaltLineError::Value)
    );
    let mut nul_after = line.clone().into_bytes();
    nul_after.push(0);
    assert_eq!(
        salt_file::parse(&nul_after),
        Err(SaltFileError::BadLine {
            line: 2,
            offset: line.len(),
            reason: SaltLineError::Unterminated,
        })
    );
}

#[test]
fn statement_file_errors_never_quote_the_input() {
    // A private key file passed by mistake: line 1 must not be echoed.
    let secret = "PRIVATE+KEY+example.com+1234abcd+AZsecretsecretsecretsecretsecretsecretse";
    let e = statement_file::parse(format!("{secret}\n").as_bytes()).unwrap_err();
    assert_eq!(e, StatementFileError::BadHeader);
    assert!(!e.to_string().contains("secret"), "{e}");
    assert_eq!(
        e.to_string(),
        "not a signed statement file: line 1 is not `forewarn-statement@v1`"
    );
    let e =
        statement_file::parse(format!("forewarn-statement@v1\n{secret}\n").as_bytes()).unwrap_err();
    assert!(!e.to_string().contains("secret"), "{e}");
    assert_eq!(
        e.to_string(),
        "not a signed statement file: line 2 (the statement) is not canonical base64 (RFC 4648 §4, padded, on one line)"
    );
}

proptest! {
    #[test]
    fn statement_file_round_trips(
        bytes in proptest::collection::vec(any::<u8>(), 0..3000),
        signature in proptest::array::uniform32(any::<u8>()),
        signature2 in proptest::array::uniform32(any::<u8>()),
    ) {
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&signature);
        sig[32..].copy_from_slice(&signature2);
        let s = SignedStatement { bytes, signature: sig };
        let text = statement_file::encode(&s);
        prop_assert_eq!(statement_file::parse(text.as_bytes()), Ok(s));
    }

    /// Whatever parses is re-encoded to exactly its input: arbitrary bytes,
    /// and single-byte edits of a valid file (the interesting neighbours).
    #[test]
    fn accepted_statement_files_have_one_spelling(
        noise in proptest::collection::vec(any::<u8>(), 0..300),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        edit in 0..3u8,
    ) {
        if let Ok(s) = statement_file::parse(&noise) {
            prop_assert_eq!(statement_file::encode(&s).into_bytes(), noise);
        }
        let mut file = statement_file::encode(&golden_statements()[3]).into_bytes();
        let i = at.index(file.len());
        match edit {
            0 => file[i] = byte,
            1 => file.insert(i, byte),
            _ => { file.remove(i); }
        }
        if let Ok(s) = statement_file::parse(&file) {
            prop_assert_eq!(statement_file::encode(&s).into_bytes(), file);
        }
    }
}

// --- salt files -----------------------------------------------------------------

/// The salts a signer of the golden log keeps for records 4 and 5: the
/// sealed summary (field 0, salt [1; 32]) and the sealed report hash
/// (field 1, salt [2; 32]).
fn golden_salts() -> (SignedStatement, SignedStatement, SaltEntry, SaltEntry) {
    let st = golden_statements();
    let summary = "heap overflow in the TLS parser";
    let mut value = (summary.len() as u64).to_le_bytes().to_vec();
    value.extend_from_slice(summary.as_bytes());
    (
        st[4].clone(),
        st[5].clone(),
        SaltEntry {
            field: 0,
            salt: [1; 32],
            value,
        },
        SaltEntry {
            field: 1,
            salt: [2; 32],
            value: vec![0xaa; 32],
        },
    )
}

#[test]
fn salt_file_example_is_in_format_md_and_opens_the_golden_commitments() {
    let (s4, s5, e4, e5) = golden_salts();
    // The entries really are the secrets of those statements' commitments.
    for (s, e) in [(&s4, &e4), (&s5, &e5)] {
        let st = forewarn_ledger::Statement::from_bytes(&s.bytes).unwrap();
        let sealed = st.event.sealed_fields();
        let c = sealed
            .iter()
            .find(|(f, _)| *f == e.field)
            .map(|(_, c)| *c)
            .expect("the field is sealed");
        // v2 commitments name the field and the sealing statement's signer.
        assert!(c.opens(st.event.field_tag(e.field), &st.signer, &e.salt, &e.value));
        assert!(!c.opens(
            st.event.field_tag(e.field ^ 1),
            &st.signer,
            &e.salt,
            &e.value
        ));
    }
    let mut text = salt_file::encode_entries(&s4.bytes, std::slice::from_ref(&e4));
    text.push_str(&salt_file::encode_entries(
        &s5.bytes,
        std::slice::from_ref(&e5),
    ));
    let block = format!("```text\n{text}```\n");
    assert!(
        format_md().contains(&block),
        "docs/FORMAT.md §19 lacks the salt file example:\n{block}"
    );
    let file = salt_file::parse(text.as_bytes()).unwrap();
    assert_eq!(file.entries_for(&s4.bytes), vec![e4.clone()]);
    assert_eq!(file.entries_for(&s5.bytes), vec![e5.clone()]);
    assert_eq!(file.entries_for(&golden_statements()[6].bytes), vec![]);
    assert_eq!(file.lines[0].statement, statement_id(&s4.bytes));
    assert_eq!(
        hex(&file.lines[0].statement),
        hex(&sha2::Digest::finalize(sha2::Digest::chain_update(
            sha2::Sha256::default(),
            &s4.bytes
        )))
    );
}

#[test]
fn salt_files_append_by_concatenation() {
    let (s4, s5, e4, e5) = golden_salts();
    let a = salt_file::encode_entries(&s4.bytes, &[e4.clone(), e5.clone()]);
    let b = salt_file::encode_entries(&s5.bytes, std::slice::from_ref(&e5));
    assert_eq!(salt_file::encode_entries(&s4.bytes, &[]), "");
    assert_eq!(salt_file::parse(b""), Ok(SaltFile::default()));
    let both = salt_file::parse(format!("{a}{b}").as_bytes()).unwrap();
    assert_eq!(
        both.lines,
        vec![
            SaltLine {
                statement: statement_id(&s4.bytes),
                entry: e4.clone()
            },
            SaltLine {
                statement: statement_id(&s4.bytes),
                entry: e5.clone()
            },
            SaltLine {
                statement: statement_id(&s5.bytes),
                entry: e5.clone()
            },
        ]
    );
    assert_eq!(salt_file::encode(&both), format!("{a}{b}"));
    assert_eq!(both.entries_for(&s4.bytes), vec![e4, e5.clone()]);
    assert_eq!(both.entries_for(&s5.bytes), vec![e5]);
}

/// A line with these four parts.
fn salt_line(id: &str, field: &str, salt: &str, value: &str) -> String {
    format!("{id} {field} {salt} {value}\n")
}

#[test]
fn salt_file_rejections_name_line_offset_and_rule() {
    use SaltLineError as L;
    let id = "ab".repeat(32);
    let salt = "5e".repeat(32);
    let good = salt_line(&id, "1", &salt, "00ff");
    let cases: Vec<(String, SaltLineError)> = vec![
        (good.trim_end().to_string(), L::Unterminated),
        (good.replace('\n', "\r\n"), L::CarriageReturn),
        (format!("{id} 1 {salt}\n"), L::FieldCount { found: 3 }),
        (format!("{id} 1 {salt} 00 00\n"), L::FieldCount { found: 5 }),
        (format!("{id} 1 {salt} 00ff \n"), L::FieldCount { found: 5 }),
        (format!("{id}  1 {salt} 00ff\n"), L::FieldCount { found: 5 }),
        (
            format!("{id}\t1\t{salt}\t00ff\n"),
            L::FieldCount { found: 1 },
        ),
        ("\n".to_string(), L::FieldCount { found: 1 }),
        (salt_line(&id[1..], "1", &salt, "00"), L::StatementId),
        (
            salt_line(&format!("{id}00"), "1", &salt, "00"),
            L::StatementId,
        ),
        (
            salt_line(&id.to_uppercase(), "1", &salt, "00"),
            L::StatementId,
        ),
        (
            salt_line(&id.replace("ab", "xy"), "1", &salt, "00"),
            L::StatementId,
        ),
        (salt_line(&id, "", &salt, "00"), L::FieldNumber),
        (salt_line(&id, "01", &salt, "00"), L::FieldNumber),
        (salt_line(&id, "256", &salt, "00"), L::FieldNumber),
        (salt_line(&id, "-1", &salt, "00"), L::FieldNumber),
        (salt_line(&id, "0x1", &salt, "00"), L::FieldNumber),
        (salt_line(&id, &salt, &salt, "00"), L::FieldNumber),
        (salt_line(&id, "1", &salt[2..], "00"), L::Salt),
        (salt_line(&id, "1", &salt.to_uppercase(), "00"), L::Salt),
        (salt_line(&id, "1", &salt.replace('e', "g"), "00"), L::Salt),
        (salt_line(&id, "1", &salt, "0"), L::Value),
        (salt_line(&id, "1", &salt, "00F"), L::Value),
        (salt_line(&id, "1", &salt, "00FF"), L::Value),
        (salt_line(&id, "1", &salt, "zz"), L::Value),
        (
            salt_line(&id, "1", &salt, &"00".repeat(65_537)),
            L::ValueTooLarge,
        ),
    ];
    for (line, reason) in cases {
        // The bad line is line 3, after two good ones.
        let input = format!("{good}{good}{line}");
        let got = salt_file::parse(input.as_bytes());
        let want = SaltFileError::BadLine {
            line: 3,
            offset: 2 * good.len(),
            reason,
        };
        assert_eq!(
            got.as_ref(),
            Err(&want),
            "{:?}",
            &line[..line.len().min(200)]
        );
        let message = want.to_string();
        assert!(
            message.starts_with(&format!(
                "line 3 of the salt file (from byte {}) is damaged: ",
                2 * good.len()
            )),
            "{message}"
        );
        // Never the salt, never the value.
        assert!(!message.contains("5e5e"), "{message}");
        assert!(!message.contains("00ff"), "{message}");
    }
    let too_large = vec![b'\n'; salt_file::MAX_FILE_BYTES + 1];
    assert_eq!(
        salt_file::parse(&too_large),
        Err(SaltFileError::TooLarge {
            len: salt_file::MAX_FILE_BYTES + 1
        })
    );
    // The largest value is accepted.
    let max = salt_line(&id, "255", &salt, &"07".repeat(salt_file::MAX_VALUE_BYTES));
    let parsed = salt_file::parse(max.as_bytes()).unwrap();
    assert_eq!(
        parsed.lines[0].entry.value.len(),
        salt_file::MAX_VALUE_BYTES
    );
    assert_eq!(parsed.lines[0].entry.field, 255);
    assert_eq!(salt_file::encode(&parsed), max);
    assert_eq!(
        salt_file::parse(good.as_bytes()).unwrap().lines[0].entry,
        SaltEntry {
            field: 1,
            salt: [0x5e; 32],
            value: vec![0, 0xff]
        }
    );
}

fn arb_entry() -> impl Strategy<Value = SaltEntry> {
    (
        any::<u8>(),
        proptest::array::uniform32(any::<u8>()),
        proptest::collection::vec(any::<u8>(), 0..200),
    )
        .prop_map(|(field, salt, value)| SaltEntry { field, salt, value })
}

fn arb_salt_file() -> impl Strategy<Value = SaltFile> {
    proptest::collection::vec((proptest::array::uniform32(any::<u8>()), arb_entry()), 0..8)
        .prop_map(|lines| SaltFile {
            lines: lines
                .into_iter()
                .map(|(statement, entry)| SaltLine { statement, entry })
                .collect(),
        })
}

proptest! {
    #[test]
    fn salt_files_round_trip(file in arb_salt_file()) {
        let text = salt_file::encode(&file);
        prop_assert_eq!(salt_file::parse(text.as_bytes()), Ok(file));
    }

    #[test]
    fn salt_file_entries_are_found_by_statement(
        statement in proptest::collection::vec(any::<u8>(), 0..300),
        other in proptest::collection::vec(any::<u8>(), 0..300),
        entries in proptest::collection::vec(arb_entry(), 0..5),
    ) {
        let text = salt_file::encode_entries(&statement, &entries);
        let file = salt_file::parse(text.as_bytes()).unwrap();
        prop_assert_eq!(file.lines.len(), entries.len());
        prop_assert_eq!(file.entries_for(&statement), entries.clone());
        if other != statement {
            prop_assert_eq!(file.entries_for(&other), vec![]);
        }
    }

    /// Whatever parses is re-encoded to exactly its input.
    #[test]
    fn accepted_salt_files_have_one_spelling(
        file in arb_salt_file(),
        noise in proptest::collection::vec(any::<u8>(), 0..300),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        edit in 0..3u8,
    ) {
        if let Ok(f) = salt_file::parse(&noise) {
            prop_assert_eq!(salt_file::encode(&f).into_bytes(), noise);
        }
        let mut bytes = salt_file::encode(&file).into_bytes();
        if !bytes.is_empty() {
            let i = at.index(bytes.len());
            match edit {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => { bytes.remove(i); }
            }
        }
        if let Ok(f) = salt_file::parse(&bytes) {
            prop_assert_eq!(salt_file::encode(&f).into_bytes(), bytes);
        }
    }
}
