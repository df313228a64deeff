//! What the store's test suites share: the log's name and a store
//! configuration with a fixed clock.

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
