//! Running the binary from the plain (non-golden) test suites.

// Each suite compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs `forewarn ARGS` in `dir`.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_forewarn"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run forewarn")
}

/// Runs `forewarn ARGS` in `dir`, which must succeed; returns its stdout.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "forewarn {args:?} failed ({:?}):\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The arguments of `forewarn party register` for a vendor named `name`
/// with the key file `key`.
pub fn register_vendor<'a>(key: &'a str, name: &'a str) -> [&'a str; 8] {
    [
        "party", "register", "--key", key, "--name", name, "--class", "vendor",
    ]
}
