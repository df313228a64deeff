//! Salt files (docs/FORMAT.md §19): parsing never panics, every accepted
//! file is the encoding of what it parsed to (one spelling), and its
//! entries, keyed to a statement, are found again by that statement.
#![no_main]
use forewarn_ledger::salt_file;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(file) = salt_file::parse(data) {
        assert_eq!(
            salt_file::encode(&file).as_bytes(),
            data,
            "parse∘encode must be the identity"
        );
        // Keyed to a statement whose bytes are the input itself (same
        // length: every statement id is 64 hex digits).
        let entries: Vec<_> = file.lines.iter().map(|l| l.entry.clone()).collect();
        let rekeyed = salt_file::parse(salt_file::encode_entries(data, &entries).as_bytes())
            .expect("encoded lines parse");
        assert_eq!(rekeyed.entries_for(data), entries);
    }
});
