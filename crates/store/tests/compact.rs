//! Compaction: the copy holds exactly the old database's values, the store
//! still checks clean and takes new records, what a killed compaction
//! leaves is removed, and a compaction never runs beside another handle.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::{ORIGIN, copy_dir};
use forewarn_ledger::statement::{Record, SignedStatement};
use forewarn_ledger::testkit::{RealisticLog, START};
use forewarn_store::{Store, StoreConfig, StoreError, compact, compact_in_steps};

/// A key and its value.
type Pair = (Vec<u8>, Vec<u8>);

/// Every tree's name and values, in order.
fn values(db: &Path) -> Vec<(Vec<u8>, Vec<Pair>)> {
    let db = sled::Config::new().path(db).open().unwrap();
    let mut out = Vec::new();
    for name in db.tree_names() {
        let tree = db.open_tree(&name).unwrap();
        let kvs = tree
            .iter()
            .map(|kv| {
                let (k, v) = kv.unwrap();
                (k.to_vec(), v.to_vec())
            })
            .collect();
        out.push((name.to_vec(), kvs));
    }
    out
}

fn config(t: &Arc<AtomicU64>) -> StoreConfig {
    let t = t.clone();
    StoreConfig {
        clock: Arc::new(move || t.load(Ordering::SeqCst)),
        ..StoreConfig::default()
    }
}

/// A closed store holding a realistic log appended one statement per
/// commit (so sled holds many superseded versions), and the log.
fn store_with_history(records: u64) -> (tempfile::TempDir, Arc<AtomicU64>, RealisticLog) {
    let dir = tempfile::tempdir().unwrap();
    let t = Arc::new(AtomicU64::new(START + 1_000_000));
    let mut store = Store::init(dir.path(), ORIGIN, &[7; 32], config(&t)).unwrap();
    let mut log = RealisticLog::new(11, 8, true);
    log.grow_to(records);
    for r in log.scenario.records() {
        let rec = Record::from_bytes(r).unwrap();
        t.store(rec.logged_at, Ordering::SeqCst);
        let st = SignedStatement {
            bytes: rec.statement,
            signature: rec.signature,
        };
        store.append(&[st]).unwrap().remove(0).unwrap();
    }
    store.close().unwrap();
    (dir, t, log)
}

