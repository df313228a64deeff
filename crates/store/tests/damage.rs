//! Damage the store cannot prevent but must report: sled's own files
//! truncated or garbled (no panic, a corruption error, never an earlier
//! state served in silence). Edited projections are in `attacks.rs`.

use std::path::Path;

use forewarn_ledger::testkit::registration;
use forewarn_store::{Corruption, Store, StoreError};

mod common;
use common::{ORIGIN, config, copy_dir};

/// A closed store of `n` registrations (one named "Acme Corp").
fn closed_store(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::init(dir.path(), ORIGIN, &[7; 32], config()).unwrap();
    let mut batch = vec![registration("Acme Corp")];
    batch.extend((1..n).map(|i| registration(&format!("party {i}"))));
    for chunk in batch.chunks(100) {
        assert!(store.append(chunk).unwrap().iter().all(Result::is_ok));
    }
    store.close().unwrap();
    dir
}

/// A store in `dir` holding 2,000 registrations, appended in 40 commits of
/// 50 (enough for sled to write several log segments), still open.
fn two_thousand_records(dir: &Path) -> Store {
    let mut store = Store::init(dir, ORIGIN, &[7; 32], config()).unwrap();
    for c in 0..40 {
        let batch: Vec<_> = (0..50)
            .map(|i| registration(&format!("p{c}-{i}")))
            .collect();
        assert!(store.append(&batch).unwrap().iter().all(Result::is_ok));
    }
    store
}

/// sled's files of a closed store, with sled's own snapshot file written
/// (sled writes one when a handle that wrote is dropped; large stores have
/// one anyway).
fn closed_store_with_sled_snapshot() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let store = two_thousand_records(dir.path());
    store.close().unwrap();
    let db = forewarn_store::open_db(&dir.path().join("db")).unwrap();
    let origin = db.get(b"m:origin").unwrap().unwrap();
    for _ in 0..200 {
        db.insert(b"m:origin", origin.clone()).unwrap();
    }
    db.flush().unwrap();
    drop(db);
    wait_released(dir.path());
    dir
}

