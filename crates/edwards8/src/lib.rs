//! Edwards25519 arithmetic eight points at a time on AVX-512 IFMA, for the
//! R side of forewarn's exact batch verifier (`forewarn_ledger::verify`).
//!
//! ## Why it exists
//!
//! The exact batch spends most of its time on the signatures' `R` points:
//! decompressing each (a square root, ~3 µs with curve25519-dalek's serial
//! field arithmetic), adding it into 16 sums, and checking 128 subset sums
//! torsion-free (`[ℓ]S = 0`, ~20 µs each). curve25519-dalek exposes no
//! field arithmetic, no batched decompression and no vector backend for
//! these (its IFMA backend serves only its multiscalar multiplication, and
//! only when compiled for the CPU). This crate does exactly these three
//! jobs, each eight lanes wide on the 52-bit multipliers of AVX-512 IFMA,
//! and nothing else:
//!
//! - [`Lanes::decompress`]: RFC 8032 §5.1.3 decompression, as
//!   curve25519-dalek's `CompressedEdwardsY::decompress` does it;
//! - [`Lanes::row_sum`]: for one byte of each point's batch coefficient,
//!   the eight subset sums `S_b = Σ_{bit b of the byte set} R`, each
//!   checked torsion-free, combined as `Σ_b 2^b S_b` and compressed.
//!
//! The verifier keeps curve25519-dalek for everything else (keys, the base
//! point, single verification) and compares through encodings.
//!
//! ## Safety
//!
//! The arithmetic is in `#[target_feature(enable = "avx512f,avx512ifma")]`
//! functions, which Rust lets safe code call only where those features are
//! known to be present. A [`Lanes`] value is that knowledge: the only way
//! to get one is [`Lanes::detect`], which asks the CPU at run time. The
//! crate's only `unsafe` blocks are its public methods' calls into the
//! arithmetic, each justified by the `Lanes` it is called on. On other
//! architectures `Lanes` is uninhabited and `detect` returns `None`.
//!
//! ## Testing
//!
//! Every operation is compared with curve25519-dalek on random and edge
//! inputs (see the tests below): decompression of arbitrary bytes,
//! including non-canonical `y`, non-squares and both signs; row sums
//! against dalek's multiscalar multiplication; torsion components of
//! every order caught.

#![deny(unsafe_code)]

#[cfg(target_arch = "x86_64")]
mod field;
#[cfg(target_arch = "x86_64")]
mod point;

/// Set this environment variable (to anything but `0`) to make
/// [`Lanes::detect`] return `None`, so the verifier runs on
/// curve25519-dalek alone: for comparison runs, or to rule this crate out.
pub const DISABLE_VAR: &str = "FOREWARN_NO_IFMA";

/// A point decompressed by [`Lanes::decompress`], held as its affine
/// Niels coordinates `(y + x, y − x, 2d·xy)` in radix-2^51 limbs, ready to
/// be broadcast into the lanes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Point {
    limbs: [[u64; 5]; 3],
}

/// Proof that this CPU has AVX-512F and AVX-512 IFMA: every arithmetic
/// method takes one.
#[derive(Clone, Copy, Debug)]
pub struct Lanes {
    _proof: Proof,
}

#[cfg(target_arch = "x86_64")]
type Proof = ();

/// No value: `Lanes` cannot exist off x86-64.
#[cfg(not(target_arch = "x86_64"))]
#[derive(Clone, Copy, Debug)]
enum Proof {}

impl Lanes {
    /// The lanes, if this CPU has AVX-512F and IFMA and [`DISABLE_VAR`] is
    /// not set. Asked once per process.
    pub fn detect() -> Option<Lanes> {
        static DETECTED: std::sync::OnceLock<Option<Lanes>> = std::sync::OnceLock::new();
        *DETECTED.get_or_init(|| {
            let disabled = std::env::var_os(DISABLE_VAR).is_some_and(|v| v != "0");
            if disabled {
                return None;
            }
            Lanes::cpu()
        })
    }

