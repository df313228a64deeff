//! The audit of a tile export (`export::audit_tiles`) on a log longer than
//! one chunk of the audit (128 bundles, 32,768 records): the same state as
//! a direct replay, and the first failure in the documented order (a
//! record, then the checkpoint, then the hash tiles level by level) when
//! files on both sides of a chunk boundary are damaged.

use std::path::Path;
use std::sync::OnceLock;

use forewarn_ledger::auditor::{AuditConfig, Auditor};
use forewarn_ledger::statement::leaf_hash;
use forewarn_ledger::testkit::{ORIGIN, RealisticLog};
use forewarn_store::export::{ExportAuditError, audit_tiles};
use forewarn_tlog::checkpoint::Checkpoint;
use forewarn_tlog::note::{SignatureType, SignerKey};
use forewarn_tlog::tile::{
    TILE_WIDTH, Tile, TileKind, encode_entry_bundle, new_entry_bundles, read_tile_data,
    tiles_for_size,
};
use forewarn_tlog::tree::InMemoryTree;

/// Records of the log: a little more than one chunk, so the audit hands
/// the auditor two chunks.
const RECORDS: u64 = 33_000;

/// The generated log's records, made once for every test here.
fn records() -> &'static [Vec<u8>] {
    static RECORDS_OF_LOG: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    RECORDS_OF_LOG.get_or_init(|| {
        let mut log = RealisticLog::new(13, 24, false);
        log.grow_to(RECORDS);
        log.scenario.records().to_vec()
    })
}

/// The log's size (the generator finishes its cases, so a little more
/// than [`RECORDS`]).
fn size() -> u64 {
    records().len() as u64
}

fn log_key() -> SignerKey {
    SignerKey::from_seed(ORIGIN, SignatureType::Ed25519, &[7; 32]).unwrap()
}

/// Writes `records` as an export: entry bundles, hash tiles and a
/// checkpoint signed by [`log_key`], as `Store::export_tiles` lays them out.
fn write_export(dir: &Path, records: &[Vec<u8>]) {
    let size = records.len() as u64;
    let mut tree = InMemoryTree::new();
    for r in records {
        tree.append(leaf_hash(r));
    }
    let write = |tile: &Tile, data: &[u8]| {
        let path = dir.join(tile.path());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    };
    for tile in tiles_for_size(size) {
        if let TileKind::Hashes { .. } = tile.kind {
            write(&tile, &read_tile_data(tile, &tree).unwrap());
        }
    }
    for bundle in new_entry_bundles(0, size) {
        let start = (bundle.index * TILE_WIDTH) as usize;
        let entries = &records[start..start + usize::from(bundle.width)];
        write(&bundle, &encode_entry_bundle(entries).unwrap());
    }
    let note = Checkpoint::new(ORIGIN, size, tree.root())
        .unwrap()
        .sign(&log_key());
    std::fs::write(dir.join("checkpoint"), note.to_bytes()).unwrap();
}

fn export() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_export(dir.path(), records());
    dir
}

fn audit(dir: &Path) -> Result<Auditor, ExportAuditError> {
    audit_tiles(
        dir,
        &log_key().verifier(),
        AuditConfig::default(),
        &|_, _| {},
    )
}

/// Flips one bit in the middle of a file of the export.
fn flip(dir: &Path, rel: &str) {
    let p = dir.join(rel);
    let mut bytes = std::fs::read(&p).unwrap();
    let i = bytes.len() / 2;
    bytes[i] ^= 1;
    std::fs::write(&p, bytes).unwrap();
}

/// The path of entry bundle `n` of the log (the last one is partial).
fn bundle(n: u64) -> String {
    new_entry_bundles(0, size())
        .into_iter()
        .find(|b| b.index == n)
        .unwrap()
        .path()
}

/// Changes one byte inside record `index` of its bundle file, leaving the
/// bundle well formed (the lengths are untouched).
fn damage_record(dir: &Path, index: u64) {
    let p = dir.join(bundle(index / TILE_WIDTH));
    let mut bytes = std::fs::read(&p).unwrap();
    let mut at = 0;
    for _ in 0..index % TILE_WIDTH {
        at += 2 + usize::from(u16::from_be_bytes([bytes[at], bytes[at + 1]]));
    }
    let len = usize::from(u16::from_be_bytes([bytes[at], bytes[at + 1]]));
    bytes[at + 2 + len / 2] ^= 0x40;
    std::fs::write(&p, bytes).unwrap();
}

/// Cuts the last byte off a file: a bundle so cut is malformed.
fn truncate(dir: &Path, rel: &str) {
    let p = dir.join(rel);
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() - 1]).unwrap();
}

