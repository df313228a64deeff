//! What the store's test suites share: the log's name, a store
//! configuration with a fixed clock, and a directory copy.

// Each suite compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use forewarn_ledger::testkit::START;
use forewarn_store::StoreConfig;

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
