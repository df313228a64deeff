//! The store's layout inside sled: the key scheme, how entry bundles and
//! the saved auditor state are packed (zstd, with size limits), and how a
//! saved state is bound to the checkpoint it belongs to and signed.
//!
//! Everything lives in sled's default tree, keyed by a one-byte prefix:
//!
//! | key | value |
//! |---|---|
//! | `m:format` | [`FORMAT`] |
//! | `m:origin`, `m:vkey` | the log's identity, fixed at init |
//! | `m:size` | number of records (u64 big-endian) |
//! | `m:checkpoint` | the latest signed checkpoint (C2SP signed note) |
//! | `m:snapshot` | the auditor state of the last clean close, bound to its checkpoint and signed by the log key ([`encode_snapshot`]) |
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

use forewarn_tlog::hash::Hash;
use forewarn_tlog::note::{SignerKey, VerifierKey};
use forewarn_tlog::tile::TileDataError;
use sha2::{Digest, Sha256};

use crate::error::{Corruption, FrameProblem, Place, SnapshotProblem, StoreError};

/// The format this version reads and writes (`m:format`).
pub(crate) const FORMAT: &[u8] = b"forewarn-store/v2";
/// The earlier development format (plain bundles in a compressed sled).
pub(crate) const FORMAT_V1: &[u8] = b"forewarn-store/v1";
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
/// Largest unpacked saved auditor state (the ledger's own state limit).
pub(crate) const MAX_SNAPSHOT_BYTES: usize = 1 << 30;

pub(crate) const META_SIZE: &[u8] = b"m:size";
pub(crate) const META_CHECKPOINT: &[u8] = b"m:checkpoint";
pub(crate) const META_SNAPSHOT: &[u8] = b"m:snapshot";

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
    let out = zstd::bulk::decompress(data, size as usize).map_err(|_| FrameProblem::Damaged)?;
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

/// `m:snapshot`: magic, the checkpoint it belongs to (size, root), the
/// SHA-256 of the zstd frame, the log key's Ed25519 signature over the
/// binding, then the frame of `Auditor::save`.
///
/// The signature makes the binding unforgeable without the log key: a
/// state edited and re-bound by someone who can write the database but
/// does not hold `log.key` is never resumed, by the store or by a
/// [`crate::LogCopy`]. (The key holder can still forge one; `check`
/// compares the saved state with a full replay.)
const SNAPSHOT_MAGIC: &[u8; 20] = b"forewarn-snapshot/v2";
/// The unsigned binding of earlier versions: ignored (replayed instead).
const SNAPSHOT_MAGIC_V1: &[u8; 20] = b"forewarn-snapshot/v1";
const SNAPSHOT_HEADER: usize = SNAPSHOT_MAGIC.len() + 8 + 32 + 32 + 64;
/// Domain separation of the signed binding. The NUL byte makes it invalid
/// note text (C2SP signed-note forbids control characters), so the
/// signature can never pass as the log's signature on a checkpoint.
const SNAPSHOT_CONTEXT: &[u8] = b"forewarn-snapshot-binding/v2\0";

/// The message the log key signs: context, size, root, frame digest.
fn binding(size: u64, root: &[u8], digest: &[u8]) -> Vec<u8> {
    let mut m = SNAPSHOT_CONTEXT.to_vec();
    m.extend_from_slice(&size.to_be_bytes());
    m.extend_from_slice(root);
    m.extend_from_slice(digest);
    m
}

/// Encodes a saved auditor state bound to the checkpoint (`size`, `root`),
/// signed by the log key.
pub(crate) fn encode_snapshot(size: u64, root: &Hash, frame: &[u8], key: &SignerKey) -> Vec<u8> {
    let digest = Sha256::digest(frame);
    let signature = key.sign(&binding(size, &root.0, &digest)).signature;
    let mut out = Vec::with_capacity(SNAPSHOT_HEADER + frame.len());
    out.extend_from_slice(SNAPSHOT_MAGIC);
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(&root.0);
    out.extend_from_slice(&digest);
    out.extend_from_slice(&signature);
    out.extend_from_slice(frame);
    out
}

