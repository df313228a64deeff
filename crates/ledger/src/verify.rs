//! Statement signature verification with `verify_strict` semantics, one at
//! a time or in exact batches.
//!
//! The reference is ed25519-dalek's `verify_strict`: the RFC 8032
//! cofactorless equation `R = [S]B − [k]A` with `k = SHA-512(R ‖ A ‖ M)`,
//! canonical `S`, neither `A` nor `R` of small order, and `R` compared by
//! its encoding (so a non-canonical `R` fails).
//!
//! ## Why batching needs care
//!
//! Random-linear-combination batch verification (ed25519-dalek's
//! `verify_batch`) is only equivalent to that for signatures whose `R` and
//! `A` have no torsion component. If `R = R₀ + T` with `T` of order 2, then
//! `[z]T = 0` for every even coefficient `z`: a batch accepts such a
//! signature half the time while `verify_strict` always rejects it. The
//! usual advice (reject small-order `A` and `R`, require canonical `S`) does
//! not exclude this; `tests/batch_parity.rs` builds the counterexample.
//!
//! ## The exact batch
//!
//! [`VerifyMode::Batch`] accepts a batch only if every member would pass
//! `verify_strict`, and otherwise verifies every member singly, so the
//! verdicts are always `verify_strict`'s:
//!
//! 1. Per signature, cheap strictness checks: `S` canonical, `R`'s `y`
//!    below p (canonical encoding), `R` not of small order (by its `y`, see
//!    [`SMALL_ORDER_Y`]) and decompresses. Per key (cached): canonical, not
//!    weak, torsion-free. Signatures or keys that fail go to single
//!    verification.
//! 2. Random 128-bit coefficients `z_i`, derived from a hash of every
//!    input. `R` torsion-free, for all members at once: the 128 subset sums
//!    `S_j = Σ_{i: bit j of z_i is set} R_i` must each satisfy `[ℓ]S_j = 0`.
//!    A non-zero torsion component survives each random subset sum with
//!    probability at least 1/2, so a torsion component is missed with
//!    probability at most 2⁻¹²⁸. The sums are built with byte buckets (16
//!    point additions per signature, plus a fixed cost per batch: 128
//!    checks `[ℓ]S_j = 0` and 16 × 512 additions).
//! 3. The batch equation
//!    `[Σ z_i S_i]B − Σ z_i R_i − Σ_keys (Σ_{i signed by the key} z_i k_i) A = 0`.
//!    Its R part costs nothing more: `Σ z_i R_i = Σ_j 2^j S_j` (bit `j` of
//!    `z_i` puts `R_i` in `S_j`), 127 doublings and additions per batch by
//!    Horner's rule over step 2's sums. The rest is one variable-time
//!    multiscalar multiplication over `B` and the keys, in which each
//!    distinct key appears once (a log has far fewer keys than signatures).
//!    Using the same `z_i` for both steps is sound: if some `R` has a
//!    torsion component, step 2 passes with probability at most 2⁻¹²⁸
//!    whatever step 3 does; if none has, the equation's terms lie in the
//!    prime-order group and the usual argument bounds step 3 alone.
//!
//! With every `A` and `R` torsion-free and the equation holding, each
//! `R_i = [S_i]B − [k_i]A_i` except with probability 2⁻¹²⁸, which is exactly
//! what `verify_strict` checks. Conversely a batch of signatures that pass
//! `verify_strict` always passes both checks. The random values are derived
//! from a SHA-512 hash of every input (as ed25519-dalek derives its own), so
//! the verifier needs no randomness source and stays `no_std`.
//!
//! With `std`, [`verify_exact_batch_parallel`] shares one batch among
//! threads: they pull pieces of step 1, then the 16 torsion rows over every
//! `R` (each with its part of `Σ z_i R_i`) and the key side of step 3, one
//! item at a time; the equation is checked once on the sums, so the fixed
//! cost is paid once and divided, and a thread slowed by other work on its
//! core takes fewer items.
//!
//! ## The R side's arithmetic
//!
//! Most of a batch's time goes to the `R`s: decompressing each, adding it
//! into the 16 rows of subset sums, and the 128 checks `[ℓ]S_j = 0`. With
//! `std` on a CPU with AVX-512 IFMA, `forewarn_edwards8` does these eight
//! lanes wide: step 1 decompresses a piece's `R`s eight at a time, and each
//! byte row's 8 subset sums are 8 lanes (an `R` is added in the lanes of
//! its byte's set bits), checked torsion-free together and returned as the
//! encoding of `Σ_b 2^b S_b`, which Horner's rule combines here as before.
//! The checks and the equation are unchanged; only the arithmetic moves.
//! Elsewhere, or with `FOREWARN_NO_IFMA` set, curve25519-dalek's arithmetic
//! does it all (byte buckets, as described above). The parity tests run
//! both ([`with_dalek_arithmetic`]).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{Identity, IsIdentity, VartimeMultiscalarMul};
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha512};

/// How the auditor verifies signatures. Both give identical verdicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum VerifyMode {
    /// `verify_strict` on every signature.
    Strict,
    /// Exact batches (see the module documentation); the default, about
    /// twice as fast.
    #[default]
    Batch,
}

