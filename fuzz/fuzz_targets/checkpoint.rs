//! Checkpoints: strict parse never panics and round-trips.
#![no_main]
use forewarn_tlog::checkpoint::{Checkpoint, SignedCheckpoint};
use forewarn_tlog::note::{SignatureType, SignerKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(c) = Checkpoint::parse(text) {
            assert_eq!(c.to_text(), text);
        }
    }
    let key = SignerKey::from_seed("fuzz.example/log", SignatureType::Ed25519, &[1; 32]).unwrap();
    let _ = SignedCheckpoint::open(data, &key.verifier(), None, &[]);
});
