//! # forewarn-store
//!
//! Persistence of a forewarn ledger on sled, and the sequencer that turns
//! signed statements into records with group commit: many submissions, one
//! atomic write, one fsync, one signed checkpoint, then receipts.
//!
//! ## Layout (one sled tree, keys by prefix)
//!
//! | key | value |
//! |---|---|
//! | `m:format` | `forewarn-store/v4` |
//! | `m:origin`, `m:vkey` | the log's identity, fixed at `init` |
//! | `m:size` | number of records (u64 big-endian) |
//! | `m:checkpoint` | the latest signed checkpoint (C2SP note) |
//! | `m:hot`, `p`, `k`, `x`, `c`, `s`, `z`, `l`, `f`, `q`, `r` | the projections in keyed form, each value sealed with a MAC key derived from the log key (the `projections` module; docs/FORMAT.md §20) |
//! | `e` + N | entry bundle N: records 256·N … (C2SP tlog-tiles encoding in one zstd frame; the last one grows in place) |
//! | `t` + level + index | hash tile (C2SP tlog-tiles; partial tiles grow in place) |
//!
//! The records are the source of truth. The hash tiles and the projections
//! derive from them and are written in the same atomic batch as the
//! records of each commit; [`Store::rebuild`] recomputes both, and
//! [`Store::check`] re-audits everything against the latest checkpoint and
//! compares every derived value with the replay. Opening reads no old
//! record: it verifies the signed checkpoint, loads parties, keys and the
//! chain position (about 2 MiB of recent leaves), and checks that they lead
//! to the signed root, so a step costs the same on a log of any size. The
//! log key lives beside the database in `log.key` (mode 0600, never
//! logged).
//!
//! sled keeps the superseded versions of rewritten values until a segment
//! of its log holds nothing live, so the database grows to several times
//! its live data; [`compact`] copies the live values into a new database
//! and exchanges the two atomically (`forewarn compact`).
//!
//! Beside the database, [`MARK_FILE`] holds the latest durable signed
//! checkpoint, replaced after every commit's flush: a database that comes
//! back older than it (sled recovering an earlier state from damaged
//! files, older files restored) is refused as
//! [`Corruption::RolledBack`] rather than served.
//!
//! ## Handles
//!
//! - [`Store`]: the one writer, with parties, keys and the chain position
//!   in memory and a working set of the rest (loaded per statement,
//!   written back per commit). Its
//!   commit order (validate → one atomic sled batch → flush → publish →
//!   receipts) is the crash-safety argument, written down in the `commit` module.
//!   [`Store::append`] commits what is valid of a submission;
//!   [`Store::append_all`] commits a batch whole or not at all. Its
//!   auditor always knows the store's origin, so a statement for another
//!   log is refused from the first record on.
//! - [`LogReader`]: cloneable, `Send + Sync`, answers from the latest
//!   durable, signed state while the writer appends.
//! - [`Sequencer`] / [`Submitter`] / [`Submission`]: group commit for many
//!   threads or tasks; a submission is waited for or awaited.
//! - [`LogCopy`]: a signed state copied out of a closed database, for long
//!   audits and reports that must not lock writers out.
//!
//! ## Modules
//!
//! | module | job |
//! |---|---|
//! | `layout` | keys, bundle and tile values, zstd packing with limits |
//! | `open` | [`Store`], init and open |
//! | `database` | the sled database: settings, its lock, panics and damage at open |
//! | `mark` | the high-water mark beside the database, and the rollback check at open |
//! | `commit` | statement checks and the commit with its crash order |
//! | `reader` | [`LogReader`], receipts, tile and hash readers |
//! | `projections` | the projections in keyed form: seal, open-time load, page-in and write-back, what `check` expects |
//! | `check` | [`Store::check`], [`Store::rebuild`] |
//! | `compact` | [`compact`]: the database rewritten with its live values only, put in place atomically |
//! | `copy` | [`LogCopy`], the full audit |
//! | [`export`] | static tlog-tiles export and its audit |
//! | `error` | [`StoreError`] and its parts |
//! | `sequencer` | [`Sequencer`], [`Submitter`], [`Submission`] |
//! | `schedule` | the helper threads of a pipeline run behind its serial thread |

/// The store's in-memory maps (tile overlays and caches): std's
/// map with foldhash's fast hasher, seeded at random per map. std's
/// default, SipHash-1-3, was about 11% of the commit thread's time
/// (docs/PERFORMANCE.md). The keys are SHA-256 outputs, case ids and
/// record indexes; the random seed still keeps a submitter from steering
/// many keys into one bucket.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
/// See [`HashMap`].
type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

mod check;
mod commit;
mod compact;
mod copy;
mod database;
mod error;
pub mod export;
mod layout;
mod mark;
mod open;
mod paged;
mod projections;
mod reader;
mod scan;
mod schedule;
mod seen;
mod sequencer;
mod tile_check;

pub use check::Checked;
pub use commit::{CheckedStatement, check_signatures, check_statements, prepare_statements};
pub use compact::{Compacted, compact, compact_in_steps};
pub use copy::{AuditError, LogCopy};
pub use database::{lock_held, open_db, open_db_waiting};
pub use error::{Corruption, DatabaseDamage, FrameProblem, KeyError, Place, Rejection, StoreError};
pub use mark::MARK_FILE;
pub use open::{
    Clock, DEFAULT_LOCK_WAIT, KEY_FILE, Store, StoreConfig, VKEY_FILE, system_clock, write_secret,
};
pub use paged::{Fold, PAGED_BATCH, PagedReplay, Projections, Spill};
pub use reader::{LogReader, LogState, Receipt, ReceiptParts};
pub use scan::{PASS_CACHE, RANDOM_READ_CACHE};
pub use sequencer::{Answer, Sequencer, Submission, Submitter};
