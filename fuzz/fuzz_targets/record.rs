//! Ledger records: decoding never panics; what decodes re-encodes to the
//! same bytes, and so does its statement.
#![no_main]
use forewarn_ledger::{Record, Statement};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = Record::from_bytes(data) {
        assert_eq!(r.to_bytes().unwrap(), data, "decode∘encode must be the identity");
        if let Ok(s) = Statement::from_bytes(&r.statement) {
            assert_eq!(s.to_bytes().unwrap(), r.statement);
        }
    }
});
