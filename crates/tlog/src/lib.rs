//! Transparency-log mechanics for forewarn: RFC 9162 Merkle trees and the
//! C2SP formats (signed notes, checkpoints, cosignatures, policies, tiles,
//! offline proofs), with no knowledge of what the log contains.
//!
//! This crate does no I/O: no files, no network, no clock, no randomness,
//! no async. Storage supplies hashes through [`tree::HashReader`] (or tiles
//! through [`tile::TileReader`]); callers pass in times and key seeds. It is
//! `#![no_std]` with `alloc`, so it builds for `wasm32-unknown-unknown` and
//! embeds anywhere; the `std` feature (default) adds `std::error::Error`.
//!
//! | module | what | spec |
//! |---|---|---|
//! | [`hash`] | leaf and node hashes, the empty root | RFC 9162 §2.1.1 |
//! | [`tree`] | stored-hash layout, tree heads, inclusion and consistency proofs | RFC 9162 §2.1.2–2.1.4 |
//! | [`compact`] | O(log n) streaming root | RFC 9162 §2.1.1 |
//! | [`tile`] | tile paths, tile reading, entry bundles | c2sp.org/tlog-tiles |
//! | [`note`] | signed notes, verifier and signer keys | c2sp.org/signed-note |
//! | [`checkpoint`] | signed tree heads | c2sp.org/tlog-checkpoint |
//! | [`cosignature`] | witness cosignatures v1 | c2sp.org/tlog-cosignature |
//! | [`policy`] | witness quorum policies | c2sp.org/tlog-policy |
//! | [`proof`] | offline inclusion proofs | c2sp.org/tlog-proof@v1 |
//! | [`evidence`] | portable proof of a split view | forewarn |
//!
//! Every parser is strict and size-capped, and rejects non-canonical
//! input; nothing here panics on untrusted bytes.

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod checkpoint;
pub mod compact;
pub mod cosignature;
pub mod evidence;
pub mod hash;
pub mod note;
pub mod policy;
pub mod proof;
pub mod tile;
pub mod tree;

pub use hash::{EMPTY_ROOT, HASH_SIZE, Hash, node_hash, record_hash};