    #[cfg(target_arch = "x86_64")]
    fn cpu() -> Option<Lanes> {
        (std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512ifma"))
        .then_some(Lanes { _proof: () })
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn cpu() -> Option<Lanes> {
        None
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
impl Lanes {
    /// Decompresses each encoding as curve25519-dalek's
    /// `CompressedEdwardsY::decompress` would (RFC 8032 §5.1.3; a `y` of
    /// p or more is taken mod p, as there): `None` where no point has that
    /// encoding. Eight at a time.
    pub fn decompress(&self, encodings: &[[u8; 32]]) -> Vec<Option<Point>> {
        // SAFETY: `self` exists, so `detect` found AVX-512F and IFMA.
        unsafe { lanes::decompress(encodings) }
    }

    /// For one byte row of the batch coefficients: `terms` are points with
    /// their byte. Forms the eight subset sums `S_b = Σ P` over the terms
    /// whose byte has bit `b` set; if every `S_b` satisfies `[ℓ]S_b = 0`
    /// (no torsion component), returns the encoding of `Σ_b 2^b S_b`,
    /// which is `Σ byte·P`; otherwise `None`.
    pub fn row_sum<'a>(&self, terms: impl Iterator<Item = (&'a Point, u8)>) -> Option<[u8; 32]> {
        // SAFETY: `self` exists, so `detect` found AVX-512F and IFMA.
        unsafe { lanes::row_sum(terms) }
    }

    /// The encoding of a decompressed point (RFC 8032 §5.1.2).
    pub fn compress(&self, p: &Point) -> [u8; 32] {
        // SAFETY: `self` exists, so `detect` found AVX-512F and IFMA.
        unsafe { lanes::compress(p) }
    }
}

#[cfg(not(target_arch = "x86_64"))]
impl Lanes {
    /// See the x86-64 version; unreachable here (`Lanes` has no value).
    pub fn decompress(&self, _: &[[u8; 32]]) -> Vec<Option<Point>> {
        match self._proof {}
    }

    /// See the x86-64 version; unreachable here (`Lanes` has no value).
    pub fn row_sum<'a>(&self, _: impl Iterator<Item = (&'a Point, u8)>) -> Option<[u8; 32]> {
        match self._proof {}
    }

    /// See the x86-64 version; unreachable here (`Lanes` has no value).
    pub fn compress(&self, _: &Point) -> [u8; 32] {
        match self._proof {}
    }
}

/// The work behind [`Lanes`]' methods, eight lanes at a time.
#[cfg(target_arch = "x86_64")]
mod lanes {
    use super::Point;
    use crate::point as pt;

    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) fn decompress(encodings: &[[u8; 32]]) -> Vec<Option<Point>> {
        let mut out = Vec::with_capacity(encodings.len());
        for chunk in encodings.chunks(8) {
            let mut octet = [pt::FILLER; 8];
            octet[..chunk.len()].copy_from_slice(chunk);
            let (points, valid) = pt::decompress(&octet);
            for (j, limbs) in points.into_iter().enumerate().take(chunk.len()) {
                out.push((valid >> j & 1 == 1).then_some(Point { limbs }));
            }
        }
        out
    }

    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) fn row_sum<'a>(terms: impl Iterator<Item = (&'a Point, u8)>) -> Option<[u8; 32]> {
        // Lane b accumulates S_b: each point is added in the lanes of its
        // byte's set bits, the identity in the others.
        let id = pt::affine_identity();
        let mut acc = pt::identity();
        for (p, byte) in terms {
            if byte != 0 {
                acc = pt::add_where(&acc, byte, &p.limbs, &id);
            }
        }
        if pt::is_identity(&pt::mul_by_ell(&acc)) != 0xff {
            return None;
        }
        // Lane b doubled b times (round k doubles the lanes b ≥ k), then
        // the lanes summed: Σ_b 2^b S_b.
        for k in 1..8 {
            let doubled = pt::double(&acc);
            acc = pt::select(0xffu8 << k, &acc, &doubled);
        }
        Some(pt::compress(&pt::sum_lanes(&acc))[0])
    }

    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) fn compress(p: &Point) -> [u8; 32] {
        pt::compress(&pt::from_affine_niels(&[p.limbs; 8]))[0]
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests;
