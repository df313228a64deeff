//! Signed notes: parse never panics; what parses formats back to the same bytes.
#![no_main]
use forewarn_tlog::note::{self, Note, SignatureType, SignerKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(n) = Note::parse(data) {
        assert_eq!(n.to_bytes(), data, "parse∘format must be the identity");
    }
    let key = SignerKey::from_seed("fuzz.example/log", SignatureType::Ed25519, &[1; 32]).unwrap();
    let _ = note::open(data, &[key.verifier()]);
});