/// Waits until the dropped handles on `dir`'s database have stopped (sled
/// releases its lock when its threads have), so its files are final.
fn wait_released(dir: &Path) {
    let start = std::time::Instant::now();
    while forewarn_store::lock_held(&dir.join("db")).unwrap() {
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

fn sled_file(dir: &Path, prefix: &str) -> std::path::PathBuf {
    std::fs::read_dir(dir.join("db"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .unwrap_or_else(|| panic!("sled wrote no {prefix} file"))
}

#[test]
fn damaged_database_files_are_corruption_not_a_panic() {
    let pristine = closed_store_with_sled_snapshot();
    let len = std::fs::metadata(pristine.path().join("db").join("db"))
        .unwrap()
        .len();
    assert!(len > 1 << 20, "sled wrote its log ({len} bytes)");
    type Damage = Box<dyn Fn(&Path)>;
    let truncate = |prefix: &'static str, at: u64| -> Damage {
        Box::new(move |dir: &Path| {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(sled_file(dir, prefix))
                .unwrap();
            f.set_len(at).unwrap();
        })
    };
    let garble = |prefix: &'static str, from: usize, every: usize| -> Damage {
        Box::new(move |dir: &Path| {
            let p = sled_file(dir, prefix);
            let mut bytes = std::fs::read(&p).unwrap();
            for i in (from..bytes.len()).step_by(every) {
                bytes[i] ^= 0x5a;
            }
            std::fs::write(&p, bytes).unwrap();
        })
    };
    // (what, damage, whether it must be refused). Where sled may take a cut
    // or garbled tail for a torn last write, it recovers an earlier state:
    // one older than the high-water mark is refused as rolled back, and
    // one that opens must hold every record and check clean.
    let cases: Vec<(&str, Damage, bool)> = vec![
        ("db truncated to nothing", truncate("db", 0), true),
        ("db truncated to a quarter", truncate("db", len / 4), true),
        ("db truncated to half", truncate("db", len / 2), true),
        ("db cut by one byte", truncate("db", len - 1), false),
        ("db garbled throughout", garble("db", 0, 97), true),
        ("conf garbled", garble("conf", 0, 3), true),
        ("conf truncated", truncate("conf", 10), true),
        ("sled snapshot truncated", truncate("snap.", 16), true),
        ("sled snapshot garbled", garble("snap.", 8, 1), true),
    ];
    for (what, damage, must_refuse) in cases {
        let work = tempfile::tempdir().unwrap();
        copy_dir(pristine.path(), work.path());
        damage(work.path());
        let opened = std::panic::catch_unwind(|| Store::open(work.path(), config()))
            .unwrap_or_else(|_| panic!("{what}: opening panicked"));
        match opened {
            Err(e) => assert!(
                e.is_corruption(),
                "{what}: {e} is not reported as corruption"
            ),
            Ok(store) => {
                assert!(!must_refuse, "{what}: a damaged store opened");
                assert_eq!(store.size(), 2000, "{what}: opened with records lost");
                store.check().unwrap_or_else(|e| panic!("{what}: {e}"));
            }
        }
    }
}

/// A process killed while sled writes its snapshot leaves
/// `snap.<LSN>.generating` behind, a prefix of a snapshot with no valid
/// checksum. sled 0.34.7 takes that file for its newest snapshot and
/// refuses the database as corrupt for good (its issue #1527); the store
/// removes it before opening, and the store opens whole. The name sled
/// gives it (a higher LSN: its log had advanced) is tried, and the same
/// LSN as the finished snapshot, which sorts after it too.
#[test]
fn an_unfinished_sled_snapshot_does_not_make_the_store_unopenable() {
    let pristine = closed_store_with_sled_snapshot();
    let finished = sled_file(pristine.path(), "snap.");
    let name = finished.file_name().unwrap().to_str().unwrap().to_string();
    let snapshot = std::fs::read(&finished).unwrap();
    for unfinished in [
        format!("{name}.generating"),
        "snap.7FFFFFFFFFFFFFFF.generating".into(),
    ] {
        let work = tempfile::tempdir().unwrap();
        copy_dir(pristine.path(), work.path());
        let planted = work.path().join("db").join(&unfinished);
        std::fs::write(&planted, &snapshot[..snapshot.len() / 2]).unwrap();
        // Without the store's repair, sled itself refuses these files.
        let raw = sled::Config::new().path(work.path().join("db")).open();
        assert!(
            matches!(raw, Err(sled::Error::Corruption { .. })),
            "{unfinished}: sled opened its files: the repair would be untested"
        );
        drop(raw);
        wait_released(work.path());
        let store = Store::open(work.path(), config())
            .unwrap_or_else(|e| panic!("{unfinished}: the store does not open: {e}"));
        assert_eq!(store.size(), 2000, "{unfinished}: records lost");
        store
            .check()
            .unwrap_or_else(|e| panic!("{unfinished}: {e}"));
        assert!(!planted.exists(), "{unfinished} is still there");
    }
}

/// A complete snapshot sled wrote and fsynced but did not rename (killed
/// between the two, or a power loss that kept the file and lost the
/// rename) is finished as sled would have finished it, not removed: sled's
/// recovery after it may already have zeroed the torn tail of its log.
/// Beside a finished file of the same name it is a leftover, and removed.
#[test]
fn a_complete_unrenamed_snapshot_is_finished_not_removed() {
    let pristine = closed_store_with_sled_snapshot();
    let finished = sled_file(pristine.path(), "snap.");
    let name = finished.file_name().unwrap().to_str().unwrap().to_string();
    let snapshot = std::fs::read(&finished).unwrap();
    let work = tempfile::tempdir().unwrap();
    copy_dir(pristine.path(), work.path());
    let db = work.path().join("db");
    std::fs::rename(db.join(&name), db.join(format!("{name}.generating"))).unwrap();
    let store = Store::open(work.path(), config()).unwrap();
    assert_eq!(
        std::fs::read(db.join(&name)).unwrap(),
        snapshot,
        "renamed back"
    );
    assert!(!db.join(format!("{name}.generating")).exists());
    assert_eq!(store.size(), 2000);
    store.check().unwrap();
    drop(store);
    // Both: the unfinished copy goes, the finished one stays.
    let work = tempfile::tempdir().unwrap();
    copy_dir(pristine.path(), work.path());
    let db = work.path().join("db");
    std::fs::write(db.join(format!("{name}.generating")), &snapshot).unwrap();
    let store = Store::open(work.path(), config()).unwrap();
    assert!(!db.join(format!("{name}.generating")).exists());
    assert_eq!(std::fs::read(db.join(&name)).unwrap(), snapshot);
    assert_eq!(store.size(), 2000);
}

/// The repair never touches the files of a database another handle holds:
/// that handle may be writing the snapshot right now.
#[test]
fn an_unfinished_snapshot_is_left_alone_while_the_database_is_held() {
    let dir = closed_store(3);
    let store = Store::open(dir.path(), config()).unwrap();
    let planted = dir
        .path()
        .join("db")
        .join("snap.7FFFFFFFFFFFFFFF.generating");
    std::fs::write(&planted, b"being written").unwrap();
    let short = forewarn_store::StoreConfig {
        lock_wait: std::time::Duration::from_millis(100),
        ..config()
    };
    assert!(matches!(
        Store::open(dir.path(), short),
        Err(StoreError::InUse { .. })
    ));
    assert_eq!(std::fs::read(&planted).unwrap(), b"being written");
    drop(store);
}

/// A larger database (filler values beside the store's own, several of
/// sled's segments): cutting its log makes sled 0.34 panic inside its page
/// cache during recovery for some cuts ("tried to serialize
/// Uninitialized"). Every cut must come back as an error or a store that
/// checks clean, never as a panic, and the panics are reported as damage.
///
/// Which cuts make sled panic depends on where its background flusher put
/// the segments, which varies from run to run; so the test tries up to four
/// database layouts of 47 cuts each (bounded: about 190 opens) and stops at
/// the first layout in which some cut did.
#[test]
fn a_sled_panic_on_a_cut_log_is_reported_as_damage() {
    const CUTS: u64 = 48;
    let mut panics = 0;
    for layout in 0..4u8 {
        let pristine = closed_store(50);
        {
            let db = forewarn_store::open_db(&pristine.path().join("db")).unwrap();
            for round in 0..6 + layout {
                for i in 0..100usize {
                    db.insert(format!("~{i}"), vec![round; 60_000 + i]).unwrap();
                }
                db.flush().unwrap();
            }
        }
        wait_released(pristine.path());
        let len = std::fs::metadata(pristine.path().join("db").join("db"))
            .unwrap()
            .len();
        for k in 1..CUTS {
            let work = tempfile::tempdir().unwrap();
            copy_dir(pristine.path(), work.path());
            std::fs::OpenOptions::new()
                .write(true)
                .open(work.path().join("db").join("db"))
                .unwrap()
                .set_len(len * k / CUTS)
                .unwrap();
            let at = format!("layout {layout}, cut at {k}/{CUTS}");
            let opened = std::panic::catch_unwind(|| Store::open(work.path(), config()))
                .unwrap_or_else(|_| panic!("{at}: opening panicked"));
            match opened {
                Err(e) => {
                    assert!(e.is_corruption(), "{at}: {e}");
                    if let StoreError::Corrupt {
                        what:
                            Corruption::DamagedDatabase(forewarn_store::DatabaseDamage::Panicked {
                                ..
                            }),
                        ..
                    } = e
                    {
                        panics += 1;
                    }
                }
                Ok(store) => {
                    // Never an earlier state: that is refused as rolled back.
                    assert_eq!(store.size(), 50, "{at}: records lost");
                    // For some cuts sled recovers a page that points at one
                    // of the 60 KB filler values (kept by sled in a file of
                    // its own) that it then finds damaged, which it reports
                    // only when the value is read. `check` reads every key,
                    // so it may find that damage: as corruption, never as a
                    // panic or a pass over missing data.
                    let checked = store.check();
                    if let Err(e) = checked {
                        assert!(
                            matches!(
                                e,
                                StoreError::Corrupt {
                                    what: Corruption::DamagedDatabase(_),
                                    ..
                                }
                            ),
                            "{at}: check failed with {e}"
                        );
                    }
                }
            }
        }
        if panics > 0 {
            break;
        }
    }
    assert!(
        panics > 0,
        "no cut of four layouts made sled panic; the catch was not exercised"
    );
}

/// A cut log of a store that was not closed (40 commits of 50 records):
/// sled 0.34 recovers an earlier, consistent, signed state for many cuts
/// (hundreds of acknowledged records gone) and opens without complaint.
/// The high-water mark beside the database turns each such state into
/// [`Corruption::RolledBack`]; no cut opens with records missing.
#[test]
fn a_cut_log_that_sled_rolls_back_is_refused() {
    let mut rolled_back = 0;
    // Which cuts roll back depends on where sled's flusher put the
    // segments, which varies from run to run: try cuts of up to four
    // databases until one has (bounded: at most 160 opens, each cheap).
    for _layout in 0..4 {
        if rolled_back > 0 {
            break;
        }
        let pristine = tempfile::tempdir().unwrap();
        let store = two_thousand_records(pristine.path());
        drop(store);
        // The dropped handle's threads release sled's lock a moment later.
        wait_released(pristine.path());
        let len = std::fs::metadata(pristine.path().join("db").join("db"))
            .unwrap()
            .len();
        for k in 1u64..=40 {
            if rolled_back > 0 {
                break;
            }
            let work = tempfile::tempdir().unwrap();
            copy_dir(pristine.path(), work.path());
            std::fs::OpenOptions::new()
                .write(true)
                .open(work.path().join("db").join("db"))
                .unwrap()
                .set_len(len - len * k / 80)
                .unwrap();
            match Store::open(work.path(), config()) {
                Err(e) => {
                    assert!(e.is_corruption(), "cut {k}/80: {e}");
                    if let StoreError::Corrupt {
                        what: Corruption::RolledBack { mark_size, db_size },
                        ..
                    } = e
                    {
                        assert_eq!(mark_size, 2000);
                        assert!(db_size < 2000);
                        rolled_back += 1;
                    }
                }
                Ok(store) => {
                    assert_eq!(store.size(), 2000, "cut {k}/80: records lost");
                    store.check().unwrap();
                }
            }
        }
    }
    assert!(rolled_back > 0, "no cut made sled roll back");
}