#[test]
fn an_export_longer_than_a_chunk_audits_to_the_direct_replay() {
    let dir = export();
    let audited = audit(dir.path()).expect("the export is sound");
    let mut direct = Auditor::new(AuditConfig {
        origin: Some(ORIGIN.into()),
        ..AuditConfig::default()
    });
    for r in records() {
        direct.push(r).unwrap();
    }
    assert_eq!(audited.size(), size());
    assert!(audited.size() > 128 * TILE_WIDTH, "more than one chunk");
    assert_eq!(audited.root(), direct.root());
    let (mut a, b) = (audited.state().clone(), direct.state().clone());
    a.checkpoint = None;
    assert!(a == b, "the export audits to the state of a direct replay");
}

#[test]
fn a_bad_record_in_the_first_chunk_comes_before_a_bad_bundle_in_the_second() {
    let dir = export();
    damage_record(dir.path(), 3 * TILE_WIDTH + 17);
    truncate(dir.path(), &bundle(128));
    flip(dir.path(), "tile/0/000");
    match audit(dir.path()) {
        Err(ExportAuditError::Integrity(f)) => assert_eq!(f.index, 3 * TILE_WIDTH + 17),
        other => panic!("expected the damaged record, got {other:?}"),
    }
    // Within one chunk too: the bundles read before a bad one are audited
    // before the bad one is reported.
    let dir = export();
    damage_record(dir.path(), 3 * TILE_WIDTH + 17);
    truncate(dir.path(), "tile/entries/005");
    match audit(dir.path()) {
        Err(ExportAuditError::Integrity(f)) => assert_eq!(f.index, 3 * TILE_WIDTH + 17),
        other => panic!("expected the damaged record, got {other:?}"),
    }
}

#[test]
fn a_bad_bundle_in_the_first_chunk_comes_before_a_bad_record_after_it() {
    let dir = export();
    truncate(dir.path(), "tile/entries/005");
    damage_record(dir.path(), 128 * TILE_WIDTH + 1);
    match audit(dir.path()) {
        Err(ExportAuditError::Malformed { path, .. }) => assert_eq!(path, "tile/entries/005"),
        other => panic!("expected the malformed bundle, got {other:?}"),
    }
    // A missing bundle file is reported as such, at its place.
    let dir = export();
    std::fs::remove_file(dir.path().join("tile/entries/127")).unwrap();
    damage_record(dir.path(), 128 * TILE_WIDTH);
    match audit(dir.path()) {
        Err(ExportAuditError::Io(p, _)) => assert!(p.ends_with("tile/entries/127")),
        other => panic!("expected the missing bundle, got {other:?}"),
    }
}

#[test]
fn a_bad_record_in_the_second_chunk_is_found() {
    let dir = export();
    let index = size() - 5;
    damage_record(dir.path(), index);
    match audit(dir.path()) {
        Err(ExportAuditError::Integrity(f)) => assert_eq!(f.index, index),
        other => panic!("expected the damaged record, got {other:?}"),
    }
}

#[test]
fn hash_tiles_are_reported_after_the_checkpoint_level_by_level() {
    // A tampered level-1 tile, then also the last level-0 tile: the
    // level-0 tile is the one reported (`tiles_for_size` order). (The
    // order among tiles completed at different times is tested with more
    // levels in the crate's unit tests.)
    let dir = export();
    let last0 = tiles_for_size(size())
        .into_iter()
        .rfind(|t| t.kind == (TileKind::Hashes { level: 0 }))
        .unwrap();
    let level1 = tiles_for_size(size())
        .into_iter()
        .find(|t| t.kind == (TileKind::Hashes { level: 1 }))
        .unwrap();
    flip(dir.path(), &level1.path());
    match audit(dir.path()) {
        Err(ExportAuditError::TileMismatch { path }) => assert_eq!(path, level1.path()),
        other => panic!("expected the level-1 tile, got {other:?}"),
    }
    flip(dir.path(), &last0.path());
    match audit(dir.path()) {
        Err(ExportAuditError::TileMismatch { path }) => assert_eq!(path, last0.path()),
        other => panic!("expected the last level-0 tile, got {other:?}"),
    }
    // A missing hash tile is an I/O failure of that file.
    std::fs::remove_file(dir.path().join("tile/0/100")).unwrap();
    match audit(dir.path()) {
        Err(ExportAuditError::Io(p, _)) => assert!(p.ends_with("tile/0/100")),
        other => panic!("expected the missing tile, got {other:?}"),
    }
    // The checkpoint comes before every tile.
    flip(dir.path(), "checkpoint");
    assert!(
        matches!(audit(dir.path()), Err(ExportAuditError::Checkpoint(_))),
        "the damaged checkpoint is reported first"
    );
}
