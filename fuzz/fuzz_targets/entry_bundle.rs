//! Entry bundles and tile paths.
#![no_main]
use forewarn_tlog::tile::{Tile, encode_entry_bundle, parse_entry_bundle};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let count = data.first().map_or(0, |b| usize::from(*b));
    let rest = data.get(1..).unwrap_or_default();
    if let Ok(entries) = parse_entry_bundle(rest, count) {
        assert_eq!(encode_entry_bundle(&entries).unwrap(), rest);
    }
    if let Ok(path) = std::str::from_utf8(data) {
        if let Ok(t) = Tile::parse_path(path) {
            assert_eq!(t.path(), path);
        }
    }
});
