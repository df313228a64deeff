//! The store's layout inside sled: the key scheme, and how entry bundles
//! are packed (zstd, with size limits). The keyed projections have their
//! own module, [`crate::projections`].
//!
//! Everything lives in sled's default tree, keyed by a one-byte prefix:
//!
//! | key | value |
//! |---|---|
//! | `m:format` | [`FORMAT`] |
//! | `m:origin`, `m:vkey` | the log's identity, fixed at init |
//! | `m:size` | number of records (u64 big-endian) |
//! | `m:checkpoint` | the latest signed checkpoint (C2SP signed note) |
//! | `m:hot`, `p`, `k`, `x`, `c`, `s`, `z`, `l`, `f`, `q`, `r` | the keyed projections, see [`crate::projections`] |
//! | `e` ‖ N (u64 BE) | entry bundle N, records 256·N…, as one zstd frame of the C2SP tlog-tiles bundle |
//! | `t` ‖ L (u8) ‖ N (u64 BE) | hash tile L/N (C2SP tlog-tiles), uncompressed |
//!
//! Why this shape: a commit of k records writes about k/256 + 2 values per
//! tree level instead of several keys per record, which keeps sled fast
//! and compact, and an export is a decompressing copy. The last bundle and
//! partial tiles **grow in place**: a value may be wider than a reader's
//! published size, never narrower (see [`crate::reader`]). Bundles are
//! compressed once, when written, rather than by sled, which would
//! recompress every page each time it rewrites it.

use forewarn_tlog::tile::TileDataError;

use crate::error::{Corruption, FrameProblem, Place, StoreError};

/// The format this version reads and writes (`m:format`).
pub(crate) const FORMAT: &[u8] = b"forewarn-store/v4";
/// The earlier development formats: plain bundles in a compressed sled
/// (v1); the whole auditor state saved as one value (v2); one
/// duplicate-index value per statement and one case-list value per
/// party and case (v3).
pub(crate) const EARLIER_FORMATS: [&[u8]; 3] = [
    b"forewarn-store/v1",
    b"forewarn-store/v2",
    b"forewarn-store/v3",
];
/// Sub-directory holding the sled database.
pub(crate) const DB_DIR: &str = "db";

/// Entries per bundle, and hashes per full tile (C2SP tlog-tiles).
pub(crate) const BUNDLE: u64 = 256;

/// zstd level for stored bundles and the saved state: level 1 compresses
/// records about 2:1 (they are half fixed structure) at several hundred
/// MB/s on one core.
const PACK_LEVEL: i32 = 1;
/// Largest unpacked entry bundle: 256 entries of at most 2 + 65,535 bytes.
pub(crate) const MAX_BUNDLE_BYTES: usize = 256 * (2 + 65_535);

pub(crate) const META_SIZE: &[u8] = b"m:size";
pub(crate) const META_CHECKPOINT: &[u8] = b"m:checkpoint";

/// Key of entry bundle `n`.
pub(crate) fn bundle_key(n: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = b'e';
    k[1..].copy_from_slice(&n.to_be_bytes());
    k
}

/// Key of hash tile `level`/`index`.
pub(crate) fn tile_key(level: u8, index: u64) -> [u8; 10] {
    let mut k = [0u8; 10];
    k[0] = b't';
    k[1] = level;
    k[2..].copy_from_slice(&index.to_be_bytes());
    k
}

/// A reusable zstd compression context (creating one per bundle costs more
/// than compressing a small bundle).
pub(crate) struct Packer(zstd::bulk::Compressor<'static>);

impl Packer {
    pub(crate) fn new() -> Result<Packer, StoreError> {
        zstd::bulk::Compressor::new(PACK_LEVEL)
            .map(Packer)
            .map_err(|source| StoreError::Compression { source })
    }

    /// One zstd frame holding `data`, its size recorded in the frame header.
    pub(crate) fn pack(&mut self, data: &[u8]) -> Result<Vec<u8>, StoreError> {
        self.0
            .compress(data)
            .map_err(|source| StoreError::Compression { source })
    }
}

/// Unpacks one zstd frame that must declare its size, at most `limit`
/// bytes, and decode to exactly that size.
pub(crate) fn unpack(data: &[u8], limit: usize) -> Result<Vec<u8>, FrameProblem> {
    let size = zstd::zstd_safe::get_frame_content_size(data)
        .ok()
        .flatten()
        .ok_or(FrameProblem::NotAFrame)?;
    if size > limit as u64 {
        return Err(FrameProblem::TooLarge {
            declared: size,
            limit: limit as u64,
        });
    }
    // One decompression context per thread, reused: making one costs
    // more than unpacking a small case entry.
    thread_local! {
        static CONTEXT: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
            const { std::cell::RefCell::new(None) };
    }
    let out = CONTEXT
        .with(|c| {
            let mut c = c.borrow_mut();
            let d = match &mut *c {
                Some(d) => d,
                None => c.insert(zstd::bulk::Decompressor::new()?),
            };
            d.decompress(data, size as usize)
        })
        .map_err(|_| FrameProblem::Damaged)?;
    if out.len() as u64 != size {
        return Err(FrameProblem::WrongLength {
            got: out.len() as u64,
            declared: size,
        });
    }
    Ok(out)
}

/// Unpacks stored entry bundle `n`.
pub(crate) fn unpack_bundle(n: u64, data: &[u8]) -> Result<Vec<u8>, StoreError> {
    unpack(data, MAX_BUNDLE_BYTES)
        .map_err(|p| StoreError::corrupt(Corruption::Frame(p), Place::Bundle(n)))
}

/// The first `count` entries of a tlog-tiles entry bundle (each a 2-byte
/// big-endian length and that many bytes) as a byte prefix of `data`.
/// A stored bundle may hold more entries than a reader's size (the last
/// bundle grows in place); it must never hold fewer.
pub(crate) fn bundle_prefix(data: &[u8], count: usize) -> Result<&[u8], TileDataError> {
    let mut at = 0usize;
    for entry in 0..count {
        let Some(len) = data.get(at..at + 2) else {
            return Err(TileDataError::TruncatedBundle { entry });
        };
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        if data.len() < at + 2 + len {
            return Err(TileDataError::TruncatedBundle { entry });
        }
        at += 2 + len;
    }
    Ok(&data[..at])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_prefix_takes_exactly_the_first_entries() {
        let bundle = forewarn_tlog::tile::encode_entry_bundle(&[&b"ab"[..], b"", b"xyz"]).unwrap();
        assert_eq!(bundle_prefix(&bundle, 0).unwrap(), b"");
        assert_eq!(bundle_prefix(&bundle, 1).unwrap(), b"\0\x02ab");
        assert_eq!(bundle_prefix(&bundle, 3).unwrap(), &bundle[..]);
        assert_eq!(
            bundle_prefix(&bundle, 4),
            Err(TileDataError::TruncatedBundle { entry: 3 })
        );
        assert_eq!(
            bundle_prefix(&bundle[..7], 3),
            Err(TileDataError::TruncatedBundle { entry: 2 })
        );
    }
}
