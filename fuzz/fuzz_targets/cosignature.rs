//! Cosignature payloads and cosigned notes.
#![no_main]
use forewarn_tlog::cosignature::Cosignature;
use forewarn_tlog::note::{self, SignatureType, SignerKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = Cosignature::from_payload(data) {
        assert_eq!(&c.to_payload()[..], data);
    }
    let w = SignerKey::from_seed("fuzz.example/w", SignatureType::CosignatureV1, &[2; 32]).unwrap();
    let _ = note::open(data, &[w.verifier()]);
});
