//! Statements: decoding never panics; what decodes re-encodes to the same
//! bytes; event helpers (sealed fields, case, names) never panic.
#![no_main]
use forewarn_ledger::Statement;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = Statement::from_bytes(data) {
        assert_eq!(s.to_bytes().unwrap(), data, "decode∘encode must be the identity");
        let _ = (s.event.sealed_fields(), s.event.case(), s.event.name());
    }
});
