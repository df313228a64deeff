//! tlog-proof files: parse never panics and round-trips; verify never panics.
#![no_main]
use forewarn_tlog::note::{SignatureType, SignerKey};
use forewarn_tlog::proof::TlogProof;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = TlogProof::parse(data) {
        assert_eq!(TlogProof::parse(&p.to_bytes()).unwrap(), p);
        let key = SignerKey::from_seed("fuzz.example/log", SignatureType::Ed25519, &[1; 32]).unwrap();
        let _ = p.verify(b"entry", &key.verifier(), None);
    }
});