/// Waits until no handle holds the database at `dir` (sled releases its
/// lock a moment after the last handle is dropped).
fn until_free(dir: &Path) {
    let db = dir.join("db");
    for _ in 0..1000 {
        if !forewarn_store::lock_held(&db).unwrap() {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    panic!("the database stayed locked");
}

#[test]
fn a_compacted_store_holds_the_same_values_checks_clean_and_grows_on() {
    compacts_cleanly(|dir| compact(dir, Duration::from_secs(5), None).unwrap());
}

/// The same through many sled batches and reopenings of the copy (each
/// step a few values), so that values straddle every boundary.
#[test]
fn a_copy_written_in_many_batches_and_reopened_between_is_the_same() {
    compacts_cleanly(|dir| {
        compact_in_steps(dir, Duration::from_secs(5), None, 4 << 10, 16 << 10).unwrap()
    });
}

/// Compacts a store with history by `compact`, then checks that the copy
/// holds the same values, checks clean and takes new records.
fn compacts_cleanly(compact: impl FnOnce(&Path) -> forewarn_store::Compacted) {
    let (dir, t, log) = store_with_history(600);
    let before = values(&dir.path().join("db"));
    until_free(dir.path());
    let (size, root) = {
        let s = Store::open(dir.path(), config(&t)).unwrap();
        let c = s.check().unwrap();
        s.close().unwrap();
        (c.size, c.root)
    };
    let done = compact(dir.path());
    assert!(
        done.bytes_after < done.bytes_before,
        "one commit per record leaves superseded versions to drop: {done:?}"
    );
    assert_eq!(
        done.values,
        before.iter().map(|t| t.1.len() as u64).sum::<u64>()
    );
    assert_eq!(values(&dir.path().join("db")), before, "byte for byte");
    // Nothing is left beside the database.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.starts_with("db.compacting")),
        "{names:?}"
    );

    until_free(dir.path());
    let mut s = Store::open(dir.path(), config(&t)).unwrap();
    let c = s.check().unwrap();
    assert_eq!((c.size, c.root), (size, root));
    // It takes new records: the next statements of the same log.
    let mut log = log;
    log.grow_to(650);
    for r in &log.scenario.records()[size as usize..] {
        let rec = Record::from_bytes(r).unwrap();
        t.store(rec.logged_at, Ordering::SeqCst);
        let st = SignedStatement {
            bytes: rec.statement,
            signature: rec.signature,
        };
        s.append(&[st]).unwrap().remove(0).unwrap();
    }
    let c = s.check().unwrap();
    assert_eq!(c.size, log.scenario.records().len() as u64);
    s.close().unwrap();
}

#[test]
fn what_a_killed_compaction_left_is_removed_by_the_next_open() {
    let (dir, t, _) = store_with_history(100);
    until_free(dir.path());
    // Killed while copying: a partial copy. Killed after the exchange: the
    // old database under the temporary name. Either way `db` is whole.
    let partial = dir.path().join("db.compacting-1-2");
    std::fs::create_dir(&partial).unwrap();
    std::fs::write(partial.join("db"), b"half a copy").unwrap();
    let old = dir.path().join("db.compacting-3-4");
    copy_dir(&dir.path().join("db"), &old);
    // Names that only look alike are not ours to remove, and a file of
    // our name neither stops the open nor is removed.
    let other = dir.path().join("db.compacting");
    std::fs::create_dir(&other).unwrap();
    let user = dir.path().join("db.compacting-mine");
    std::fs::create_dir(&user).unwrap();
    let file = dir.path().join("db.compacting-5-6");
    std::fs::write(&file, b"not a directory").unwrap();

    let s = Store::open(dir.path(), config(&t)).unwrap();
    s.check().unwrap();
    s.close().unwrap();
    assert!(!partial.exists());
    assert!(!old.exists());
    assert!(other.exists());
    assert!(user.exists());
    assert!(file.exists());
}

#[test]
fn compaction_waits_for_another_handle_and_gives_up_cleanly() {
    let (dir, t, _) = store_with_history(50);
    until_free(dir.path());
    let before = values(&dir.path().join("db"));
    until_free(dir.path());
    let s = Store::open(dir.path(), config(&t)).unwrap();
    let e = compact(dir.path(), Duration::from_millis(200), None).unwrap_err();
    assert!(matches!(e, StoreError::InUse { .. }), "{e}");
    s.close().unwrap();
    until_free(dir.path());
    assert_eq!(values(&dir.path().join("db")), before);
    assert!(
        std::fs::read_dir(dir.path()).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("db."))
    );
}

#[test]
fn only_a_store_is_compacted() {
    let dir = tempfile::tempdir().unwrap();
    let e = compact(dir.path(), Duration::from_secs(1), None).unwrap_err();
    assert!(matches!(e, StoreError::NotAStore(_)), "{e}");

    // A sled database that is not a forewarn store: refused, unchanged.
    let db = sled::Config::new()
        .path(dir.path().join("db"))
        .open()
        .unwrap();
    db.insert(b"k", b"v".as_slice()).unwrap();
    db.flush().unwrap();
    drop(db);
    until_free(dir.path());
    let e = compact(dir.path(), Duration::from_secs(1), None).unwrap_err();
    assert!(e.is_corruption(), "{e}");
    until_free(dir.path());
    assert_eq!(
        values(&dir.path().join("db")),
        vec![(
            b"__sled__default".to_vec(),
            vec![(b"k".to_vec(), b"v".to_vec())]
        )]
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}
