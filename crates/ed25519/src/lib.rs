//! # forewarn-ed25519
//!
//! Ed25519 signature verification whose verdicts are exactly those of
//! ed25519-dalek's `verify_strict`, one signature at a time or in exact
//! batches, built only on the public APIs of curve25519-dalek,
//! ed25519-dalek and sha2. No arithmetic of its own: points, scalars,
//! multiscalar multiplication and SHA-512 are those crates'.
//!
//! [`verify_items`] is the entry point: it takes (key, message, signature)
//! items and returns one verdict per item. Below [`MIN_BATCH`] items it
//! verifies each with `verify_strict`; from [`MIN_BATCH`] up it runs the
//! exact batch described below, about twice as fast. With the `std`
//! feature, [`verify_parallel`] does the same on several threads, which
//! share one batch.
//!
//! `no_std` + `alloc`; no randomness source and no clock.
//!
//! ## The reference: `verify_strict`
//!
//! The RFC 8032 (§5.1.7) cofactorless equation `R = [S]B − [k]A` with
//! `k = SHA-512(R ‖ A ‖ M)`, `S` canonical (below ℓ), neither `A` nor `R`
//! of small order, and `R` compared by its encoding (so a non-canonical
//! `R` fails). Keys of small order ("weak" keys) therefore never verify.
//!
//! ## Why plain batching is not equivalent
//!
//! Random-linear-combination batch verification (ed25519-dalek's
//! `verify_batch`) checks `Σ z_i ([S_i]B − R_i − [k_i]A_i) = 0` for random
//! `z_i`. That is equivalent to `verify_strict` only for signatures whose
//! `R` and `A` have no torsion component. If `R = R₀ + T` with `T` of
//! order 2 and `S` computed honestly, so that `[S]B − [k]A = R₀`, the
//! signature's term in the sum is `−[z]T`, which is zero for every even
//! `z`: a batch accepts such a signature half the time while
//! `verify_strict` always rejects it. The usual advice (reject small-order
//! `A` and `R`, require canonical `S`) does not exclude this: `R` is of
//! order 2ℓ, not small. `tests/batch_parity.rs` builds the counterexample
//! and shows `verify_batch` accepting it.
//!
//! ## The exact batch
//!
//! [`verify_exact_batch`] accepts a batch only if every member would pass
//! `verify_strict`; otherwise it verifies every member singly:
//!
//! 1. Per signature, cheap strictness checks: `S` canonical, `R`'s `y`
//!    below p (a canonical encoding), `R` not of small order (by its `y`),
//!    and `R` decompresses. Per key (parsed once, in a [`KeyCache`]):
//!    decodes, not of small order, canonically encoded and torsion-free.
//!    A signature or key that fails goes to single verification, whose
//!    verdict is final. `k_i = SHA-512(R_i ‖ A_i ‖ M_i)` is computed here,
//!    as `verify_strict` computes it.
//! 2. Coefficients: one 128-bit `z_i` per remaining signature (a
//!    *candidate*), derived deterministically from a SHA-512 hash of the
//!    whole batch (every candidate's `R_i`, `A_i`, `S_i` and `k_i`; `k_i`
//!    binds `M_i`). Torsion check, for all candidates at once: the 128
//!    subset sums `S_j = Σ_{i: bit j of z_i is set} R_i` must each satisfy
//!    `[ℓ]S_j = 0`.
//! 3. The batch equation
//!    `[Σ z_i S_i]B − Σ z_i R_i − Σ_keys (Σ_{i signed by the key} z_i k_i) A = 0`.
//!    Its `R` part comes from step 2: `Σ z_i R_i = Σ_j 2^j S_j`. The rest
//!    is one variable-time multiscalar multiplication over `B` and the
//!    distinct keys.
//!
//! If step 2 or step 3 fails, every candidate is verified singly with
//! `verify_strict`.
//!
//! ## Why its verdicts are `verify_strict`'s
//!
//! Every point decomposes uniquely into a part in the prime-order subgroup
//! and a torsion part (the curve's group is ℤ/ℓ × ℤ/8). Model SHA-512 as
//! a random function, so that the `z_i` are independent uniform 128-bit
//! values for each distinct batch.
//!
//! - **No false rejection.** If every candidate passes `verify_strict`,
//!   then `R_i = [S_i]B − [k_i]A_i` with `A_i` torsion-free (step 1), so
//!   every `R_i` and every subset sum is torsion-free and the equation's
//!   every term cancels: steps 2 and 3 pass, whatever the `z_i`.
//! - **A bad signature is caught with probability at least 1 − 2⁻¹²⁸ per
//!   batch.** Suppose candidate `m` fails `verify_strict`. Since it passed
//!   step 1, that means `R_m ≠ [S_m]B − [k_m]A_m` as points (for a
//!   canonical encoding of a point that is not of small order, comparing
//!   encodings is comparing points).
//!   - If some candidate's `R` has a non-zero torsion part `T`, fix every
//!     coefficient bit but bit `j` of that candidate's `z`: the torsion
//!     part of `S_j` is `X` or `X + T`, and at most one of the two is
//!     zero. So each of the 128 subset sums is torsion-free with
//!     probability at most 1/2, independently, and step 2 passes with
//!     probability at most 2⁻¹²⁸.
//!   - Otherwise every `R_i` and `A_i` lies in the prime-order group, and
//!     the equation reads `Σ z_i e_i = 0 (mod ℓ)` for the discrete logs
//!     `e_i` of `[S_i]B − R_i − [k_i]A_i`, with `e_m ≠ 0`. Given the other
//!     coefficients, at most one value of `z_m` modulo ℓ satisfies it;
//!     `z_m` takes 2¹²⁸ distinct values below ℓ, so step 3 passes with
//!     probability at most 2⁻¹²⁸.
//!
//!   Using the same `z_i` for both steps is sound: the first case does not
//!   depend on step 3, and in the second step 2 passes whatever the `z_i`.
//! - **Grinding.** The coefficients are deterministic, so whoever chooses
//!   the inputs can compute them offline and try batches until one
//!   passes. Each distinct batch is a fresh draw of the `z_i`, so an
//!   adversary who tries `q` different batches (signatures, messages,
//!   order) gets a bad signature accepted with probability at most about
//!   `q·2⁻¹²⁸`: with `q = 2⁶⁴` batch hashes, 2⁻⁶⁴. A constant chance
//!   takes about 2¹²⁸ of them, of the order of the work of recovering an
//!   Ed25519 secret key outright (about 2¹²⁶ group operations).
//! - **The fallback.** When step 2 or 3 fails, every candidate's verdict is
//!   `verify_strict`'s own, and signatures that failed step 1 always get
//!   `verify_strict`'s own. A failed batch therefore never yields a wrong
//!   verdict; the only possible error is the accepted bad batch bounded
//!   above.
//!
//! Deriving the coefficients from a hash (as ed25519-dalek derives its
//! own) keeps the verifier free of a randomness source, so it stays
//! `no_std` and its verdicts are reproducible.
//!
//! ## Cost
//!
//! Step 2's sums are built with byte buckets: 16 point additions per
//! signature, plus a fixed cost per batch (the 128 checks `[ℓ]S_j = 0` and
//! 16 × 512 additions); `Σ_j 2^j S_j` then costs 127 doublings and
//! additions by Horner's rule. Each distinct key appears once in step 3's
//! multiscalar multiplication (a log has far fewer keys than signatures).
//! The fixed cost is why small sets are verified singly ([`MIN_BATCH`]).
//!
//! With `std`, [`verify_exact_batch_parallel`] shares one batch among
//! threads: they pull pieces of step 1, then the 16 byte rows of torsion
//! subset sums over every `R` (each with its part of `Σ z_i R_i`) and the
//! key side of step 3, one work item at a time; the equation is checked
//! once on the sums, so the fixed cost is paid once and divided, and a
//! thread slowed by other work on its core takes fewer items.

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod batch;
#[cfg(feature = "std")]
mod parallel;
mod strict;
#[cfg(feature = "testkit")]
pub mod testkit;