/// A parsed public key with what batching needs to know about it.
#[derive(Clone, Debug)]
pub struct CachedKey {
    key: VerifyingKey,
    point: EdwardsPoint,
    /// Canonically encoded and torsion-free: safe to batch.
    batchable: bool,
}

/// Parses keys once. Keys that do not decode or are of small order are
/// remembered as `None` and every signature under them fails.
#[derive(Default, Debug, Clone)]
pub struct KeyCache {
    keys: BTreeMap<[u8; 32], Option<CachedKey>>,
}

impl KeyCache {
    /// An empty cache.
    pub fn new() -> KeyCache {
        KeyCache::default()
    }

    /// The key, parsed.
    pub fn get(&mut self, bytes: &[u8; 32]) -> Option<&CachedKey> {
        self.keys
            .entry(*bytes)
            .or_insert_with(|| parse_key(bytes))
            .as_ref()
    }
}

fn parse_key(bytes: &[u8; 32]) -> Option<CachedKey> {
    let key = VerifyingKey::from_bytes(bytes).ok()?;
    if key.is_weak() {
        return None;
    }
    let point = CompressedEdwardsY(*bytes).decompress()?;
    let batchable = y_canonical(bytes) && point.is_torsion_free();
    Some(CachedKey {
        key,
        point,
        batchable,
    })
}

/// The encoded `y` (sign bit cleared) is below p = 2^255 − 19.
fn y_canonical(bytes: &[u8; 32]) -> bool {
    // p in little-endian: ed ff … ff 7f. y ≥ p iff the top 31 bytes are all
    // ff/7f and the low byte is ≥ 0xed.
    let top_max = bytes[31] & 0x7f == 0x7f && bytes[1..31].iter().all(|b| *b == 0xff);
    !(top_max && bytes[0] >= 0xed)
}

/// One signature to check: over `prefix || body` (for statements the
/// prefix is [`crate::statement::STATEMENT_SIGNING_PREFIX`]).
#[derive(Clone, Copy, Debug)]
pub struct SignatureItem<'a> {
    /// Signer key bytes.
    pub key: [u8; 32],
    /// Domain-separation prefix of the signed message.
    pub prefix: &'a [u8],
    /// The rest of the signed message.
    pub body: &'a [u8],
    /// The signature.
    pub signature: [u8; 64],
}

impl SignatureItem<'_> {
    /// A statement signature item.
    pub fn statement<'a>(
        key: [u8; 32],
        statement: &'a [u8],
        signature: [u8; 64],
    ) -> SignatureItem<'a> {
        SignatureItem {
            key,
            prefix: crate::statement::STATEMENT_SIGNING_PREFIX,
            body: statement,
            signature,
        }
    }

    /// The signed message.
    pub fn message(&self) -> Vec<u8> {
        let mut m = Vec::with_capacity(self.prefix.len() + self.body.len());
        m.extend_from_slice(self.prefix);
        m.extend_from_slice(self.body);
        m
    }
}

/// `verify_strict` over `prefix || body`.
fn verify_one(key: &CachedKey, item: &SignatureItem<'_>) -> bool {
    let sig = Signature::from_bytes(&item.signature);
    key.key.verify_strict(&item.message(), &sig).is_ok()
}

