//! Reading every value of a large database once without keeping what
//! was read in memory.
//!
//! sled 0.34.7's page cache (`src/lru.rs`) is split into 256 shards by
//! page id. Each shard queues the accesses to its pages, 64 at a time
//! (`MAX_QUEUE_ITEMS`), and only when a queue fills does it account for
//! them and page out what exceeds its share of the capacity. Two things
//! make that share meaningless for the store's large values:
//! - A leaf holds up to 17 values (`Node::should_split`, `src/node.rs`), so
//!   a leaf of bundles (about 35 KiB each at 256 records) or of record
//!   facts (25 KiB) is 400–600 KiB. Above about 128 KiB (a quarter of a
//!   segment, `src/pagecache/logger.rs`) sled writes a leaf to a blob file
//!   and accounts for it in the cache by the size of its pointer, a few
//!   dozen bytes: such leaves are never evicted for their size.
//! - A scan touches each leaf once, so 256 × 64 leaves are read before
//!   any queue fills.
//!
//! Together: a scan of the 1.7 GB of bundles of a 12.5-million-record
//! ledger (`forewarn-bench ingest --records 10000000`) held 1.6 GB with a
//! 64 MiB cache, and 2.6 GB once its record facts were read too.
//!
//! A single pass over the database therefore opens it with
//! [`PASS_CACHE`], a capacity so small that every shard keeps only the
//! page it touched last, and reads through [`Scan`] or [`evict_behind`],
//! which re-read a key just read as many times as a queue holds, so that
//! its shard accounts for its queue and evicts at once. The same scans
//! then held 183 MiB, for 64 reads of a cached page (about 15 µs) per
//! 64 KiB read.

use sled::IVec;

/// sled's cache capacity for a pass that reads every value once (it must
/// be at least 256 bytes): 16 bytes for each of the 256 shards, less than
/// any page, so that each keeps only the page it touched last.
pub const PASS_CACHE: u64 = 4 << 10;

/// Accesses sled 0.34.7 queues per shard of its cache before it evicts
/// (`MAX_QUEUE_ITEMS`, `src/lru.rs`).
const ACCESS_QUEUE: usize = 64;

/// Bytes (keys and values) a [`Scan`] yields between two calls of
/// [`evict_behind`]: less than one leaf of bundles or facts blocks, a few
/// leaves of small values.
pub(crate) const EVICT_EVERY: usize = 64 << 10;

/// Reads `key` again until sled has accounted for the accesses queued in
/// the cache shard of its leaf, so that the shard evicts down to its share
/// of the cache (see the module docs).
pub(crate) fn evict_behind(tree: &sled::Tree, key: &[u8]) -> sled::Result<()> {
    for _ in 0..ACCESS_QUEUE {
        tree.get(key)?;
    }
    Ok(())
}

/// sled's cache capacity for a command that reads many values in no
/// order, each once (`report party`): enough for the index pages every
/// read passes through, a small part of what such a command reads.
pub const RANDOM_READ_CACHE: u64 = 16 << 20;

/// Accesses to the page of a value read at random, counting the read
/// itself, that [`touch_after_random_read`] makes. Reads in no order
/// touch each leaf once, so with 256 shards a queue of 64 fills only
/// after about 16,000 reads, every leaf of which stays in memory until
/// then (274 MiB for the 14,371 case entries of one party at 12.5M
/// records). With 8 accesses a read, a shard accounts for its queue at
/// least every 8 reads: at most 256 × 8 leaves wait beyond the cache's
/// capacity, for 7 reads of a cached page (about 2 µs) a read.
pub(crate) const RANDOM_READ_ACCESSES: usize = 8;

/// Reads `key`, just read at random, until its leaf has been accessed
/// [`RANDOM_READ_ACCESSES`] times, so that its shard's queue fills after
/// a few such reads rather than after thousands (see
/// [`RANDOM_READ_ACCESSES`]).
pub(crate) fn touch_after_random_read(tree: &sled::Tree, key: &[u8]) -> sled::Result<()> {
    for _ in 1..RANDOM_READ_ACCESSES {
        tree.get(key)?;
    }
    Ok(())
}

/// A scan that lets sled's cache evict behind it ([`evict_behind`] every
/// [`EVICT_EVERY`] bytes). It yields what `sled::Iter` yields.
pub(crate) struct Scan<'a> {
    tree: &'a sled::Tree,
    iter: sled::Iter,
    unevicted: usize,
}

/// The values whose keys start with `prefix`, in key order.
pub(crate) fn scan_prefix(tree: &sled::Tree, prefix: impl AsRef<[u8]>) -> Scan<'_> {
    Scan {
        tree,
        iter: tree.scan_prefix(prefix),
        unevicted: 0,
    }
}

impl Iterator for Scan<'_> {
    type Item = sled::Result<(IVec, IVec)>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.iter.next()?;
        if let Ok((k, v)) = &item {
            self.unevicted += k.len() + v.len();
            if self.unevicted >= EVICT_EVERY {
                self.unevicted = 0;
                if let Err(e) = evict_behind(self.tree, k) {
                    return Some(Err(e));
                }
            }
        }
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scan yields what sled's own does, in order, in and across the
    /// points where it evicts.
    #[test]
    fn a_scan_yields_what_sleds_does() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new()
            .path(dir.path())
            .cache_capacity(1 << 20)
            .open()
            .unwrap();
        for i in 0u32..3000 {
            let mut k = vec![if i % 3 == 0 { b'a' } else { b'b' }];
            k.extend_from_slice(&i.to_be_bytes());
            db.insert(k, vec![i as u8; 100 + (i as usize % 700)])
                .unwrap();
        }
        let ours: Vec<_> = scan_prefix(&db, b"b").map(Result::unwrap).collect();
        let sleds: Vec<_> = db.scan_prefix(b"b").map(Result::unwrap).collect();
        assert_eq!(ours.len(), 2000);
        assert_eq!(ours, sleds);
        let total: usize = ours.iter().map(|(k, v)| k.len() + v.len()).sum();
        assert!(
            total > 10 * EVICT_EVERY,
            "the scan passes several evictions"
        );
    }
}
