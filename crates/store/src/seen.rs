//! Every statement a paged replay has folded, for the duplicate check
//! (docs/FORMAT.md §16: a statement logged twice is an integrity
//! failure), kept on disk with a filter in memory.
//!
//! The store's own duplicate index (`s` values, `crate::projections`)
//! suits a sequencer, which appends a few records per commit; a replay
//! that writes back every 32,768 records would rewrite nearly every
//! bucket each time. Here instead:
//!
//! - each batch's keys (the first 16 bytes of a statement's SHA-256) go to
//!   a new **run**: a file of `key (16 bytes BE) ‖ record (8 bytes BE)`
//!   entries sorted by key; runs of similar length are merged, so there
//!   are about log₂(batches) of them;
//! - a **Bloom filter** of every key (16 bits a record, 11 probes: about
//!   one false positive in 2,000 look-ups at the planned size) answers
//!   most look-ups without reading a run. Its probes come from SipHash
//!   under a key drawn for this replay, so a submitter cannot aim
//!   statements at its false positives;
//! - a look-up the filter passes binary-searches every run, oldest first
//!   (runs hold disjoint, increasing record ranges), and returns the
//!   first record holding the key.
//!
//! Memory: the filter (2 bytes a record planned) and one batch's keys.

use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::StoreError;

/// Bytes of one run entry.
const ENTRY: usize = 24;
/// Filter bits per planned key, and probes per key.
const BITS_PER_KEY: u64 = 16;
const PROBES: u64 = 11;
/// The most keys a filter is sized for (128 MiB of bits). A larger log
/// still works: its filter passes more look-ups to the runs.
const MAX_PLANNED: u64 = 1 << 26;

/// One sorted run.
struct Run {
    file: File,
    len: u64,
}

/// The keys seen so far (see the module docs).
pub(crate) struct SeenStatements {
    dir: PathBuf,
    bits: Vec<u64>,
    hasher: std::collections::hash_map::RandomState,
    runs: Vec<Run>,
    batch: Vec<(u128, u64)>,
}

impl SeenStatements {
    /// An empty set whose runs are files in `dir`, its filter sized for
    /// `planned` keys (more still work, with more false positives).
    /// `planned` comes from a signed checkpoint, which a dishonest
    /// operator writes: the filter is sized for 2^16 to 2^26 keys (at most
    /// 128 MiB of bits), whatever it claims.
    pub(crate) fn new(dir: &Path, planned: u64) -> SeenStatements {
        let words = (planned.clamp(1 << 16, MAX_PLANNED) * BITS_PER_KEY).div_ceil(64);
        SeenStatements {
            dir: dir.to_path_buf(),
            bits: vec![0; words as usize],
            hasher: std::collections::hash_map::RandomState::new(),
            runs: Vec::new(),
            batch: Vec::new(),
        }
    }

    fn io(&self, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: self.dir.clone(),
            source,
        }
    }

    /// The filter's bit positions for `key`: double hashing of two keyed
    /// 64-bit hashes.
    fn probes(&self, key: u128) -> impl Iterator<Item = usize> + use<> {
        let mut h = self.hasher.build_hasher();
        h.write_u128(key);
        let a = h.finish();
        h.write_u8(1);
        let b = h.finish() | 1;
        let n = self.bits.len() as u64 * 64;
        (0..PROBES).map(move |i| (a.wrapping_add(i.wrapping_mul(b)) % n) as usize)
    }

    /// The first record, among those of earlier batches, holding `key`.
    pub(crate) fn first(&self, key: u128) -> Result<Option<u64>, StoreError> {
        if !self
            .probes(key)
            .all(|p| self.bits[p / 64] & (1 << (p % 64)) != 0)
        {
            return Ok(None);
        }
        for run in &self.runs {
            if let Some(r) = self.search(run, key)? {
                return Ok(Some(r));
            }
        }
        Ok(None)
    }

    fn search(&self, run: &Run, key: u128) -> Result<Option<u64>, StoreError> {
        let (mut lo, mut hi) = (0u64, run.len);
        let mut entry = [0u8; ENTRY];
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            run.file
                .read_exact_at(&mut entry, mid * ENTRY as u64)
                .map_err(|e| self.io(e))?;
            let (k, r) = split(&entry);
            match k.cmp(&key) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(Some(r)),
            }
        }
        Ok(None)
    }

    /// Notes that record `record` holds `key` (in record order).
    pub(crate) fn note(&mut self, key: u128, record: u64) {
        for p in self.probes(key).collect::<Vec<_>>() {
            self.bits[p / 64] |= 1 << (p % 64);
        }
        self.batch.push((key, record));
    }

    /// The keys noted since the last [`SeenStatements::end_batch`], in
    /// record order.
    pub(crate) fn batch(&self) -> &[(u128, u64)] {
        &self.batch
    }

    /// Ends a batch: its keys become a run, and runs of similar length
    /// are merged.
    pub(crate) fn end_batch(&mut self) -> Result<(), StoreError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let mut batch = core::mem::take(&mut self.batch);
        batch.sort_unstable();
        let file = tempfile::tempfile_in(&self.dir).map_err(|e| self.io(e))?;
        let mut out = BufWriter::with_capacity(1 << 20, &file);
        for (k, r) in &batch {
            out.write_all(&k.to_be_bytes()).map_err(|e| self.io(e))?;
            out.write_all(&r.to_be_bytes()).map_err(|e| self.io(e))?;
        }
        out.flush().map_err(|e| self.io(e))?;
        drop(out);
        self.runs.push(Run {
            file,
            len: batch.len() as u64,
        });
        while self.runs.len() >= 2 {
            let n = self.runs.len();
            if self.runs[n - 1].len * 2 < self.runs[n - 2].len {
                break;
            }
            let newer = self.runs.pop().expect("two runs");
            let older = self.runs.pop().expect("two runs");
            let merged = self.merge(&older, &newer)?;
            self.runs.push(merged);
        }
        Ok(())
    }

    /// One run of the entries of two, in key order. A key in both (which
    /// a replay that stops at the first duplicate never leaves) keeps the
    /// older run's record first.
    fn merge(&self, older: &Run, newer: &Run) -> Result<Run, StoreError> {
        let file = tempfile::tempfile_in(&self.dir).map_err(|e| self.io(e))?;
        let mut out = BufWriter::with_capacity(1 << 20, &file);
        let mut a = Reader::new(older);
        let mut b = Reader::new(newer);
        let (mut x, mut y) = (
            a.next().map_err(|e| self.io(e))?,
            b.next().map_err(|e| self.io(e))?,
        );
        loop {
            let take_a = match (&x, &y) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(p), Some(q)) => split(p).0 <= split(q).0,
            };
            let (entry, source) = if take_a {
                (x.take(), &mut a)
            } else {
                (y.take(), &mut b)
            };
            out.write_all(&entry.expect("chosen"))
                .map_err(|e| self.io(e))?;
            let next = source.next().map_err(|e| self.io(e))?;
            if take_a {
                x = next;
            } else {
                y = next;
            }
        }
        out.flush().map_err(|e| self.io(e))?;
        drop(out);
        Ok(Run {
            file,
            len: older.len + newer.len,
        })
    }
}