/// Decodes `m:snapshot` and returns the unpacked state if, and only if, it
/// is bound to the checkpoint (`size`, `root`), its digest matches, and
/// the binding is signed by `vkey`.
pub(crate) fn decode_snapshot(
    stored: &[u8],
    size: u64,
    root: &Hash,
    vkey: &VerifierKey,
) -> Result<Vec<u8>, SnapshotProblem> {
    if stored.starts_with(SNAPSHOT_MAGIC_V1) {
        return Err(SnapshotProblem::OldFormat);
    }
    if stored.len() < SNAPSHOT_HEADER || &stored[..SNAPSHOT_MAGIC.len()] != SNAPSHOT_MAGIC {
        return Err(SnapshotProblem::Malformed);
    }
    let rest = &stored[SNAPSHOT_MAGIC.len()..];
    let bound_size = u64::from_be_bytes(rest[..8].try_into().expect("8 bytes"));
    let bound_root = &rest[8..40];
    let digest = &rest[40..72];
    let signature = &rest[72..136];
    let frame = &rest[136..];
    if bound_size != size || bound_root != root.0 {
        return Err(SnapshotProblem::NotBound {
            size: bound_size,
            current: size,
        });
    }
    if Sha256::digest(frame).as_slice() != digest {
        return Err(SnapshotProblem::DigestMismatch);
    }
    if !vkey.verify(&binding(bound_size, bound_root, digest), signature) {
        return Err(SnapshotProblem::BadSignature);
    }
    unpack(frame, MAX_SNAPSHOT_BYTES).map_err(SnapshotProblem::Frame)
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

    #[test]
    fn a_snapshot_is_used_only_at_its_checkpoint() {
        let mut p = Packer::new().unwrap();
        let frame = p.pack(b"state").unwrap();
        let root = Hash([3; 32]);
        let key = SignerKey::from_seed(
            "example.org/ledger",
            forewarn_tlog::note::SignatureType::Ed25519,
            &[7; 32],
        )
        .unwrap();
        let vkey = key.verifier();
        let s = encode_snapshot(7, &root, &frame, &key);
        assert_eq!(decode_snapshot(&s, 7, &root, &vkey).unwrap(), b"state");
        assert!(matches!(
            decode_snapshot(&s, 8, &root, &vkey),
            Err(SnapshotProblem::NotBound {
                size: 7,
                current: 8
            })
        ));
        assert!(matches!(
            decode_snapshot(&s, 7, &Hash([4; 32]), &vkey),
            Err(SnapshotProblem::NotBound { .. })
        ));
        let mut bad = s.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(
            decode_snapshot(&bad, 7, &root, &vkey),
            Err(SnapshotProblem::DigestMismatch)
        );
        assert_eq!(
            decode_snapshot(&s[..10], 7, &root, &vkey),
            Err(SnapshotProblem::Malformed)
        );
        // Signed by another key, or with its signature changed.
        let other = SignerKey::from_seed(
            "example.org/ledger",
            forewarn_tlog::note::SignatureType::Ed25519,
            &[8; 32],
        )
        .unwrap();
        let forged = encode_snapshot(7, &root, &frame, &other);
        assert_eq!(
            decode_snapshot(&forged, 7, &root, &vkey),
            Err(SnapshotProblem::BadSignature)
        );
        let mut bad = s.clone();
        bad[100] ^= 1;
        assert_eq!(
            decode_snapshot(&bad, 7, &root, &vkey),
            Err(SnapshotProblem::BadSignature)
        );
        // The unsigned binding of earlier versions is named, not used.
        let mut old = s.clone();
        old[..20].copy_from_slice(SNAPSHOT_MAGIC_V1);
        assert_eq!(
            decode_snapshot(&old, 7, &root, &vkey),
            Err(SnapshotProblem::OldFormat)
        );
    }
}
