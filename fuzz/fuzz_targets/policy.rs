//! Witness policies: parse never panics; canonical text re-parses to the same policy.
#![no_main]
use forewarn_tlog::policy::Policy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(p) = Policy::parse(text) {
            assert_eq!(Policy::parse(&p.to_text()).unwrap(), p);
        }
    }
});