/// A run read in order.
struct Reader<'a> {
    inner: BufReader<&'a File>,
    left: u64,
}

impl<'a> Reader<'a> {
    fn new(run: &'a Run) -> Reader<'a> {
        let mut file = &run.file;
        // The run was written from the start; read it from there.
        let _ = std::io::Seek::rewind(&mut file);
        Reader {
            inner: BufReader::with_capacity(1 << 20, file),
            left: run.len,
        }
    }

    fn next(&mut self) -> std::io::Result<Option<[u8; ENTRY]>> {
        if self.left == 0 {
            return Ok(None);
        }
        let mut e = [0u8; ENTRY];
        self.inner.read_exact(&mut e)?;
        self.left -= 1;
        Ok(Some(e))
    }
}

fn split(e: &[u8; ENTRY]) -> (u128, u64) {
    (
        u128::from_be_bytes(e[..16].try_into().expect("16 bytes")),
        u64::from_be_bytes(e[16..].try_into().expect("8 bytes")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key noted in an earlier batch is found, with its first
    /// record, across many merges; keys never noted, and keys of the
    /// batch still open, are not.
    #[test]
    fn finds_every_earlier_key_and_no_other() {
        let dir = tempfile::tempdir().unwrap();
        let mut seen = SeenStatements::new(dir.path(), 1_000);
        let key = |i: u64| u128::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
        let mut record = 0;
        for batch in 0..37u64 {
            for _ in 0..(1 + batch * 7) {
                seen.note(key(record), record);
                record += 1;
            }
            assert_eq!(seen.first(key(record - 1)).unwrap(), None, "open batch");
            seen.end_batch().unwrap();
            assert!(seen.runs.len() <= 12, "{} runs", seen.runs.len());
        }
        for r in 0..record {
            assert_eq!(seen.first(key(r)).unwrap(), Some(r), "record {r}");
        }
        for r in record..record + 2_000 {
            assert_eq!(seen.first(key(r)).unwrap(), None);
        }
        let total: u64 = seen.runs.iter().map(|r| r.len).sum();
        assert_eq!(total, record);
    }

    /// A checkpoint claiming an absurd size (a dishonest operator's) sizes
    /// the filter at its cap, and the set still works.
    #[test]
    fn a_claimed_size_beyond_reason_is_capped() {
        let dir = tempfile::tempdir().unwrap();
        for planned in [0, u64::MAX, 1 << 63] {
            let mut seen = SeenStatements::new(dir.path(), planned);
            assert!(seen.bits.len() as u64 * 64 <= MAX_PLANNED * BITS_PER_KEY);
            assert!(!seen.bits.is_empty());
            seen.note(7, 0);
            seen.end_batch().unwrap();
            assert_eq!(seen.first(7).unwrap(), Some(0));
            assert_eq!(seen.first(8).unwrap(), None);
        }
    }
}