/// Verifies every item; `result[i]` is what `verify_strict` says of item `i`.
pub fn verify_items(
    items: &[SignatureItem<'_>],
    mode: VerifyMode,
    cache: &mut KeyCache,
) -> Vec<bool> {
    match mode {
        VerifyMode::Strict => items
            .iter()
            .map(|it| cache.get(&it.key).is_some_and(|k| verify_one(k, it)))
            .collect(),
        VerifyMode::Batch => verify_batched(items, cache),
    }
}

/// True if every item passes the cheap checks and the exact batch (steps
/// 1–3) accepts them together, without falling back to single
/// verification. For tests and benchmarks: [`verify_items`] is the API.
#[doc(hidden)]
pub fn batch_accepts_all(items: &[SignatureItem<'_>], cache: &mut KeyCache) -> bool {
    let arithmetic = Arithmetic::detect();
    let (candidates, singles) = step_one_piece(items, 0, cache, arithmetic);
    singles.is_empty() && batch_holds(&candidates, cache, arithmetic)
}

/// A signature that passed the cheap strictness checks.
struct Candidate {
    index: usize,
    /// `R` as signed: canonical (checked), so it names the point exactly.
    r_bytes: [u8; 32],
    r: RPoint,
    s: Scalar,
    k: Scalar,
    key: [u8; 32],
}

/// The arithmetic of the R side (decompressing the R's, the torsion
/// subset sums and `Σ z_i R_i`); everything else is curve25519-dalek's.
/// Both give the same verdicts (the tests run both).
#[derive(Clone, Copy, Debug)]
enum Arithmetic {
    /// curve25519-dalek's, everywhere.
    Dalek,
    /// forewarn-edwards8's eight AVX-512 IFMA lanes, where the CPU has
    /// them (about 8× faster decompression, and the 128 torsion checks in
    /// 16 runs of eight; see docs/PERFORMANCE.md).
    #[cfg(feature = "std")]
    Lanes(forewarn_edwards8::Lanes),
}

#[cfg(feature = "std")]
std::thread_local! {
    /// Set by [`with_dalek_arithmetic`] for the calls it wraps.
    static DALEK_ONLY: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

impl Arithmetic {
    /// The lanes if this CPU has them (and neither
    /// [`forewarn_edwards8::DISABLE_VAR`] nor [`with_dalek_arithmetic`]
    /// says otherwise), else curve25519-dalek.
    fn detect() -> Arithmetic {
        #[cfg(feature = "std")]
        if !DALEK_ONLY.with(core::cell::Cell::get)
            && let Some(lanes) = forewarn_edwards8::Lanes::detect()
        {
            return Arithmetic::Lanes(lanes);
        }
        Arithmetic::Dalek
    }
}

/// Runs `f` with every batch it starts on this thread computing its R
/// side with curve25519-dalek's arithmetic alone, whatever the CPU has:
/// for tests that check both arithmetics give `verify_strict`'s verdicts.
#[cfg(feature = "std")]
#[doc(hidden)]
pub fn with_dalek_arithmetic<T>(f: impl FnOnce() -> T) -> T {
    /// Restores the setting even if `f` panics.
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            DALEK_ONLY.with(|d| d.set(self.0));
        }
    }
    let _restore = Restore(DALEK_ONLY.with(|d| d.replace(true)));
    f()
}

/// A candidate's R, as the arithmetic in use holds it.
#[derive(Clone, Copy, Debug)]
enum RPoint {
    /// Decompressed by curve25519-dalek.
    Dalek(EdwardsPoint),
    /// Decompressed in the lanes.
    #[cfg(feature = "std")]
    Lanes(forewarn_edwards8::Point),
    /// Not decompressed yet: the lanes decompress a piece's R's together,
    /// at the end of step 1 (see [`step_one_piece`]).
    #[cfg(feature = "std")]
    Encoded,
}

/// Below this many signatures a batch's fixed cost (128 torsion checks,
/// about 3.3 ms or 110 single verifications' worth) outweighs its savings,
/// and [`VerifyMode::Batch`] verifies singly. Measured on one thread
/// (`cargo bench -p forewarn-ledger --bench records -- verify`): single
/// verification costs 30.8 µs a signature; a batch of 128 takes 4.39 ms
/// (3.94 singly), of 160 4.82 ms (4.92), of 192 5.18 ms (5.90), of 256
/// 5.68 ms (7.87): the break-even is about 155. This is the threshold
/// with curve25519-dalek's arithmetic, and the largest: at or above it
/// [`VerifyMode::Batch`] always batches.
pub const MIN_BATCH: usize = 160;

/// The same threshold when the R side runs in the AVX-512 IFMA lanes
/// (`forewarn_edwards8`): a batch's fixed cost is then about 0.76 ms, 23
/// single verifications' worth. Measured as above, one thread: a batch of
/// 32 takes 0.84 ms (1.04 singly), of 64 1.00 ms (2.08), of 160 1.24 ms
/// (5.21); the break-even is about 26.
pub const MIN_BATCH_LANES: usize = 32;

impl Arithmetic {
    /// Below this many signatures, verifying singly is faster than a batch.
    fn min_batch(self) -> usize {
        match self {
            Arithmetic::Dalek => MIN_BATCH,
            #[cfg(feature = "std")]
            Arithmetic::Lanes(_) => MIN_BATCH_LANES,
        }
    }
}

fn verify_batched(items: &[SignatureItem<'_>], cache: &mut KeyCache) -> Vec<bool> {
    if items.len() < Arithmetic::detect().min_batch() {
        return verify_items(items, VerifyMode::Strict, cache);
    }
    verify_exact_batch(items, cache)
}

/// The exact batch of the module documentation, whatever the number of
/// items (for small sets [`verify_items`] verifies singly, which is
/// faster). `result[i]` is what `verify_strict` says of item `i`.
pub fn verify_exact_batch(items: &[SignatureItem<'_>], cache: &mut KeyCache) -> Vec<bool> {
    let arithmetic = Arithmetic::detect();
    let mut out = alloc::vec![false; items.len()];
    let (candidates, singles) = step_one_piece(items, 0, cache, arithmetic);
    for (i, ok) in singles {
        out[i] = ok;
    }
    if candidates.is_empty() {
        return out;
    }
    let held = batch_holds(&candidates, cache, arithmetic);
    for c in &candidates {
        out[c.index] = held || verify_singly(c, items, cache);
    }
    out
}

/// Step 1 over `piece`, whose first item is item `first` of the batch:
/// the batch candidates with their R's decompressed, and, for the items
/// whose key or signature fails the cheap checks or whose R does not
/// decompress, `verify_strict`'s verdict found singly (by batch index).
fn step_one_piece(
    piece: &[SignatureItem<'_>],
    first: usize,
    cache: &mut KeyCache,
    arithmetic: Arithmetic,
) -> (Vec<Candidate>, Vec<(usize, bool)>) {
    let mut cs = Vec::with_capacity(piece.len());
    let mut singles = Vec::new();
    for (j, it) in piece.iter().enumerate() {
        // An unparseable or weak key: every signature under it fails.
        let Some(key) = cache.get(&it.key) else {
            singles.push((first + j, false));
            continue;
        };
        match candidate(first + j, key, it, arithmetic) {
            Some(c) => cs.push(c),
            None => singles.push((first + j, verify_one(key, it))),
        }
    }
    #[cfg(feature = "std")]
    if let Arithmetic::Lanes(lanes) = arithmetic {
        let encodings: Vec<[u8; 32]> = cs.iter().map(|c| c.r_bytes).collect();
        let mut kept = Vec::with_capacity(cs.len());
        for (mut c, r) in cs.into_iter().zip(lanes.decompress(&encodings)) {
            match r {
                Some(r) => {
                    c.r = RPoint::Lanes(r);
                    kept.push(c);
                }
                None => {
                    let key = cache.get(&c.key).expect("cached above");
                    singles.push((c.index, verify_one(key, &piece[c.index - first])));
                }
            }
        }
        cs = kept;
    }
    (cs, singles)
}

/// `verify_strict` on a candidate (after a batch that did not hold).
fn verify_singly(c: &Candidate, items: &[SignatureItem<'_>], cache: &mut KeyCache) -> bool {
    let key = cache.get(&c.key).expect("cached in step 1");
    verify_one(key, &items[c.index])
}

/// The `y` coordinates (little-endian, sign bit clear) of the eight points
/// of order dividing 8: 1 (the identity), −1 (order 2), 0 (order 4) and
/// ±y₈ (order 8). The set is closed under negation, so a point is of small
/// order exactly when its `y` is in it; for a canonical encoding that is a
/// byte comparison instead of `is_small_order`'s three doublings and
/// reductions. `tests::small_order_y_matches_is_small_order` derives the
/// table from `curve25519_dalek::constants::EIGHT_TORSION`.
const SMALL_ORDER_Y: [[u8; 32]; 5] = [
    [
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0,
    ],
    [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
    [0; 32],
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ],
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ],
];

/// Whether a canonical encoding names a point of small order (see
/// [`SMALL_ORDER_Y`]).
fn small_order_y(bytes: &[u8; 32]) -> bool {
    let mut y = *bytes;
    y[31] &= 0x7f;
    SMALL_ORDER_Y.contains(&y)
}

/// Step 1: the cheap checks, and `k = SHA-512(R ‖ A ‖ M)` as verify_strict
/// computes it.
/// With curve25519-dalek's arithmetic R is decompressed here; the lanes
/// decompress a piece's R's together afterwards ([`step_one_piece`]).
fn candidate(
    index: usize,
    key: &CachedKey,
    it: &SignatureItem<'_>,
    arithmetic: Arithmetic,
) -> Option<Candidate> {
    if !key.batchable {
        return None;
    }
    let r_bytes: [u8; 32] = it.signature[..32].try_into().expect("32 bytes");
    let s_bytes: [u8; 32] = it.signature[32..].try_into().expect("32 bytes");
    let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes))?;
    if !y_canonical(&r_bytes) || small_order_y(&r_bytes) {
        return None;
    }
    let r = match arithmetic {
        Arithmetic::Dalek => RPoint::Dalek(CompressedEdwardsY(r_bytes).decompress()?),
        #[cfg(feature = "std")]
        Arithmetic::Lanes(_) => RPoint::Encoded,
    };
    let k = Scalar::from_hash(
        Sha512::new()
            .chain_update(r_bytes)
            .chain_update(key.key.as_bytes())
            .chain_update(it.prefix)
            .chain_update(it.body),
    );
    Some(Candidate {
        index,
        r_bytes,
        r,
        s,
        k,
        key: it.key,
    })
}

/// Steps 2 and 3 over candidates whose keys are batchable.
fn batch_holds(cs: &[Candidate], cache: &mut KeyCache, arithmetic: Arithmetic) -> bool {
    let (z, z_bytes) = batch_randomness(cs);
    match r_side(cs, &z_bytes, 0..16, arithmetic) {
        Some(r_sum) => key_side(cs, &z, cache) == r_sum,
        None => false,
    }
}

/// The batch's random coefficients, derived from every input: R, S and k
/// (which binds A and M). Per candidate a 128-bit `z`, as a scalar for the
/// batch equation and as the 16 bytes whose bits place its R in the 128
/// torsion subsets (step 2).
fn batch_randomness(cs: &[Candidate]) -> (Vec<Scalar>, Vec<[u8; 16]>) {
    // R is hashed as signed; its encoding is canonical (step 1), so this
    // is the point's own encoding without the inversion `compress` costs.
    let mut t = Sha512::new();
    t.update(b"forewarn/batch-verify/v2\n");
    t.update((cs.len() as u64).to_le_bytes());
    for c in cs {
        t.update(c.r_bytes);
        t.update(c.s.as_bytes());
        t.update(c.k.as_bytes());
    }
    let seed = t.finalize();
    let mut z = Vec::with_capacity(cs.len());
    let mut z_bytes = Vec::with_capacity(cs.len());
    // One SHA-512 block gives four coefficients.
    for i in 0..cs.len().div_ceil(4) {
        let block: [u8; 64] = Sha512::new()
            .chain_update(seed)
            .chain_update((i as u64).to_le_bytes())
            .finalize()
            .into();
        for chunk in block.chunks_exact(16).take(cs.len() - 4 * i) {
            let zi: [u8; 16] = chunk.try_into().expect("16 bytes");
            let mut wide = [0u8; 32];
            wide[..16].copy_from_slice(&zi);
            // Below 2^128 < ℓ: the scalar is z itself.
            z.push(Scalar::from_bytes_mod_order(wide));
            z_bytes.push(zi);
        }
    }
    (z, z_bytes)
}

/// Step 2, and the R half of step 3, over the bytes `rows` of the `z`s:
/// the subset sums `S_j = Σ_{i: bit j of z_i set} R_i` (`j = 8p + b` for
/// bit `b` of byte `p`), each checked to satisfy `[ℓ]S_j = 0`; returns
/// `Σ_j 2^(j − 8·rows.start) S_j` over these rows (so over all 16 rows it
/// is `Σ_i z_i R_i`, and `Σ_p 2^(8p) r_side(p..p+1)` is too), or `None` if
/// a subset sum has a torsion component.
///
/// Bucket `v` of row `p` holds the sum of the R's whose byte `p` is `v`;
/// the row yields its 8 subset sums by halving: the sum over the upper
/// half is the subset of the top bit, then each upper bucket folds into
/// its lower twin and the next bit is read off the 2^b remaining buckets
/// (about 2·256 additions a row instead of 8·128). The subset sums come
/// out top bit first, the order Horner's rule takes them in. Only the
/// bytes in `rows` are handled here, so threads can share the 16 rows of
/// one batch.
///
/// A candidate whose R is not held by `arithmetic` (which step 1 never
/// produces) makes the batch fail, and so every candidate is verified
/// singly: never a wrong verdict.
fn r_side(
    cs: &[Candidate],
    z_bytes: &[[u8; 16]],
    rows: core::ops::Range<usize>,
    arithmetic: Arithmetic,
) -> Option<EdwardsPoint> {
    match arithmetic {
        Arithmetic::Dalek => {
            let rs: Vec<&EdwardsPoint> = cs
                .iter()
                .map(|c| match &c.r {
                    RPoint::Dalek(r) => Some(r),
                    // Only the lanes' R's (std) are of another kind.
                    #[allow(unreachable_patterns)]
                    _ => None,
                })
                .collect::<Option<_>>()?;
            r_side_dalek(&rs, z_bytes, rows)
        }
        #[cfg(feature = "std")]
        Arithmetic::Lanes(lanes) => {
            let rs: Vec<&forewarn_edwards8::Point> = cs
                .iter()
                .map(|c| match &c.r {
                    RPoint::Lanes(r) => Some(r),
                    _ => None,
                })
                .collect::<Option<_>>()?;
            // Each row's `Σ_b 2^b S_b` comes back encoded (its subset sums
            // checked torsion-free in the lanes) and is combined here by
            // Horner's rule, top row first.
            let mut sum = EdwardsPoint::identity();
            for p in rows.rev() {
                let row = lanes.row_sum(rs.iter().copied().zip(z_bytes.iter().map(|z| z[p])))?;
                sum = horner_step(sum, &CompressedEdwardsY(row).decompress()?);
            }
            Some(sum)
        }
    }
}

/// One step of Horner's rule over the byte rows: `2^8·acc + row` (for
/// row sums computed one row at a time: the lanes and the shared batch).
#[cfg(feature = "std")]
fn horner_step(acc: EdwardsPoint, row: &EdwardsPoint) -> EdwardsPoint {
    (0..8).fold(acc, |a, _| a + a) + row
}

/// [`r_side`] on curve25519-dalek's arithmetic.
fn r_side_dalek(
    rs: &[&EdwardsPoint],
    z_bytes: &[[u8; 16]],
    rows: core::ops::Range<usize>,
) -> Option<EdwardsPoint> {
    let add = |a: Option<EdwardsPoint>, b: Option<EdwardsPoint>| match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        (a, None) => a,
        (None, b) => b,
    };
    let mut sum = EdwardsPoint::identity();
    // One row at a time: 256 buckets (43 KB) stay in cache and on the heap
    // the allocator reuses.
    let mut row: Vec<Option<EdwardsPoint>> = alloc::vec![None; 256];
    for p in rows.rev() {
        row.iter_mut().for_each(|b| *b = None);
        for (r, zi) in rs.iter().zip(z_bytes) {
            let slot = &mut row[zi[p] as usize];
            *slot = Some(match slot {
                Some(acc) => *acc + *r,
                None => **r,
            });
        }
        let mut width = 256;
        while width > 1 {
            let half = width / 2;
            let subset = row[half..width].iter().fold(None, |acc, b| add(acc, *b));
            sum = sum + sum;
            if let Some(s) = subset {
                if !torsion_free(&s) {
                    return None;
                }
                sum += s;
            }
            for v in 0..half {
                row[v] = add(row[v], row[v + half]);
            }
            width = half;
        }
    }
    Some(sum)
}

/// `[ℓ]P = 0`, computed as `[ℓ−1]P + P` in variable time (inputs are public).
fn torsion_free(p: &EdwardsPoint) -> bool {
    let q = EdwardsPoint::vartime_multiscalar_mul([-Scalar::ONE], [*p]);
    (q + p).is_identity()
}

/// The rest of step 3: `[Σ z_i S_i]B − Σ_keys (Σ_{i signed by the key}
/// z_i k_i) A`, one variable-time multiscalar multiplication in which each
/// distinct key appears once. The batch equation holds when this equals
/// [`r_side`]'s `Σ z_i R_i`.
fn key_side(cs: &[Candidate], z: &[Scalar], cache: &mut KeyCache) -> EdwardsPoint {
    let mut b_coefficient = Scalar::ZERO;
    let mut per_key: BTreeMap<[u8; 32], Scalar> = BTreeMap::new();
    for (c, zi) in cs.iter().zip(z) {
        b_coefficient += zi * c.s;
        *per_key.entry(c.key).or_insert(Scalar::ZERO) -= zi * c.k;
    }
    let mut scalars = Vec::with_capacity(per_key.len() + 1);
    let mut points = Vec::with_capacity(per_key.len() + 1);
    scalars.push(b_coefficient);
    points.push(ED25519_BASEPOINT_POINT);
    for (key, coefficient) in per_key {
        scalars.push(coefficient);
        points.push(cache.get(&key).expect("cached").point);
    }
    EdwardsPoint::vartime_multiscalar_mul(scalars, points)
}

/// Verifies `items` on up to one thread per key cache (each thread keeps
/// its own cache across calls, so keys are parsed once per thread), one
/// thread per 64 items at most. Below [`MIN_BATCH`] ([`MIN_BATCH_LANES`]
/// where the R side runs in the IFMA lanes), or in
/// [`VerifyMode::Strict`], the threads verify singly, pulling pieces of
/// the items until none is left; above
/// it the threads verify one exact batch together (see
/// [`verify_exact_batch_parallel`]), so splitting costs no second batch
/// overhead. `result[i]` is what `verify_strict` says of item `i`.
#[cfg(feature = "std")]
pub fn verify_parallel(
    items: &[SignatureItem<'_>],
    mode: VerifyMode,
    caches: &mut [KeyCache],
) -> Vec<bool> {
    let threads = (items.len() / 64).clamp(1, caches.len().max(1));
    if threads == 1 {
        let mut fallback = KeyCache::new();
        let cache = caches.first_mut().unwrap_or(&mut fallback);
        return verify_items(items, mode, cache);
    }
    if mode == VerifyMode::Batch && items.len() >= Arithmetic::detect().min_batch() {
        return verify_exact_batch_parallel(items, &mut caches[..threads]);
    }
    // Singly, in pieces the threads pull (four or more per thread).
    let piece = items.len().div_ceil(4 * threads).max(16);
    let pieces: Vec<&[SignatureItem<'_>]> = items.chunks(piece).collect();
    pull_on_threads(pieces.len(), &mut caches[..threads], |p, cache| {
        verify_items(pieces[p], mode, cache)
    })
    .into_iter()
    .flatten()
    .collect()
}

/// One exact batch (the module documentation's steps 1–3) verified by one
/// thread per key cache. The work is cut into items that the threads pull
/// one at a time (see `pull_on_threads`): step 1 in pieces of 128
/// signatures; then, once the batch's random values are derived from all
/// of them, the key side of step 3 over each thread's span of the
/// candidates and each of the 16 torsion rows over every R (which also
/// gives that row's part of `Σ z_i R_i`). The equation is checked once on
/// the sums, so the fixed cost (128 torsion checks) is paid once and
/// divided among the threads. If anything fails, every candidate is
/// verified singly.
#[cfg(feature = "std")]
pub fn verify_exact_batch_parallel(
    items: &[SignatureItem<'_>],
    caches: &mut [KeyCache],
) -> Vec<bool> {
    shared_batch(items, caches).0
}

/// True if the shared batch of [`verify_exact_batch_parallel`] held: the
/// items that passed the cheap checks were accepted together, without
/// falling back to single verification. For tests and benchmarks.
#[cfg(feature = "std")]
#[doc(hidden)]
pub fn shared_batch_holds(items: &[SignatureItem<'_>], caches: &mut [KeyCache]) -> bool {
    shared_batch(items, caches).1
}

/// [`verify_exact_batch_parallel`], and whether the batch held (false if
/// it fell back to single verification or had no candidates).
#[cfg(feature = "std")]
fn shared_batch(items: &[SignatureItem<'_>], caches: &mut [KeyCache]) -> (Vec<bool>, bool) {
    let mut own = [KeyCache::new()];
    let caches = if caches.is_empty() {
        &mut own[..]
    } else {
        caches
    };
    let threads = caches.len().clamp(1, items.len().max(1));
    let caches = &mut caches[..threads];
    let arithmetic = Arithmetic::detect();
    // Step 1, in pieces of 128 signatures.
    const PIECE: usize = 128;
    let pieces: Vec<&[SignatureItem<'_>]> = items.chunks(PIECE).collect();
    type Share = (Vec<Candidate>, Vec<(usize, bool)>);
    let shares: Vec<Share> = pull_on_threads(pieces.len(), caches, |p, cache| {
        step_one_piece(pieces[p], p * PIECE, cache, arithmetic)
    });
    let mut out = alloc::vec![false; items.len()];
    let mut cs: Vec<Candidate> = Vec::with_capacity(items.len());
    for (share, singles) in shares {
        for (i, ok) in singles {
            out[i] = ok;
        }
        cs.extend(share);
    }
    if cs.is_empty() {
        return (out, false);
    }
    let (z, z_bytes) = batch_randomness(&cs);
    // Steps 2 and 3 as work items: the key side of each of `threads`
    // spans of the candidates, then the 16 torsion rows (each over every
    // R, giving its part of `Σ z_i R_i`). The equation is checked once on
    // the sums.
    let span = cs.len().div_ceil(threads);
    let key_items = cs.len().div_ceil(span);
    let sides: Vec<Option<EdwardsPoint>> = pull_on_threads(key_items + 16, caches, |w, cache| {
        if w < key_items {
            let r = w * span..((w + 1) * span).min(cs.len());
            Some(key_side(&cs[r.clone()], &z[r], cache))
        } else {
            let row = w - key_items;
            r_side(&cs, &z_bytes, row..row + 1, arithmetic)
        }
    });
    let holds = sides.iter().all(Option::is_some) && {
        let key_sum = sides[..key_items]
            .iter()
            .flatten()
            .fold(EdwardsPoint::identity(), |acc, p| acc + p);
        // Row p's sum is to be scaled by 2^(8p): Horner's rule, top row first.
        let r_sum = sides[key_items..]
            .iter()
            .rev()
            .flatten()
            .fold(EdwardsPoint::identity(), horner_step);
        key_sum == r_sum
    };
    if holds {
        for c in &cs {
            out[c.index] = true;
        }
        return (out, true);
    }
    // Fall back: every candidate singly.
    let pieces: Vec<&[Candidate]> = cs.chunks(PIECE).collect();
    let verdicts: Vec<Vec<(usize, bool)>> = pull_on_threads(pieces.len(), caches, |p, cache| {
        pieces[p]
            .iter()
            .map(|c| (c.index, verify_singly(c, items, cache)))
            .collect()
    });
    for (i, ok) in verdicts.into_iter().flatten() {
        out[i] = ok;
    }
    (out, false)
}

/// Runs `f(i, cache)` for every `i` in `0..n` on one thread per cache (the
/// calling thread being one), each thread taking the next `i` when it has
/// finished its last. A thread that shares its core with other work (the
/// commit thread, say) thus takes fewer items instead of holding the
/// others up at the end, as an even split would. Results in order of `i`.
/// `caches` must not be empty.
#[cfg(feature = "std")]
fn pull_on_threads<R: Send>(
    n: usize,
    caches: &mut [KeyCache],
    f: impl Fn(usize, &mut KeyCache) -> R + Sync,
) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let work = |cache: &mut KeyCache| {
        let mut mine = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                return mine;
            }
            mine.push((i, f(i, cache)));
        }
    };
    let threads = caches.len().min(n).max(1);
    // The calling thread works too instead of waiting: one thread fewer to
    // start and one wake-up fewer per call.
    let (first, others) = caches[..threads]
        .split_first_mut()
        .expect("one cache at least");
    let mut done: Vec<(usize, R)> = std::thread::scope(|s| {
        let handles: Vec<_> = others.iter_mut().map(|c| s.spawn(|| work(c))).collect();
        let mut all = work(first);
        for h in handles {
            all.extend(h.join().expect("verification thread panicked"));
        }
        all
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};

    /// Candidates with the given R's (S, k and the key do not matter to
    /// the R side).
    fn r_candidates(rs: &[EdwardsPoint]) -> Vec<Candidate> {
        rs.iter()
            .enumerate()
            .map(|(index, r)| Candidate {
                index,
                r_bytes: r.compress().to_bytes(),
                r: RPoint::Dalek(*r),
                s: Scalar::ZERO,
                k: Scalar::ZERO,
                key: [0; 32],
            })
            .collect()
    }

    #[test]
    fn the_torsion_sums_give_the_batch_equations_r_part() {
        // Σ_j 2^j S_j over the 128 subset sums is Σ z_i R_i, whether the
        // rows are taken together or one by one and combined by Horner's
        // rule as the shared batch does.
        let rs: Vec<EdwardsPoint> = (1..=300u64)
            .map(|i| ED25519_BASEPOINT_POINT * Scalar::from(i * 1_000_003 + 17))
            .collect();
        let cs = r_candidates(&rs);
        let (z, z_bytes) = batch_randomness(&cs);
        let direct = EdwardsPoint::vartime_multiscalar_mul(&z, &rs);
        assert_eq!(
            r_side(&cs, &z_bytes, 0..16, Arithmetic::Dalek),
            Some(direct)
        );
        let by_rows = (0..16).rev().fold(EdwardsPoint::identity(), |acc, p| {
            let row = r_side(&cs, &z_bytes, p..p + 1, Arithmetic::Dalek).expect("torsion-free");
            horner_step(acc, &row)
        });
        assert_eq!(by_rows, direct);
        // A different z would not do: the sum really depends on them.
        let mut other = z_bytes.clone();
        other[0][0] ^= 1;
        assert_ne!(r_side(&cs, &other, 0..16, Arithmetic::Dalek), Some(direct));
        // An R with a torsion component (order 2, 4 or 8) is caught.
        for t in [1usize, 2, 4] {
            let mut bad = rs.clone();
            bad[123] += EIGHT_TORSION[t];
            let cs = r_candidates(&bad);
            let (_, z_bytes) = batch_randomness(&cs);
            assert_eq!(
                r_side(&cs, &z_bytes, 0..16, Arithmetic::Dalek),
                None,
                "torsion point {t}"
            );
        }
    }

    /// The same candidates with their R's decompressed in the lanes.
    #[cfg(feature = "std")]
    fn in_lanes(lanes: forewarn_edwards8::Lanes, cs: &mut [Candidate]) {
        let encodings: Vec<[u8; 32]> = cs.iter().map(|c| c.r_bytes).collect();
        for (c, r) in cs.iter_mut().zip(lanes.decompress(&encodings)) {
            c.r = RPoint::Lanes(r.expect("a point"));
        }
    }

    #[cfg(feature = "std")]
    #[test]
    fn the_lanes_r_side_is_dalek_s() {
        let Some(lanes) = forewarn_edwards8::Lanes::detect() else {
            std::eprintln!("no AVX-512 IFMA here (or FOREWARN_NO_IFMA set): nothing to compare");
            return;
        };
        let rs: Vec<EdwardsPoint> = (1..=300u64)
            .map(|i| ED25519_BASEPOINT_POINT * Scalar::from(i * 1_000_003 + 17))
            .collect();
        let mut cs = r_candidates(&rs);
        let (z, z_bytes) = batch_randomness(&cs);
        let direct = EdwardsPoint::vartime_multiscalar_mul(&z, &rs);
        in_lanes(lanes, &mut cs);
        let lanes_side = Arithmetic::Lanes(lanes);
        assert_eq!(r_side(&cs, &z_bytes, 0..16, lanes_side), Some(direct));
        // Row by row, as the shared batch takes them.
        let by_rows = (0..16).rev().fold(EdwardsPoint::identity(), |acc, p| {
            let row = r_side(&cs, &z_bytes, p..p + 1, lanes_side).expect("torsion-free");
            horner_step(acc, &row)
        });
        assert_eq!(by_rows, direct);
        // A candidate held by the other arithmetic fails the batch.
        assert_eq!(r_side(&cs, &z_bytes, 0..16, Arithmetic::Dalek), None);
        // Torsion components of order 2, 4 and 8 are caught.
        for t in [1usize, 2, 4] {
            let mut bad = rs.clone();
            bad[123] += EIGHT_TORSION[t];
            let mut cs = r_candidates(&bad);
            let (_, z_bytes) = batch_randomness(&cs);
            in_lanes(lanes, &mut cs);
            assert_eq!(
                r_side(&cs, &z_bytes, 0..16, lanes_side),
                None,
                "torsion point {t}"
            );
        }
    }

    #[test]
    fn small_order_y_matches_is_small_order() {
        // The table is exactly the y's of the eight torsion points.
        let mut ys: Vec<[u8; 32]> = EIGHT_TORSION
            .iter()
            .map(|t| {
                let mut y = t.compress().to_bytes();
                y[31] &= 0x7f;
                y
            })
            .collect();
        ys.sort();
        ys.dedup();
        let mut table = SMALL_ORDER_Y.to_vec();
        table.sort();
        assert_eq!(ys, table);
        // And the byte test agrees with is_small_order on torsion points,
        // on points with a torsion component, and on prime-order points,
        // with either sign bit.
        let mut p = ED25519_BASEPOINT_POINT;
        for i in 0..64 {
            for t in EIGHT_TORSION.iter() {
                for q in [*t, p, p + t] {
                    for sign in [0u8, 0x80] {
                        let mut bytes = q.compress().to_bytes();
                        bytes[31] ^= sign;
                        let Some(d) = CompressedEdwardsY(bytes).decompress() else {
                            continue;
                        };
                        if y_canonical(&bytes) {
                            assert_eq!(small_order_y(&bytes), d.is_small_order(), "round {i}");
                        }
                    }
                }
            }
            p = p + p + ED25519_BASEPOINT_POINT;
        }
    }
}
