//! What the store's test suites share: the log's name, a store
//! configuration with a fixed clock, a directory copy, and the seal of a
//! projection value as the holder of the tests' log key makes it.

// Each suite compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use forewarn_ledger::testkit::START;
use forewarn_store::StoreConfig;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The origin of every test log.
pub const ORIGIN: &str = "example.org/ledger";

/// The default configuration with the log's clock fixed a little after
/// the testkit's [`START`], so every statement claimed at `START` is in the
/// past and none is logged late.
pub fn config() -> StoreConfig {
    StoreConfig {
        clock: Arc::new(|| START + 1_000_000),
        ..StoreConfig::default()
    }
}

/// Copies a directory tree (a store, to restore or damage the copy).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// The projection MAC key of a store whose log key seed is `[7; 32]`
/// (docs/FORMAT.md §20, "Seal").
fn mac_key() -> Vec<u8> {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(&[7; 32]).unwrap();
    m.update(b"forewarn/projection-mac/v1");
    m.finalize().into_bytes().to_vec()
}

/// A projection value sealed as the log key's holder would:
/// payload ‖ HMAC-SHA256(mac key, len(key) ‖ key ‖ payload)[..16].
pub fn sealed(key: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(&mac_key()).unwrap();
    m.update(&(key.len() as u32).to_be_bytes());
    m.update(key);
    m.update(payload);
    let tag = m.finalize().into_bytes();
    let mut v = payload.to_vec();
    v.extend_from_slice(&tag[..16]);
    v
}
