//! `forewarn init`: a new ledger directory, its database and its log key.

use std::path::Path;

use forewarn_tlog::note;
use zeroize::Zeroizing;

use crate::cli::ledger::store_failure;
use crate::cli::output::outln;
use crate::cli::{Failure, Outcome};

/// Creates the ledger in `dir` for the log named `origin`; prints the vkey.
pub fn run(origin: &str, dir: &Path) -> Outcome {
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut()).map_err(Failure::no_randomness)?;
    if !note::is_valid_key_name(origin) {
        return Err(Failure::input(
            format!("{origin:?} is not a valid log name"),
            "use a schema-less URL such as ledger.example.com, without spaces or '+'",
        ));
    }
    let store =
        forewarn_store::Store::init(dir, origin, &seed, forewarn_store::StoreConfig::default())
            .map_err(store_failure)?;
    eprintln!(
        "created a ledger in {} (log key: {}, mode 0600)",
        dir.display(),
        dir.join(forewarn_store::KEY_FILE).display()
    );
    eprintln!(
        "next: make a party key with `forewarn keygen --name you.example --out keys` and register it with `forewarn party register`"
    );
    outln!("{}", store.vkey());
    store.close_at_exit().map_err(store_failure)
}