use alloc::vec::Vec;

pub use batch::{batch_accepts_all, verify_exact_batch};
#[cfg(feature = "std")]
pub use parallel::{shared_batch_holds, verify_exact_batch_parallel, verify_parallel};
pub use strict::{CachedKey, KeyCache, MAX_CACHED_KEYS};

/// How signatures are verified. Both give identical verdicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum VerifyMode {
    /// `verify_strict` on every signature.
    Strict,
    /// Exact batches from [`MIN_BATCH`] signatures up, `verify_strict`
    /// below; the default, about twice as fast on large sets.
    #[default]
    Batch,
}

/// One signature to check, over the message `prefix || body`. The message
/// stays in two borrowed parts (a domain-separation prefix and the signed
/// bytes), so callers need not copy it.
#[derive(Clone, Copy, Debug)]
pub struct SignatureItem<'a> {
    /// The signer's public key, as encoded (RFC 8032 §5.1.2).
    pub key: [u8; 32],
    /// The first part of the signed message (a domain-separation prefix;
    /// may be empty).
    pub prefix: &'a [u8],
    /// The rest of the signed message.
    pub body: &'a [u8],
    /// The signature `R ‖ S` (RFC 8032 §5.1.6).
    pub signature: [u8; 64],
}

impl<'a> SignatureItem<'a> {
    /// A signature over `prefix || body` by `key`.
    pub fn new(
        key: [u8; 32],
        prefix: &'a [u8],
        body: &'a [u8],
        signature: [u8; 64],
    ) -> SignatureItem<'a> {
        SignatureItem {
            key,
            prefix,
            body,
            signature,
        }
    }

    /// The signed message, `prefix || body`, in one buffer.
    pub fn message(&self) -> Vec<u8> {
        let mut m = Vec::with_capacity(self.prefix.len() + self.body.len());
        m.extend_from_slice(self.prefix);
        m.extend_from_slice(self.body);
        m
    }
}

/// Below this many signatures a batch's fixed cost (128 torsion checks,
/// about 3.3 ms or 110 single verifications' worth) outweighs its savings,
/// and [`VerifyMode::Batch`] verifies singly. Measured on one thread
/// (`cargo bench -p forewarn-ed25519 --bench verify`): single verification
/// costs 30.8 µs a signature; a batch of 128 takes 4.39 ms (3.94 singly),
/// of 160 4.82 ms (4.92), of 192 5.18 ms (5.90), of 256 5.68 ms (7.87):
/// the break-even is about 155.
pub const MIN_BATCH: usize = 160;

/// Verifies every item: `result[i]` is what `verify_strict` says of item
/// `i` (false for a key that does not decode or is of small order).
///
/// In [`VerifyMode::Strict`], and in [`VerifyMode::Batch`] below
/// [`MIN_BATCH`] items, each item is verified with `verify_strict`; in
/// [`VerifyMode::Batch`] from [`MIN_BATCH`] items up, the items form one
/// exact batch ([`verify_exact_batch`]). `cache` keeps parsed keys across
/// calls.
pub fn verify_items(
    items: &[SignatureItem<'_>],
    mode: VerifyMode,
    cache: &mut KeyCache,
) -> Vec<bool> {
    if mode == VerifyMode::Batch && items.len() >= MIN_BATCH {
        return verify_exact_batch(items, cache);
    }
    items.iter().map(|it| cache.verify_strict(it)).collect()
}
