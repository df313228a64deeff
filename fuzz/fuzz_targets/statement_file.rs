//! Signed-statement files (docs/FORMAT.md §18): parsing never panics, and
//! every accepted file is the encoding of what it parsed to (one spelling).
#![no_main]
use forewarn_ledger::statement_file;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = statement_file::parse(data) {
        assert_eq!(
            statement_file::encode(&s).as_bytes(),
            data,
            "parse∘encode must be the identity"
        );
    }
});
